"""The lab's lifecycle: hôte A, hôte B and the registry, started, checked and stopped together."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from .doctor import DoctorReport, diagnose
from .errors import NotRootError, PortBusyError
from .hosts import DockerHost
from .images import BASE_IMAGE, ensure_base_image, static_busybox
from .ports import port_holder, port_is_free
from .processes import find_binary
from .secure import SecureRegistry
from .services import DEFAULT_PORT, RegistryService
from .state import default_home, load_settings, locked, prepare_home, save_settings, unmount_under
from .status import ComponentStatus, LabStatus
from .upstream import CacheService, HubService, lab_ports

if TYPE_CHECKING:
    import graphviz

    from .dashboard import Dashboard

__all__ = ["REQUIRED_BINARIES", "Lab"]

#: The programs ``up`` needs (the others, such as skopeo, only some notebooks).
REQUIRED_BINARIES = ("dockerd", "containerd", "runc", "docker", "docker-registry")


def require_root() -> None:
    """Raise `NotRootError` unless this process runs as root (dockerd needs it)."""
    if os.geteuid() != 0:
        raise NotRootError(
            "Le labo démarre de vrais démons Docker (dockerd) : il faut être root.",
            "relancez en root : sudo -E python -m registry_lab up (ou « sudo make lab »).",
        )


def _registry_status(registry: RegistryService, name: str) -> ComponentStatus:
    """One registry's line of the status: its state, and its repositories with their tags."""
    healthy = registry.healthy
    contents = []
    if healthy:
        for repository in registry.repositories():
            tags = registry.tags(repository)
            contents.append(f"{repository} ({', '.join(tags) if tags else 'aucun tag'})")
    return ComponentStatus(
        name=name,
        address=registry.url,
        pid=registry.pid,
        state=registry.state if healthy or registry.pid is None else "ne répond pas",
        version=f"Distribution {registry.version()}",
        contents=contents,
    )


class Lab:
    """The lab: two Docker hosts and one registry, all under one state folder.

    ```python
    from registry_lab import Lab
    lab = Lab.up()              # starts what is not running yet; fast when all runs
    lab.host_a.docker("images") # the docker CLI on hôte A
    lab.registry.url            # http://127.0.0.1:5000
    lab.status()                # a French table of the three components
    ```
    """

    def __init__(self, home: str | Path | None = None, port: int | None = None) -> None:
        self.home = Path(home).expanduser().absolute() if home else default_home()
        if port is None:
            env_port = os.environ.get("REGISTRY_LAB_PORT", "")
            port = int(env_port) if env_port.isdigit() else None
        if port is None:
            port = load_settings(self.home).get("port", DEFAULT_PORT)
        self.host_a = DockerHost("a", self.home)
        self.host_b = DockerHost("b", self.home)
        self.registry = RegistryService(self.home, port)

    @property
    def hosts(self) -> tuple[DockerHost, DockerHost]:
        return (self.host_a, self.host_b)

    @classmethod
    def up(cls, home: str | Path | None = None, port: int | None = None) -> Lab:
        """Start the lab (or find it running) and return it."""
        lab = cls(home, port)
        lab.start()
        return lab

    @property
    def running(self) -> bool:
        """True when both hosts and the registry answer."""
        return all(part.healthy for part in (*self.hosts, self.registry))

    def start(self) -> None:
        """Start whatever is not running; idempotent, and fast when everything runs."""
        if self.running and self._has_base_image():
            return
        require_root()
        for binary in REQUIRED_BINARIES:
            find_binary(binary)
        static_busybox()
        prepare_home(self.home)
        with locked(self.home):
            self._check_port()
            save_settings(self.home, {"port": self.registry.port})
            parts = (self.host_a, self.host_b, self.registry)
            launched = [part for part in parts if part.pid is None]
            try:
                for part in parts:
                    part.start()
                with ThreadPoolExecutor(max_workers=3) as pool:
                    base = pool.submit(self._ready_with_base_image)
                    others = [pool.submit(part.wait_ready) for part in (self.host_b, self.registry)]
                    for future in (base, *others):
                        future.result()
            except BaseException:
                # A failed up leaves nothing behind: stop what this call started, by pid.
                for part in launched:
                    part.stop()
                    unmount_under(part.root)
                raise

    def _ready_with_base_image(self) -> None:
        self.host_a.wait_ready()
        ensure_base_image(self.host_a)

    def _has_base_image(self) -> bool:
        return self.host_a.find_image(BASE_IMAGE) is not None

    def _check_port(self) -> None:
        port = self.registry.port
        if self.registry.pid is not None or port_is_free(port):
            return
        holder = port_holder(port)
        who = f"« {holder[1]} » (pid {holder[0]})" if holder else "un autre programme"
        raise PortBusyError(
            f"Le port {port} de 127.0.0.1 est déjà pris par {who} : le registry ne peut pas "
            "y écouter.",
            f"arrêtez ce programme, ou choisissez un autre port : python -m registry_lab up "
            f"--port {port + 1} (ou REGISTRY_LAB_PORT={port + 1}).",
            port=port,
            holder=holder[1] if holder else "",
        )

    def _upstream_parts(self) -> tuple[HubService, CacheService]:
        hub_port, cache_port = lab_ports(self.home, self.registry.port)
        hub = HubService(self.home, hub_port)
        return hub, CacheService(self.home, cache_port, hub.url)

    def hub(self) -> HubService:
        """The simulated public registry (nginx + Distribution), started when it is not."""
        hub, _ = self._upstream_parts()
        prepare_home(self.home)
        with locked(self.home):
            if not hub.healthy:
                hub.start()
                try:
                    hub.wait_ready()
                except BaseException:
                    hub.stop()
                    raise
        return hub

    def cache(self) -> CacheService:
        """The pull-through cache in front of the Hub (both started when they are not)."""
        self.hub()
        _, cache = self._upstream_parts()
        with locked(self.home):
            if not cache.healthy:
                cache.start()
                try:
                    cache.wait_ready()
                except BaseException:
                    cache.stop()
                    raise
        return cache

    def secure(self, mode: str = "tls") -> SecureRegistry:
        """The private and secured registry, in ``mode`` (http, tls, htpasswd or token).

        It runs in a network namespace of its own, reached by the hosts through a veth pair;
        started (or restarted in another mode) when needed.
        """
        self.start()
        secure = SecureRegistry(self.home)
        with locked(self.home):
            secure.start(mode)
        return secure

    def down(self) -> None:
        """Stop everything the lab started (hosts, registries, Hub, cache, the secured
        registry's network), by pid; data stays."""
        if not self.home.is_dir():
            return
        parts: list[DockerHost | RegistryService] = [*self.hosts, self.registry]
        if (self.home / "upstream.json").exists():
            parts += self._upstream_parts()
        with locked(self.home), ThreadPoolExecutor(max_workers=5) as pool:
            for future in [pool.submit(part.stop) for part in parts]:
                future.result()
            if (self.home / "reseau.json").exists():
                SecureRegistry(self.home).remove()
        unmount_under(self.home)

    def reset(self) -> None:
        """Stop the lab and erase its state folder: images, registry data, logs."""
        self.down()
        if self.home.exists():
            unmount_under(self.home)
            shutil.rmtree(self.home)

    def status(self) -> LabStatus:
        """The state of each component, with what it holds (a table in French)."""
        components = []
        for host in self.hosts:
            healthy = host.healthy
            components.append(
                ComponentStatus(
                    name=host.label,
                    address=host.url,
                    pid=host.pid,
                    state=host.state if healthy or host.pid is None else "ne répond pas",
                    version=f"Docker Engine {host.version()}" if healthy else "",
                    contents=host.image_tags() if healthy else [],
                )
            )
        components.insert(1, _registry_status(self.registry, "registry"))
        if (self.home / "reseau.json").exists():
            secure = SecureRegistry(self.home)
            if secure.pid is not None:
                components.append(_registry_status(secure, f"registry sécurisé ({secure.mode})"))
        return LabStatus(home=str(self.home), components=tuple(components))

    def doctor(self) -> DoctorReport:
        """Every prerequisite checked, with the command that fixes each."""
        return diagnose(self.home, self.registry)

    def topology(self) -> graphviz.Digraph:
        """The lab drawn: hôte A → registry → hôte B, with what each one holds."""
        from .graph import topology

        return topology(self.status())

    def dashboard(self) -> Dashboard:
        """hôte A | registry | hôte B side by side, with build, tag, push, pull, run, delete."""
        from .dashboard import dashboard

        return dashboard(self)

    def __repr__(self) -> str:
        return f"<Lab {self.home} registry={self.registry.url}>"
