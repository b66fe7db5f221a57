"""The storage tree read as API objects, and the sweep predicted before the collector runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_nothing_left, new_home

from registry_lab.graph import mark_and_sweep, render_svg
from registry_lab.maintenance import (
    delete_tag,
    parse_gc_output,
    push_tiny_image,
    run_garbage_collect,
    tiny_layer,
)
from registry_lab.manifests import sha256_digest
from registry_lab.ports import free_port
from registry_lab.services import RegistryService
from registry_lab.storage import blob_path, disk_usage, plan_sweep, read_storage

BASE = tiny_layer({"base.txt": "base partagée\n" * 30})
OWN_A = tiny_layer({"a.txt": "couche propre à a\n" * 30})
OWN_B = tiny_layer({"b.txt": "couche propre à b\n" * 30})
OLD_B = tiny_layer({"b.txt": "ancienne version de b\n" * 30})


@pytest.fixture
def registry() -> Iterator[RegistryService]:
    """A registry of its own on a free port (never the lab's), stopped and erased after."""
    home = new_home()
    service = RegistryService(home, free_port())
    service.start()
    service.wait_ready()
    try:
        yield service
    finally:
        service.stop()
        assert_nothing_left(home)
        shutil.rmtree(home, ignore_errors=True)


def test_tiny_layers_are_reproducible() -> None:
    assert tiny_layer({"x": "y"}) == tiny_layer({"x": "y"})


def fill(registry: RegistryService) -> dict[str, str]:
    client = registry.client
    return {
        "a": push_tiny_image(client, "labo/a", "1.0", [BASE, OWN_A]),
        "b-old": push_tiny_image(client, "labo/b", "1.0", [BASE, OLD_B]),
        "b": push_tiny_image(client, "labo/b", "1.0", [BASE, OWN_B]),  # 1.0 moves: old untagged
    }


def test_tree_maps_links_to_api_objects(registry: RegistryService) -> None:
    digests = fill(registry)
    tree = read_storage(registry.storage)
    assert [repo.name for repo in tree.repositories] == ["labo/a", "labo/b"]
    b = tree.repository("labo/b")
    assert dict(b.tags) == {"1.0": digests["b"]}
    assert set(b.revisions) == {digests["b"], digests["b-old"]}
    assert b.untagged == (digests["b-old"],)
    assert sha256_digest(BASE) in b.layers
    for digest in (*digests.values(), sha256_digest(BASE)):
        assert blob_path(registry.storage, digest).is_file()
        assert tree.blobs[digest] == blob_path(registry.storage, digest).stat().st_size
    assert tree.total_bytes <= disk_usage(registry.storage)
    assert "labo/b" in str(tree)


@pytest.mark.parametrize("untagged", [False, True])
def test_prediction_equals_dry_run(registry: RegistryService, untagged: bool) -> None:
    digests = fill(registry)
    delete_tag(registry.client, "labo/a", "1.0")
    registry.stop()
    tree = read_storage(registry.storage)
    plan = plan_sweep(tree, delete_untagged=untagged)
    before = disk_usage(registry.storage)
    dry = run_garbage_collect(str(registry.config), dry_run=True, delete_untagged=untagged)
    assert disk_usage(registry.storage) == before  # a dry run erases nothing
    assert plan.swept_blobs == dry.swept_blobs
    assert plan.marked == dry.marked
    assert sorted(d for _, d in plan.swept_manifests) == list(dry.swept_manifests)
    assert digests["a"] in plan.swept_blobs and sha256_digest(OWN_A) in plan.swept_blobs
    assert sha256_digest(BASE) not in plan.swept_blobs
    assert (digests["b-old"] in plan.swept_blobs) is untagged
    svg = render_svg(mark_and_sweep(tree, plan))
    assert "libéré" in svg and "gardé" in svg
    assert mark_and_sweep(tree, plan).source == mark_and_sweep(read_storage(tree.root), plan).source


def test_parse_gc_output() -> None:
    text = (
        "labo/a\nlabo/a: marking manifest sha256:aa \nlabo/a: marking blob sha256:bb\n\n"
        "1 blobs marked, 1 blobs and 1 manifests eligible for deletion\n"
        "manifest eligible for deletion: sha256:dd\nblob eligible for deletion: sha256:cc\n"
    )
    out = parse_gc_output(text)
    assert out.marked == {"sha256:aa", "sha256:bb"}
    assert out.swept_blobs == ("sha256:cc",)
    assert out.swept_manifests == ("sha256:dd",)


def test_empty_storage(tmp_path: Path) -> None:
    tree = read_storage(tmp_path)
    assert tree.repositories == () and tree.total_bytes == 0
    assert plan_sweep(tree).swept_blobs == ()
