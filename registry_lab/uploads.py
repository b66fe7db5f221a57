"""Blob uploads of the registry API: monolithic or chunked, and cross-repository mounts.

The steps are the API's own: ``POST /v2/<name>/blobs/uploads/`` opens a session (or mounts a
blob of another repository, ``?mount=…&from=…``), ``PATCH`` sends chunks with their
``Content-Range``, ``PUT ?digest=`` closes it (the registry checks the digest, then links the
blob). `RegistryClient.upload_blob` and `RegistryClient.mount_blob` are thin methods over
`upload_blob` and `mount_blob`; `registry_lab.copying` uses the steps themselves.

```python
location = start_upload(client, "cours/app", action)
finish_upload(client, location, digest, action, data, len(data))
```
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from .api_errors import Action
from .digests import mismatch
from .manifests import short_digest

if TYPE_CHECKING:
    from .registry import RegistryClient

__all__ = [
    "BLOB_CHUNK",
    "cancel_upload",
    "finish_upload",
    "mount_blob",
    "start_upload",
    "upload_blob",
]

#: The size of the chunks a blob is read and sent in, when nothing else is asked.
BLOB_CHUNK = 1024 * 1024
_OCTETS = "application/octet-stream"


@dataclass
class _Source:
    """Bytes in memory or a file on disk, read in chunks."""

    data: bytes | None = None
    path: Path | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.data) if self.data is not None else Path(str(self.path)).stat().st_size

    def chunks(self, chunk_size: int = BLOB_CHUNK) -> Iterator[bytes]:
        if self.data is not None:
            for start in range(0, len(self.data), chunk_size):
                yield self.data[start : start + chunk_size]
            return
        assert self.path is not None
        with self.path.open("rb") as stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    def digest(self) -> str:
        hasher = hashlib.sha256()
        for chunk in self.chunks():
            hasher.update(chunk)
        return f"sha256:{hasher.hexdigest()}"


def _location(response: httpx.Response) -> httpx.URL:
    return response.url.join(response.headers.get("Location", ""))


def cancel_upload(client: RegistryClient, location: httpx.URL) -> None:
    """Cancel an upload session (best effort: a failure here changes nothing)."""
    with contextlib.suppress(httpx.HTTPError):
        client._http.delete(location)


def start_upload(
    client: RegistryClient, repository: str, action: Action, mount: tuple[str, str] | None = None
) -> httpx.URL | None:
    """POST an upload (or a mount); the upload URL, or None when the mount succeeded."""
    params = {"mount": mount[0], "from": mount[1]} if mount else None
    response = client._request(
        "POST",
        f"/v2/{repository}/blobs/uploads/",
        action,
        expected=(201, 202),
        params=params,
    )
    return None if response.status_code == 201 else _location(response)


def finish_upload(
    client: RegistryClient,
    location: httpx.URL,
    digest: str,
    action: Action,
    body: Iterable[bytes] | bytes = b"",
    size: int = 0,
) -> None:
    """PUT ``?digest=`` (with the last bytes, if any): the registry checks, then links."""
    response = client._request(
        "PUT",
        location.copy_merge_params({"digest": digest}),
        action,
        expected=(201,),
        content=body,
        headers={"Content-Type": _OCTETS, "Content-Length": str(size)},
    )
    announced = response.headers.get("Docker-Content-Digest")
    if announced and announced != digest:
        raise mismatch(
            f"Blob enregistré sous une autre empreinte que {short_digest(digest)}",
            digest,
            announced,
            "le registry a calculé une autre empreinte : le contenu a changé en route.",
        )


def _send_chunks(
    client: RegistryClient, location: httpx.URL, source: _Source, chunk_size: int, action: Action
) -> httpx.URL:
    """PATCH the data chunk by chunk, each with its ``Content-Range``."""
    offset = 0
    for chunk in source.chunks(chunk_size):
        end = offset + len(chunk) - 1
        response = client._request(
            "PATCH",
            location,
            action,
            expected=(202,),
            content=chunk,
            headers={
                "Content-Type": _OCTETS,
                "Content-Range": f"{offset}-{end}",
                "Content-Length": str(len(chunk)),
            },
        )
        location = _location(response)
        offset = end + 1
    return location


def upload_blob(
    client: RegistryClient,
    repository: str,
    data: bytes | str | Path,
    digest: str | None = None,
    *,
    chunk_size: int | None = None,
) -> str:
    """Upload a blob unless the repository has it; return its digest (see the client's method)."""
    source = _Source(data=data) if isinstance(data, bytes) else _Source(path=Path(data))
    digest = digest or source.digest()
    if client.blob_exists(repository, digest):
        return digest
    action = Action(
        f"pousser le blob {short_digest(digest)} dans « {repository} »",
        repository,
        digest,
        kind="write",
    )
    location = start_upload(client, repository, action)
    assert location is not None  # no mount asked: the registry answers 202 and a URL
    try:
        if chunk_size:
            location = _send_chunks(client, location, source, chunk_size, action)
            finish_upload(client, location, digest, action)
        else:
            finish_upload(client, location, digest, action, source.chunks(), source.size)
    except BaseException:
        cancel_upload(client, location)
        raise
    return digest


def mount_blob(client: RegistryClient, repository: str, digest: str, from_repository: str) -> bool:
    """Mount a blob of ``from_repository`` into ``repository`` (see the client's method)."""
    action = Action(
        f"monter le blob {short_digest(digest)} de « {from_repository} » dans « {repository} »",
        repository,
        digest,
        kind="write",
    )
    location = start_upload(client, repository, action, mount=(digest, from_repository))
    if location is None:
        return True
    cancel_upload(client, location)
    return False
