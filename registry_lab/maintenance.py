"""Looking after a registry: delete manifests by digest, then collect the garbage.

Distribution 2.x deletes a manifest only by digest (``DELETE /v2/<name>/manifests/<digest>``):
every tag that points to it goes with it, a later ``GET`` answers ``MANIFEST_UNKNOWN``, and
its blobs stay on disk. Only ``docker-registry garbage-collect`` (mark and sweep) frees them,
with the registry stopped (or read-only), since an upload under way could lose its blobs.

```python
result = delete_tag(lab.registry.client, "entretien/ancien", "1.0")   # the manifest, by digest
report = garbage_collect(lab.registry, dry_run=True)                  # what would be freed
report = garbage_collect(lab.registry)                                # stop, collect, restart
print(report)                                                         # bytes before and after
```
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ManifestUnknownError, NameUnknownError, RegistryError
from .french import format_number, plural
from .manifests import sha256_digest, short_digest
from .processes import find_binary
from .storage import disk_usage

if TYPE_CHECKING:
    from .registry import RegistryClient
    from .services import RegistryService

__all__ = [
    "DeleteResult",
    "GcOutput",
    "GcReport",
    "delete_digest",
    "delete_tag",
    "garbage_collect",
    "parse_gc_output",
    "push_tiny_image",
    "run_garbage_collect",
    "tiny_layer",
]

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


# -- delete ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeleteResult:
    """A manifest deleted by digest, and the tags that went with it."""

    repository: str
    digest: str
    tags: tuple[str, ...]

    def __str__(self) -> str:
        gone = ", ".join(self.tags) if self.tags else "aucun"
        return (
            f"Manifeste {short_digest(self.digest)} supprimé de {self.repository} ; "
            f"tags partis avec lui : {gone}. Ses blobs restent sur le disque jusqu'au "
            "ramasse-miettes."
        )


def _tags_of(client: RegistryClient, repository: str, digest: str) -> tuple[str, ...]:
    try:
        tags = sorted(client.tags(repository))
    except NameUnknownError:
        return ()
    found = []
    for tag in tags:
        try:
            if client.head_manifest(repository, tag).digest == digest:
                found.append(tag)
        except ManifestUnknownError:
            continue
    return tuple(found)


def delete_digest(client: RegistryClient, repository: str, digest: str) -> DeleteResult:
    """Delete the manifest ``repository@digest``; every tag that points to it goes too."""
    tags = _tags_of(client, repository, digest)
    client.delete_manifest(repository, digest)
    return DeleteResult(repository, digest, tags)


def delete_tag(client: RegistryClient, repository: str, tag: str) -> DeleteResult:
    """Delete the manifest a tag points to (by its digest: the registry deletes no tag alone)."""
    digest = client.head_manifest(repository, tag).digest
    return delete_digest(client, repository, digest)


# -- garbage collection ------------------------------------------------------------------------
_MARK = re.compile(r"^(?P<repo>\S+): marking (?:manifest|blob) (?P<digest>\S+)")
_BLOB = re.compile(r"^blob eligible for deletion: (?P<digest>\S+)")
_MANIFEST = re.compile(r"^manifest eligible for deletion: (?P<digest>\S+)")


@dataclass(frozen=True)
class GcOutput:
    """What ``garbage-collect`` printed: the marked digests, the blobs and manifests swept."""

    marked: frozenset[str]
    swept_blobs: tuple[str, ...]  # sorted
    swept_manifests: tuple[str, ...]  # sorted
    text: str


def parse_gc_output(text: str) -> GcOutput:
    """Read ``garbage-collect``'s report (« marking … », « … eligible for deletion: … »)."""
    marked, blobs, manifests = set(), set(), set()
    for line in text.splitlines():
        line = line.strip()
        if found := _MARK.match(line):
            marked.add(found["digest"])
        elif found := _BLOB.match(line):
            blobs.add(found["digest"])
        elif found := _MANIFEST.match(line):
            manifests.add(found["digest"])
    return GcOutput(frozenset(marked), tuple(sorted(blobs)), tuple(sorted(manifests)), text)


def run_garbage_collect(
    config: str, *, dry_run: bool = False, delete_untagged: bool = False
) -> GcOutput:
    """Run ``docker-registry garbage-collect`` on a config (the registry must be stopped)."""
    argv = [find_binary("docker-registry"), "garbage-collect"]
    argv += ["--dry-run"] * dry_run + ["--delete-untagged"] * delete_untagged + [config]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RegistryError(
            f"Le ramasse-miettes a échoué (code {done.returncode}) :\n"
            f"{(done.stderr or done.stdout).strip()[-1500:]}",
            "vérifiez que le registry est arrêté et que son dossier de stockage est lisible.",
        )
    return parse_gc_output(done.stdout)


@dataclass(frozen=True)
class GcReport:
    """One garbage collection: what it swept, and the bytes on disk before and after."""

    dry_run: bool
    delete_untagged: bool
    output: GcOutput
    bytes_before: int
    bytes_after: int
    seconds: float

    @property
    def freed(self) -> int:
        return self.bytes_before - self.bytes_after

    @property
    def swept_blobs(self) -> tuple[str, ...]:
        return self.output.swept_blobs

    @property
    def swept_manifests(self) -> tuple[str, ...]:
        return self.output.swept_manifests

    def __str__(self) -> str:
        mode = "à blanc (--dry-run)" if self.dry_run else "réel"
        if self.delete_untagged:
            mode += ", avec --delete-untagged"
        blobs = plural(len(self.swept_blobs), "blob")
        verb = "seraient libérés" if self.dry_run else "libérés"
        lines = [
            f"Ramasse-miettes {mode} : {blobs} {verb}",
            f"  manifestes sans tag supprimés : {len(self.swept_manifests)}",
            f"  octets sur le disque avant : {format_number(self.bytes_before)}",
            f"  octets sur le disque après : {format_number(self.bytes_after)}",
        ]
        return "\n".join(lines)


def garbage_collect(
    registry: RegistryService, *, dry_run: bool = False, delete_untagged: bool = False
) -> GcReport:
    """Collect a registry's garbage safely: stop it, run ``garbage-collect``, start it again.

    A registry that was running is running again on return, even when the collection fails.
    """
    was_running = registry.pid is not None
    started = time.monotonic()
    registry.stop()
    try:
        before = disk_usage(registry.storage)
        output = run_garbage_collect(
            str(registry.config), dry_run=dry_run, delete_untagged=delete_untagged
        )
        after = disk_usage(registry.storage)
    finally:
        if was_running:
            registry.start()
            registry.wait_ready()
    return GcReport(dry_run, delete_untagged, output, before, after, time.monotonic() - started)


# -- tiny reproducible images, pushed with the API alone ---------------------------------------
def tiny_layer(files: Mapping[str, str]) -> bytes:
    """A reproducible layer: a tar of ``files`` (dated 1970, owned by root), gzipped, no date."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


def push_tiny_image(
    client: RegistryClient, repository: str, tag: str, layers: Sequence[bytes]
) -> str:
    """Push an image made of ``layers`` (gzipped tars) with the API; return its manifest digest.

    The config and manifest are built from the layers alone, so the same layers give the same
    digests on every run.
    """
    diff_ids = [sha256_digest(gzip.decompress(layer)) for layer in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        },
        sort_keys=True,
    ).encode()
    descriptors = []
    for layer in layers:
        digest = client.upload_blob(repository, layer)
        descriptors.append({"mediaType": DOCKER_LAYER, "size": len(layer), "digest": digest})
    config_digest = client.upload_blob(repository, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest},
        "layers": descriptors,
    }
    return client.put_manifest(repository, tag, manifest, DOCKER_MANIFEST)
