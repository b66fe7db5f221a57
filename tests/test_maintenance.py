"""Delete by digest and garbage collection, on real Distribution registries of the tests' own."""

from __future__ import annotations

import pytest
from conftest import run_cli
from test_storage import BASE, OWN_A, OWN_B, fill, registry  # noqa: F401

from registry_lab.errors import ManifestUnknownError
from registry_lab.maintenance import delete_digest, delete_tag, garbage_collect, push_tiny_image
from registry_lab.manifests import sha256_digest
from registry_lab.services import RegistryService
from registry_lab.storage import blob_path, plan_sweep, read_storage


def test_deleting_a_digest_removes_every_tag(registry: RegistryService) -> None:  # noqa: F811
    client = registry.client
    digest = push_tiny_image(client, "labo/app", "1.0", [BASE, OWN_A])
    assert push_tiny_image(client, "labo/app", "stable", [BASE, OWN_A]) == digest
    push_tiny_image(client, "labo/app", "2.0", [BASE, OWN_B])
    result = delete_tag(client, "labo/app", "stable")
    assert result.digest == digest and result.tags == ("1.0", "stable")
    assert sorted(client.tags("labo/app")) == ["2.0"]
    with pytest.raises(ManifestUnknownError):
        client.manifest("labo/app", digest)
    # The blobs stay: on disk, and even served by the repository.
    assert blob_path(registry.storage, sha256_digest(OWN_A)).is_file()
    assert blob_path(registry.storage, digest).is_file()
    assert client.blob_exists("labo/app", sha256_digest(OWN_A))
    assert "1.0, stable" in str(result)


def test_gc_frees_unshared_layers_only(registry: RegistryService) -> None:  # noqa: F811
    digests = fill(registry)
    delete_digest(registry.client, "labo/a", digests["a"])
    plan = plan_sweep(read_storage(registry.storage))
    dry = garbage_collect(registry, dry_run=True)
    assert registry.healthy  # started again
    assert dry.swept_blobs == plan.swept_blobs and dry.freed == 0
    report = garbage_collect(registry)
    assert registry.healthy
    assert report.swept_blobs == plan.swept_blobs
    assert report.freed >= plan.bytes_freed > 0
    assert not blob_path(registry.storage, sha256_digest(OWN_A)).exists()
    assert not blob_path(registry.storage, digests["a"]).exists()
    assert blob_path(registry.storage, sha256_digest(BASE)).is_file()
    assert registry.client.manifest("labo/b", "1.0").digest == digests["b"]
    # The emptied repository is still in the catalog, and the tree says why.
    assert "labo/a" in registry.repositories()
    assert registry.tags("labo/a") == []
    emptied = read_storage(registry.storage).repository("labo/a")
    assert emptied.in_catalog_without_tags and "catalogue" in emptied.explain()
    assert "octets sur le disque avant" in str(report)


def test_gc_delete_untagged(registry: RegistryService) -> None:  # noqa: F811
    digests = fill(registry)
    report = garbage_collect(registry, delete_untagged=True)
    assert report.swept_manifests == (digests["b-old"],)
    with pytest.raises(ManifestUnknownError):
        registry.client.manifest("labo/b", digests["b-old"])
    assert registry.client.manifest("labo/b", "1.0").digest == digests["b"]


def test_cli_delete_and_gc(registry: RegistryService) -> None:  # noqa: F811
    digests = fill(registry)
    home, port = registry.root.parent, registry.port
    done = run_cli("delete", "labo/a:1.0", home=home, port=port)
    assert done.returncode == 0, done.output
    assert "supprimé" in done.stdout
    done = run_cli("gc", "--dry-run", home=home, port=port)
    assert done.returncode == 0, done.output
    assert "à blanc" in done.stdout
    done = run_cli("delete", f"labo/b@{digests['b']}", home=home, port=port)
    assert done.returncode == 0 and "1.0" in done.stdout
    done = run_cli("gc", home=home, port=port)
    assert done.returncode == 0, done.output
    assert registry.healthy
    assert not blob_path(registry.storage, digests["b"]).exists()
