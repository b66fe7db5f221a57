"""Test-only helpers for authentication: a real Distribution registry, htpasswd, a token service.

- `RegistryProcess`: ``docker-registry serve config.yml`` on a free 127.0.0.1 port, in a folder
  of its own, with an ``auth:`` section; stopped by its pid.
- `write_htpasswd`: bcrypt entries (the only kind Distribution accepts).
- `SigningIdentity`: an RSA key and its self-signed certificate: the registry's
  ``rootcertbundle``, and the ``x5c`` header of every token.
- `TokenService`: a token service as Distribution's ``auth: token`` expects one, on a
  `ThreadingHTTPServer`: it checks Basic credentials, grants the intersection of the asked
  scopes with each user's rights, signs RS256 JWTs, and records every call.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from registry_lab.ports import free_port
from registry_lab.probe import http_status
from registry_lab.processes import find_binary, log_tail

SERVICE = "registry-lab"
ISSUER = "registry-lab-tokens"


# -- the registry -----------------------------------------------------------------------------

CONFIG = """\
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: tests-auth-{port}
{tls}auth:
{auth}
"""


class RegistryProcess:
    """A Distribution registry started for a test, with ``auth`` (the YAML under ``auth:``);
    in HTTPS with ``tls=(certificate, key)``."""

    def __init__(self, root: Path, auth: str, *, tls: tuple[Path, Path] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = root / "registry.log"
        root.mkdir(parents=True, exist_ok=True)
        config = root / "config.yml"
        indented = "\n".join(f"  {line}" for line in auth.strip().splitlines())
        section = f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else ""
        config.write_text(
            CONFIG.format(data=root / "data", port=self.port, tls=section, auth=indented)
        )
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [find_binary("docker-registry"), "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            # in HTTPS, Go answers a plain HTTP request with 400: listening all the same
            if http_status("/v2/", port=self.port, timeout=0.5) is not None:
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"le registry de test n'a pas démarré :\n{log_tail(self.log, 30)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def write_htpasswd(path: Path, users: dict[str, str]) -> None:
    """An htpasswd file of bcrypt entries (cost 4, the minimum: tests stay fast)."""
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}"
        for user, password in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")


# -- the token service ------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningIdentity:
    """The token service's RSA key and self-signed certificate (PEM file for the registry)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    certificate_path: Path

    @classmethod
    def create(cls, folder: Path) -> SigningIdentity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        path = folder / "token-signer.pem"
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate, path)

    @property
    def x5c(self) -> list[str]:
        """The JWT header's certificate chain: base64 (not url-safe) of the DER certificate."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return [base64.b64encode(der).decode("ascii")]


@dataclass(frozen=True)
class TokenCall:
    """One request the token service received."""

    user: str | None
    scopes: tuple[str, ...]
    status: int


@dataclass
class User:
    password: str
    #: repository pattern (fnmatch) → actions granted on the repositories it matches
    rights: dict[str, set[str]] = field(default_factory=dict)


USERS = {
    "lecteur": User("lecteur-mdp-51c", {"equipe/*": {"pull"}}),
    "dev": User("dev-mdp-9ka", {"equipe/*": {"pull", "push", "delete"}}),
}


class TokenService:
    """A token service for Distribution's ``auth: token``, on 127.0.0.1 (port chosen by the
    kernel). ``calls`` lists what it was asked, ``issued`` the tokens it gave."""

    def __init__(self, identity: SigningIdentity, users: dict[str, User] | None = None) -> None:
        self.identity = identity
        self.users = USERS if users is None else users
        self.calls: list[TokenCall] = []
        self.issued: list[str] = []
        #: lifetime announced with each token (seconds)
        self.expires_in = 300
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def calls_for(self, scope: str) -> list[TokenCall]:
        with self._lock:
            return [call for call in self.calls if scope in call.scopes]

    def registry_auth(self) -> str:
        """The ``auth:`` section of a registry that trusts this service."""
        return (
            "token:\n"
            f"  realm: {self.realm}\n"
            f"  service: {SERVICE}\n"
            f"  issuer: {ISSUER}\n"
            f"  rootcertbundle: {self.identity.certificate_path}\n"
        )

    # -- policy and tokens --

    def granted(self, user: str | None, scope: str) -> dict[str, Any] | None:
        """The ``access`` entry for one asked scope: asked actions ∩ the user's rights."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if not kind or not name:
            return None
        rights: set[str] = set()
        if user is not None and kind == "repository":
            for pattern, allowed in self.users[user].rights.items():
                if fnmatch.fnmatchcase(name, pattern):
                    rights |= allowed
        given = sorted(set(actions.split(",")) & rights)
        return {"type": kind, "name": name, "actions": given}

    def token(self, user: str | None, scopes: list[str]) -> str:
        now = int(time.time())
        access = [entry for scope in scopes if (entry := self.granted(user, scope))]
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        return jwt.encode(
            claims, self.identity.key, algorithm="RS256", headers={"x5c": self.identity.x5c}
        )

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        url = urlsplit(path)
        query = parse_qs(url.query)
        scopes = query.get("scope", [])
        user: str | None = None
        status, body = 200, {}
        if url.path != "/token":
            status, body = 404, {"details": "inconnu"}
        elif query.get("service") != [SERVICE]:
            status, body = 400, {"details": "service inconnu"}
        elif authorization is not None:
            user, password = _basic_credentials(authorization)
            known = self.users.get(user or "")
            if known is None or password != known.password:
                status, body = 401, {"details": "identifiants invalides"}
        if status == 200:
            token = self.token(user, scopes)
            with self._lock:
                self.issued.append(token)
            issued_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = {"token": token, "expires_in": self.expires_in, "issued_at": issued_at}
        with self._lock:
            self.calls.append(TokenCall(user, tuple(scopes), status))
        return status, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = service.answer(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", f'Basic realm="{ISSUER}"')
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None, None
    return user, password
