"""Benchmark of push and pull through the daemons: the package against the ``docker`` CLI.

``banc/vingt-couches:1.0`` (20 layers of 10 Mio of random bytes: about 210 Mo) is pushed by
hôte A to the registry and pulled by hôte B, once with `registry_lab.transfers.push`/`pull`
(the daemon's JSON stream read by the Docker SDK, a progress display fed with every event, the
report built at the end) and once with the ``docker`` CLI on the same host, side by side, the
order alternating from one round to the next. Before each push the registry's storage is
emptied (every layer really travels); before each pull hôte B's copy is removed.
Target: median(package) / median(CLI) ≤ 1.1 for the push and for the pull.

Run: ``.venv/bin/python benchmarks/bench_transfer.py [--rounds N]`` (as root). The lab is the
benchmark's own (a new state folder under /tmp, a free port), erased at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from registry_lab import Lab
from registry_lab.examples import EXAMPLES, build_example
from registry_lab.french import format_number, format_size
from registry_lab.ports import free_port
from registry_lab.transfers import TextProgress, pull, push

IMAGE = EXAMPLES["vingt-couches"].tag
TARGET = 1.1


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def empty_registry(lab: Lab) -> None:
    """Stop the registry, erase its storage, start it again: the next push sends every layer."""
    lab.registry.stop()
    shutil.rmtree(lab.registry.storage, ignore_errors=True)
    lab.registry.start()
    lab.registry.wait_ready()


def forget_on_b(lab: Lab, name: str) -> None:
    lab.host_b.docker("rmi", "-f", name, check=False)


def cli(lab: Lab, host: str, *args: str) -> None:
    url = lab.host_a.url if host == "a" else lab.host_b.url
    env = {**os.environ, "DOCKER_HOST": url}
    subprocess.run(["docker", *args], check=True, env=env, timeout=900, stdout=subprocess.DEVNULL)


def ratio_line(what: str, ours: list[float], theirs: list[float], size: int) -> bool:
    mine, cli_time = statistics.median(ours), statistics.median(theirs)
    ratio = mine / cli_time
    print(
        f"{what:<5} paquet : {format_number(mine, 2)} s "
        f"({format_number(size / mine / 1e6, 1)} Mo/s) ; "
        f"docker CLI : {format_number(cli_time, 2)} s ; "
        f"rapport {format_number(ratio, 2)} (objectif ≤ {format_number(TARGET, 1)}) : "
        f"{'atteint' if ratio <= TARGET else 'manqué'}"
    )
    return ratio <= TARGET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="tours par mesure (médiane)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rl-bench-", dir="/tmp"))
    lab = Lab.up(home, free_port())
    try:
        print("Construction de l'image du banc sur l'hôte A…", flush=True)
        build_example(lab.host_a, "vingt-couches")
        name = f"{lab.registry.address}/{IMAGE}"
        lab.host_a.find_image(IMAGE).tag(*name.rsplit(":", 1))  # type: ignore[union-attr]
        pushes: dict[str, list[float]] = {"paquet": [], "cli": []}
        pulls: dict[str, list[float]] = {"paquet": [], "cli": []}
        size = 0
        for number in range(args.rounds):
            order = ["paquet", "cli"] if number % 2 == 0 else ["cli", "paquet"]
            for method in order:
                empty_registry(lab)
                if method == "paquet":
                    progress = TextProgress("push", io.StringIO())
                    started = time.perf_counter()
                    report = push(lab.host_a, lab.registry, IMAGE, progress=progress)
                    pushes[method].append(time.perf_counter() - started)
                    assert len(report.moved) == len(report.layers)
                    size = report.bytes_moved
                else:
                    pushes[method].append(timed(lambda: cli(lab, "a", "push", name)))
            for method in order:
                forget_on_b(lab, name)
                if method == "paquet":
                    progress = TextProgress("pull", io.StringIO())
                    started = time.perf_counter()
                    pull(lab.host_b, lab.registry, IMAGE, progress=progress)
                    pulls[method].append(time.perf_counter() - started)
                else:
                    pulls[method].append(timed(lambda: cli(lab, "b", "pull", name)))
        print(
            f"Image : {IMAGE}, {format_size(size)} compressés en 20 couches ; "
            f"médianes de {args.rounds} tours."
        )
        ok = ratio_line("push", pushes["paquet"], pushes["cli"], size)
        ok = ratio_line("pull", pulls["paquet"], pulls["cli"], size) and ok
        print("Verdict :", "objectif atteint." if ok else "objectif manqué.")
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
