"""Benchmark of the mark-and-sweep drawing against the real ``garbage-collect --dry-run``.

A registry of its own (free port, temporary folder) is filled with 500 repositories through
the HTTP API alone (no docker push): one base layer uploaded once and mounted everywhere, and
in each repository a layer of its own, a config and a manifest under two tags; one repository
in five then loses its manifest (deleted by digest). The registry is stopped, then two things
are timed side by side, several rounds, medians compared:

- building the graph: reading the storage tree, predicting the sweep (`plan_sweep`) and
  building the Graphviz drawing (`mark_and_sweep`, DOT text, not rendered);
- ``docker-registry garbage-collect --dry-run`` on the same storage.

Target ratio (graph / dry run) ≤ 1,0. The prediction is also checked against the dry run.

Run: ``.venv/bin/python benchmarks/bench_gc.py [--repositories N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from registry_lab.french import format_number
from registry_lab.graph import mark_and_sweep
from registry_lab.maintenance import push_tiny_image, run_garbage_collect, tiny_layer
from registry_lab.manifests import sha256_digest
from registry_lab.ports import free_port
from registry_lab.services import RegistryService
from registry_lab.storage import plan_sweep, read_storage

BASE = tiny_layer({"base.txt": "la base que partagent toutes les images\n" * 200})


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fill(service: RegistryService, count: int) -> None:
    client = service.client
    first = "banc/depot-000"
    base = client.upload_blob(first, BASE)
    assert base == sha256_digest(BASE)

    def one(number: int) -> None:
        name = f"banc/depot-{number:03d}"
        if name != first:
            client.mount_blob(name, base, first)
        own = tiny_layer({"app.txt": f"application n° {number}\n" * 50})
        digest = push_tiny_image(client, name, "1.0", [BASE, own])
        client.put_manifest(name, "stable", client.manifest(name, digest))
        if number % 5 == 0:
            client.delete_manifest(name, digest)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(count)))


def graph_build(root: Path) -> str:
    tree = read_storage(root)
    return mark_and_sweep(tree, plan_sweep(tree)).source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rl-bgc-", dir="/tmp"))
    service = RegistryService(home, free_port())
    try:
        service.start()
        service.wait_ready()
        started = time.perf_counter()
        fill(service, args.repositories)
        print(
            f"Registry rempli : {args.repositories} dépôts en "
            f"{format_number(time.perf_counter() - started, 1)} s (API HTTP, sans docker push)."
        )
        service.stop()
        config = str(service.config)
        plan = plan_sweep(read_storage(service.storage))
        dry = run_garbage_collect(config, dry_run=True)
        same = plan.swept_blobs == dry.swept_blobs and plan.marked == dry.marked
        print(
            f"Prédiction : {len(plan.swept_blobs)} blobs à libérer ; --dry-run : "
            f"{len(dry.swept_blobs)} ; identiques : {'oui' if same else 'NON'}."
        )
        graphs, dries = [], []
        for _ in range(args.rounds):
            graphs.append(timed(lambda: graph_build(service.storage)))
            dries.append(timed(lambda: run_garbage_collect(config, dry_run=True)))
        graph, dry_run = statistics.median(graphs), statistics.median(dries)
        ratio = graph / dry_run
        median = f"médiane de {args.rounds}"
        print(f"Graphe marquage et balayage ({median}) : {format_number(graph * 1000)} ms")
        print(f"garbage-collect --dry-run ({median}) : {format_number(dry_run * 1000)} ms")
        verdict = "objectif atteint" if ratio <= 1.0 else "objectif manqué"
        print(f"Rapport graphe / dry run : {format_number(ratio, 2)} (cible ≤ 1,0 : {verdict}).")
    finally:
        service.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
