"""The registry client against the real Distribution registry, with skopeo as the oracle.

What the course claims about a registry, proved on live registries: the client reads the same
bytes and digests as skopeo (a client nobody here wrote) for an image and for a manifest list;
catalog pages follow the ``Link`` header; bytes altered on the registry's disk are caught;
an image copied between two registries runs on hôte B; a second copy moves nothing; errors
come out in French; a transcript never shows credentials; the probe measures what differs
between a registry with deletes and one without.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import new_home

from registry_lab import BASE_IMAGE, Lab, RegistryService
from registry_lab.capabilities import probe
from registry_lab.errors import (
    BlobUnknownError,
    DigestInvalidError,
    DigestMismatchError,
    ManifestUnknownError,
    NameUnknownError,
    RegistryDownError,
    RegistryError,
    UnsupportedError,
)
from registry_lab.french import format_size
from registry_lab.manifests import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    ImageIndex,
    ImageManifest,
    Platform,
    parse_manifest,
    sha256_digest,
)
from registry_lab.ports import free_port
from registry_lab.registry import COPIED, MOUNTED, PRESENT, RegistryClient
from registry_lab.services import registry_version

pytestmark = pytest.mark.integration

APP = "client/app"
DOCKERFILE = f"""\
FROM {BASE_IMAGE}
RUN echo un > /un
COPY deux.txt /deux.txt
RUN echo trois > /trois
ENV COURS=registre
CMD ["cat", "/un"]
"""
ARM_DOCKERFILE = f"FROM {BASE_IMAGE}\nRUN echo arm64 > /arch\n"


# -- helpers ---------------------------------------------------------------------------------------
def skopeo(*args: str, arch: str | None = None) -> bytes:
    """``skopeo inspect --tls-verify=false ARGS``: the oracle's raw output."""
    options = ["--override-arch", arch] if arch else []
    completed = subprocess.run(
        ["skopeo", *options, "inspect", "--tls-verify=false", *args],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    return completed.stdout


def blob_file(service: RegistryService, digest: str) -> Path:
    """Where Distribution's filesystem driver keeps a blob's bytes."""
    hexa = digest.split(":", 1)[1]
    return service.storage / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"


def memory_home() -> Path:
    """A state folder in memory (tmpfs): a registry writes many small files, fast there."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="rl-", dir=shm))
    return new_home()


def start_registry(service: RegistryService) -> RegistryService:
    service.start()
    service.wait_ready()
    return service


def discard_registry(service: RegistryService) -> None:
    service.client.close()
    service.stop()
    shutil.rmtree(service.root.parent, ignore_errors=True)


class NoDeleteRegistry(RegistryService):
    """The lab's registry with ``storage.delete.enabled: false``, as many registries run."""

    def write_config(self) -> None:
        super().write_config()
        text = self.config.read_text()
        assert "delete:\n    enabled: true" in text
        self.config.write_text(
            text.replace("delete:\n    enabled: true", "delete:\n    enabled: false")
        )


def push_tiny(client: RegistryClient, repository: str, tag: str, layers: int = 1) -> ImageManifest:
    """A small OCI image pushed with the client itself: a config and random layers."""
    contents = [os.urandom(4096) for _ in range(layers)]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(c) for c in contents]},
            "history": [{"created_by": f"test {repository}:{tag}"}],
        }
    ).encode()
    config_digest = client.upload_blob(repository, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [
            {
                "mediaType": OCI_LAYER_GZIP,
                "digest": client.upload_blob(repository, content),
                "size": len(content),
            }
            for content in contents
        ],
    }
    client.put_manifest(repository, tag, manifest)
    found = client.manifest(repository, tag)
    assert isinstance(found, ImageManifest)
    return found


# -- fixtures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Images:
    """What host A built and pushed to the lab's registry: one image, and a manifest list."""

    single: str  # 127.0.0.1:PORT/client/app:v1
    arm: str  # 127.0.0.1:PORT/client/app:v1-arm64
    multi: str  # 127.0.0.1:PORT/client/app:multi
    diff_ids: list[str]


@pytest.fixture(scope="module")
def images(shared_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Images:
    lab = shared_lab
    prefix = f"{lab.registry.address}/{APP}"
    single, arm, multi = f"{prefix}:v1", f"{prefix}:v1-arm64", f"{prefix}:multi"
    context = tmp_path_factory.mktemp("app")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "deux.txt").write_text("deux\n")
    lab.host_a.docker("build", "-q", "-t", single, str(context))
    arm_context = tmp_path_factory.mktemp("arm")
    (arm_context / "Dockerfile").write_text(ARM_DOCKERFILE)
    lab.host_a.docker("build", "-q", "-t", arm, str(arm_context))
    lab.host_a.docker("push", single)
    lab.host_a.docker("push", arm)
    lab.host_a.docker("manifest", "create", "--insecure", "--amend", multi, single, arm)
    lab.host_a.docker("manifest", "annotate", "--arch", "arm64", multi, arm)
    lab.host_a.docker("manifest", "push", "--insecure", multi)
    diff_ids = lab.host_a.client.images.get(single).attrs["RootFS"]["Layers"]
    return Images(single, arm, multi, diff_ids)


@pytest.fixture(scope="module")
def client(shared_lab: Lab) -> Iterator[RegistryClient]:
    with RegistryClient(shared_lab.registry.url) as lab_client:
        yield lab_client


@pytest.fixture(scope="module")
def other_registry() -> Iterator[RegistryService]:
    """A second registry (a second Distribution process) on a free port."""
    service = start_registry(RegistryService(memory_home(), free_port()))
    try:
        yield service
    finally:
        discard_registry(service)


@pytest.fixture
def fresh_registry() -> Iterator[RegistryService]:
    service = start_registry(RegistryService(memory_home(), free_port()))
    try:
        yield service
    finally:
        discard_registry(service)


@pytest.fixture
def no_delete_registry() -> Iterator[RegistryService]:
    service = start_registry(NoDeleteRegistry(memory_home(), free_port()))
    try:
        yield service
    finally:
        discard_registry(service)


# -- against skopeo --------------------------------------------------------------------------------
def test_image_manifest_and_config_match_skopeo(
    client: RegistryClient, images: Images, tmp_path: Path
) -> None:
    manifest = client.manifest(APP, "v1")
    assert isinstance(manifest, ImageManifest)
    assert manifest.raw == skopeo("--raw", f"docker://{images.single}")
    assert (
        manifest.digest
        == skopeo("--format", "{{.Digest}}", f"docker://{images.single}").decode().strip()
    )
    assert client.head_manifest(APP, "v1").digest == manifest.digest
    assert manifest.media_type == DOCKER_MANIFEST
    assert manifest.config.media_type == DOCKER_CONFIG
    assert {layer.media_type for layer in manifest.layers} == {DOCKER_LAYER}

    config = client.config(APP, manifest)
    assert config.raw == skopeo("--config", "--raw", f"docker://{images.single}")
    assert config.diff_ids == tuple(images.diff_ids)  # the daemon's view: uncompressed digests
    assert config.env[-1] == "COURS=registre" and config.cmd == ("cat", "/un")
    layers = config.layers(manifest)
    assert len(layers) == len(manifest.layers) == len(images.diff_ids)
    assert [info.diff_id for info in layers] == images.diff_ids
    assert "RUN echo un > /un" in [info.history.instruction for info in layers if info.history]
    assert any(entry.empty_layer for entry in config.history)  # ENV, CMD made no layer

    # A layer streamed to disk is the compressed blob: its sha256 is the manifest's digest.
    layer = manifest.layers[-1]
    path = client.download_blob(APP, layer.digest, tmp_path / "couche.tar.gz")
    assert sha256_digest(path.read_bytes()) == layer.digest
    assert path.stat().st_size == layer.size
    # By digest too, and the manifest shows itself in French.
    assert client.manifest(APP, manifest.digest).raw == manifest.raw
    html = manifest._repr_html_()
    assert "Couches" in html and format_size(manifest.total_size) in html
    assert "Historique" in config._repr_html_()


def test_manifest_list_matches_skopeo(client: RegistryClient, images: Images) -> None:
    index = client.manifest(APP, "multi")
    assert isinstance(index, ImageIndex)
    assert index.media_type == DOCKER_MANIFEST_LIST
    assert index.raw == skopeo("--raw", f"docker://{images.multi}")
    assert client.head_manifest(APP, "multi").digest == index.digest
    assert sorted(map(str, index.platforms)) == ["linux/amd64", "linux/arm64"]

    single = client.manifest(APP, "v1")
    arm = client.manifest(APP, "v1-arm64")
    assert {entry.digest for entry in index.manifests} == {single.digest, arm.digest}
    # skopeo names a list by the list's digest, and resolves arm64 to the annotated entry.
    assert skopeo("--format", "{{.Digest}}", f"docker://{images.multi}").decode().strip() == (
        index.digest
    )
    chosen = client.manifest_for_platform(APP, "multi", "linux/arm64")
    assert chosen.digest == arm.digest == index.for_platform("linux/arm64").digest
    arm_config = skopeo("--config", "--raw", f"docker://{images.multi}", arch="arm64")
    assert client.config(APP, chosen).raw == arm_config
    assert client.manifest_for_platform(APP, "multi", Platform("linux", "amd64")) == single
    assert "linux/arm64" in index._repr_html_()

    repository = client.repository(APP)  # one HEAD per tag: what each tag points to
    assert repository.tags["multi"].digest == index.digest
    assert repository.tags["v1"].digest == single.digest
    assert repository.tags["multi"].media_type == DOCKER_MANIFEST_LIST
    assert "3 tags, 3 manifestes distincts" in repository.caption


# -- pagination ------------------------------------------------------------------------------------
def test_catalog_and_tags_pagination(fresh_registry: RegistryService) -> None:
    client = fresh_registry.client
    base = push_tiny(client, "pages/base", "t000", layers=0)  # a config, no layer
    expected_repositories = ["pages/base"] + [f"pages/depot-{i:03d}" for i in range(260)]
    expected_tags = [f"t{i:03d}" for i in range(260)]

    def new_repository(repository: str) -> None:
        assert client.mount_blob(repository, base.config.digest, "pages/base")
        client.put_manifest(repository, "v1", base)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(new_repository, expected_repositories[1:]))
        list(pool.map(lambda tag: client.put_manifest("pages/base", tag, base), expected_tags))

    # The catalog: pages of n=50 following the Link header, each name exactly once.
    with client.record() as transcript:
        names = list(client.repositories(page_size=50))
    assert sorted(names) == expected_repositories
    assert len(names) == len(set(names))
    assert len(transcript) == math.ceil(len(expected_repositories) / 50)
    assert transcript[0].path == "/v2/_catalog?n=50"
    for exchange in transcript[:-1]:
        link = exchange.header("Link")
        assert link is not None and "n=50" in link and 'rel="next"' in link
    assert transcript[-1].header("Link") is None
    sizes, last = [], None
    while True:
        page, link = client.catalog_page(50, last)
        sizes.append(len(page))
        if link is None:
            break
        last = page[-1]
    assert sizes == [50, 50, 50, 50, 50, 11]

    # Lazy: the first name costs one request.
    with client.record() as transcript:
        assert next(client.repositories(page_size=50)) == "pages/base"
    assert len(transcript) == 1

    # Tags: every tag exactly once. Distribution 2.8 ignores n on tags/list (one page, no
    # Link); a registry that paginates sends Links, which the iterator follows.
    with client.record() as transcript:
        tags = list(client.tags("pages/base", page_size=50))
    assert sorted(tags) == expected_tags
    assert len(tags) == len(set(tags))
    if registry_version().lstrip("v").startswith("2."):
        assert len(transcript) == 1 and transcript[0].header("Link") is None
    else:
        assert len(transcript) == math.ceil(len(expected_tags) / 50)


# -- integrity -------------------------------------------------------------------------------------
def test_altered_blob_and_manifest_are_detected(
    shared_lab: Lab, client: RegistryClient, other_registry: RegistryService, tmp_path: Path
) -> None:
    manifest = push_tiny(client, "client/altere", "v1")
    layer = manifest.layers[0]
    client.download_blob("client/altere", layer.digest, tmp_path / "avant")  # intact: fine

    data = blob_file(shared_lab.registry, layer.digest)
    altered = bytearray(data.read_bytes())
    altered[0] ^= 0xFF  # same size, one byte changed
    data.write_bytes(bytes(altered))
    target = tmp_path / "couche"
    with pytest.raises(DigestMismatchError) as caught:
        client.download_blob("client/altere", layer.digest, target)
    assert caught.value.expected == layer.digest
    assert caught.value.actual == sha256_digest(bytes(altered))
    assert "altéré" in caught.value.message and caught.value.hint
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "avant"]  # no partial file left
    with pytest.raises(DigestMismatchError):
        client.blob("client/altere", layer.digest)
    with pytest.raises(DigestMismatchError):  # a copy does not spread altered bytes either
        client.copy("client/altere:v1", "altere:v1", destination_client=other_registry.client)
    assert not other_registry.client.blob_exists("altere", layer.digest)

    stored = blob_file(shared_lab.registry, manifest.digest)
    text = stored.read_bytes()
    size = f'"size": {layer.size}'.encode()
    assert size in text
    stored.write_bytes(text.replace(size, f'"size": {layer.size + 1}'.encode()))
    for reference in ("v1", manifest.digest):
        with pytest.raises(DigestMismatchError) as caught:
            client.manifest("client/altere", reference)
        assert caught.value.expected == manifest.digest
        assert "Manifeste" in caught.value.message


# -- copy ------------------------------------------------------------------------------------------
def test_copy_between_registries_then_pull_and_run_on_host_b(
    shared_lab: Lab, client: RegistryClient, images: Images, other_registry: RegistryService
) -> None:
    other = other_registry.client
    moved: list[str] = []
    report = client.copy(
        f"{APP}:v1",
        "copie/app:v1",
        destination_client=other,
        progress=lambda b: moved.append(b.action),
    )
    source = client.manifest(APP, "v1")
    assert isinstance(source, ImageManifest)
    assert report.digest == source.digest
    assert [blob.digest for blob in report.blobs] == [b.digest for b in source.blobs]
    assert {blob.action for blob in report.blobs} == {COPIED}
    assert moved == [COPIED] * len(source.blobs)
    assert report.bytes_moved == sum(blob.size for blob in source.blobs)
    ref = f"{other_registry.address}/copie/app:v1"
    assert skopeo("--format", "{{.Digest}}", f"docker://{ref}").decode().strip() == source.digest

    pulled = shared_lab.host_b.docker("pull", ref)
    assert source.digest in pulled.output
    run = shared_lab.host_b.docker("run", "--rm", "--network", "none", "--pull=never", ref)
    assert run.output.strip() == "un"

    again = client.copy(f"{APP}:v1", "copie/app:v1", destination_client=other)
    assert {blob.action for blob in again.blobs} == {PRESENT}
    assert again.bytes_moved == 0
    assert "déjà présent" in str(again) and "<table>" in again._repr_html_()


def test_copy_index_with_children(
    client: RegistryClient, images: Images, other_registry: RegistryService
) -> None:
    index = client.manifest(APP, "multi")
    assert isinstance(index, ImageIndex)
    report = client.copy(
        f"{APP}:multi",
        f"{other_registry.address}/copie/multi:v1",
        destination_client=other_registry.client,
    )
    assert report.digest == index.digest
    assert report.manifests == (*(entry.digest for entry in index.manifests), index.digest)
    copied = other_registry.client.manifest("copie/multi", "v1")
    assert copied.raw == index.raw
    for entry in index.manifests:
        assert (
            other_registry.client.head_manifest("copie/multi", entry.digest).digest == entry.digest
        )
    ref = f"docker://{other_registry.address}/copie/multi:v1"
    assert skopeo("--raw", ref) == index.raw

    # Within one registry, blobs are mounted, not moved.
    mirror = client.copy(f"{APP}:multi", "client/miroir:multi")
    assert {blob.action for blob in mirror.blobs} == {MOUNTED}
    assert mirror.bytes_moved == 0
    assert client.manifest("client/miroir", "multi").raw == index.raw


def test_uploads_chunked_and_mounted(client: RegistryClient, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "blob"
    path.write_bytes(data)
    with client.record() as transcript:
        digest = client.upload_blob("client/envoi", path, chunk_size=64_000)
    assert digest == sha256_digest(data)
    patches = [e for e in transcript if e.method == "PATCH"]
    assert [e.header("Content-Range") for e in patches] == [
        "0-63999", "64000-127999", "128000-191999", "192000-255999", "256000-299999"
    ]  # fmt: skip
    assert client.blob("client/envoi", digest) == data
    with client.record() as transcript:
        assert client.upload_blob("client/envoi", data) == digest  # already there: HEAD only
    assert [e.method for e in transcript] == ["HEAD"]
    assert client.mount_blob("client/autre", digest, "client/envoi") is True
    assert client.blob_exists("client/autre", digest)
    missing = "sha256:" + "0" * 64
    assert client.mount_blob("client/autre", missing, "client/envoi") is False


# -- errors ----------------------------------------------------------------------------------------
def test_errors_are_french_and_typed(
    shared_lab: Lab, client: RegistryClient, images: Images
) -> None:
    with pytest.raises((NameUnknownError, ManifestUnknownError)) as unknown:
        client.manifest("inconnu/depot", "v1")
    assert "« inconnu/depot" in unknown.value.message and unknown.value.status == 404
    assert "client.tags" in unknown.value.hint or "repositories" in unknown.value.hint
    with pytest.raises(NameUnknownError) as name:
        list(client.tags("inconnu/depot"))
    assert name.value.code == "NAME_UNKNOWN" and "n'existe pas" in name.value.message
    with pytest.raises(ManifestUnknownError) as head:  # HEAD: no body, mapped from the URL
        client.head_manifest(APP, "absent")
    assert "« absent »" in head.value.message
    with pytest.raises(BlobUnknownError):
        client.blob(APP, "sha256:" + "0" * 64)
    with pytest.raises(DigestInvalidError) as tag_delete:
        client.delete_manifest(APP, "v1-arm64")  # a tag: Distribution wants a digest
    assert "empreinte" in tag_delete.value.hint

    down = RegistryClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(RegistryDownError) as refused:
        list(down.repositories())
    assert "python -m registry_lab up" in refused.value.hint
    assert down.base_url in refused.value.message and "connexion refusée" in refused.value.message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert "httpx" not in str(refused.value)


def test_delete_disabled_is_unsupported(no_delete_registry: RegistryService) -> None:
    client = no_delete_registry.client
    manifest = push_tiny(client, "sans/suppression", "v1")
    with pytest.raises(UnsupportedError) as caught:
        client.delete_manifest("sans/suppression", manifest.digest)
    assert caught.value.status == 405 and caught.value.code == "UNSUPPORTED"
    assert "suppression est désactivée" in caught.value.message
    assert "delete" in caught.value.hint
    assert client.head_manifest("sans/suppression", "v1").digest == manifest.digest


# -- transcript ------------------------------------------------------------------------------------
def test_transcript_of_a_push_hides_credentials(shared_lab: Lab) -> None:
    secret = "mot-de-passe-123"
    auth = httpx.BasicAuth("eleve", secret)  # sent with every request, ignored by the lab
    client = RegistryClient(shared_lab.registry.url, auth=auth)
    with client, client.record() as transcript:
        manifest = push_tiny(client, "client/transcrit", "v1")
    lines = transcript.request_lines
    assert [e.status for e in transcript] == [404, 202, 201, 404, 202, 201, 201, 200]
    assert lines[0].startswith("HEAD /v2/client/transcrit/blobs/sha256:")
    assert lines[1] == "POST /v2/client/transcrit/blobs/uploads/"
    assert lines[2].startswith("PUT /v2/client/transcrit/blobs/uploads/")
    assert "digest=sha256:" in lines[2] and "_state=…" in lines[2]
    assert lines[6] == "PUT /v2/client/transcrit/manifests/v1"
    assert (
        transcript[1]
        .header(
            "Location",
        )
        .startswith("/v2/client/transcrit/blobs/uploads/")
    )
    assert transcript[6].header("Content-Type") == OCI_MANIFEST
    assert transcript[6].header("Docker-Content-Digest") == manifest.digest
    assert transcript[7].header("Accept") is not None
    shown = str(transcript) + transcript._repr_html_() + repr(list(transcript))
    assert "Authorization: (masqué)" in str(transcript)
    assert "PUT /v2/client/transcrit/blobs/uploads/<uuid>?_state=…&digest=sha256:" in shown
    for forbidden in (secret, "Basic ", "ZWxldmU6"):  # base64 of "eleve:"
        assert forbidden not in shown, forbidden
    assert RegistryClient(shared_lab.registry.url, auth=("eleve", secret)).ping().ok


# -- capabilities ----------------------------------------------------------------------------------
def test_capabilities_with_and_without_delete(
    fresh_registry: RegistryService, no_delete_registry: RegistryService
) -> None:
    lab_like = probe(fresh_registry.client)
    assert lab_like.api_version == "registry/2.0"
    assert lab_like.delete_enabled is True
    assert lab_like.tag_delete is False  # Distribution deletes manifests by digest only
    assert lab_like.referrers is False
    assert lab_like.cross_repo_mount is True
    assert lab_like.chunked_upload is True
    assert lab_like.catalog_page_limit == 1000
    assert "comment on l'a mesuré" in str(lab_like)
    assert list(fresh_registry.client.tags("registry-lab-probe/sonde")) == []  # cleaned

    locked = no_delete_registry.client.capabilities()  # the same probe, as a method
    assert locked.delete_enabled is False
    assert locked.tag_delete is False
    assert locked.cross_repo_mount is True
    assert "UNSUPPORTED" in locked._repr_html_()
    assert any("reste" in note for note in locked.notes)


# -- offline: the typed views ------------------------------------------------------------------
def test_views_read_every_manifest_kind_and_speak_french() -> None:
    assert [format_size(n) for n in (0, 999, 1_900_000, 2_500_000_000)] == [
        "0 o", "999 o", "1,9 Mo", "2,5 Go"
    ]  # fmt: skip
    config = {"mediaType": OCI_CONFIG, "digest": "sha256:" + "1" * 64, "size": 10}
    manifest = json.dumps({"schemaVersion": 2, "config": config, "layers": []}).encode()
    assert parse_manifest(manifest).media_type == OCI_MANIFEST  # by its shape
    arm64 = {"os": "linux", "architecture": "arm64", "variant": "v8"}
    entry = {**config, "mediaType": OCI_MANIFEST, "platform": arm64}
    index = json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode()
    parsed = parse_manifest(index, "application/json")  # a vague Content-Type: by its shape
    assert isinstance(parsed, ImageIndex) and parsed.media_type == OCI_INDEX
    assert parsed.for_platform("linux/arm64").platform == Platform("linux", "arm64", "v8")
    with pytest.raises(KeyError):
        parsed.for_platform("linux/amd64")
    with pytest.raises(RegistryError) as schema1:
        parse_manifest(b'{"schemaVersion": 1, "fsLayers": []}')
    assert "schéma 1" in schema1.value.hint
    with pytest.raises(RegistryError):
        parse_manifest(b"<html>")
