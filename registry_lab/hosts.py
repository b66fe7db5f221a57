"""A Docker host of the lab: one real ``dockerd`` with its own image store."""

from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .commands import CommandOutput, run_docker
from .errors import DaemonDownError, DaemonStartError
from .probe import http_status
from .processes import (
    find_binary,
    is_alive,
    live_pid,
    log_tail,
    pids_mentioning,
    process_state,
    read_pid,
    remove_file,
    spawn,
    stop_pid,
)

if TYPE_CHECKING:
    import docker

__all__ = ["DockerHost"]

#: A local port nothing listens on: the proxy for every registry outside the lab.
CLOSED_PROXY = "http://127.0.0.1:9"

#: The addresses dockerd reaches directly: loopback, and the lab's own network namespaces
#: (`netns.LAB_RANGE`, the secured registry). Everything else goes to `CLOSED_PROXY`.
DIRECT_ADDRESSES = "127.0.0.0/8,localhost,::1,198.18.0.0/15"

#: Where dockerd reads its settings (``key.json``, ``certs.d``); each lab host gets its own,
#: bind-mounted there in a mount namespace of its own.
ETC_DOCKER = Path("/etc/docker")

#: Runs ``dockerd`` with ``$0`` mounted on /etc/docker, in a private mount namespace.
_MOUNT_ETC_DOCKER = f'mount --bind "$0" {ETC_DOCKER} && exec "$@"'


class DockerHost:
    """One lab host: a ``dockerd`` started with its own data-root, exec-root, socket and pid file.

    ```python
    lab.host_a.docker("images")          # the real docker CLI, output shown in the notebook
    lab.host_a.client.images.list()      # the Docker SDK, on this host only
    ```
    """

    def __init__(self, key: str, home: Path) -> None:
        self.key = key
        self.label = f"hôte {key.upper()}"
        self.root = home / f"hote-{key}"
        self._launched: int | None = None

    # -- where everything lives -------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def url(self) -> str:
        """The address a Docker client uses: ``unix:///…/docker.sock``."""
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def docker_config(self) -> Path:
        """This host's own ``DOCKER_CONFIG`` (``docker login`` credentials stay per host)."""
        return self.root / "docker-config"

    @property
    def etc_docker(self) -> Path:
        """This host's ``/etc/docker``: dockerd sees this folder there, and only dockerd does."""
        return self.root / "etc-docker"

    @property
    def certs_dir(self) -> Path:
        """This host's ``/etc/docker/certs.d``: the registries' CAs it trusts, one folder each."""
        return self.etc_docker / "certs.d"

    @property
    def containerd_pidfile(self) -> Path:
        return self.exec_root / "containerd" / "containerd.pid"

    def argv(self) -> list[str]:
        """The dockerd command line: no bridge, no iptables, nothing shared with other daemons.

        dockerd reads ``/etc/docker/certs.d`` (the CAs a host trusts, as Docker documents it)
        and writes ``/etc/docker/key.json``: it runs in a mount namespace of its own where
        `etc_docker` is mounted on /etc/docker, so each host trusts its own CAs and the
        machine's /etc/docker is neither read nor written.
        """
        return [
            find_binary("unshare"), "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", _MOUNT_ETC_DOCKER, str(self.etc_docker),
            find_binary("dockerd"),
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--host", self.url,
            "--pidfile", str(self.pidfile),
            "--bridge", "none",
            "--iptables=false",
            "--ip-masq=false",
            "--log-level", "warn",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        """dockerd's environment: any registry but the lab's goes to a closed local port.

        A mistyped image name would otherwise send the host to Docker Hub; here it fails at
        once, on 127.0.0.1:9, and no traffic leaves the machine.
        """
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(
            HTTP_PROXY=CLOSED_PROXY,
            HTTPS_PROXY=CLOSED_PROXY,
            NO_PROXY=DIRECT_ADDRESSES,
        )
        return env

    # -- state -------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The pid of this host's dockerd when it runs, else None."""
        return live_pid(self.pidfile, str(self.root))

    @property
    def state(self) -> str:
        """``en marche``, ``arrêté``, or ``arrêté anormalement`` (pid file left by a crash)."""
        return process_state(self.pid, self.pidfile)

    def ping(self, timeout: float = 1.0) -> bool:
        """True when dockerd answers ``GET /_ping`` on its socket."""
        if not self.socket.exists():
            return False
        return http_status("/_ping", unix_socket=str(self.socket), timeout=timeout) == 200

    @property
    def healthy(self) -> bool:
        return self.pid is not None and self.ping()

    @property
    def sees_own_etc_docker(self) -> bool:
        """True when this host's dockerd runs in a mount namespace of its own (see `argv`),
        so that it reads `etc_docker` as /etc/docker; False for a dockerd started before."""
        pid = self.pid
        try:
            return pid is not None and os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink(
                "/proc/self/ns/mnt"
            )
        except OSError:
            return False

    # -- lifecycle ---------------------------------------------------------------------------
    def clean_stale(self) -> None:
        """Remove the pid files and socket a crashed dockerd (and its containerd) left behind.

        A dead containerd's pid file must go too: dockerd would otherwise wait for it.
        """
        if self.pid is None:
            remove_file(self.pidfile)
            remove_file(self.socket)
        if not is_alive(read_pid(self.containerd_pidfile), str(self.exec_root)):
            remove_file(self.containerd_pidfile)

    def start(self) -> None:
        """Start dockerd in the background (returns at once; see `wait_ready`)."""
        if self.pid is not None:
            return
        self.clean_stale()
        # dockerd creates its data-root and exec-root itself, and says in its log when it
        # cannot (a file where a folder should be): that log is what `wait_ready` shows.
        self.docker_config.mkdir(parents=True, exist_ok=True)
        self.certs_dir.mkdir(parents=True, exist_ok=True)
        ETC_DOCKER.mkdir(exist_ok=True)  # shipped by docker.io; the mount point must exist
        self.__dict__.pop("client", None)
        self._launched = spawn(self.argv(), self.log, env=self.environment())

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until dockerd answers on its socket; raise `DaemonStartError` with its log."""
        launched = self._launched or self.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_alive(launched):
            if self.ping():
                return
            time.sleep(0.02)
        raise DaemonStartError(
            f"Le démon Docker de l'{self.label} n'a pas démarré. Fin de son journal "
            f"({self.log}) :\n{log_tail(self.log) or '(journal vide)'}",
            "lisez le journal ci-dessus ; « python -m registry_lab doctor » vérifie les "
            "prérequis, « python -m registry_lab reset --yes » repart d'un dossier d'état neuf.",
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Stop dockerd, then its containerd and shims if a crash left them, by pid."""
        pid = self.pid
        if pid is not None:
            stop_pid(pid, timeout)
        leftover = read_pid(self.containerd_pidfile)
        if is_alive(leftover, str(self.exec_root)):
            assert leftover is not None
            stop_pid(leftover, timeout)
        for other in pids_mentioning(f"{self.root}/"):
            stop_pid(other, timeout)
        remove_file(self.pidfile)
        remove_file(self.socket)
        self.__dict__.pop("client", None)

    # -- using the host ----------------------------------------------------------------------
    def require(self) -> None:
        """Raise `DaemonDownError` unless this host answers."""
        if not self.healthy:
            raise DaemonDownError(
                f"L'{self.label} ne répond pas (état : {self.state}).",
                "démarrez le labo : python -m registry_lab up (ou Lab.up() dans un notebook).",
            )

    @cached_property
    def client(self) -> docker.DockerClient:
        """A Docker SDK client bound to this host only."""
        import docker

        self.require()
        return docker.DockerClient(base_url=self.url, version="auto", timeout=300)

    def docker(
        self, *args: str, check: bool = True, timeout: float = 300.0, stdin: str | None = None
    ) -> CommandOutput:
        """Run the real ``docker`` CLI against this host: ``host.docker("images")``."""
        self.require()
        return run_docker(
            self.label,
            self.socket,
            self.docker_config,
            args,
            check=check,
            timeout=timeout,
            stdin=stdin,
        )

    def credentials(self, name: str) -> dict[str, Any] | None:
        """What ``docker login`` saved on this host for the registry of image ``name``.

        The docker CLI reads this host's own config.json; the Docker SDK must be given it.
        """
        import docker.auth

        config = docker.auth.load_config(str(self.docker_config / "config.json"))
        registry, _ = docker.auth.resolve_repository_name(name)
        found = docker.auth.resolve_authconfig(config, registry)
        return dict(found) if found else None

    def version(self) -> str:
        """The Docker Engine version of this host."""
        return str(self.client.version().get("Version", "?"))

    def find_image(self, name: str) -> Any | None:
        """The image ``name`` on this host (Docker SDK), or None when the host does not have it."""
        import docker.errors

        try:
            return self.client.images.get(name)
        except docker.errors.ImageNotFound:
            return None

    def image_tags(self) -> list[str]:
        """Every ``repository:tag`` this host holds, sorted."""
        return sorted(tag for image in self.client.images.list() for tag in image.tags)

    def containers(self) -> list[Any]:
        """Every container on this host, running or stopped."""
        return list(self.client.containers.list(all=True))

    def __repr__(self) -> str:
        return f"<DockerHost {self.label} {self.url} ({self.state})>"
