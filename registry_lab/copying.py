"""Copy an image or an index, blob by blob, to another repository or registry.

Blobs already at the destination are skipped, blobs of the same registry are mounted, the
others streamed from one registry straight into the other, hashed on the way; then the exact
manifest bytes are pushed, so digests are preserved. `RegistryClient.copy` is a thin method
over `copy_image`.

```python
copy_image(client, "cours/app:v1", "archives/app:v1", destination_client=autre)
```
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import httpx

from .api_errors import Action
from .connection import same_server
from .digests import mismatch
from .errors import RegistryAPIError, RegistryError
from .french import format_size, plural
from .manifests import (
    Descriptor,
    ImageIndex,
    ImageManifest,
    format_reference,
    media_type_label,
    short_digest,
)
from .reference import Reference, parse_reference
from .tables import html_table, text_table
from .uploads import cancel_upload, finish_upload, start_upload

if TYPE_CHECKING:
    from .registry import RegistryClient

__all__ = ["COPIED", "FOREIGN", "MOUNTED", "PRESENT", "BlobCopy", "CopyReport", "copy_image"]

COPIED = "copié"
PRESENT = "déjà présent"
MOUNTED = "monté"
FOREIGN = "étranger (non copié)"
_PLURALS = {
    COPIED: "copiés",
    MOUNTED: "montés",
    PRESENT: "déjà présents",
    FOREIGN: "étrangers (non copiés)",
}


@dataclass(frozen=True)
class BlobCopy:
    """What `RegistryClient.copy` did with one blob."""

    digest: str
    size: int
    media_type: str
    action: str
    bytes_moved: int
    seconds: float

    def row(self) -> list[str]:
        return [
            short_digest(self.digest),
            media_type_label(self.media_type),
            format_size(self.size),
            self.action,
        ]


@dataclass(frozen=True)
class CopyReport:
    """Every blob of a copy with what happened to it (« copié », « déjà présent », « monté »)."""

    source: str
    destination: str
    digest: str
    media_type: str
    blobs: tuple[BlobCopy, ...]
    manifests: tuple[str, ...]
    seconds: float

    @property
    def bytes_moved(self) -> int:
        return sum(blob.bytes_moved for blob in self.blobs)

    def count(self, action: str) -> int:
        return sum(1 for blob in self.blobs if blob.action == action)

    @property
    def summary(self) -> str:
        actions = [
            f"{self.count(action)} {action if self.count(action) == 1 else plural_form}"
            for action, plural_form in _PLURALS.items()
            if self.count(action)
        ]
        seconds = f"{self.seconds:.2f}".replace(".", ",")
        return (
            f"{plural(len(self.blobs), 'blob')} : {', '.join(actions) or 'aucun'} ; "
            f"{format_size(self.bytes_moved)} transférés en {seconds} s ; "
            f"{plural(len(self.manifests), 'manifeste')} "
            f"poussé{'s' if len(self.manifests) > 1 else ''}, empreinte "
            f"{short_digest(self.digest)} conservée."
        )

    def _headers(self) -> tuple[str, ...]:
        return ("blob", "type", "taille", "action")

    def __str__(self) -> str:
        rows = [blob.row() for blob in self.blobs]
        return (
            f"Copie {self.source} → {self.destination}\n"
            f"{text_table(self._headers(), rows)}\n{self.summary}"
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [blob.row() for blob in self.blobs]
        table = html_table(
            self._headers(), rows, caption=f"Copie {self.source} → {self.destination}"
        )
        return f"{table}<p>{escape(self.summary)}</p>"


class _CopyPlan:
    """The state of one copy: blobs done (each digest once), manifests pushed, in order."""

    def __init__(
        self,
        source: RegistryClient,
        target: RegistryClient,
        src_repo: str,
        dst_repo: str,
        progress: Callable[[BlobCopy], object] | None,
    ) -> None:
        self.source, self.target = source, target
        self.src_repo, self.dst_repo = src_repo, dst_repo
        self.progress = progress
        self.done: dict[str, BlobCopy] = {}
        self.order: list[str] = []
        self.manifests: list[str] = []

    def copy_manifest(self, manifest: ImageManifest | ImageIndex, reference: str) -> None:
        if isinstance(manifest, ImageIndex):
            for entry in manifest.manifests:
                child = self.source.manifest(self.src_repo, entry.digest)
                self.copy_manifest(child, entry.digest)
        else:
            self.copy_blobs(manifest.blobs)
        self.target.put_manifest(self.dst_repo, reference, manifest)
        self.manifests.append(manifest.digest)

    def copy_blobs(self, blobs: Iterable[Descriptor]) -> None:
        todo: dict[str, Descriptor] = {}
        for blob in blobs:
            if blob.digest not in self.done:
                todo.setdefault(blob.digest, blob)
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(self.copy_blob, blob) for blob in todo.values()]
            for blob, future in zip(todo.values(), futures, strict=True):
                copied = future.result()
                self.done[blob.digest] = copied
                self.order.append(blob.digest)
                if self.progress is not None:
                    self.progress(copied)

    def copy_blob(self, blob: Descriptor) -> BlobCopy:
        """Copy one blob: skip it, mount it, or stream it from the source to the target."""
        started = time.perf_counter()

        def result(action: str, moved: int = 0) -> BlobCopy:
            seconds = time.perf_counter() - started
            return BlobCopy(blob.digest, blob.size, blob.media_type, action, moved, seconds)

        if blob.foreign:
            return result(FOREIGN)
        if self.target.blob_exists(self.dst_repo, blob.digest):
            return result(PRESENT)
        action = Action(
            f"copier le blob {short_digest(blob.digest)} vers « {self.dst_repo} »",
            self.dst_repo,
            blob.digest,
            kind="write",
        )
        same = self.target is self.source or self.target.base_url == self.source.base_url
        mount = (blob.digest, self.src_repo) if same and self.src_repo != self.dst_repo else None
        location = start_upload(self.target, self.dst_repo, action, mount=mount)
        if location is None:
            return result(MOUNTED)
        return result(COPIED, self.pipe_blob(blob, location, action))

    def pipe_blob(self, blob: Descriptor, location: httpx.URL, action: Action) -> int:
        """Stream a blob from the source straight into the target's upload, hashing it."""
        try:
            with self.source._open_blob(self.src_repo, blob.digest) as (response, data):
                size = int(response.headers.get("Content-Length", blob.size))
                try:
                    finish_upload(self.target, location, blob.digest, action, data, size)
                except RegistryAPIError:
                    if data.size == size and data.digest != blob.digest:
                        raise mismatch(
                            f"Blob {short_digest(blob.digest)} de « {self.src_repo} » altéré",
                            blob.digest,
                            data.digest,
                            "le registry source sert des octets qui ne sont plus ceux qu'on lui "
                            "a confiés : repoussez l'image à la source.",
                        ) from None
                    raise
        except BaseException:
            cancel_upload(self.target, location)
            raise
        return data.size


def _locate(client: RegistryClient, target: str | Reference) -> tuple[str, str]:
    """``(repository, tag or digest)`` of a reference meant for ``client``'s registry."""
    if isinstance(target, str):
        first, slash, _ = target.partition("/")
        has_host = slash and ("." in first or ":" in first or first == "localhost")
        target = parse_reference(target if has_host else f"{client.address}/{target}")
    if not same_server(target.registry, client.address):
        raise RegistryError(
            f"La référence {target} désigne le registry {target.registry}, mais ce client "
            f"parle à {client.address}.",
            "pour copier entre deux registries, passez destination_client=RegistryClient(…) "
            "et des références de chacun.",
        )
    return target.repository, target.identifier


def copy_image(
    client: RegistryClient,
    source: str | Reference,
    destination: str | Reference,
    *,
    destination_client: RegistryClient | None = None,
    progress: Callable[[BlobCopy], object] | None = None,
) -> CopyReport:
    """Copy ``source`` of ``client``'s registry to ``destination`` (see `RegistryClient.copy`)."""
    started = time.perf_counter()
    target = destination_client or client
    src_repo, src_ref = _locate(client, source)
    dst_repo, dst_ref = _locate(target, destination)
    top = client.manifest(src_repo, src_ref)
    plan = _CopyPlan(client, target, src_repo, dst_repo, progress)
    plan.copy_manifest(top, dst_ref)
    return CopyReport(
        source=f"{client.address}/{format_reference(src_repo, src_ref)}",
        destination=f"{target.address}/{format_reference(dst_repo, dst_ref)}",
        digest=top.digest,
        media_type=top.media_type,
        blobs=tuple(plan.done[digest] for digest in plan.order),
        manifests=tuple(plan.manifests),
        seconds=time.perf_counter() - started,
    )
