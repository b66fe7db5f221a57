"""Benchmark of the lab's lifecycle, measured side by side in one run (the machine is noisy).

- cold ``up`` (nothing running, fresh state folder, base image absent) divided by the time of
  one bare ``dockerd`` start on this machine — target ≤ 1.5;
- warm ``up`` (everything already running) — target under 0.3 s;
- ``down``.

It also prints the two parts of a cold ``up``: the three components started in parallel, and
the build of the base image ``lab/busybox`` (``docker build``, legacy builder).

Run: ``.venv/bin/python benchmarks/bench_lab.py [--rounds N]`` (as root).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from registry_lab import BASE_IMAGE, Lab
from registry_lab.french import format_number
from registry_lab.hosts import DockerHost
from registry_lab.images import ensure_base_image
from registry_lab.ports import free_port


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare_dockerd_start(home: Path) -> float:
    """One dockerd started from a fresh folder until it answers ``/_ping``, then stopped."""
    host = DockerHost("x", home)

    def start() -> None:
        host.start()
        host.wait_ready()

    try:
        return timed(start)
    finally:
        host.stop()


def components_only(home: Path) -> float:
    """Cold start of the two hosts and the registry, without the base image."""
    lab = Lab(home, free_port())
    parts = (lab.host_a, lab.host_b, lab.registry)

    def start() -> None:
        for part in parts:
            part.start()
        for part in parts:
            part.wait_ready()

    try:
        return timed(start)
    finally:
        lab.reset()


def base_image_build(lab: Lab) -> float:
    """Remove ``lab/busybox`` from hôte A and build it again."""
    lab.host_a.client.images.remove(BASE_IMAGE)
    return timed(lambda: ensure_base_image(lab.host_a))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    bare, cold, warm, down, parts, build = [], [], [], [], [], []
    for _ in range(rounds):
        folder = Path(tempfile.mkdtemp(prefix="rl-bench-", dir="/tmp"))
        try:
            bare.append(bare_dockerd_start(folder / "bare"))
            parts.append(components_only(folder / "parts"))
            lab = Lab(folder / "lab", free_port())
            cold.append(timed(lab.start))
            warm.extend(timed(Lab(lab.home, lab.registry.port).start) for _ in range(5))
            build.append(base_image_build(lab))
            down.append(timed(lab.down))
        finally:
            Lab(folder / "lab").reset()
            shutil.rmtree(folder, ignore_errors=True)

    med = statistics.median
    ratio = med(cold) / med(bare)
    print(f"Cycle de vie du labo — médianes sur {rounds} tours, mesurées côte à côte")
    print(f"  démarrage d'un dockerd nu     : {format_number(med(bare), 3)} s")
    print(f"  up à froid (2 dockerd, registry, image de base) : {format_number(med(cold), 3)} s")
    print(
        f"    dont les 3 composants seuls : {format_number(med(parts), 3)} s "
        f"(ratio {format_number(med(parts) / med(bare), 2)} du dockerd nu)"
    )
    print(
        f"    construction de lab/busybox : {format_number(med(build), 3)} s "
        "(docker build : COPY, ENV, CMD)"
    )
    print(
        f"  ratio up à froid / dockerd nu : {format_number(ratio, 2)}  (objectif ≤ 1,5) "
        f"{_verdict(ratio <= 1.5)}"
    )
    print(
        f"  up à chaud (déjà en marche)   : {format_number(med(warm), 3)} s  (objectif < 0,3 s) "
        f"{_verdict(med(warm) < 0.3)}"
    )
    print(f"  down                          : {format_number(med(down), 3)} s")


def _verdict(ok: bool) -> str:
    return "✔" if ok else "✘ (hors objectif)"


if __name__ == "__main__":
    main()
