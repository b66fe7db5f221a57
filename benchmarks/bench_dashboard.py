"""Benchmark of a dashboard refresh on a lab whose registry holds 200 repositories.

A lab of its own (temporary folder, free port) is started; its registry is filled through the
HTTP API alone (`push_tiny_image`, no docker push): 200 repositories with two tags each. Then
`DashboardModel.refresh()` (hôte A, hôte B, catalog and every repository's tags, in parallel)
and the widget's `render()` are timed, several rounds; the median must stay under 0,5 s.

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [--repositories N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from registry_lab import Lab
from registry_lab.dashboard import Dashboard
from registry_lab.dashboard_model import DashboardModel
from registry_lab.french import format_number
from registry_lab.maintenance import push_tiny_image, tiny_layer
from registry_lab.ports import free_port

TARGET = 0.5


def fill(lab: Lab, count: int) -> None:
    client = lab.registry.client
    base = tiny_layer({"base.txt": "la base commune\n" * 100})

    def one(index: int) -> None:
        name = f"banc/depot-{index:03d}"
        push_tiny_image(client, name, "1.0", [base])
        push_tiny_image(client, name, "latest", [base])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rl-bench-", dir="/tmp"))
    lab = Lab.up(home, free_port())
    try:
        fill(lab, options.repositories)
        model = DashboardModel(lab)
        view = Dashboard(model)  # the first refresh (connections opened) is not timed
        timings = []
        for _ in range(options.rounds):
            start = time.perf_counter()
            model.refresh()  # the view re-renders as a listener
            timings.append(time.perf_counter() - start)
        assert len(model.snapshot.registry) == options.repositories
        assert len(view.registry_tag.options) == 2 * options.repositories
        median = statistics.median(timings)
        print(
            f"Tableau de bord, {options.repositories} dépôts ({2 * options.repositories} tags) : "
            f"rafraîchissement en {format_number(median, 3)} s (médiane de {options.rounds}, "
            f"min {format_number(min(timings), 3)} s, max {format_number(max(timings), 3)} s) ; "
            f"objectif < {format_number(TARGET, 1)} s : {'tenu' if median < TARGET else 'MANQUÉ'}."
        )
        return 0 if median < TARGET else 1
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
