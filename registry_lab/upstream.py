"""A simulated public registry (« le Hub » du labo) and a pull-through cache in front of it.

Both are real programs, started only when asked (`Lab.hub` / `Lab.cache`), on 127.0.0.1,
their state under the lab's state folder, stopped by pid with the rest of the lab:

- the Hub: a second Distribution registry (on a unix socket) behind a real nginx with
  ``limit_req``: past its limit a ``GET`` of a manifest (a « pull », as Docker Hub counts
  them) gets HTTP 429 and the registry's ``TOOMANYREQUESTS`` body; every answer is slowed by
  ``limit_rate`` (a bandwidth, in bytes per second); on ``127.0.0.1:HUB_PORT``;
- the cache: Distribution in ``proxy: remoteurl:`` mode, its own storage, on
  ``127.0.0.1:CACHE_PORT``.

The headers are Docker Hub's: ``ratelimit-limit: N;w=SECONDS`` (the configured limit) on every
answer; ``ratelimit-remaining: 0;w=SECONDS`` only on a refusal, the one value nginx really knows
(it does not count what is left; nothing here pretends it does).

```python
hub = lab.hub()                          # starts it (idempotent), copies images into it
hub.publish(lab.registry, "cours/bonjour:1.0")
cache = lab.cache()                      # the pull-through cache in front of the Hub
pull(lab.host_b, cache, "cours/bonjour:1.0")
hub.pulls()                              # the GET manifests nginx logged (Hub-style pulls)
```
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import RegistryStartError
from .ports import free_port, port_is_free
from .probe import http_status
from .processes import (
    find_binary,
    live_pid,
    log_tail,
    remove_file,
    spawn,
    stop_pid,
)
from .registry_log import HttpRequest, parse_log
from .services import RegistryService
from .tables import html_table, text_table

__all__ = [
    "HUB_IMAGES",
    "HUB_LIMIT",
    "HUB_RATE",
    "HUB_WINDOW",
    "CacheService",
    "ClassroomEstimate",
    "HubService",
    "classroom",
    "lab_ports",
]

#: Pulls (GET of a manifest) one address may make per window before HTTP 429.
HUB_LIMIT = 10
#: The window of the limit, in seconds (Docker Hub: 100 pulls per 21 600 s for anonymous users).
HUB_WINDOW = 60
#: The Hub's bandwidth per connection, in bytes per second (nginx ``limit_rate``).
HUB_RATE = 1024 * 1024

#: The images only the Hub has (pushed by `HubService.seed`): 2 Mio of text each, ~1 Mo gzipped.
HUB_IMAGES = ("public/outil:1.0", "public/utilitaire:1.0")

_BACKEND = """\
# Registry derrière le Hub simulé, écrit par registry_lab.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
http:
  net: unix
  addr: {socket}
  secret: {secret}
"""

_NGINX = """\
# nginx du Hub simulé, écrit par registry_lab (lancé avec -c ce fichier -p {root}).
daemon off;
# Le labo tourne en root ; son dossier d'état (0700) n'est lisible que par root.
user root;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log {root}/access.log combined;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    # Un « pull » au sens de Docker Hub : un GET de manifeste. Clé vide = non compté.
    map "$request_method $uri" $pull_key {{
        "~^GET /v2/.+/manifests/" $binary_remote_addr;
        default "";
    }}
    limit_req_zone $pull_key zone=pulls:1m rate={per_minute}r/m;
    limit_req_status 429;
    map $limit_req_status $ratelimit_remaining {{
        REJECTED "0;w={window}";
        default "";
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location /v2/ {{
            limit_req zone=pulls burst={burst} nodelay;
            limit_rate {rate};
            add_header ratelimit-limit "{limit};w={window}" always;
            add_header ratelimit-remaining $ratelimit_remaining always;
            add_header docker-ratelimit-source $remote_addr always;
            error_page 429 = @toomanyrequests;
            proxy_pass http://unix:{socket}:;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }}
        location @toomanyrequests {{
            default_type application/json;
            add_header ratelimit-limit "{limit};w={window}" always;
            add_header ratelimit-remaining "0;w={window}" always;
            add_header docker-ratelimit-source $remote_addr always;
            return 429 '{body}';
        }}
    }}
}}
"""

_CACHE = """\
# Cache pull-through du labo (Distribution en mode proxy), écrit par registry_lab.
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
http:
  addr: 127.0.0.1:{port}
  secret: {secret}
proxy:
  remoteurl: {remote}
"""

TOO_MANY_REQUESTS_BODY = json.dumps(
    {
        "errors": [
            {
                "code": "TOOMANYREQUESTS",
                "message": "You have reached your pull rate limit.",
                "detail": "trop de pulls depuis cette adresse : attendez, ou passez par un cache",
            }
        ]
    },
    ensure_ascii=True,
)


def _payload(seed: str, size: int) -> str:
    """``size`` characters of hexadecimal text derived from ``seed`` (barely compressible)."""
    import hashlib

    chunks, block, total = [], hashlib.sha256(seed.encode()).digest(), 0
    while total < size:
        block = hashlib.sha256(block).digest()
        chunks.append(block.hex())
        total += 64
    return "".join(chunks)[:size]


def lab_ports(home: Path, registry_port: int) -> tuple[int, int]:
    """The Hub's and the cache's ports: saved in ``upstream.json``, else chosen once and saved.

    The registry's port + 1 and + 2 when they are free (``127.0.0.1:5001``, ``:5002``
    beside ``:5000``), else any free port.
    """
    path = home / "upstream.json"
    try:
        saved = json.loads(path.read_text())
        return int(saved["hub"]), int(saved["cache"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    chosen: list[int] = []
    for wanted in (registry_port + 1, registry_port + 2):
        port = wanted if wanted < 65536 and port_is_free(wanted) else free_port()
        while port in chosen:
            port = free_port()
        chosen.append(port)
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hub": chosen[0], "cache": chosen[1]}) + "\n")
    return chosen[0], chosen[1]


def _secret(path: Path) -> str:
    import secrets

    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip().startswith("secret:"):
                return line.split(":", 1)[1].strip()
    return secrets.token_hex(16)


def _wait(
    check: Callable[[], bool], alive: Callable[[], bool], what: str, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        if check():
            return
        time.sleep(0.02)
    raise RegistryStartError(
        f"{what} n'a pas démarré. Fin de son journal ({log}) :\n{log_tail(log) or '(vide)'}",
        "lisez le journal ci-dessus ; « python -m registry_lab doctor » vérifie les prérequis.",
    )


class HubService(RegistryService):
    """The simulated public registry: Distribution on a unix socket behind nginx."""

    label = "Hub simulé"

    def __init__(
        self,
        home: Path,
        port: int,
        *,
        limit: int = HUB_LIMIT,
        window: int = HUB_WINDOW,
        rate: int = HUB_RATE,
    ) -> None:
        super().__init__(home, port)
        self.root = home / "hub"
        self.limit = limit
        self.window = window
        self.rate = rate

    # files
    @property
    def config(self) -> Path:
        return self.root / "registry.yml"

    @property
    def nginx_config(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def socket(self) -> Path:
        return self.root / "registry.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "registry.pid"

    @property
    def nginx_pidfile(self) -> Path:
        return self.root / "hub.pid"

    @property
    def log(self) -> Path:
        """nginx's access log: every request the Hub answered (combined format)."""
        return self.root / "access.log"

    @property
    def backend_log(self) -> Path:
        return self.root / "registry.log"

    @property
    def nginx_log(self) -> Path:
        return self.root / "nginx.log"

    # processes
    @property
    def backend_pid(self) -> int | None:
        return live_pid(self.pidfile, str(self.config))

    @property
    def nginx_pid(self) -> int | None:
        return live_pid(self.nginx_pidfile, str(self.nginx_config))

    @property
    def pid(self) -> int | None:
        """nginx's pid, when nginx and the registry behind it both run."""
        return self.nginx_pid if self.backend_pid is not None else None

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.root / "tmp" / folder).mkdir(parents=True, exist_ok=True)
        backend = _BACKEND.format(
            data=self.storage, socket=self.socket, secret=_secret(self.config)
        )
        self.config.write_text(backend)
        self.config.chmod(0o600)
        per_minute = max(1, math.ceil(self.limit * 60 / self.window))
        self.nginx_config.write_text(
            _NGINX.format(
                root=self.root,
                port=self.port,
                socket=self.socket,
                per_minute=per_minute,
                burst=max(0, self.limit - 1),
                limit=self.limit,
                window=self.window,
                rate=self.rate,
                body=TOO_MANY_REQUESTS_BODY,
            )
        )

    def start(self) -> None:
        """Start the registry behind the Hub, then nginx (returns at once; see `wait_ready`)."""
        self.write_config()
        self.storage.mkdir(parents=True, exist_ok=True)
        if self.backend_pid is None:
            remove_file(self.socket)
            argv = [find_binary("docker-registry"), "serve", str(self.config)]
            self.pidfile.write_text(f"{spawn(argv, self.backend_log)}\n")
        if self.nginx_pid is None:
            argv = [
                find_binary("nginx"),
                "-c",
                str(self.nginx_config),
                "-p",
                f"{self.root}/",
                "-e",
                str(self.root / "nginx-error.log"),
            ]
            self.nginx_pidfile.write_text(f"{spawn(argv, self.nginx_log)}\n")

    def ping(self, timeout: float = 1.0) -> bool:
        """True when ``GET /v2/`` through nginx answers 200."""
        return http_status("/v2/", port=self.port, timeout=timeout) == 200

    def wait_ready(self, timeout: float = 30.0) -> None:
        _wait(
            lambda: http_status("/v2/", unix_socket=str(self.socket), timeout=0.5) == 200,
            lambda: self.backend_pid is not None,
            "Le registry du Hub simulé",
            self.backend_log,
            timeout,
        )
        _wait(
            lambda: self.ping(0.5),
            lambda: self.nginx_pid is not None,
            f"Le nginx du Hub simulé ({self.address})",
            self.root / "nginx-error.log",
            timeout,
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop nginx, then the registry behind it, by pid (the images stay)."""
        for pid, pidfile in (
            (self.nginx_pid, self.nginx_pidfile),
            (self.backend_pid, self.pidfile),
        ):
            if pid is not None:
                stop_pid(pid, timeout)
            remove_file(pidfile)
        remove_file(self.socket)

    def require(self) -> None:
        if not self.healthy:
            raise RegistryStartError(
                f"Le Hub simulé ({self.url}) ne répond pas (état : {self.state}).",
                "démarrez-le : lab.hub() dans un notebook.",
            )

    # contents and counts
    def publish(self, source: RegistryService, reference: str) -> str:
        """Copy ``reference`` from ``source`` (the lab's registry) into the Hub; its digest.

        The copy goes through nginx with pushes and at most a ``HEAD`` of the manifest: it
        is not a pull, the Hub's limit does not count it.
        """
        self.require()
        report = source.client.copy(reference, reference, destination_client=self.client)
        return str(report.digest)

    def seed(self) -> dict[str, str]:
        """Push `HUB_IMAGES` straight into the Hub (reproducible: same digests every run)."""
        from .maintenance import push_tiny_image, tiny_layer

        self.require()
        digests = {}
        for image in HUB_IMAGES:
            repository, tag = image.split(":")
            layer = tiny_layer({f"opt/{repository}/donnees.txt": _payload(image, 2 * 1024 * 1024)})
            digests[image] = push_tiny_image(self.client, repository, tag, [layer])
        return digests

    def requests(self, start: int = 0) -> list[HttpRequest]:
        """The requests nginx logged since byte ``start`` of its access log."""
        if not self.log.exists():
            return []
        with self.log.open("rb") as log:
            log.seek(start)
            return parse_log(log.read().decode(errors="replace"))

    def log_size(self) -> int:
        """The access log's size once nginx has written the last answers."""
        time.sleep(0.05)
        return self.log.stat().st_size if self.log.exists() else 0

    def pulls(self, start: int = 0) -> list[HttpRequest]:
        """The pulls as Docker Hub counts them: ``GET`` of a manifest (refused ones included).

        Requests of the lab's own client (user agent ``registry_lab/…``: publishing, the
        reports that read a manifest after a pull) are bookkeeping, not pulls.
        """
        return [
            r
            for r in self.requests(start)
            if r.method == "GET"
            and "/manifests/" in r.path
            and not r.agent.startswith("registry_lab/")
        ]

    def __repr__(self) -> str:
        return f"<HubService {self.url} ({self.state}, {self.limit} pulls/{self.window} s)>"


class CacheService(RegistryService):
    """A pull-through cache: Distribution in proxy mode in front of the Hub."""

    label = "cache"

    def __init__(self, home: Path, port: int, remote: str) -> None:
        super().__init__(home, port)
        self.root = home / "cache"
        self.remote = remote

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def pidfile(self) -> Path:
        return self.root / "cache.pid"

    @property
    def log(self) -> Path:
        return self.root / "cache.log"

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        text = _CACHE.format(
            data=self.storage, port=self.port, secret=_secret(self.config), remote=self.remote
        )
        self.config.write_text(text)
        self.config.chmod(0o600)

    def empty(self) -> None:
        """Forget everything the cache holds (stopped first; ``start`` again to use it)."""
        import shutil

        self.stop()
        shutil.rmtree(self.storage, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<CacheService {self.url} → {self.remote} ({self.state})>"


@dataclass(frozen=True, repr=False)
class ClassroomEstimate:
    """How many Hub pulls a class spends behind one address, against the Hub's limit."""

    learners: int
    pulls_per_learner: int
    limit: int
    window: int
    cached_pulls: int

    @property
    def without_cache(self) -> int:
        return self.learners * self.pulls_per_learner

    @property
    def with_cache(self) -> int:
        """With a cache, only its first pulls reach the Hub, whatever the class size."""
        return self.cached_pulls

    @staticmethod
    def _refused(spent: int, limit: int) -> int:
        return max(0, spent - limit)

    @property
    def refused_without_cache(self) -> int:
        return self._refused(self.without_cache, self.limit)

    @property
    def refused_with_cache(self) -> int:
        return self._refused(self.with_cache, self.limit)

    def rows(self) -> list[list[str]]:
        return [
            [
                "sans cache",
                f"{self.learners} × {self.pulls_per_learner}",
                str(self.without_cache),
                str(self.limit),
                str(self.refused_without_cache),
            ],
            [
                "avec cache",
                f"{self.cached_pulls} (le 1er de chaque image)",
                str(self.with_cache),
                str(self.limit),
                str(self.refused_with_cache),
            ],
        ]

    _HEADERS = ("", "pulls", "total au Hub", "limite", "refusés (429)")

    def __str__(self) -> str:
        return text_table(self._HEADERS, self.rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._HEADERS, self.rows())


def classroom(
    learners: int, pulls_per_learner: int, hub: HubService, *, cached_pulls: int | None = None
) -> ClassroomEstimate:
    """The pulls of ``learners`` behind one address, with and without a cache, vs ``hub.limit``.

    ``pulls_per_learner`` is what one learner's exercise really cost (counted in the Hub's
    log); with a cache, the Hub sees ``cached_pulls`` pulls (measured too: the cache's first).
    """
    return ClassroomEstimate(
        learners,
        pulls_per_learner,
        hub.limit,
        hub.window,
        pulls_per_learner if cached_pulls is None else cached_pulls,
    )
