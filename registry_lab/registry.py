"""A client of the registry HTTP API v2 (Distribution, OCI), on one `httpx.Client`.

Every byte that comes back is checked against its digest; every failure becomes one of the
package's French errors (`registry_lab.errors`): the registry's error codes are mapped in
`_api_error`, transport failures in `RegistryClient._transport`, nowhere else.

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
import hashlib
import json
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .errors import (
    BlobUnknownError,
    DeniedError,
    DigestInvalidError,
    DigestMismatchError,
    ManifestUnknownError,
    NameUnknownError,
    RegistryAPIError,
    RegistryDownError,
    RegistryError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)
from .exchanges import Recorder, Transcript
from .manifests import (
    MANIFEST_ACCEPT,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    Platform,
    Repository,
    format_size,
    media_type_label,
    parse_manifest,
    short_digest,
)
from .tables import html_table, text_table

if TYPE_CHECKING:
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


def _version() -> str:
    try:
        return metadata.version("registry_lab")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


USER_AGENT = f"registry_lab/{_version()}"
_CHUNK = 1024 * 1024
_OCTETS = "application/octet-stream"


def _is_digest(reference: str) -> bool:
    return ":" in reference


def _named(repository: str, reference: str) -> str:
    """``repo:tag`` or ``repo@sha256:…``, as a person writes it."""
    return f"{repository}@{reference}" if _is_digest(reference) else f"{repository}:{reference}"


def _hasher(digest: str) -> Any:
    algorithm = digest.partition(":")[0] or "sha256"
    try:
        return hashlib.new(algorithm)
    except ValueError:
        return hashlib.sha256()


def _digest_of(data: bytes, like: str = "sha256:") -> str:
    hasher = _hasher(like)
    hasher.update(data)
    return f"{hasher.name}:{hasher.hexdigest()}"


# -- errors: one place maps what a registry answers to the package's exceptions ----------------
_BY_CODE: dict[str, type[RegistryAPIError]] = {
    "UNAUTHORIZED": UnauthorizedError,
    "DENIED": DeniedError,
    "TOOMANYREQUESTS": TooManyRequestsError,
    "UNSUPPORTED": UnsupportedError,
    "NAME_UNKNOWN": NameUnknownError,
    "MANIFEST_UNKNOWN": ManifestUnknownError,
    "BLOB_UNKNOWN": BlobUnknownError,
    "DIGEST_INVALID": DigestInvalidError,
}
_BY_STATUS: dict[int, type[RegistryAPIError]] = {
    401: UnauthorizedError,
    403: DeniedError,
    405: UnsupportedError,
    429: TooManyRequestsError,
}


@dataclass(frozen=True)
class _Action:
    """What the client was doing, in French (« lire le manifeste … »), for error messages."""

    text: str
    repository: str = ""
    reference: str = ""
    kind: str = "read"  # read, write, delete


def _error_entries(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``{"errors": [{code, message, detail}]}`` body of an error, when there is one."""
    if response.request.method == "HEAD":
        return []
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, httpx.ResponseNotRead):
        return []
    entries = body.get("errors") if isinstance(body, dict) else None
    return [entry for entry in entries or [] if isinstance(entry, dict)]


def _class_for(status: int, code: str, path: str) -> type[RegistryAPIError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status == 404:
        if "/referrers/" in path:
            return UnsupportedError  # a registry with the API never answers 404 there
        if "/manifests/" in path:
            return ManifestUnknownError
        if "/blobs/" in path and "/uploads/" not in path:
            return BlobUnknownError
        return NameUnknownError
    return _BY_STATUS.get(status, RegistryAPIError)


def _explain(
    kind: type[RegistryAPIError], action: _Action, response: httpx.Response, address: str
) -> tuple[str, str]:
    """What went wrong and what to try, in French, for one error class."""
    repository, reference = action.repository, action.reference
    if kind is NameUnknownError:
        return (
            f"le dépôt « {repository} » n'existe pas sur ce registry",
            "vérifiez le nom (client.repositories() liste les dépôts) ; un dépôt naît au "
            f"premier push : docker push {address}/{repository}:TAG.",
        )
    if kind is ManifestUnknownError:
        if _is_digest(reference):
            return (
                f"aucun manifeste d'empreinte {short_digest(reference)} dans « {repository} »",
                "l'image a peut-être été supprimée ; client.head_manifest(dépôt, tag).digest "
                "donne l'empreinte actuelle d'un tag.",
            )
        return (
            f"le tag « {reference} » n'existe pas dans le dépôt « {repository} »",
            f'client.tags("{repository}") liste les tags existants ; poussez l\'image '
            f"d'abord : docker push {address}/{repository}:{reference or 'TAG'}.",
        )
    if kind is BlobUnknownError:
        what = short_digest(reference) if reference else "demandé"
        return (
            f"le blob {what} est absent du dépôt « {repository} »",
            "poussez d'abord chaque blob (configuration et couches), puis le manifeste ; un blob "
            "d'un autre dépôt du même registry se monte sans transfert (mount_blob).",
        )
    if kind is UnauthorizedError:
        challenge = response.headers.get("WWW-Authenticate", "")
        said = f" (il propose : {challenge})" if challenge else ""
        return (
            f"le registry demande une authentification{said}",
            'passez auth=("utilisateur", "mot de passe") à RegistryClient (docker login pour le '
            "CLI) ; vérifiez le nom d'utilisateur et le mot de passe.",
        )
    if kind is DeniedError:
        return (
            f"accès refusé à « {repository or address} »",
            "vos identifiants sont reconnus mais ne donnent pas ce droit (pull, push ou delete) : "
            "demandez-le à l'administrateur du registry.",
        )
    if kind is TooManyRequestsError:
        wait = response.headers.get("Retry-After")
        return (
            "trop de requêtes : la limite de débit du registry est atteinte",
            (f"attendez {wait} s" if wait else "attendez un peu")
            + " puis relancez ; un compte authentifié a souvent une limite plus haute.",
        )
    if kind is UnsupportedError:
        if action.kind == "delete":
            return (
                "la suppression est désactivée sur ce registry",
                "Distribution supprime seulement si sa configuration contient "
                "« storage: delete: enabled: true » (le registry du labo l'active) ; "
                "capabilities.probe(client) mesure ce qu'un registry permet.",
            )
        if "/referrers/" in response.request.url.path:
            return (
                "ce registry n'a pas l'API referrers (OCI 1.1)",
                "les signatures et SBOM s'y cherchent autrement (tags sha256-….sig) ; "
                "Distribution 3 et les registries OCI 1.1 ont cette API.",
            )
        return (
            "ce registry ne permet pas cette opération",
            "capabilities.probe(client) mesure ce que ce registry permet.",
        )
    if kind is DigestInvalidError:
        if action.kind == "delete" and not _is_digest(reference):
            return (
                "ce registry ne supprime pas un tag seul, seulement un manifeste par son empreinte",
                f'supprimez par empreinte : client.delete_manifest("{repository}", '
                f'client.head_manifest("{repository}", "{reference}").digest) ; '
                "tous les tags qui pointent vers ce manifeste disparaissent avec lui.",
            )
        return (
            "le registry a refusé le contenu : son empreinte ne correspond pas",
            "l'empreinte annoncée doit être le sha256 des octets exacts envoyés ; "
            "recalculez-la sur le contenu tel qu'il part.",
        )
    return (
        f"le registry a répondu {response.status_code} {response.reason_phrase}",
        "lisez le message du registry ci-dessus ; pour le labo, « python -m registry_lab "
        "status » montre son état et son journal.",
    )


def _api_error(response: httpx.Response, action: _Action, address: str) -> RegistryAPIError:
    """The French exception for an error answer of the registry (its JSON code, else status)."""
    entries = _error_entries(response)
    first = entries[0] if entries else {}
    code = str(first.get("code", ""))
    kind = _class_for(response.status_code, code, response.request.url.path)
    explanation, hint = _explain(kind, action, response, address)
    said = str(first.get("message", ""))
    detail = first.get("detail")
    label = f"HTTP {response.status_code}" + (f", {code}" if code else "")
    quoted = f" — le registry dit : « {said} »" if said else ""
    return kind(
        f"Impossible de {action.text} sur {address} : {explanation} ({label}){quoted}.",
        hint,
        status=response.status_code,
        code=code,
        detail=json.dumps(detail, ensure_ascii=False) if detail not in (None, "") else "",
    )


def _transport_error(exc: Exception, action: _Action, base_url: str, timeout: float) -> Exception:
    """The French exception for a failure below HTTP: refused, timed out, TLS, cut."""
    text = str(exc)
    down_hint = (
        "si c'est le registry du labo, démarrez-le : python -m registry_lab up ; sinon "
        f"vérifiez l'adresse {base_url} et que le registry tourne."
    )
    if isinstance(exc.__context__, ssl.SSLError) or "SSL" in text or "CERTIFICATE" in text:
        if "WRONG_VERSION_NUMBER" in text or "record layer" in text:
            return RegistryError(
                f"Impossible de {action.text} : {base_url} ne parle pas TLS (HTTPS) ({text}).",
                "ce registry répond en HTTP simple : utilisez une URL en http:// "
                "(le registry du labo est en HTTP sur 127.0.0.1).",
            )
        return RegistryError(
            f"Impossible de {action.text} : la connexion TLS avec {base_url} a échoué ({text}).",
            'le certificat du registry n\'est pas reconnu : passez verify="chemin/ca.pem" '
            "(le certificat de l'autorité qui l'a signé) à RegistryClient.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return RegistryDownError(
            f"Le registry {base_url} n'a pas répondu à temps ({timeout:g} s) : impossible de "
            f"{action.text}.",
            down_hint,
        )
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text.lower():
            reason = "connexion refusée : rien n'écoute à cette adresse"
        elif "name" in text.lower() and ("resolution" in text.lower() or "known" in text.lower()):
            reason = "nom d'hôte inconnu (DNS)"
        else:
            reason = text
        return RegistryDownError(
            f"Le registry {base_url} ne répond pas ({reason}) : impossible de {action.text}.",
            down_hint,
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return RegistryError(
            f"Adresse de registry invalide : {base_url} ({text}).",
            "une adresse de registry ressemble à http://127.0.0.1:5000 ou https://registre.example.",
        )
    return RegistryDownError(
        f"La connexion avec {base_url} a été coupée pendant « {action.text} » ({text or exc!r}).",
        down_hint,
    )


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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


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
            f"{self.count(action)} {action if self.count(action) == 1 else plural}"
            for action, plural in _PLURALS.items()
            if self.count(action)
        ]
        seconds = f"{self.seconds:.2f}".replace(".", ",")
        return (
            f"{_plural(len(self.blobs), 'blob')} : {', '.join(actions) or 'aucun'} ; "
            f"{format_size(self.bytes_moved)} transférés en {seconds} s ; "
            f"{_plural(len(self.manifests), 'manifeste')} "
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


# -- blob sources for uploads ------------------------------------------------------------------
@dataclass
class _Source:
    """Bytes in memory or a file on disk, read in chunks."""

    data: bytes | None = None
    path: Path | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.data) if self.data is not None else Path(str(self.path)).stat().st_size

    def chunks(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
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


# -- the client -----------------------------------------------------------------------------------
def _make_auth(auth: httpx.Auth | tuple[str, str] | None) -> httpx.Auth | None:
    if isinstance(auth, tuple):
        from .auth import RegistryAuth

        username, password = auth
        return RegistryAuth(username, password)
    return auth


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _same_server(left: str, right: str) -> bool:
    """``localhost:5000`` and ``127.0.0.1:5000`` are the same server."""

    def norm(address: str) -> str:
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        host = "127.0.0.1" if _is_loopback(host.strip("[]")) else host
        return f"{host}:{port}"

    return norm(left.lower()) == norm(right.lower())


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
        if "://" not in base_url:
            host = base_url.split("/")[0].rsplit(":", 1)[0].strip("[]")
            base_url = f"{'http' if _is_loopback(host) else 'https'}://{base_url}"
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        url = httpx.URL(self.base_url)
        self.address = url.netloc.decode("ascii")
        context: bool | ssl.SSLContext = verify if isinstance(verify, bool) else True
        if isinstance(verify, str):
            try:
                context = ssl.create_default_context(cafile=verify)
            except OSError as exc:
                raise RegistryError(
                    f"Certificat d'autorité illisible : {verify} ({exc.strerror or exc}).",
                    "verify= attend le chemin d'un fichier PEM (le certificat de l'autorité qui "
                    "a signé celui du registry), ou True/False.",
                ) from None
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=_make_auth(auth),
            verify=context,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            trust_env=not _is_loopback(url.host),
        )

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
    def _transport(self, action: _Action) -> Iterator[None]:
        """Turn httpx's transport failures into the package's French errors."""
        try:
            yield
        except httpx.TransportError as exc:
            raise _transport_error(exc, action, self.base_url, self.timeout) from None

    def _check(
        self, response: httpx.Response, action: _Action, expected: Iterable[int] = (200,)
    ) -> httpx.Response:
        if response.status_code not in tuple(expected):
            response.read()
            raise _api_error(response, action, self.address)
        return response

    def _request(
        self,
        method: str,
        url: str | httpx.URL,
        action: _Action,
        *,
        expected: Iterable[int] = (200,),
        **kwargs: Any,
    ) -> httpx.Response:
        with self._transport(action):
            response = self._http.request(method, url, **kwargs)
        return self._check(response, action, expected)

    def _mismatch(self, what: str, expected: str, actual: str, hint: str) -> DigestMismatchError:
        return DigestMismatchError(
            f"{what} : l'empreinte attendue est {expected} mais le contenu reçu hache vers "
            f"{actual}.",
            hint,
            expected=expected,
            actual=actual,
        )

    # -- discovery ---------------------------------------------------------------------------
    def ping(self) -> PingResult:
        """``GET /v2/``: status, ``Docker-Distribution-API-Version`` and any auth challenge.

        ```python
        client.ping()      # http://127.0.0.1:5000/v2/ répond ; version de l'API : registry/2.0
        ```
        """
        action = _Action("joindre l'API /v2/")
        with self._transport(action):
            response = self._http.get("/v2/")
        return PingResult(
            url=self.base_url,
            status=response.status_code,
            api_version=response.headers.get("Docker-Distribution-API-Version"),
            challenge=response.headers.get("WWW-Authenticate"),
        )

    def _page(
        self, url: str, key: str, params: dict[str, Any] | None, action: _Action
    ) -> tuple[list[str], str | None]:
        response = self._request("GET", url, action, params=params)
        items = response.json().get(key) or []
        return [str(item) for item in items], response.links.get("next", {}).get("url")

    def _pages(self, path: str, key: str, page_size: int | None, action: _Action) -> Iterator[str]:
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
        return self._page("/v2/_catalog", "repositories", params, _Action("lister les dépôts"))

    def repositories(self, page_size: int | None = None) -> Iterator[str]:
        """Every repository (``GET /v2/_catalog``), page after page, lazily.

        ```python
        list(client.repositories(page_size=100))    # ['cours/app', 'cours/base', …]
        ```
        """
        return self._pages("/v2/_catalog", "repositories", page_size, _Action("lister les dépôts"))

    def tags(self, repository: str, page_size: int | None = None) -> Iterator[str]:
        """The tags of ``repository`` (``GET /v2/<name>/tags/list``), following pages.

        ```python
        list(client.tags("cours/app"))              # ['v1', 'v2']
        ```
        """
        action = _Action(f"lister les tags de « {repository} »", repository)
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
    def manifest(self, repository: str, reference: str) -> ImageManifest | ImageIndex:
        """The manifest (or index) of ``repository:reference``, its digest verified.

        The digest is checked three ways: sha256 of the bytes, the ``Docker-Content-Digest``
        header, and ``reference`` itself when it is a digest.

        ```python
        client.manifest("cours/app", "v1").layers
        ```
        """
        action = _Action(
            f"lire le manifeste « {_named(repository, reference)} »", repository, reference
        )
        response = self._request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            action,
            headers={"Accept": MANIFEST_ACCEPT},
        )
        raw = response.content
        announced = response.headers.get("Docker-Content-Digest")
        for expected, who in ((reference, "demandée"), (announced, "annoncée par le registry")):
            if expected and _is_digest(expected):
                actual = _digest_of(raw, expected)
                if actual != expected:
                    raise self._mismatch(
                        f"Manifeste « {_named(repository, reference)} » altéré (empreinte {who})",
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
        action = _Action(
            f"interroger le manifeste « {_named(repository, reference)} »", repository, reference
        )
        response = self._request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            action,
            headers={"Accept": MANIFEST_ACCEPT},
        )
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
        action = _Action(
            f"lister les référents de « {_named(repository, digest)} »", repository, digest
        )
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
        try:
            entry = found.for_platform(platform)
        except KeyError as exc:
            raise ManifestUnknownError(
                f"L'index « {_named(repository, reference)} » n'a pas d'image pour {platform}.",
                f"plateformes présentes : {', '.join(map(str, found.platforms)) or 'aucune'}.",
                status=404,
                code="MANIFEST_UNKNOWN",
            ) from exc
        child = self.manifest(repository, entry.digest)
        if not isinstance(child, ImageManifest):
            raise RegistryError(
                f"L'entrée {platform} de l'index « {_named(repository, reference)} » est "
                "elle-même un index.",
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
        action = _Action(
            f"pousser le manifeste « {_named(repository, reference)} »",
            repository,
            reference,
            kind="write",
        )
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            action,
            expected=(201,),
            content=raw,
            headers={"Content-Type": media_type},
        )
        digest = _digest_of(raw)
        announced = response.headers.get("Docker-Content-Digest")
        if announced and announced != digest:
            raise self._mismatch(
                f"Manifeste « {_named(repository, reference)} » enregistré sous une autre "
                "empreinte",
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
        action = _Action(
            f"supprimer le manifeste « {_named(repository, digest)} »",
            repository,
            digest,
            kind="delete",
        )
        self._request("DELETE", f"/v2/{repository}/manifests/{digest}", action, expected=(202,))

    # -- blobs -------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        """True when ``repository`` holds the blob (``HEAD /v2/<name>/blobs/<digest>``)."""
        action = _Action(
            f"chercher le blob {short_digest(digest)} dans « {repository} »", repository, digest
        )
        response = self._request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", action, expected=(200, 404)
        )
        return response.status_code == 200

    def _stream_blob(self, repository: str, digest: str, write: Callable[[bytes], object]) -> int:
        """Stream a blob into ``write``, hashing on the fly; raise on a digest mismatch."""
        action = _Action(
            f"lire le blob {short_digest(digest)} de « {repository} »", repository, digest
        )
        hasher = _hasher(digest)
        size = 0
        with (
            self._transport(action),
            self._http.stream("GET", f"/v2/{repository}/blobs/{digest}") as response,
        ):
            self._check(response, action)
            for chunk in response.iter_bytes(_CHUNK):
                hasher.update(chunk)
                write(chunk)
                size += len(chunk)
        actual = f"{hasher.name}:{hasher.hexdigest()}"
        if actual != digest:
            raise self._mismatch(
                f"Blob {short_digest(digest)} de « {repository} » altéré",
                digest,
                actual,
                "le registry sert des octets qui ne sont plus ceux qu'on lui a confiés (disque "
                "abîmé ou modifié) : repoussez l'image, puis vérifiez le stockage du registry.",
            )
        return size

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
        action = _Action(
            f"supprimer le blob {short_digest(digest)} de « {repository} »",
            repository,
            digest,
            kind="delete",
        )
        self._request("DELETE", f"/v2/{repository}/blobs/{digest}", action, expected=(202,))

    # -- uploads -----------------------------------------------------------------------------
    def _location(self, response: httpx.Response) -> httpx.URL:
        return response.url.join(response.headers.get("Location", ""))

    def _cancel(self, location: httpx.URL) -> None:
        """Cancel an upload session (best effort: a failure here changes nothing)."""
        with contextlib.suppress(httpx.HTTPError):
            self._http.delete(location)

    def _start_upload(
        self, repository: str, action: _Action, mount: tuple[str, str] | None = None
    ) -> httpx.URL | None:
        """POST an upload (or a mount); the upload URL, or None when the mount succeeded."""
        params = {"mount": mount[0], "from": mount[1]} if mount else None
        response = self._request(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            action,
            expected=(201, 202),
            params=params,
        )
        return None if response.status_code == 201 else self._location(response)

    def _finish_upload(
        self,
        location: httpx.URL,
        digest: str,
        action: _Action,
        body: Iterable[bytes] | bytes = b"",
        size: int = 0,
    ) -> None:
        """PUT ``?digest=`` (with the last bytes, if any): the registry checks, then links."""
        response = self._request(
            "PUT",
            location.copy_merge_params({"digest": digest}),
            action,
            expected=(201,),
            content=body,
            headers={"Content-Type": _OCTETS, "Content-Length": str(size)},
        )
        announced = response.headers.get("Docker-Content-Digest")
        if announced and announced != digest:
            raise self._mismatch(
                f"Blob enregistré sous une autre empreinte que {short_digest(digest)}",
                digest,
                announced,
                "le registry a calculé une autre empreinte : le contenu a changé en route.",
            )

    def _send_chunks(
        self, location: httpx.URL, source: _Source, chunk_size: int, action: _Action
    ) -> httpx.URL:
        """PATCH the data chunk by chunk, each with its ``Content-Range``."""
        offset = 0
        for chunk in source.chunks(chunk_size):
            end = offset + len(chunk) - 1
            response = self._request(
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
            location = self._location(response)
            offset = end + 1
        return location

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
        source = _Source(data=data) if isinstance(data, bytes) else _Source(path=Path(data))
        digest = digest or source.digest()
        if self.blob_exists(repository, digest):
            return digest
        action = _Action(
            f"pousser le blob {short_digest(digest)} dans « {repository} »",
            repository,
            digest,
            kind="write",
        )
        location = self._start_upload(repository, action)
        assert location is not None  # no mount asked: the registry answers 202 and a URL
        try:
            if chunk_size:
                location = self._send_chunks(location, source, chunk_size, action)
                self._finish_upload(location, digest, action)
            else:
                self._finish_upload(location, digest, action, source.chunks(), source.size)
        except BaseException:
            self._cancel(location)
            raise
        return digest

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Link a blob of ``from_repository`` into ``repository`` without moving it.

        True when mounted (201); False when the registry started an upload instead (202),
        which is then cancelled.

        ```python
        client.mount_blob("archives/app", layer.digest, "cours/app")   # True
        ```
        """
        action = _Action(
            f"monter le blob {short_digest(digest)} de « {from_repository} » dans « {repository} »",
            repository,
            digest,
            kind="write",
        )
        location = self._start_upload(repository, action, mount=(digest, from_repository))
        if location is None:
            return True
        self._cancel(location)
        return False

    # -- copy --------------------------------------------------------------------------------
    def _locate(self, target: str | Reference) -> tuple[str, str]:
        """``(repository, tag or digest)`` of a reference meant for this client's registry."""
        from .reference import parse_reference

        if isinstance(target, str):
            first, slash, _ = target.partition("/")
            has_host = slash and ("." in first or ":" in first or first == "localhost")
            target = parse_reference(target if has_host else f"{self.address}/{target}")
        if not _same_server(target.registry, self.address):
            raise RegistryError(
                f"La référence {target} désigne le registry {target.registry}, mais ce client "
                f"parle à {self.address}.",
                "pour copier entre deux registries, passez destination_client=RegistryClient(…) "
                "et des références de chacun.",
            )
        return target.repository, target.identifier

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
        started = time.perf_counter()
        target = destination_client or self
        src_repo, src_ref = self._locate(source)
        dst_repo, dst_ref = target._locate(destination)
        top = self.manifest(src_repo, src_ref)
        plan = _CopyPlan(self, target, src_repo, dst_repo, progress)
        plan.copy_manifest(top, dst_ref)
        return CopyReport(
            source=f"{self.address}/{_named(src_repo, src_ref)}",
            destination=f"{target.address}/{_named(dst_repo, dst_ref)}",
            digest=top.digest,
            media_type=top.media_type,
            blobs=tuple(plan.done[digest] for digest in plan.order),
            manifests=tuple(plan.manifests),
            seconds=time.perf_counter() - started,
        )

    def _copy_blob(
        self,
        target: RegistryClient,
        blob: Descriptor,
        src_repo: str,
        dst_repo: str,
    ) -> BlobCopy:
        """Copy one blob: skip it, mount it, or stream it from this registry to ``target``."""
        started = time.perf_counter()

        def result(action: str, moved: int = 0) -> BlobCopy:
            seconds = time.perf_counter() - started
            return BlobCopy(blob.digest, blob.size, blob.media_type, action, moved, seconds)

        if blob.foreign:
            return result(FOREIGN)
        if target.blob_exists(dst_repo, blob.digest):
            return result(PRESENT)
        action = _Action(
            f"copier le blob {short_digest(blob.digest)} vers « {dst_repo} »",
            dst_repo,
            blob.digest,
            kind="write",
        )
        same = target is self or target.base_url == self.base_url
        mount = (blob.digest, src_repo) if same and src_repo != dst_repo else None
        location = target._start_upload(dst_repo, action, mount=mount)
        if location is None:
            return result(MOUNTED)
        moved = self._pipe_blob(target, src_repo, blob, location, action)
        return result(COPIED, moved)

    def _pipe_blob(
        self,
        target: RegistryClient,
        src_repo: str,
        blob: Descriptor,
        location: httpx.URL,
        action: _Action,
    ) -> int:
        """Stream a blob from this registry straight into ``target``'s upload, hashing it."""
        read = _Action(
            f"lire le blob {short_digest(blob.digest)} de « {src_repo} »", src_repo, blob.digest
        )
        hasher = _hasher(blob.digest)
        moved = 0
        try:
            with (
                self._transport(read),
                self._http.stream("GET", f"/v2/{src_repo}/blobs/{blob.digest}") as response,
            ):
                self._check(response, read)
                size = int(response.headers.get("Content-Length", blob.size))

                def body() -> Iterator[bytes]:
                    nonlocal moved
                    for chunk in response.iter_bytes(_CHUNK):
                        hasher.update(chunk)
                        moved += len(chunk)
                        yield chunk

                try:
                    target._finish_upload(location, blob.digest, action, body(), size)
                except RegistryAPIError:
                    actual = f"{hasher.name}:{hasher.hexdigest()}"
                    if moved == size and actual != blob.digest:
                        raise self._mismatch(
                            f"Blob {short_digest(blob.digest)} de « {src_repo} » altéré",
                            blob.digest,
                            actual,
                            "le registry source sert des octets qui ne sont plus ceux qu'on lui "
                            "a confiés : repoussez l'image à la source.",
                        ) from None
                    raise
        except BaseException:
            target._cancel(location)
            raise
        return moved


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

    def copy_blobs(self, blobs: Iterable[Descriptor]) -> None:
        todo: dict[str, Descriptor] = {}
        for blob in blobs:
            if blob.digest not in self.done:
                todo.setdefault(blob.digest, blob)
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [
                pool.submit(self.source._copy_blob, self.target, blob, self.src_repo, self.dst_repo)
                for blob in todo.values()
            ]
            for blob, future in zip(todo.values(), futures, strict=True):
                copied = future.result()
                self.done[blob.digest] = copied
                self.order.append(blob.digest)
                if self.progress is not None:
                    self.progress(copied)

    def copy_manifest(self, manifest: ImageManifest | ImageIndex, reference: str) -> None:
        if isinstance(manifest, ImageIndex):
            for entry in manifest.manifests:
                child = self.source.manifest(self.src_repo, entry.digest)
                self.copy_manifest(child, entry.digest)
        else:
            self.copy_blobs(manifest.blobs)
        self.target.put_manifest(self.dst_repo, reference, manifest)
        self.manifests.append(manifest.digest)
