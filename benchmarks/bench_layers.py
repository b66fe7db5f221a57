"""Benchmark of the layer facts, measured side by side in one run (the machine is noisy).

- analysing every layer of ``banc/vingt-couches:1.0`` (20 layers of 10 Mio: about 210 Mo) with
  `registry_lab.layers.image_files` — the ``docker save`` stream parsed on the fly, every file
  of every layer listed, every layer hashed — divided by the time of
  ``docker save IMAGE | tar -t`` on the same image — target ≤ 1.5;
- drawing the DAG of 200 images that share layers (`registry_lab.graph.layer_dag`, then the
  SVG by Graphviz) — target under 2 s.

The image is built offline (busybox ``dd`` from ``/dev/urandom``) on a lab of the benchmark's
own (a new state folder under /tmp, a free port), erased at the end.

Run: ``.venv/bin/python benchmarks/bench_layers.py [--rounds N]`` (as root).
"""

from __future__ import annotations

import argparse
import hashlib
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
from registry_lab.graph import layer_dag, render_svg
from registry_lab.layers import ImageLayers, LayerStep, image_files
from registry_lab.ports import free_port

IMAGE = EXAMPLES["vingt-couches"].tag


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def save_and_list(lab: Lab) -> None:
    """``docker save IMAGE | tar -t`` against hôte A, output thrown away."""
    env = {**os.environ, "DOCKER_HOST": lab.host_a.url}
    subprocess.run(
        f"docker save {IMAGE} | tar -t > /dev/null", shell=True, check=True, env=env, timeout=600
    )


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def shared_images(count: int = 200, bases: int = 8) -> list[ImageLayers]:
    """``count`` images on ``bases`` bases of 3 layers each, with 2 layers of their own."""
    images = []
    for number in range(count):
        base = number % bases
        layers = [f"base-{base}-{depth}" for depth in range(3)]
        layers += [f"image-{number}-app", f"image-{number}-config"]
        steps = tuple(
            LayerStep(
                step=position,
                instruction=f"COPY {content} /",
                created_by=f"/bin/sh -c #(nop) COPY {content} /",
                position=position,
                diff_id=_digest(content),
                size=1000 * position,
            )
            for position, content in enumerate(layers, 1)
        )
        name = f"cours/app-{number:03d}:1.0"
        images.append(ImageLayers(name, "hôte A", _digest(name), steps))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    home = Path(tempfile.mkdtemp(prefix="rl-bench-couches-", dir="/tmp"))
    lab = Lab(home, free_port())
    try:
        lab.start()
        build = timed(lambda: build_example(lab.host_a, "vingt-couches", rebuild=True))
        files = image_files(lab.host_a, IMAGE)
        entries = sum(len(layer.entries) for layer in files.layers)
        size = sum(layer.size for layer in files.layers)
        save, analyse = [], []
        for _ in range(rounds):
            save.append(timed(lambda: save_and_list(lab)))
            analyse.append(timed(lambda: image_files(lab.host_a, IMAGE)))
        images = shared_images()
        draw = [timed(lambda: render_svg(layer_dag(images))) for _ in range(rounds)]
        nodes = len({chain for image in images for chain in image.chain_ids})
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)

    med = statistics.median
    ratio = med(analyse) / med(save)
    print(f"Couches — médianes sur {rounds} tours, mesurées côte à côte")
    print(
        f"  image {IMAGE} : {len(files.layers)} couches, {format_size(size)}, "
        f"{entries} entrées (construite en {format_number(build, 1)} s)"
    )
    print(f"  docker save | tar -t          : {format_number(med(save), 3)} s")
    print(f"  image_files (toutes couches)  : {format_number(med(analyse), 3)} s")
    print(
        f"  ratio image_files / save+tar  : {format_number(ratio, 2)}  (objectif ≤ 1,5) "
        f"{_verdict(ratio <= 1.5)}"
    )
    print(
        f"  graphe de {len(images)} images ({nodes} couches distinctes) : "
        f"{format_number(med(draw), 3)} s "
        f"(objectif < 2 s) {_verdict(med(draw) < 2)}"
    )


def _verdict(ok: bool) -> str:
    return "✔" if ok else "✘ (hors objectif)"


if __name__ == "__main__":
    main()
