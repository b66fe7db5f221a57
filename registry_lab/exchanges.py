"""The HTTP exchanges of a block of code, recorded for teaching: who asked what, who answered.

Recording uses httpx's event hooks (no monkeypatching) and keeps only the headers that tell
the story of a push or a pull. Credentials never enter a transcript: an ``Authorization``
header shows as « (masqué) », secret query parameters too.

```python
with client.record() as transcript:
    client.manifest("cours/app", "v1")
transcript            # a French table in a notebook; print(transcript) in a terminal
```
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import overload

import httpx

from .tables import html_table, text_table

__all__ = ["MASKED", "Exchange", "Recorder", "Transcript", "abbreviate"]

MASKED = "(masqué)"

#: Request headers worth showing (Authorization only as « (masqué) »).
REQUEST_HEADERS = ("Accept", "Content-Type", "Content-Length", "Content-Range", "Range")
#: Response headers worth showing.
RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Docker-Content-Digest",
    "Docker-Distribution-API-Version",
    "WWW-Authenticate",
    "Location",
    "Range",
    "Link",
)
_SECRET_PARAMS = {"token", "access_token", "refresh_token", "password", "secret", "_state"}
_SHORTENED = {"_state"}
_LONG_DIGEST = re.compile(r"\b(sha(?:256|384|512):[0-9a-f]{12})[0-9a-f]{20,}")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def abbreviate(text: str) -> str:
    """Digests cut to 12 hex digits, upload UUIDs shown as ``<uuid>`` (as the spec writes
    them): a table fits a screen, and the same exchanges always print the same way."""
    return _UUID.sub("<uuid>", _LONG_DIGEST.sub(r"\1…", text))


def _cell(headers: tuple[tuple[str, str], ...]) -> str:
    lines = []
    for name, value in headers:
        if name == "Accept" and ", " in value:
            lines.append(f"{name}:")
            lines.extend(f"  {item}" for item in value.split(", "))
        else:
            lines.append(f"{name}: {abbreviate(value)}")
    return "\n".join(lines) or "—"


def _clean_query(url: httpx.URL) -> str:
    """Path and query, with secret parameters masked and upload state shortened."""
    path = url.raw_path.decode("ascii", "replace").split("?", 1)[0]
    if not url.query:
        return path
    pairs = []
    for name, value in url.params.multi_items():
        if name in _SHORTENED:
            value = "…"
        elif name.lower() in _SECRET_PARAMS:
            value = MASKED
        pairs.append(f"{name}={value}")
    return f"{path}?{'&'.join(pairs)}"


def _relative(location: str, request_url: httpx.URL) -> str:
    """A ``Location`` on the same server as the request, shown as a path (no host, no port)."""
    url = request_url.join(location)
    if (url.scheme, url.host, url.port) == (request_url.scheme, request_url.host, request_url.port):
        return _clean_query(url)
    return str(url.copy_with(query=None)) + ("?…" if url.query else "")


@dataclass(frozen=True)
class Exchange:
    """One request and its response: method, path (with query), status, the telling headers."""

    method: str
    path: str
    origin: str
    status: int
    reason: str
    request_headers: tuple[tuple[str, str], ...]
    response_headers: tuple[tuple[str, str], ...]
    seconds: float | None = None

    @classmethod
    def from_response(cls, response: httpx.Response, seconds: float | None = None) -> Exchange:
        request = response.request
        sent: list[tuple[str, str]] = []
        if "authorization" in request.headers:
            sent.append(("Authorization", MASKED))
        for name in REQUEST_HEADERS:
            value = request.headers.get(name)
            if value is not None and not (name == "Accept" and value == "*/*"):
                sent.append((name, value))
        received: list[tuple[str, str]] = []
        for name in RESPONSE_HEADERS:
            value = response.headers.get(name)
            if value is None:
                continue
            if name == "Location":
                value = _relative(value, request.url)
            elif name == "Link":
                value = value.replace(f"{request.url.scheme}://{request.url.netloc.decode()}", "")
            received.append((name, value))
        return cls(
            method=request.method,
            path=_clean_query(request.url),
            origin=f"{request.url.scheme}://{request.url.netloc.decode('ascii')}",
            status=response.status_code,
            reason=response.reason_phrase,
            request_headers=tuple(sent),
            response_headers=tuple(received),
            seconds=seconds,
        )

    def header(self, name: str) -> str | None:
        """A recorded header of the request or the response (case-insensitive)."""
        for key, value in (*self.request_headers, *self.response_headers):
            if key.lower() == name.lower():
                return value
        return None

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.path}"

    def row(self, timings: bool, base_url: str = "") -> list[str]:
        where = "" if not base_url or self.origin == base_url else self.origin
        row = [
            abbreviate(f"{self.method} {where}{self.path}"),
            f"{self.status} {self.reason}".strip(),
            _cell(self.request_headers),
            _cell(self.response_headers),
        ]
        if timings:
            row.append(f"{(self.seconds or 0) * 1000:.0f} ms".replace(".", ","))
        return row

    def __str__(self) -> str:
        return f"{self.request_line} → {self.status}"


class Transcript(Sequence[Exchange]):
    """The exchanges recorded so far, in order; shows itself as a French table."""

    def __init__(self, base_url: str = "", timings: bool = False) -> None:
        self.base_url = base_url
        self.timings = timings
        self._exchanges: list[Exchange] = []

    def append(self, exchange: Exchange) -> None:
        self._exchanges.append(exchange)

    @overload
    def __getitem__(self, index: int) -> Exchange: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Exchange]: ...
    def __getitem__(self, index: int | slice) -> Exchange | Sequence[Exchange]:
        return self._exchanges[index]

    def __len__(self) -> int:
        return len(self._exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self._exchanges)

    @property
    def request_lines(self) -> list[str]:
        """``["GET /v2/", "HEAD /v2/…", …]``: the sequence at a glance."""
        return [exchange.request_line for exchange in self._exchanges]

    def _headers(self) -> list[str]:
        headers = ["n°", "requête", "réponse", "en-têtes envoyés", "en-têtes reçus"]
        return [*headers, "durée"] if self.timings else headers

    def _rows(self) -> list[list[str]]:
        return [
            [str(number), *exchange.row(self.timings, self.base_url)]
            for number, exchange in enumerate(self._exchanges, 1)
        ]

    @property
    def caption(self) -> str:
        count = len(self._exchanges)
        where = f" avec {self.base_url}" if self.base_url else ""
        return f"{count} échange{'s' if count > 1 else ''} HTTP{where}"

    def __str__(self) -> str:
        if not self._exchanges:
            return f"{self.caption} (aucune requête)."
        return f"{self.caption}\n{text_table(self._headers()[1:], [r[1:] for r in self._rows()])}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        if not self._exchanges:
            return f"<p>{escape(self.caption)} (aucune requête).</p>"
        return html_table(self._headers(), self._rows(), caption=self.caption)


class Recorder:
    """Adds a response hook to an `httpx.Client` while recording, and removes it after."""

    def __init__(self, http: httpx.Client, transcript: Transcript) -> None:
        self._http = http
        self.transcript = transcript
        self._started: dict[int, float] = {}

    def _on_request(self, request: httpx.Request) -> None:
        self._started[id(request)] = time.perf_counter()

    def _on_response(self, response: httpx.Response) -> None:
        started = self._started.pop(id(response.request), None)
        seconds = None if started is None else time.perf_counter() - started
        self.transcript.append(Exchange.from_response(response, seconds))

    def __enter__(self) -> Transcript:
        self._http.event_hooks["request"].append(self._on_request)
        self._http.event_hooks["response"].append(self._on_response)
        return self.transcript

    def __exit__(self, *_: object) -> None:
        self._http.event_hooks["request"].remove(self._on_request)
        self._http.event_hooks["response"].remove(self._on_response)
