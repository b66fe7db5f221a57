"""What ``docker push`` and ``docker pull`` really say: the registry's own request log, commented.

Distribution writes one combined-log line per HTTP request it answered. `listen` notes where
the log ends, the block runs a push or a pull, and the lines written meanwhile become a
`Transcript`: each request of the daemon (user agent ``docker/…``) with a French comment.

```python
with listen(lab.registry) as conversation:
    push(lab.host_a, lab.registry, "cours/bonjour:2.0")
conversation.transcript          # HEAD on each blob, POST/PATCH/PUT of uploads, PUT manifest
conversation.transcript.uploads  # the digests of the blobs really uploaded
```

Nothing is reconstructed: a request the registry did not log is not shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from .manifests import short_digest
from .tables import html_table, text_table

if TYPE_CHECKING:
    from .services import RegistryService

__all__ = ["Conversation", "HttpRequest", "Transcript", "listen", "parse_log", "read_log"]

_LINE = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<date>[^\]]+)\] "(?P<method>[A-Z]+) (?P<uri>\S+) [^"]*" '
    r'(?P<status>\d{3}) (?P<size>\d+|-) "[^"]*" "(?P<agent>[^"]*)"'
)
_BLOB = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_UPLOAD = re.compile(r"^/v2/(?P<repo>.+)/blobs/uploads/(?P<uuid>[^/?]*)$")
_MANIFEST = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/?]+)$")


def _named(names: Mapping[str, str], digest: str) -> str:
    return f"<{names[digest]}>" if digest in names else short_digest(digest)


@dataclass(frozen=True)
class HttpRequest:
    """One request as the registry logged it."""

    method: str
    uri: str
    status: int
    size: int
    agent: str
    date: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.uri).query).items()}

    @property
    def blob(self) -> str:
        """The blob digest the request is about ('' when none)."""
        match = _BLOB.match(self.path)
        if match:
            return match["digest"]
        return self.query.get("digest", "") or self.query.get("mount", "")

    @property
    def phase(self) -> int:
        """Where the request sits in the conversation (to group concurrent requests)."""
        if self.path == "/v2/":
            return 0
        if _MANIFEST.match(self.path):
            return 1 if self.method in ("HEAD", "GET") and self.blob == "" else 5
        if _BLOB.match(self.path):
            return 2 if self.method == "HEAD" else 3
        if _UPLOAD.match(self.path):
            return 3
        return 6

    @property
    def step(self) -> int:
        """The order of an upload's requests: POST, PATCH, PUT (then the check that follows)."""
        return {"GET": 0, "HEAD": 0, "POST": 1, "PATCH": 2, "PUT": 3}.get(self.method, 4)

    def shown(self, names: Mapping[str, str]) -> str:
        """The request line, upload ids and state tokens elided, digests shortened."""
        path = self.path
        upload = _UPLOAD.match(path)
        if upload and upload["uuid"]:
            path = path.replace(upload["uuid"], "…")
        for digest in re.findall(r"sha256:[0-9a-f]{64}", path):
            path = path.replace(digest, _named(names, digest))
        query = self.query
        extra = []
        if "digest" in query:
            extra.append(f"digest={_named(names, query['digest'])}")
        if "mount" in query:
            extra.append(f"mount={_named(names, query['mount'])}")
            extra.append(f"from={query.get('from', '')}")
        return f"{self.method} {path}" + (f"?{'&'.join(extra)}" if extra else "")

    def comment(self, names: Mapping[str, str], blob: str = "") -> str:
        """What the request means, in French (``blob``: the digest an upload session sends)."""
        blob = blob or self.blob
        what = f"la {names[blob]}" if blob in names else f"le blob {short_digest(blob)}"
        ok = 200 <= self.status < 300
        if self.path == "/v2/":
            return "« Parlez-vous l'API v2 ? » — le démon vérifie le registry avant tout."
        manifest = _MANIFEST.match(self.path)
        if manifest:
            ref = manifest["ref"]
            if self.method == "PUT":
                return (
                    f"Le manifeste, en dernier : il nomme la config et les couches, et pose le tag "
                    f"« {ref} » (réponse {self.status})."
                )
            if self.method == "HEAD":
                found = "il existe" if ok else "inconnu"
                return f"Le manifeste « {ref} » existe-t-il, quelle est son empreinte ? ({found})"
            ref = names.get(ref, short_digest(ref) if ref.startswith("sha256:") else ref)
            return f"Lecture du manifeste « {ref} » : la liste des blobs à télécharger."
        if _BLOB.match(self.path):
            if self.method == "HEAD":
                if ok:
                    return (
                        f"{what[0].upper()}{what[1:]} : déjà dans le dépôt ? Oui, rien à envoyer."
                    )
                return f"{what[0].upper()}{what[1:]} : déjà dans le dépôt ? Non ({self.status})."
            return f"Téléchargement de {what} ({self.size} octets)."
        if _UPLOAD.match(self.path):
            if self.method == "POST":
                if "mount" in self.query:
                    if self.status == 201:
                        source = self.query.get("from", "")
                        return f"Montage de {what} depuis {source} : rien à envoyer."
                    return f"Montage de {what} refusé : un envoi normal commence."
                return "Ouverture d'une session d'envoi (upload) : le registry donne son adresse."
            if self.method == "PATCH":
                return f"Envoi des octets de {what} dans la session."
            if self.method == "PUT":
                return f"Fin de l'envoi de {what} : le registry vérifie l'empreinte et le range."
        return "Autre requête."


def parse_log(text: str) -> list[HttpRequest]:
    """The combined-log lines of ``text`` (logrus lines and others are skipped)."""
    requests = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            size = match["size"]
            requests.append(
                HttpRequest(
                    match["method"],
                    match["uri"],
                    int(match["status"]),
                    0 if size == "-" else int(size),
                    match["agent"],
                    match["date"],
                )
            )
    return requests


def read_log(path: Path, start: int, end: int | None = None) -> list[HttpRequest]:
    """The requests logged between two offsets of the registry's log file."""
    with path.open("rb") as log:
        log.seek(start)
        data = log.read() if end is None else log.read(max(0, end - start))
    return parse_log(data.decode(errors="replace"))


@dataclass(frozen=True)
class Transcript:
    """The daemon's side of a conversation with the registry, commented in French.

    ``requests`` keep the log's order; the table groups them by step (the daemon sends up to
    three layers at once, so the exact interleaving changes from one run to the next).
    ``names`` turns digests into words (``couche 1``, ``config``).
    """

    requests: tuple[HttpRequest, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    title: str = "Ce que le démon a dit au registry"

    @property
    def uploads(self) -> list[str]:
        """The digests of the blobs uploaded (each upload ends with ``PUT …?digest=``)."""
        return [
            r.query["digest"]
            for r in self.requests
            if r.method == "PUT" and _UPLOAD.match(r.path) and "digest" in r.query
        ]

    @property
    def upload_sessions(self) -> int:
        """How many ``POST …/blobs/uploads/`` opened an upload (mount attempts included)."""
        return sum(r.method == "POST" and bool(_UPLOAD.match(r.path)) for r in self.requests)

    @property
    def checked(self) -> list[str]:
        """The blobs the daemon asked about with ``HEAD``."""
        return [r.blob for r in self.requests if r.method == "HEAD" and _BLOB.match(r.path)]

    @property
    def downloads(self) -> list[str]:
        return [r.blob for r in self.requests if r.method == "GET" and _BLOB.match(r.path)]

    def _sessions(self) -> dict[str, str]:
        """Upload id → the digest its final ``PUT`` named (PATCH and PUT carry the id)."""
        sessions = {}
        for r in self.requests:
            match = _UPLOAD.match(r.path)
            if match and match["uuid"] and "digest" in r.query:
                sessions[match["uuid"]] = r.query["digest"]
        return sessions

    def blob_of(self, request: HttpRequest) -> str:
        match = _UPLOAD.match(request.path)
        if match and match["uuid"]:
            return self._sessions().get(match["uuid"], request.blob)
        return request.blob

    def _ordered(self) -> list[HttpRequest]:
        order = {digest: rank for rank, digest in enumerate(sorted(self.names, key=self._rank))}
        indexed = list(enumerate(self.requests))

        def key(item: tuple[int, HttpRequest]) -> tuple[int, int, int, int]:
            index, r = item
            blob = self.blob_of(r)
            first = r.step if r.phase == 3 and r.step == 1 else 2  # the POSTs open the uploads
            rank = order.get(blob, len(order)) if blob else -1
            return (r.phase, first, rank, r.step * 1000 + index)

        return [r for _, r in sorted(indexed, key=key)]

    def _rank(self, digest: str) -> tuple[int, str]:
        name = self.names.get(digest, "")
        number = re.search(r"\d+", name)
        return (int(number.group()) if number else 0, name)

    def rows(self) -> list[list[str]]:
        return [
            [r.shown(self.names), str(r.status), r.comment(self.names, self.blob_of(r))]
            for r in self._ordered()
        ]

    _HEADERS = ("requête", "réponse", "ce qu'elle veut dire")

    def summary(self) -> str:
        return (
            f"{self.title} : {len(self.requests)} requêtes HTTP, "
            f"{len(self.checked)} HEAD sur des blobs, {len(self.uploads)} blob(s) envoyé(s), "
            f"{len(self.downloads)} blob(s) téléchargé(s)"
        )

    def __str__(self) -> str:
        return f"{self.summary()}\n{text_table(self._HEADERS, self.rows())}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._HEADERS, self.rows(), caption=self.summary())


def _names(registry: RegistryService, reference: str) -> dict[str, str]:
    """``couche N`` / ``config`` for the blobs of ``reference``'s manifest (best effort)."""
    from .manifests import ImageManifest

    name, _, ref = reference.rpartition("@") if "@" in reference else reference.rpartition(":")
    repository = name.removeprefix(f"{registry.address}/")
    manifest = registry.client.manifest(repository, ref)
    if not isinstance(manifest, ImageManifest):
        return {}
    names = {manifest.config.digest: "config"}
    for number, layer in enumerate(manifest.layers, 1):
        names[layer.digest] = f"couche {number}"
    return names


@dataclass
class Conversation:
    """Filled when the ``with listen(...)`` block ends: the `Transcript` of what was said."""

    registry: RegistryService
    start: int
    end: int = 0
    transcript: Transcript = field(default_factory=lambda: Transcript(()))

    def name_blobs(self, reference: str) -> Transcript:
        """Name the blobs after ``reference``'s manifest (``couche 1``, ``config``)."""
        self.transcript = Transcript(self.transcript.requests, _names(self.registry, reference))
        return self.transcript


def _settled(path: Path, wait: float = 0.05, timeout: float = 2.0) -> int:
    """The log's size once it stops growing (a request is logged right after its answer)."""
    deadline = time.monotonic() + timeout
    size = path.stat().st_size
    while time.monotonic() < deadline:
        time.sleep(wait)
        now = path.stat().st_size
        if now == size:
            return size
        size = now
    return size


def _from_docker(requests: Sequence[HttpRequest]) -> tuple[HttpRequest, ...]:
    return tuple(r for r in requests if r.agent.startswith("docker/"))


@contextmanager
def listen(registry: RegistryService, *, everyone: bool = False) -> Iterator[Conversation]:
    """Record the requests the registry logs during the block (the daemons' only by default)."""
    path = registry.log
    conversation = Conversation(registry, path.stat().st_size if path.exists() else 0)
    yield conversation
    conversation.end = _settled(path)
    requests = read_log(path, conversation.start, conversation.end)
    kept = tuple(requests) if everyone else _from_docker(requests)
    conversation.transcript = Transcript(kept)
