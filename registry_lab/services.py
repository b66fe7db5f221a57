"""The lab's registry: the real CNCF Distribution program (``docker-registry``) on 127.0.0.1."""

from __future__ import annotations

import secrets
import subprocess
import time
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import NameUnknownError, RegistryDownError, RegistryStartError, describe_os_error
from .probe import http_status
from .processes import (
    find_binary,
    is_alive,
    live_pid,
    log_tail,
    process_state,
    remove_file,
    spawn,
    stop_pid,
)

if TYPE_CHECKING:
    from .browser import RegistryBrowser
    from .registry import RegistryClient

__all__ = ["DEFAULT_PORT", "RegistryService", "registry_version"]

DEFAULT_PORT = 5000

CONFIG_TEMPLATE = """\
# Configuration du registry du labo, écrite par registry_lab (ne pas modifier à la main).
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:{port}
  secret: {secret}
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""


@cache
def registry_version() -> str:
    """The version of the Distribution program, as ``docker-registry --version`` prints it."""
    out = subprocess.run(
        [find_binary("docker-registry"), "--version"], capture_output=True, text=True, check=False
    ).stdout
    return out.split()[-1] if out.strip() else "?"


class RegistryService:
    """The registry process: its config, storage, pid file and log under the state folder."""

    label = "registry"

    def __init__(self, home: Path, port: int = DEFAULT_PORT) -> None:
        self.root = home / "registry"
        self.port = port
        self._launched: int | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: the prefix of image names pushed to this registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL of its HTTP API (``/v2/`` lives under it)."""
        return f"http://{self.address}"

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def storage(self) -> Path:
        """Where the registry keeps blobs and repositories (survives ``down``)."""
        return self.root / "data"

    @property
    def pidfile(self) -> Path:
        return self.root / "registry.pid"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    @property
    def pid(self) -> int | None:
        return live_pid(self.pidfile, str(self.config))

    @property
    def state(self) -> str:
        return process_state(self.pid, self.pidfile)

    def ping(self, timeout: float = 1.0) -> bool:
        """True when ``GET /v2/`` answers 200."""
        return http_status("/v2/", port=self.port, timeout=timeout) == 200

    @property
    def healthy(self) -> bool:
        return self.pid is not None and self.ping()

    def write_config(self) -> None:
        """Write the registry's config (deletes enabled, storage in the state folder)."""
        secret = None
        if self.config.exists():
            for line in self.config.read_text().splitlines():
                if line.strip().startswith("secret:"):
                    secret = line.split(":", 1)[1].strip()
        text = CONFIG_TEMPLATE.format(
            data=self.storage, port=self.port, secret=secret or secrets.token_hex(16)
        )
        self.root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)
        self.config.chmod(0o600)

    def argv(self) -> list[str]:
        """The registry's command line: Distribution serving this config."""
        return [find_binary("docker-registry"), "serve", str(self.config)]

    def start(self) -> None:
        """Start the registry in the background (returns at once; see `wait_ready`)."""
        if self.pid is not None:
            return
        try:
            remove_file(self.pidfile)
            self.write_config()
            self.storage.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryStartError(
                f"Impossible de préparer le dossier du registry {self.root} : "
                f"{describe_os_error(exc)} ({exc.filename}).",
                "un fichier occupe peut-être la place d'un dossier ; « python -m registry_lab "
                "reset --yes » repart d'un dossier d'état neuf.",
            ) from exc
        self._launched = spawn(self.argv(), self.log)
        self.pidfile.write_text(f"{self._launched}\n")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until ``/v2/`` answers; raise `RegistryStartError` with the end of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_alive(self._launched or self.pid):
            if self.ping(timeout=0.5):
                return
            time.sleep(0.01)
        raise RegistryStartError(
            f"Le registry n'a pas démarré sur {self.address}. Fin de son journal ({self.log}) :\n"
            f"{log_tail(self.log) or '(journal vide)'}",
            "lisez le journal ci-dessus ; « python -m registry_lab doctor » vérifie les prérequis.",
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the registry by its pid (its data stays)."""
        pid = self.pid
        if pid is not None:
            stop_pid(pid, timeout)
        remove_file(self.pidfile)

    def require(self) -> None:
        if not self.healthy:
            raise RegistryDownError(
                f"Le registry ({self.url}) ne répond pas (état : {self.state}).",
                "démarrez le labo : python -m registry_lab up (ou Lab.up() dans un notebook).",
            )

    @cached_property
    def client(self) -> RegistryClient:
        """A `RegistryClient` for this registry's HTTP API."""
        from .registry import RegistryClient

        return RegistryClient(self.url, timeout=10)

    def repositories(self) -> list[str]:
        """Every repository of the registry (``GET /v2/_catalog``, all pages), sorted."""
        self.require()
        return sorted(self.client.repositories(page_size=100))

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (``GET /v2/<name>/tags/list``), sorted."""
        self.require()
        try:
            return sorted(self.client.tags(repository))
        except NameUnknownError:
            return []

    def version(self) -> str:
        return registry_version()

    def browse(self) -> RegistryBrowser:
        """A browser of this registry: repositories → tags → manifest → layers → files."""
        return self.client.browse()

    def __repr__(self) -> str:
        return f"<RegistryService {self.url} ({self.state})>"
