"""A token service for a private registry, as Distribution's ``auth: token`` expects one (what
Docker Hub's auth server, Portus or Harbor do), in its own process:

    python -m registry_lab.token_service CONFIG.json

The conversation it serves:

1. a client asks the registry; the registry answers ``401`` with
   ``WWW-Authenticate: Bearer realm="https://…/token",service="…",scope="repository:cours/app:pull"``;
2. the client asks ``GET /token?service=…&scope=…`` here, with its Basic credentials (or none:
   an anonymous token, with no access at all);
3. the service checks the password against the htpasswd file (bcrypt), grants the asked
   actions the account's rights allow, and signs a JWT (RS256): its header carries ``x5c``,
   the signing certificate, which the registry checks against its ``rootcertbundle`` (the
   lab's authority);
4. the client sends the request again with ``Authorization: Bearer <jeton>``.

The policy and the tokens are plain functions (`granted`, `make_token`, `answer`), testable
without HTTP; `TokenServer` puts them behind HTTPS. Each call to ``/token`` is one JSON line in
the configuration's log (`read_calls`): time, method, user, scopes asked, access granted,
status. Never a password, an ``Authorization`` header or a token.

``POST /token`` (OAuth2) accepts the ``password`` grant only (``grant_type=password``,
``username``, ``password``, ``scope``, ``service``): Docker uses it only to renew an identity
token, which this service never hands out; any other grant answers ``400``
``{"error": "unsupported_grant_type"}``.

```python
config = TokenServiceConfig(host="127.0.0.1", port=5443, tls_certificate=…, tls_key=…,
    signing_certificate=…, signing_key=…, htpasswd=…, log=…,
    rights={"dev": [{"repository": "cours/*", "actions": ["pull", "push"]}, {"catalog": True}]})
granted(config.rights, "dev", "repository:cours/app:pull,push,delete")
# {'type': 'repository', 'name': 'cours/app', 'actions': ['pull', 'push']}
decode_claims(make_token(config, "dev", ["repository:cours/app:pull"]))["access"]
```
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import errno
import fnmatch
import functools
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .certificates import x5c_chain
from .errors import CertificateError, LabError, PortBusyError, RegistryLabError, describe_os_error
from .passwords import check_htpasswd
from .state import write_private
from .tables import html_table, text_table

__all__ = [
    "DEFAULT_ISSUER",
    "DEFAULT_LIFETIME",
    "DEFAULT_SERVICE",
    "TokenAnswer",
    "TokenCall",
    "TokenCalls",
    "TokenServer",
    "TokenServiceConfig",
    "answer",
    "decode_claims",
    "granted",
    "main",
    "make_token",
    "read_calls",
]

DEFAULT_ISSUER = "registry-lab-jetons"
DEFAULT_SERVICE = "registry-lab"
#: Lifetime of a token, in seconds (what Docker Hub gives, too).
DEFAULT_LIFETIME = 300
_ALL = "*"
_MAX_FORM = 64 * 1024
#: How often (seconds) the serving loop looks whether SIGTERM came.
_POLL = 0.2

Rights = Mapping[str, Sequence[Mapping[str, Any]]]


# -- the configuration ------------------------------------------------------------------------


def _check_rights(rights: Rights) -> None:
    """Each rule is ``{"repository": pattern, "actions": [...]}`` or ``{"catalog": true}``."""
    for user, rules in rights.items():
        if not isinstance(rules, list | tuple):
            raise LabError(
                f"Droits de « {user} » illisibles : une liste de règles est attendue.",
                'exemple : [{"repository": "cours/*", "actions": ["pull"]}]',
            )
        for rule in rules:
            repository_rule = (
                isinstance(rule, Mapping)
                and isinstance(rule.get("repository"), str)
                and isinstance(rule.get("actions"), list | tuple)
                and all(isinstance(action, str) for action in rule["actions"])
            )
            catalog_rule = isinstance(rule, Mapping) and rule.get("catalog") is True
            if not (repository_rule or catalog_rule):
                raise LabError(
                    f"Règle de droits illisible pour « {user} » : {rule!r}.",
                    'une règle est {"repository": "motif/*", "actions": ["pull", "push"]} '
                    'ou {"catalog": true}.',
                )


@dataclass(kw_only=True)
class TokenServiceConfig:
    """Everything the token service needs; saved as JSON (`save`, `load`) for its process.

    ``rights`` maps a user to rules: ``{"repository": "cours/*", "actions": ["pull", "push"]}``
    (an `fnmatch` pattern, whose ``*`` also crosses « / »; the action ``*`` allows every
    action) or ``{"catalog": true}`` (``registry:catalog:*``, the list of repositories).
    """

    host: str
    port: int
    #: the HTTPS server's certificate and key (issued by the lab's authority for ``host``)
    tls_certificate: Path
    tls_key: Path
    #: the certificate and key that sign tokens (``x5c`` header)
    signing_certificate: Path
    signing_key: Path
    htpasswd: Path
    rights: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    issuer: str = DEFAULT_ISSUER
    service: str = DEFAULT_SERVICE
    #: the calls' log: one JSON line per request to ``/token``
    log: Path
    #: lifetime of a token, in seconds
    lifetime: int = DEFAULT_LIFETIME

    def __post_init__(self) -> None:
        for name in ("tls_certificate", "tls_key", "signing_certificate", "signing_key"):
            setattr(self, name, Path(getattr(self, name)))
        self.htpasswd, self.log = Path(self.htpasswd), Path(self.log)
        _check_rights(self.rights)

    @property
    def realm(self) -> str:
        """The URL the registry sends clients to (``realm`` of its ``auth: token``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}/token"

    def registry_auth(self, rootcertbundle: Path) -> dict[str, dict[str, str]]:
        """The ``auth:`` section of a Distribution registry that trusts this service;
        ``rootcertbundle`` is the authority that issued `signing_certificate`."""
        return {
            "token": {
                "realm": self.realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(rootcertbundle),
            }
        }

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON values (paths as strings)."""
        return {
            "host": self.host,
            "port": self.port,
            "tls_certificate": str(self.tls_certificate),
            "tls_key": str(self.tls_key),
            "signing_certificate": str(self.signing_certificate),
            "signing_key": str(self.signing_key),
            "htpasswd": str(self.htpasswd),
            "rights": self.rights,
            "issuer": self.issuer,
            "service": self.service,
            "log": str(self.log),
            "lifetime": self.lifetime,
        }

    def save(self, path: Path) -> None:
        """Write the configuration as JSON, mode 0600."""
        data = (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode()
        try:
            write_private(Path(path), data)
        except OSError as exc:
            raise LabError(
                f"Impossible d'écrire la configuration du service de jetons {path} : "
                f"{describe_os_error(exc)}.",
                "vérifiez que son dossier existe et que vous pouvez y écrire.",
            ) from None

    @classmethod
    def load(cls, path: Path) -> TokenServiceConfig:
        """Read a configuration written by `save` (`LabError` when it cannot be used)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LabError(
                f"Configuration du service de jetons introuvable : {path}.",
                "écrivez-la avec TokenServiceConfig(…).save(chemin).",
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise LabError(
                f"Configuration du service de jetons illisible : {path} ({exc}).",
                "écrivez-la de nouveau avec TokenServiceConfig(…).save(chemin).",
            ) from None
        try:
            return cls(**data)
        except TypeError as exc:
            raise LabError(
                f"Configuration du service de jetons incomplète ou inconnue : {path} ({exc}).",
                "écrivez-la de nouveau avec TokenServiceConfig(…).save(chemin).",
            ) from None


# -- the policy -------------------------------------------------------------------------------


def _parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """``repository:cours/app:pull,push`` → ``("repository", "cours/app", ["pull", "push"])``.

    The name may hold « : » (the type ends at the first one, the actions start after the last
    one); a type's class (``repository(plugin)``) is dropped.
    """
    kind, _, rest = scope.strip().partition(":")
    name, _, actions = rest.rpartition(":")
    kind = kind.split("(", 1)[0]
    if not kind or not name:
        return None
    return kind, name, [action for action in actions.split(",") if action]


def granted(rights: Rights, user: str | None, scope: str) -> dict[str, Any] | None:
    """The ``access`` entry a token gets for one asked scope: the asked actions that ``user``'s
    rights allow (none for an anonymous user, or an unknown type); None for a scope that
    cannot be read.

    ```python
    granted({"dev": [{"repository": "cours/*", "actions": ["pull"]}]}, "dev",
            "repository:cours/app:pull,push")
    # {'type': 'repository', 'name': 'cours/app', 'actions': ['pull']}
    ```
    """
    parsed = _parse_scope(scope)
    if parsed is None:
        return None
    kind, name, asked = parsed
    allowed: set[str] = set()
    for rule in rights.get(user, ()) if user else ():
        if kind == "repository" and "repository" in rule:
            if fnmatch.fnmatchcase(name, str(rule["repository"])):
                allowed.update(rule.get("actions", ()))
        elif kind == "registry" and name == "catalog" and rule.get("catalog") is True:
            allowed.add(_ALL)
    actions = sorted(
        {action for action in asked if action in allowed or _ALL in allowed},
        key=asked.index,
    )
    return {"type": kind, "name": name, "actions": actions}


def _split_scopes(scopes: Iterable[str]) -> list[str]:
    """Scopes as asked: several ``scope=`` parameters, or several scopes in one, by spaces."""
    return [part for scope in scopes for part in scope.split() if part]


def _access(rights: Rights, user: str | None, scopes: Iterable[str]) -> list[dict[str, Any]]:
    """What a token grants: the entries of `granted` that allow at least one action."""
    entries = (granted(rights, user, scope) for scope in _split_scopes(scopes))
    return [entry for entry in entries if entry is not None and entry["actions"]]


# -- the tokens -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _signing_material(key_path: Path, cert_path: Path, stamp: tuple[int, int]) -> _Signer:
    try:
        key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (OSError, ValueError, TypeError):
        raise CertificateError(
            f"Clé de signature des jetons illisible : {key_path}.",
            "émettez-la de nouveau : CertificateAuthority(…).issue(…, server=False).",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(
            f"{key_path} n'est pas une clé RSA.", "les jetons sont signés en RS256 (RSA)."
        )
    return _Signer(key, x5c_chain(cert_path))


@dataclass(frozen=True)
class _Signer:
    key: rsa.RSAPrivateKey = field(repr=False)
    x5c: list[str]


def _signer(config: TokenServiceConfig) -> _Signer:
    try:
        stamp = (
            config.signing_key.stat().st_mtime_ns,
            config.signing_certificate.stat().st_mtime_ns,
        )
    except OSError:
        stamp = (0, 0)
    return _signing_material(config.signing_key, config.signing_certificate, stamp)


def _sign(config: TokenServiceConfig, user: str | None, access: list[dict[str, Any]]) -> str:
    now = int(time.time())
    claims = {
        "iss": config.issuer,
        "sub": user or "",
        "aud": config.service,
        "exp": now + config.lifetime,
        "nbf": now,
        "iat": now,
        "jti": secrets.token_urlsafe(16),
        "access": access,
    }
    signer = _signer(config)
    return jwt.encode(claims, signer.key, algorithm="RS256", headers={"x5c": signer.x5c})


def make_token(config: TokenServiceConfig, user: str | None, scopes: Sequence[str]) -> str:
    """A signed token (RS256 JWT, ``x5c`` header) for ``user`` (None: anonymous) granting what
    its rights allow of ``scopes``; claims ``iss``, ``sub``, ``aud``, ``exp``, ``nbf``,
    ``iat``, ``jti``, ``access``."""
    return _sign(config, user, _access(config.rights, user, scopes))


def decode_claims(token: str) -> dict[str, Any]:
    """A token's claims, read without checking its signature: to show what a token says
    (``access``, ``exp``…) without ever showing the token itself."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- one request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCall:
    """One call to ``/token``: who asked what, what was granted (scope notation), the status."""

    time: dt.datetime
    user: str | None
    scopes: tuple[str, ...]
    granted: tuple[str, ...]
    status: int
    method: str = "GET"

    def to_json(self, access: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "time": self.time.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
            "method": self.method,
            "user": self.user,
            "scopes": list(self.scopes),
            "granted": [dict(entry) for entry in access],
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenCall:
        return cls(
            time=dt.datetime.fromisoformat(data["time"]),
            user=data.get("user"),
            scopes=tuple(data.get("scopes", ())),
            granted=_scope_texts(data.get("granted", ())),
            status=int(data["status"]),
            method=str(data.get("method", "GET")),
        )


def _scope_texts(access: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """``{"type", "name", "actions"}`` → ``repository:cours/app:pull,push``."""
    return tuple(
        f"{entry['type']}:{entry['name']}:{','.join(entry['actions'])}"
        for entry in access
        if entry.get("actions")
    )


@dataclass(frozen=True)
class TokenAnswer:
    """What the service answers to one request, and the call to record (None: not logged)."""

    status: int
    body: dict[str, Any] = field(repr=False)
    headers: dict[str, str]
    call: TokenCall | None
    #: the access the token grants (the log's ``granted``)
    access: list[dict[str, Any]] = field(default_factory=list)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": None}]}


def _basic(authorization: str) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon and user else None


def answer(
    config: TokenServiceConfig,
    method: str,
    target: str,
    *,
    authorization: str | None = None,
    form: str = "",
) -> TokenAnswer:
    """The service's answer to ``method target`` (``GET /token?…``, or ``POST /token`` with
    its url-encoded ``form``), without any HTTP: status, JSON body, headers, call to log."""
    url = urlsplit(target)
    if url.path.rstrip("/") != "/token" or method not in ("GET", "POST"):
        body = _error("NOT_FOUND", "chemin inconnu : le service de jetons répond sur /token")
        return TokenAnswer(404, body, {}, None)
    started = dt.datetime.now(dt.UTC)
    if method == "POST":
        return _oauth(config, parse_qs(form, keep_blank_values=True), started)
    query = parse_qs(url.query, keep_blank_values=True)
    scopes = tuple(_split_scopes(query.get("scope", [])))
    credentials = _basic(authorization) if authorization is not None else None
    user = credentials[0] if credentials else None

    def refuse(status: int, body: dict[str, Any], headers: dict[str, str]) -> TokenAnswer:
        return TokenAnswer(status, body, headers, TokenCall(started, user, scopes, (), status))

    if query.get("service", [""])[0] != config.service:
        body = _error("INVALID_REQUEST", f"service inconnu : ce service sert « {config.service} »")
        return refuse(400, body, {})
    if authorization is not None and (
        credentials is None or not check_htpasswd(config.htpasswd, *credentials)
    ):
        challenge = {"WWW-Authenticate": f'Basic realm="{config.issuer}"'}
        return refuse(401, _error("UNAUTHORIZED", "identifiants invalides"), challenge)
    account = query.get("account", [""])[0]
    if account and user is not None and account != user:
        body = _error("INVALID_REQUEST", "account ne correspond pas à l'utilisateur")
        return refuse(400, body, {})
    return _grant(config, user, scopes, started, "GET")


def _grant(
    config: TokenServiceConfig,
    user: str | None,
    scopes: tuple[str, ...],
    started: dt.datetime,
    method: str,
) -> TokenAnswer:
    access = _access(config.rights, user, scopes)
    token = _sign(config, user, access)
    body: dict[str, Any] = {
        "token": token,
        "access_token": token,
        "expires_in": config.lifetime,
        "issued_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if method == "POST":
        body["scope"] = " ".join(scopes)
    call = TokenCall(started, user, scopes, _scope_texts(access), 200, method)
    return TokenAnswer(200, body, {"Cache-Control": "no-store"}, call, access)


def _oauth(
    config: TokenServiceConfig, form: dict[str, list[str]], started: dt.datetime
) -> TokenAnswer:
    """``POST /token``: the OAuth2 ``password`` grant only."""

    def value(name: str) -> str:
        return form.get(name, [""])[0]

    user = value("username") or None
    scopes = tuple(_split_scopes(form.get("scope", [])))

    def refuse(status: int, error: str) -> TokenAnswer:
        call = TokenCall(started, user, scopes, (), status, "POST")
        return TokenAnswer(status, {"error": error}, {}, call)

    if value("grant_type") != "password":
        return refuse(400, "unsupported_grant_type")
    if value("service") != config.service:
        return refuse(400, "invalid_request")
    if user is None or not check_htpasswd(config.htpasswd, user, value("password")):
        return refuse(400, "invalid_grant")
    return _grant(config, user, scopes, started, "POST")


# -- the HTTPS server -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: TokenServer
    protocol_version = "HTTP/1.1"
    server_version = "registry-lab-jetons"
    sys_version = ""
    #: a client that connects and says nothing is dropped after this many seconds
    timeout = 30

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        self._answer("GET", authorization=authorization)

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_FORM:
            self.close_connection = True
            self._send(413, _error("SIZE_INVALID", "formulaire trop grand"), {})
            return
        form = self.rfile.read(length).decode("utf-8", errors="replace")
        self._answer("POST", form=form)

    def _answer(self, method: str, **request: Any) -> None:
        try:
            result = answer(self.server.config, method, self.path, **request)
        except RegistryLabError as exc:  # an htpasswd file or a key that cannot be read
            print(f"service de jetons : {exc.message}", file=sys.stderr)
            self._send(500, _error("UNAVAILABLE", exc.message), {})
            return
        self._reply(result)

    def _reply(self, result: TokenAnswer) -> None:
        if result.call is not None:
            self.server.record(result.call, result.access)
        self._send(result.status, result.body, result.headers)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the calls' log says what matters, and a URL never goes to the terminal."""


class TokenServer(ThreadingHTTPServer):
    """The token service on HTTPS at ``config.host:config.port`` (port 0: the kernel picks).

    ```python
    server = TokenServer(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url          # https://127.0.0.1:5443
    server.shutdown(); server.server_close()
    ```
    """

    daemon_threads = True

    def __init__(self, config: TokenServiceConfig) -> None:
        self.config = config
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(config.tls_certificate, config.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise CertificateError(
                f"Certificat HTTPS du service de jetons inutilisable : {config.tls_certificate} "
                f"({exc}).",
                "émettez-le avec CertificateAuthority(…).issue(…, ip_addresses=[hôte]).",
            ) from None
        try:
            super().__init__((config.host, config.port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusyError(
                    f"Le port {config.port} de {config.host} est déjà pris : le service de "
                    "jetons ne peut pas l'écouter.",
                    "choisissez un autre port, ou arrêtez le programme qui l'occupe.",
                    port=config.port,
                ) from None
            raise LabError(
                f"Le service de jetons ne peut pas écouter {config.host}:{config.port} : "
                f"{describe_os_error(exc)}.",
                "vérifiez l'adresse (host) de sa configuration.",
            ) from None
        # The TLS handshake happens in each request's thread, never in the accepting loop.
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )
        self._log_lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port it listens on (the kernel's choice when the configuration says 0)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"https://{host}:{self.port}"

    def record(self, call: TokenCall, access: Sequence[Mapping[str, Any]]) -> None:
        """Append one call to the log: never a password, a header or a token."""
        line = json.dumps(call.to_json(access), ensure_ascii=False) + "\n"
        with self._log_lock:
            try:
                self.config.log.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.config.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line.encode())
                finally:
                    os.close(fd)
            except OSError as exc:
                print(
                    f"journal des jetons impossible à écrire ({describe_os_error(exc)})",
                    file=sys.stderr,
                )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, no traceback: a client that does not trust the authority, or hangs up."""
        error = sys.exc_info()[1]
        reason = getattr(error, "reason", None) or type(error).__name__
        print(f"connexion interrompue avec {client_address[0]} : {reason}", file=sys.stderr)


# -- the calls' log ---------------------------------------------------------------------------

_STATUS_FR = {
    200: "jeton délivré",
    400: "requête refusée",
    401: "identifiants refusés",
}


class TokenCalls(list[TokenCall]):
    """The calls of a token service's log, shown as a table (heure, utilisateur, portée
    demandée, droits accordés, statut)."""

    _HEADERS = ("Heure", "Utilisateur", "Portée demandée", "Droits accordés", "Statut")

    def _rows(self) -> list[list[str]]:
        return [
            [
                call.time.astimezone().strftime("%H:%M:%S"),
                call.user if call.user is not None else "anonyme",
                "\n".join(call.scopes) or "aucune",
                "\n".join(call.granted) or "aucun",
                f"{call.status} {_STATUS_FR.get(call.status, '')}".strip(),
            ]
            for call in self
        ]

    def __str__(self) -> str:
        if not self:
            return "Aucun appel au service de jetons."
        return text_table(self._HEADERS, self._rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self:
            return "<p>Aucun appel au service de jetons.</p>"
        return html_table(self._HEADERS, self._rows(), caption="Appels au service de jetons")


def read_calls(log_path: Path) -> TokenCalls:
    """The calls recorded in a token service's log (empty when there is no log yet)."""
    calls = TokenCalls()
    try:
        text = Path(log_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return calls
    except OSError as exc:
        raise LabError(
            f"Journal du service de jetons illisible : {log_path} ({describe_os_error(exc)}).",
            "vérifiez ses droits.",
        ) from None
    for line in text.splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            calls.append(TokenCall.from_json(json.loads(line)))
    return calls


# -- the process ------------------------------------------------------------------------------

USAGE = (
    "usage : python -m registry_lab.token_service CONFIG.json\n"
    "Lance le service de jetons décrit par CONFIG.json (écrit par TokenServiceConfig.save) ;\n"
    "SIGTERM ou Ctrl+C l'arrête."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; 2 on a usage error, 1 when the service cannot start."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handlers first: a SIGTERM sent as soon as the port listens still ends the loop cleanly.
    # The loop is ours (not serve_forever + shutdown, which hangs when shutdown comes first).
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            config = TokenServiceConfig.load(Path(args[0]))
            server = TokenServer(config)
        except RegistryLabError as exc:
            print(f"Le service de jetons ne démarre pas : {exc}", file=sys.stderr)
            return 1
        print(
            f"Service de jetons à l'écoute sur {server.url}/token "
            f"(service « {config.service} », émetteur « {config.issuer} »).",
            flush=True,
        )
        server.timeout = _POLL
        with server:
            while not stop.is_set():
                server.handle_request()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Service de jetons arrêté.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
