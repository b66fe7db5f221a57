"""Test-only helpers for authentication: a real Distribution registry, and a token service.

- `RegistryProcess`: ``docker-registry serve config.yml`` on a free 127.0.0.1 port, in a folder
  of its own, with an ``auth:`` section (and HTTPS with ``tls=``); stopped by its pid.
- `TokenService`: the package's token service (`registry_lab.token_service.answer`: htpasswd,
  rights, RS256 tokens whose ``x5c`` leads to the lab's authority) on an in-process,
  plain-HTTP `ThreadingHTTPServer` that keeps every call and token in memory, for tests that
  count them.

htpasswd files come from `registry_lab.passwords.write_htpasswd`, certificates from
`registry_lab.certificates.CertificateAuthority`.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from registry_lab.certificates import CertificateAuthority
from registry_lab.passwords import write_htpasswd
from registry_lab.ports import free_port
from registry_lab.probe import http_status
from registry_lab.processes import find_binary, log_tail
from registry_lab.token_service import (
    DEFAULT_ISSUER,
    DEFAULT_SERVICE,
    TokenCall,
    TokenServiceConfig,
    answer,
    make_token,
)

SERVICE = DEFAULT_SERVICE
ISSUER = DEFAULT_ISSUER


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


# -- the token service ------------------------------------------------------------------------


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
    """The package's token policy and tokens, served in plain HTTP on 127.0.0.1 (port chosen by
    the kernel), with its authority, signing certificate and htpasswd file in ``folder``.
    ``calls`` lists what it was asked, ``issued`` the tokens it gave."""

    def __init__(self, folder: Path, users: dict[str, User] | None = None) -> None:
        self.users = USERS if users is None else users
        self.authority = CertificateAuthority(folder / "ca")
        certificate, key = self.authority.issue("jetons", common_name=ISSUER, server=False)
        write_htpasswd(
            folder / "htpasswd", {name: user.password for name, user in self.users.items()}, 4
        )
        self.calls: list[TokenCall] = []
        self.issued: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.config = TokenServiceConfig(
            host="127.0.0.1",
            port=self.port,
            # plain HTTP here (test_auth's realm is http://): the TLS pair is not used
            tls_certificate=certificate,
            tls_key=key,
            signing_certificate=certificate,
            signing_key=key,
            htpasswd=folder / "htpasswd",
            rights={
                name: [
                    {"repository": pattern, "actions": sorted(actions)}
                    for pattern, actions in user.rights.items()
                ]
                for name, user in self.users.items()
            },
            issuer=ISSUER,
            service=SERVICE,
            log=folder / "appels.jsonl",
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def expires_in(self) -> int:
        """Lifetime of the tokens it gives, in seconds."""
        return self.config.lifetime

    @expires_in.setter
    def expires_in(self, seconds: int) -> None:
        self.config.lifetime = seconds

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
        """The ``auth:`` section of a registry that trusts this service (its authority)."""
        section = self.config.registry_auth(self.authority.cert_path)["token"]
        section["realm"] = self.realm
        return "token:\n" + "".join(f"  {key}: {value}\n" for key, value in section.items())

    def token(self, user: str | None, scopes: list[str]) -> str:
        return make_token(self.config, user, scopes)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization")
                result = answer(service.config, "GET", self.path, authorization=authorization)
                with service._lock:
                    if result.call is not None:
                        service.calls.append(result.call)
                    if "token" in result.body:
                        service.issued.append(result.body["token"])
                data = json.dumps(result.body).encode()
                self.send_response(result.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in result.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
