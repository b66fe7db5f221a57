"""Benchmark of the registry client against skopeo, measured side by side in one run.

- inspecting 50 tags (manifest + config of each): the client vs. a loop of
  ``skopeo inspect --tls-verify=false docker://127.0.0.1:PORT/repo:tag`` — target ratio ≤ 0.2;
- copying an image of more than 100 MB in 6 layers between two registries: ``client.copy`` vs.
  ``skopeo copy`` — target ratio ≤ 1.0; a fresh destination registry for every copy.

Each measure is repeated (3 rounds by default, the two tools alternating who goes first) and
the medians are compared. Everything lives in one temporary state folder: a lab whose hôte A
builds the test image offline (``FROM lab/busybox`` + layers of random data copied in), a
source registry and the destinations, each on a free port. All of it is reset at the end.

Run: ``.venv/bin/python benchmarks/bench_registry.py [--rounds N]`` (as root).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from registry_lab import Lab, RegistryService
from registry_lab.french import format_size
from registry_lab.manifests import ImageManifest
from registry_lab.ports import free_port
from registry_lab.registry import RegistryClient

INSPECT_REPOSITORY = "banc/inspection"
COPY_REPOSITORY = "banc/grosse-image"
COPY_TAG = "1"
INSPECT_TARGET = 0.2
COPY_TARGET = 1.0
#: Threads of the parallel inspection (the default of `RegistryClient.repository`).
WORKERS = 8
INSPECT_LABELS = {
    "sequential": "client, une requête après l'autre",
    "parallel": f"client, {WORKERS} requêtes en parallèle",
    "skopeo": "boucle de skopeo inspect",
}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def registry(folder: Path) -> Iterator[RegistryService]:
    """A Distribution registry of its own (storage in ``folder``) on a free port."""
    service = RegistryService(folder, free_port())
    service.start()
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()
        shutil.rmtree(folder, ignore_errors=True)


# -- preparation -------------------------------------------------------------------------------
def push_big_image(lab: Lab, source: RegistryService, layers: int, layer_mb: int) -> str:
    """Build ``FROM lab/busybox`` + ``layers`` COPY of random files on hôte A, push it."""
    name = f"{source.address}/{COPY_REPOSITORY}:{COPY_TAG}"
    with tempfile.TemporaryDirectory(prefix="rl-bench-ctx-", dir="/tmp") as folder:
        lines = ["FROM lab/busybox"]
        for number in range(1, layers + 1):
            data = Path(folder) / f"donnees-{number}.bin"
            data.write_bytes(os.urandom(layer_mb * 1_000_000))
            lines.append(f"COPY {data.name} /donnees/{data.name}")
        (Path(folder) / "Dockerfile").write_text("\n".join(lines) + "\n")
        lab.host_a.docker("build", "--quiet", "--tag", name, folder, timeout=600)
    lab.host_a.docker("push", "--quiet", name, timeout=600)
    return name


def push_tagged_images(lab: Lab, source: RegistryService, count: int) -> list[str]:
    """``count`` tags, each on its own manifest: lab/busybox with a label per tag."""
    base = f"{source.address}/{INSPECT_REPOSITORY}:base"
    lab.host_a.docker("tag", "lab/busybox", base)
    lab.host_a.docker("push", "--quiet", base)
    tags = [f"v{number:02d}" for number in range(1, count + 1)]
    with RegistryClient(source.url) as client:
        manifest = client.manifest(INSPECT_REPOSITORY, "base")
        assert isinstance(manifest, ImageManifest)
        config = json.loads(client.blob(INSPECT_REPOSITORY, manifest.config.digest))
        document = json.loads(manifest.raw)
        for tag in tags:
            config["config"]["Labels"] = {"banc.tag": tag}
            raw = json.dumps(config).encode()
            document["config"].update(
                digest=client.upload_blob(INSPECT_REPOSITORY, raw), size=len(raw)
            )
            client.put_manifest(
                INSPECT_REPOSITORY, tag, json.dumps(document).encode(), manifest.media_type
            )
    return tags


# -- the two measures --------------------------------------------------------------------------
def inspect_with_client(
    source: RegistryService, tags: list[str], workers: int = 1
) -> tuple[float, list[str]]:
    """Manifest + config of every tag: one request after the other, or ``workers`` at a time
    (one client, its connection pool shared by the threads, as `RegistryClient.repository`)."""
    digests: list[str] = []

    def run() -> None:
        with RegistryClient(source.url) as client:

            def inspect(tag: str) -> str:
                manifest = client.manifest(INSPECT_REPOSITORY, tag)
                assert isinstance(manifest, ImageManifest)
                client.config(INSPECT_REPOSITORY, manifest)
                return manifest.digest

            if workers == 1:
                digests.extend(inspect(tag) for tag in tags)
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    digests.extend(pool.map(inspect, tags))

    return timed(run), digests


def inspect_with_skopeo(source: RegistryService, tags: list[str]) -> tuple[float, list[str]]:
    outputs: list[bytes] = []

    def run() -> None:
        for tag in tags:
            ref = f"docker://{source.address}/{INSPECT_REPOSITORY}:{tag}"
            argv = ["skopeo", "inspect", "--tls-verify=false", ref]
            outputs.append(subprocess.run(argv, capture_output=True, check=True).stdout)

    seconds = timed(run)
    return seconds, [str(json.loads(output)["Digest"]) for output in outputs]


def copy_with_client(source: RegistryService, destination: RegistryService) -> float:
    def run() -> None:
        with (
            RegistryClient(source.url) as client,
            RegistryClient(destination.url) as target,
        ):
            name = f"{COPY_REPOSITORY}:{COPY_TAG}"
            client.copy(name, name, destination_client=target)

    return timed(run)


def copy_with_skopeo(source: RegistryService, destination: RegistryService) -> float:
    argv = [
        "skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
        f"docker://{source.address}/{COPY_REPOSITORY}:{COPY_TAG}",
        f"docker://{destination.address}/{COPY_REPOSITORY}:{COPY_TAG}",
    ]  # fmt: skip
    return timed(lambda: subprocess.run(argv, capture_output=True, check=True, timeout=600))


def copied_digest(destination: RegistryService) -> str:
    with RegistryClient(destination.url) as client:
        return client.head_manifest(COPY_REPOSITORY, COPY_TAG).digest


# -- the run ---------------------------------------------------------------------------------
@dataclass
class Results:
    """Seconds of every round, per tool; the digests each inspection saw (first round)."""

    inspect: dict[str, list[float]] = field(default_factory=dict)
    copy: dict[str, list[float]] = field(default_factory=dict)
    digests: dict[str, list[str]] = field(default_factory=dict)


def measure(home: Path, source: RegistryService, tags: list[str], rounds: int) -> Results:
    """Every measure, ``rounds`` times, the tools alternating who goes first."""
    results = Results()
    with RegistryClient(source.url) as client:
        big = client.manifest(COPY_REPOSITORY, COPY_TAG)
    tools = ("sequential", "parallel", "skopeo")
    for number in range(rounds):
        order = tools if number % 2 == 0 else tools[::-1]
        for tool in order:
            if tool == "skopeo":
                seconds, seen = inspect_with_skopeo(source, tags)
            else:
                workers = WORKERS if tool == "parallel" else 1
                seconds, seen = inspect_with_client(source, tags, workers)
            assert len(set(seen)) == len(tags), "un manifeste distinct par tag attendu"
            results.inspect.setdefault(tool, []).append(seconds)
            results.digests.setdefault(tool, seen)
        for tool in (tool for tool in order if tool != "parallel"):
            with registry(home / f"destination-{tool}-{number}") as destination:
                copier = copy_with_skopeo if tool == "skopeo" else copy_with_client
                results.copy.setdefault(tool, []).append(copier(source, destination))
                assert copied_digest(destination) == big.digest, f"copie fausse ({tool})"
    return results


# -- the report ------------------------------------------------------------------------------
def _number(value: float, decimals: int = 3) -> str:
    """A number written the French way: ``0,042``."""
    return f"{value:.{decimals}f}".replace(".", ",")


def _timing(values: list[float]) -> str:
    """``médiane 1,234 s  (1,200 ; 1,300 ; 1,234)``."""
    each = " ; ".join(_number(value) for value in values)
    return f"médiane {_number(statistics.median(values))} s  ({each})"


def _ratio(label: str, values: list[float], reference: list[float], target: float) -> str:
    ratio = statistics.median(values) / statistics.median(reference)
    verdict = "✔" if ratio <= target else "✘ (hors objectif)"
    return f"   {label:<35}: {_number(ratio)}  (objectif ≤ {_number(target, 1)}) {verdict}"


def report(results: Results, big: ImageManifest, tags: int, rounds: int) -> None:
    inspect, copy, digests = results.inspect, results.copy, results.digests
    same = "oui" if digests["sequential"] == digests["parallel"] == digests["skopeo"] else "NON"
    print(f"Registry : client registry_lab contre skopeo, médianes sur {rounds} tours côte à côte")
    print()
    print(f"1. Inspecter {tags} tags (manifeste + configuration de chacun)")
    for tool, label in INSPECT_LABELS.items():
        print(f"   {label:<35}: {_timing(inspect[tool])}")
    print(f"   mêmes empreintes de manifeste que skopeo pour les {tags} tags : {same}")
    skopeo = inspect["skopeo"]
    print(_ratio("ratio client séquentiel / skopeo", inspect["sequential"], skopeo, INSPECT_TARGET))
    print(_ratio("ratio client parallèle / skopeo", inspect["parallel"], skopeo, INSPECT_TARGET))
    print()
    print(
        f"2. Copier une image de {format_size(big.total_size)} en {len(big.layers)} couches "
        "entre deux registries (destination neuve à chaque copie)"
    )
    print(f"   {'client.copy':<35}: {_timing(copy['sequential'])}")
    print(f"   {'skopeo copy':<35}: {_timing(copy['skopeo'])}")
    print("   empreinte du manifeste conservée par chaque copie : oui")
    print(_ratio("ratio client / skopeo", copy["sequential"], copy["skopeo"], COPY_TARGET))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="répétitions de chaque mesure")
    parser.add_argument("--tags", type=int, default=50, help="tags à inspecter")
    parser.add_argument("--layers", type=int, default=5, help="couches de données aléatoires")
    parser.add_argument("--layer-mb", type=int, default=21, help="taille de chacune, en Mo")
    options = parser.parse_args()
    rounds = max(1, options.rounds)

    home = Path(tempfile.mkdtemp(prefix="rl-bench-reg-", dir="/tmp"))
    lab = Lab(home / "labo", free_port())
    try:
        print("Préparation : labo, registry source, image de test construite hors ligne…")
        lab.start()
        with registry(home / "source") as source:
            push_big_image(lab, source, options.layers, options.layer_mb)
            tags = push_tagged_images(lab, source, options.tags)
            with RegistryClient(source.url) as client:
                big = client.manifest(COPY_REPOSITORY, COPY_TAG)
            assert isinstance(big, ImageManifest)
            results = measure(home, source, tags, rounds)
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)
    report(results, big, len(tags), rounds)


if __name__ == "__main__":
    main()
