"""A client of the registry HTTP API v2 (Distribution, OCI), on one `httpx.Client`.

Every byte that comes back is checked against its digest (`registry_lab.digests`); every
failure becomes one of the package's French errors in one place, `registry_lab.api_errors`.
The connection is set up by `registry_lab.connection`; uploads live in `registry_lab.uploads`
and copies in `registry_lab.copying`, under thin methods of the client, and use its plumbing
(`_request`, `_open_blob`).

```python
from registry_lab.registry import RegistryClient
with RegistryClient("http://127.0.0.1:5000") as client:
    list(client.repositories())             # ['cours/app', …] (every page, lazily)
    manifest = client.manifest("cours/app", "v1")
    client.config("cours/app", manifest)    # history, diff_ids, platform
    client.copy("cours/app:v1", "archives/app:v1")
```
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from . import copying, uploads
from .api_errors import Action, api_error, transport_error
from .connection import USER_AGENT, open_client, registry_url
from .copying import COPIED, FOREIGN, MOUNTED, PRESENT, BlobCopy, CopyReport
from .digests import Hashed, digest_of, mismatch
from .errors import ManifestUnknownError, RegistryError
from .exchanges import Recorder, Transcript
from .manifests import (
    MANIFEST_ACCEPT,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    Platform,
    Repository,
    format_reference,
    is_digest,
    parse_manifest,
    short_digest,
)
from .uploads import BLOB_CHUNK

if TYPE_CHECKING:
    from .browser import RegistryBrowser
    from .capabilities import Capabilities
    from .reference import Reference

__all__ = [
    "COPIED",
    "FOREIGN",
    "MOUNTED",
    "PRESENT",
    "USER_AGENT",
    "BlobCopy",
    "CopyReport",
    "PingResult",
    "RegistryClient",
]


# -- small results --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PingResult:
    """The answer to ``GET /v2/``: is this a registry, which API, does it want credentials."""

    url: str
    status: int
    api_version: str | None
    challenge: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def auth_required(self) -> bool:
        return self.status == 401

    def __str__(self) -> str:
        state = {200: "répond", 401: "répond et demande une authentification"}.get(
            self.status, f"répond {self.status}"
        )
        parts = [f"{self.url}/v2/ {state}", f"version de l'API : {self.api_version or '—'}"]
        if self.challenge:
            parts.append(f"défi : {self.challenge}")
        return " ; ".join(parts)

    __repr__ = __str__


# -- the client -----------------------------------------------------------------------------------
def _manifest_action(what: str, repository: str, reference: str, kind: str = "read") -> Action:
    """``what`` « repo:tag » (or ``repo@sha256:…``): « lire le manifeste « cours/app:v1 » »."""
    return Action(
        f"{what} « {format_reference(repository, reference)} »", repository, reference, kind
    )


class RegistryClient:
    """A client of one registry's HTTP API v2: read, verify, upload, delete, copy.

    ```python
    client = RegistryClient("http://127.0.0.1:5000")        # or auth=("moi", "secret")
    client.ping().api_version                               # 'registry/2.0'
    client.manifest("cours/app", "v1")                      # ImageManifest or ImageIndex
    with client.record() as transcript:                     # the HTTP exchanges, as a table
        client.blob_exists("cours/app", "sha256:…")
    ```
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = registry_url(base_url)
        self.timeout = timeout
        self.address = httpx.URL(self.base_url).netloc.decode("ascii")
        self._http = open_client(self.base_url, auth=auth, verify=verify, timeout=timeout)

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connections (the client is unusable afterwards)."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RegistryClient {self.base_url}>"

    def browse(self) -> RegistryBrowser:
        """A widget to browse this registry: repositories → tags → manifest → layers → files."""
        from .browser import browse

        return browse(self)

    def record(self, *, timings: bool = False) -> Recorder:
        """Record the HTTP exchanges of a ``with`` block (no credentials kept).

        ```python
        with client.record() as transcript:
            client.tags("cours/app")
        transcript     # requête, réponse, en-têtes envoyés et reçus
        ```
        """
        return Recorder(self._http, Transcript(self.base_url, timings=timings))

    def capabilities(self, repository: str | None = None) -> Capabilities:
        """What this registry can do, measured (see `registry_lab.capabilities.probe`).

        ```python
        client.capabilities()    # capacité | résultat | comment on l'a mesuré
        ```
        """
        from .capabilities import PROBE_REPOSITORY, probe

        return probe(self, repository or PROBE_REPOSITORY)

    @contextlib.contextmanager
    def _transport(self, action: Action) -> Iterator[None]:
        """Turn httpx's transport failures into the package's French errors."""
        try:
            yield
        except httpx.TransportError as exc:
            raise transport_error(exc, action, self.base_url, self.timeout) from None

    def _check(
        self, response: httpx.Response, action: Action, expected: Iterable[int] = (200,)
    ) -> httpx.Response:
        if response.status_code not in tuple(expected):
            response.read()
            raise api_error(response, action, self.address)
        return response

    def _request(
        self,
        method: str,
        url: str | httpx.URL,
        action: Action,
        *,
        expected: Iterable[int] = (200,),
        **kwargs: Any,
    ) -> httpx.Response:
        with self._transport(action):
            response = self._http.request(method, url, **kwargs)
        return self._check(response, action, expected)

    # -- discovery ---------------------------------------------------------------------------
    def ping(self) -> PingResult:
        """``GET /v2/``: status, ``Docker-Distribution-API-Version`` and any auth challenge.

        ```python
        client.ping()      # http://127.0.0.1:5000/v2/ répond ; version de l'API : registry/2.0
        ```
        """
        action = Action("joindre l'API /v2/")
        with self._transport(action):
            response = self._http.get("/v2/")
        return PingResult(
            url=self.base_url,
            status=response.status_code,
            api_version=response.headers.get("Docker-Distribution-API-Version"),
            challenge=response.headers.get("WWW-Authenticate"),
        )

    def _page(
        self, url: str, key: str, params: dict[str, Any] | None, action: Action
    ) -> tuple[list[str], str | None]:
        response = self._request("GET", url, action, params=params)
        items = response.json().get(key) or []
        return [str(item) for item in items], response.links.get("next", {}).get("url")

    def _pages(self, path: str, key: str, page_size: int | None, action: Action) -> Iterator[str]:
        """Every item of a paginated list, following ``Link: <…>; rel="next"``."""
        url: str | None = path
        params: dict[str, Any] | None = {"n": page_size} if page_size else None
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            items, url = self._page(url, key, params, action)
            params = None  # the next link carries n and last itself
            yield from items

    def catalog_page(self, page_size: int, last: str | None = None) -> tuple[list[str], str | None]:
        """One page of the catalog: its repositories and the ``Link`` to the next page, if any.

        ```python
        names, next_link = client.catalog_page(100)
        ```
        """
        params: dict[str, Any] = {"n": page_size}
        if last is not None:
            params["last"] = last
        return self._page("/v2/_catalog", "repositories", params, Action("lister les dépôts"))

    def repositories(self, page_size: int | None = None) -> Iterator[str]:
        """Every repository (``GET /v2/_catalog``), page after page, lazily.

        ```python
        list(client.repositories(page_size=100))    # ['cours/app', 'cours/base', …]
        ```
        """
        return self._pages("/v2/_catalog", "repositories", page_size, Action("lister les dépôts"))

    def tags(self, repository: str, page_size: int | None = None) -> Iterator[str]:
        """The tags of ``repository`` (``GET /v2/<name>/tags/list``), following pages.

        ```python
        list(client.tags("cours/app"))              # ['v1', 'v2']
        ```
        """
        action = Action(f"lister les tags de « {repository} »", repository)
        return self._pages(f"/v2/{repository}/tags/list", "tags", page_size, action)

    def repository(self, name: str, *, workers: int = 8) -> Repository:
        """Every tag of ``name`` with the manifest it points to (one HEAD per tag, in parallel).

        ```python
        client.repository("cours/app")     # tag | type de média | empreinte | taille
        ```
        """
        tags = sorted(self.tags(name))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            heads = list(pool.map(lambda tag: self.head_manifest(name, tag), tags))
        return Repository(self.address, name, dict(zip(tags, heads, strict=True)))

    # -- manifests ---------------------------------------------------------------------------
    def _get_manifest(
        self, method: str, what: str, repository: str, reference: str
    ) -> httpx.Response:
        """``GET`` or ``HEAD`` a manifest, accepting every type `registry_lab.manifests` reads."""
        return self._request(
            method,
            f"/v2/{repository}/manifests/{reference}",
            _manifest_action(what, repository, reference),
            headers={"Accept": MANIFEST_ACCEPT},
        )

    def manifest(self, repository: str, reference: str) -> ImageManifest | ImageIndex:
        """The manifest (or index) of ``repository:reference``, its digest verified.

        The digest is checked three ways: sha256 of the bytes, the ``Docker-Content-Digest``
        header, and ``reference`` itself when it is a digest.

        ```python
        client.manifest("cours/app", "v1").layers
        ```
        """
        response = self._get_manifest("GET", "lire le manifeste", repository, reference)
        raw, named = response.content, format_reference(repository, reference)
        announced = response.headers.get("Docker-Content-Digest")
        for expected, who in ((reference, "demandée"), (announced, "annoncée par le registry")):
            if expected and is_digest(expected):
                actual = digest_of(raw, expected)
                if actual != expected:
                    raise mismatch(
                        f"Manifeste « {named} » altéré (empreinte {who})",
                        expected,
                        actual,
                        "le registry sert des octets qui ne sont plus ceux qu'on lui a confiés "
                        "(disque abîmé ou modifié) : repoussez l'image, puis vérifiez son "
                        "stockage.",
                    )
        return parse_manifest(raw, response.headers.get("Content-Type"))

    def head_manifest(self, repository: str, reference: str) -> Descriptor:
        """What ``HEAD /v2/<name>/manifests/<ref>`` tells: media type, digest, size (no body).

        ```python
        client.head_manifest("cours/app", "v1").digest
        ```
        """
        response = self._get_manifest("HEAD", "interroger le manifeste", repository, reference)
        return Descriptor(
            media_type=response.headers.get("Content-Type", "").split(";")[0],
            digest=response.headers.get("Docker-Content-Digest", ""),
            size=int(response.headers.get("Content-Length", "0")),
        )

    def referrers(self, repository: str, digest: str) -> ImageIndex:
        """The artifacts that point to ``digest`` (OCI 1.1 referrers API), as an index.

        ```python
        client.referrers("cours/app", manifest.digest).manifests   # signatures, SBOM…
        ```
        """
        action = _manifest_action("lister les référents de", repository, digest)
        response = self._request("GET", f"/v2/{repository}/referrers/{digest}", action)
        found = parse_manifest(response.content, response.headers.get("Content-Type"))
        if not isinstance(found, ImageIndex):
            raise RegistryError(
                "La réponse de l'API referrers n'est pas un index OCI.",
                "ce registry implémente mal l'API referrers (OCI 1.1).",
            )
        return found

    def manifest_for_platform(
        self, repository: str, reference: str, platform: str | Platform = "linux/amd64"
    ) -> ImageManifest:
        """The image manifest for ``platform``, going through the index when there is one.

        ```python
        client.manifest_for_platform("cours/multi", "v1", "linux/arm64")
        ```
        """
        found = self.manifest(repository, reference)
        if isinstance(found, ImageManifest):
            return found
        named = format_reference(repository, reference)
        try:
            entry = found.for_platform(platform)
        except KeyError as exc:
            raise ManifestUnknownError(
                f"L'index « {named} » n'a pas d'image pour {platform}.",
                f"plateformes présentes : {', '.join(map(str, found.platforms)) or 'aucune'}.",
                status=404,
                code="MANIFEST_UNKNOWN",
            ) from exc
        child = self.manifest(repository, entry.digest)
        if not isinstance(child, ImageManifest):
            raise RegistryError(
                f"L'entrée {platform} de l'index « {named} » est elle-même un index.",
                "les index imbriqués sont rares : lisez-le avec client.manifest(dépôt, empreinte).",
            )
        return child

    def put_manifest(
        self,
        repository: str,
        reference: str,
        manifest: ImageManifest | ImageIndex | bytes | dict[str, Any],
        media_type: str | None = None,
    ) -> str:
        """Push a manifest or an index under a tag (or its digest); return its digest.

        The exact bytes are sent, so a copied manifest keeps its digest.

        ```python
        client.put_manifest("cours/app", "v2", manifest)    # 'sha256:…'
        ```
        """
        if isinstance(manifest, ImageManifest | ImageIndex):
            raw, media_type = manifest.raw, media_type or manifest.media_type
        elif isinstance(manifest, dict):
            raw = json.dumps(manifest, indent=3).encode()
        else:
            raw = manifest
        if media_type is None:
            media_type = parse_manifest(raw).media_type
        action = _manifest_action("pousser le manifeste", repository, reference, kind="write")
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            action,
            expected=(201,),
            content=raw,
            headers={"Content-Type": media_type},
        )
        digest = digest_of(raw)
        announced = response.headers.get("Docker-Content-Digest")
        if announced and announced != digest:
            raise mismatch(
                f"Manifeste « {format_reference(repository, reference)} » enregistré sous une "
                "autre empreinte",
                digest,
                announced,
                "le registry a réécrit le manifeste : ses octets ne sont plus ceux envoyés.",
            )
        return digest

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (every tag pointing to it goes with it).

        ```python
        client.delete_manifest("cours/app", client.head_manifest("cours/app", "v1").digest)
        ```
        """
        action = _manifest_action("supprimer le manifeste", repository, digest, kind="delete")
        self._request("DELETE", f"/v2/{repository}/manifests/{digest}", action, expected=(202,))

    # -- blobs -------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        """True when ``repository`` holds the blob (``HEAD /v2/<name>/blobs/<digest>``)."""
        action = Action(
            f"chercher le blob {short_digest(digest)} dans « {repository} »", repository, digest
        )
        response = self._request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", action, expected=(200, 404)
        )
        return response.status_code == 200

    @contextlib.contextmanager
    def _open_blob(self, repository: str, digest: str) -> Iterator[tuple[httpx.Response, Hashed]]:
        """``GET`` a blob as a stream: the response, and its chunks hashed as they are read."""
        action = Action(
            f"lire le blob {short_digest(digest)} de « {repository} »", repository, digest
        )
        with (
            self._transport(action),
            self._http.stream("GET", f"/v2/{repository}/blobs/{digest}") as response,
        ):
            self._check(response, action)
            yield response, Hashed(response.iter_bytes(BLOB_CHUNK), digest)

    def iter_blob(self, repository: str, digest: str) -> Iterator[bytes]:
        """A blob chunk by chunk, hashed on the fly; a digest mismatch raises at the end.

        ```python
        for chunk in client.iter_blob("cours/app", layer.digest):
            ...
        ```
        """
        with self._open_blob(repository, digest) as (_, data):
            yield from data
        if data.digest != digest:
            raise mismatch(
                f"Blob {short_digest(digest)} de « {repository} » altéré",
                digest,
                data.digest,
                "le registry sert des octets qui ne sont plus ceux qu'on lui a confiés (disque "
                "abîmé ou modifié) : repoussez l'image, puis vérifiez le stockage du registry.",
            )

    def _stream_blob(self, repository: str, digest: str, write: Callable[[bytes], object]) -> None:
        """Stream a blob into ``write``, hashing on the fly; raise on a digest mismatch."""
        for chunk in self.iter_blob(repository, digest):
            write(chunk)

    def blob(self, repository: str, digest: str) -> bytes:
        """A blob's bytes, verified against ``digest`` (for small blobs: configs, tests).

        ```python
        client.blob("cours/app", manifest.config.digest)
        ```
        """
        parts: list[bytes] = []
        self._stream_blob(repository, digest, parts.append)
        return b"".join(parts)

    def download_blob(self, repository: str, digest: str, path: str | Path) -> Path:
        """Stream a blob to ``path`` (a file, or a folder) with its digest checked on the fly.

        The data goes to ``<path>.partiel`` first and is renamed only once verified: on a
        mismatch (or any failure) no file is left.

        ```python
        client.download_blob("cours/app", layer.digest, "couche.tar.gz")
        ```
        """
        target = Path(path)
        if target.is_dir():
            target = target / digest.replace(":", "-")
        partial = target.with_name(target.name + ".partiel")
        try:
            with partial.open("wb") as stream:
                self._stream_blob(repository, digest, stream.write)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target

    def config(self, repository: str, manifest: ImageManifest) -> ImageConfig:
        """The image config a manifest points to: platform, history, diff_ids.

        ```python
        client.config("cours/app", client.manifest("cours/app", "v1")).history
        ```
        """
        return ImageConfig.parse(self.blob(repository, manifest.config.digest))

    def delete_blob(self, repository: str, digest: str) -> None:
        """Unlink a blob from ``repository`` (the garbage collector frees the disk later)."""
        action = Action(
            f"supprimer le blob {short_digest(digest)} de « {repository} »",
            repository,
            digest,
            kind="delete",
        )
        self._request("DELETE", f"/v2/{repository}/blobs/{digest}", action, expected=(202,))

    # -- uploads: registry_lab.uploads -------------------------------------------------------
    def upload_blob(
        self,
        repository: str,
        data: bytes | str | Path,
        digest: str | None = None,
        *,
        chunk_size: int | None = None,
    ) -> str:
        """Upload a blob (bytes or a file) unless the repository has it; return its digest.

        Monolithic by default (``POST`` then ``PUT ?digest=``); with ``chunk_size``, chunked
        (``POST``, one ``PATCH`` per chunk with ``Content-Range``, then ``PUT ?digest=``).

        ```python
        client.upload_blob("cours/app", b'{"os": "linux"}')
        client.upload_blob("cours/app", "couche.tar.gz", chunk_size=5_000_000)
        ```
        """
        return uploads.upload_blob(self, repository, data, digest, chunk_size=chunk_size)

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Link a blob of ``from_repository`` into ``repository`` without moving it.

        True when mounted (201); False when the registry started an upload instead (202),
        which is then cancelled.

        ```python
        client.mount_blob("archives/app", layer.digest, "cours/app")   # True
        ```
        """
        return uploads.mount_blob(self, repository, digest, from_repository)

    # -- copy: registry_lab.copying ----------------------------------------------------------
    def copy(
        self,
        source: str | Reference,
        destination: str | Reference,
        *,
        destination_client: RegistryClient | None = None,
        progress: Callable[[BlobCopy], object] | None = None,
    ) -> CopyReport:
        """Copy an image, or an index with all its images, to another repository or registry.

        Blobs already at the destination are skipped, blobs of the same registry are mounted,
        the others streamed; the exact manifest bytes are pushed, so digests are preserved.
        ``progress`` is called with each `BlobCopy` as it completes.

        ```python
        client.copy("cours/app:v1", "archives/app:v1")                     # same registry
        client.copy("cours/app:v1", "cours/app:v1", destination_client=autre)
        ```
        """
        return copying.copy_image(
            self, source, destination, destination_client=destination_client, progress=progress
        )
