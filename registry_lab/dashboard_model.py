"""The lab dashboard's state and actions, without any widget (the view is `dashboard.py`).

```python
model = DashboardModel(lab)
model.refresh()                       # hôte A | registry | hôte B
model.push("a", "cours/bonjour:1.0")  # docker push 127.0.0.1:5000/cours/bonjour:1.0
print(model.last)                     # the command it stands for, and what it answered
```
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import NameUnknownError, RegistryLabError

if TYPE_CHECKING:
    from .hosts import DockerHost
    from .lab import Lab

__all__ = ["ActionResult", "ContainerRow", "DashboardModel", "HostView", "LabSnapshot"]


@dataclass(frozen=True)
class ContainerRow:
    """One container of a host: its name, its image and its status (as ``docker ps -a``)."""

    name: str
    image: str
    status: str


@dataclass(frozen=True)
class HostView:
    """What one host holds: its image tags and its containers."""

    label: str
    images: tuple[str, ...] = ()
    containers: tuple[ContainerRow, ...] = ()
    error: str = ""

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.label} : {self.error}"]
        lines = [f"{self.label} — images ({len(self.images)}) :"]
        lines += [f"  {image}" for image in self.images] or ["  (aucune)"]
        lines.append(f"{self.label} — conteneurs ({len(self.containers)}) :")
        lines += [f"  {c.name} ({c.image}) : {c.status}" for c in self.containers] or ["  (aucun)"]
        return lines


@dataclass(frozen=True)
class LabSnapshot:
    """The three columns of the dashboard at one moment."""

    host_a: HostView
    registry: dict[str, tuple[str, ...]] = field(default_factory=dict)
    host_b: HostView = field(default_factory=lambda: HostView("hôte B"))
    registry_error: str = ""

    @property
    def references(self) -> list[str]:
        """Every ``repository:tag`` of the registry, sorted."""
        return [f"{repo}:{tag}" for repo, tags in sorted(self.registry.items()) for tag in tags]

    def registry_lines(self) -> list[str]:
        if self.registry_error:
            return [f"registry : {self.registry_error}"]
        lines = [f"registry — dépôts ({len(self.registry)}) :"]
        for repo, tags in sorted(self.registry.items()):
            lines.append(f"  {repo} : {', '.join(tags) if tags else '(aucun tag)'}")
        if not self.registry:
            lines.append("  (aucun)")
        return lines

    def __str__(self) -> str:
        return "\n".join([*self.host_a.lines(), *self.registry_lines(), *self.host_b.lines()])


@dataclass(frozen=True)
class ActionResult:
    """One action of the dashboard: the real command it stands for, and what came of it."""

    action: str
    command: str
    output: str
    ok: bool = True

    def __str__(self) -> str:
        state = "" if self.ok else "échec — "
        return f"$ {self.command}\n{state}{self.output}".rstrip()


def _host_view(host: DockerHost) -> HostView:
    try:
        api = host.client.api
        images = sorted(
            tag
            for image in api.images()
            for tag in image.get("RepoTags") or ()
            if tag != "<none>:<none>"
        )
        containers = sorted(
            (
                ContainerRow(
                    (c.get("Names") or ["?"])[0].lstrip("/"),
                    c.get("Image", ""),
                    c.get("Status", ""),
                )
                for c in api.containers(all=True)
            ),
            key=lambda row: row.name,
        )
    except RegistryLabError as error:
        return HostView(host.label, error=error.message)
    except Exception as error:  # the daemon went away between two refreshes
        return HostView(host.label, error=f"injoignable ({type(error).__name__})")
    return HostView(host.label, tuple(images), tuple(containers))


class DashboardModel:
    """State and actions of the lab dashboard; every action refreshes the snapshot."""

    def __init__(self, lab: Lab, *, workers: int = 16) -> None:
        self.lab = lab
        self.workers = workers
        self.snapshot = LabSnapshot(HostView(lab.host_a.label), {}, HostView(lab.host_b.label))
        self.history: list[ActionResult] = []
        self.pending_delete: tuple[str, str] | None = None
        self.listeners: list[Callable[[DashboardModel], object]] = []

    # -- reading the lab ---------------------------------------------------------------------
    def host(self, key: str) -> DockerHost:
        """``"a"``/``"b"`` (or a label « hôte A ») → the host."""
        wanted = key.strip().lower().removeprefix("hôte").strip()
        if wanted == "a":
            return self.lab.host_a
        if wanted == "b":
            return self.lab.host_b
        raise ValueError(f"hôte inconnu : {key!r} (« a » ou « b »)")

    def _registry(self, pool: ThreadPoolExecutor) -> tuple[dict[str, tuple[str, ...]], str]:
        try:
            self.lab.registry.require()
            client = self.lab.registry.client
            repositories = sorted(client.repositories(page_size=1000))

            def tags(repository: str) -> tuple[str, ...]:
                try:
                    return tuple(sorted(client.tags(repository)))
                except NameUnknownError:
                    return ()

            return dict(zip(repositories, pool.map(tags, repositories), strict=True)), ""
        except RegistryLabError as error:
            return {}, error.message

    def refresh(self) -> LabSnapshot:
        """Read the three components again (in parallel) and notify the listeners."""
        with ThreadPoolExecutor(self.workers) as pool:
            host_a = pool.submit(_host_view, self.lab.host_a)
            host_b = pool.submit(_host_view, self.lab.host_b)
            registry, error = self._registry(pool)
            self.snapshot = LabSnapshot(host_a.result(), registry, host_b.result(), error)
        for listener in self.listeners:
            listener(self)
        return self.snapshot

    @property
    def last(self) -> ActionResult | None:
        """The last action, or None."""
        return self.history[-1] if self.history else None

    # -- actions -----------------------------------------------------------------------------
    def _docker(self, host: DockerHost, *args: str) -> str:
        return "docker " + shlex.join(args) + f"   # sur l'{host.label}"

    def _act(self, action: str, command: str, work: Callable[[], Any]) -> ActionResult:
        try:
            output = work()
            result = ActionResult(action, command, str(output).strip() or "ok")
        except RegistryLabError as error:
            result = ActionResult(action, command, str(error), ok=False)
        self.history.append(result)
        self.refresh()
        return result

    def qualified(self, reference: str) -> str:
        """``cours/bonjour:1.0`` → ``127.0.0.1:PORT/cours/bonjour:1.0`` (kept if it has one)."""
        address = self.lab.registry.address
        return reference if reference.startswith(address + "/") else f"{address}/{reference}"

    def build(self, host: str, example: str) -> ActionResult:
        """Build an example image (`build_example`): ``docker build -t TAG DOSSIER``."""
        from .examples import EXAMPLES, build_example

        target = self.host(host)
        tag = EXAMPLES[example].tag if example in EXAMPLES else example
        command = self._docker(target, "build", "-t", tag, f"registry_lab/dockerfiles/{example}")
        return self._act("build", command, lambda: f"construite : {build_example(target, example)}")

    def tag(self, host: str, source: str, target: str) -> ActionResult:
        """``docker tag SOURCE TARGET`` on a host."""
        chosen = self.host(host)
        command = self._docker(chosen, "tag", source, target)
        return self._act("tag", command, lambda: chosen.docker("tag", source, target))

    def push(self, host: str, reference: str) -> ActionResult:
        """``docker push ADDR/REFERENCE`` from a host (tagged for the registry first)."""
        from .transfers import push

        chosen = self.host(host)
        command = self._docker(chosen, "push", self.qualified(reference))
        return self._act(
            "push",
            command,
            lambda: push(chosen, self.lab.registry, reference, progress=False).summary(),
        )

    def pull(self, host: str, reference: str) -> ActionResult:
        """``docker pull ADDR/REFERENCE`` on a host."""
        from .transfers import pull

        chosen = self.host(host)
        command = self._docker(chosen, "pull", self.qualified(reference))
        return self._act(
            "pull",
            command,
            lambda: pull(chosen, self.lab.registry, reference, progress=False).summary(),
        )

    def run(self, host: str, image: str, *args: str) -> ActionResult:
        """``docker run --rm --network none --pull=never IMAGE [ARGS]`` on a host."""
        chosen = self.host(host)
        argv = ("run", "--rm", "--network", "none", "--pull=never", image, *args)
        return self._act("run", self._docker(chosen, *argv), lambda: chosen.docker(*argv))

    def request_delete(self, reference: str) -> str:
        """First step of a deletion: remember ``repository:tag`` and ask for confirmation."""
        repository, _, tag = reference.rpartition(":")
        if not repository or not tag:
            raise ValueError(f"référence sans tag : {reference!r} (dépôt:tag)")
        self.pending_delete = (repository, tag)
        return (
            f"Supprimer {repository}:{tag} du registry ? Le manifeste est effacé par son digest : "
            "tous les tags qui le désignent disparaissent avec lui."
        )

    def cancel_delete(self) -> None:
        self.pending_delete = None

    def confirm_delete(self) -> ActionResult:
        """Second step: delete the pending tag (`delete_tag`), by its manifest's digest."""
        from .maintenance import delete_tag

        if self.pending_delete is None:
            raise ValueError("aucune suppression en attente : appelez request_delete d'abord")
        repository, tag = self.pending_delete
        self.pending_delete = None
        url = f"{self.lab.registry.url}/v2/{repository}/manifests/<digest de {tag}>"
        command = (
            f"curl -X DELETE {url}   # docker n'a pas de commande pour effacer dans un registry"
        )
        client = self.lab.registry.client
        return self._act("delete", command, lambda: delete_tag(client, repository, tag))

    def __repr__(self) -> str:
        return "<DashboardModel hôte A | registry | hôte B>"
