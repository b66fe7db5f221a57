"""Push and pull through a lab host's daemon (the real ``docker push/pull`` path), measured.

```python
report = push(lab.host_a, lab.registry, "cours/bonjour:1.0")   # tags, pushes, live progress
report                                                          # per layer: sent or present
pull(lab.host_b, lab.registry, "cours/bonjour:1.0").graph()     # drawn with graph.transfer
```

The daemon's JSON stream (Docker SDK, ``stream=True, decode=True``) drives a progress display
(ipywidgets bars in Jupyter, one line per layer event on a terminal) and the final
`TransferReport`; the registry's manifest gives each layer's digest and size.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .clinic import diagnose
from .errors import (
    DaemonDownError,
    DaemonError,
    ManifestUnknownError,
    NameUnknownError,
    RegistryDownError,
)
from .french import format_number, format_size, plural
from .graph import LayerMove
from .graph import transfer as draw_transfer
from .manifests import ImageManifest, short_digest
from .tables import html_table, text_table

if TYPE_CHECKING:
    import graphviz

    from .hosts import DockerHost
    from .services import RegistryService

__all__ = ["LayerTransfer", "TransferReport", "pull", "push"]

_FINAL_PUSH = ("pushed", "layer already exists", "mounted from")
_FINAL_PULL = ("pull complete", "already exists")


@dataclass(frozen=True)
class LayerTransfer:
    """One layer of a push or a pull, as the daemon reported it."""

    digest: str
    size: int
    status: str
    docker_status: str
    seconds: float = 0.0

    @property
    def moved(self) -> bool:
        return self.status == "moved"

    @property
    def label(self) -> str:
        return LayerMove(self.digest, self.status).label


@dataclass(frozen=True)
class TransferReport:
    """The outcome of one push or pull: what moved, what was already there, how long it took."""

    command: str
    reference: str
    host: str
    digest: str
    layers: tuple[LayerTransfer, ...]
    seconds: float
    messages: tuple[str, ...] = field(default=(), repr=False)

    @property
    def moved(self) -> tuple[LayerTransfer, ...]:
        return tuple(layer for layer in self.layers if layer.moved)

    @property
    def present(self) -> tuple[LayerTransfer, ...]:
        return tuple(layer for layer in self.layers if not layer.moved)

    @property
    def bytes_moved(self) -> int:
        """Compressed bytes that really went over the wire (the layers sent or received)."""
        return sum(layer.size for layer in self.moved)

    @property
    def total_size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def source(self) -> str:
        return self.host if self.command == "docker push" else "registry"

    @property
    def destination(self) -> str:
        return "registry" if self.command == "docker push" else self.host

    def summary(self) -> str:
        verb = "envoyée" if self.command == "docker push" else "reçue"
        moved, present = len(self.moved), len(self.present)
        already = f"{present} déjà présente{'s' if present > 1 else ''}"
        return (
            f"{self.command} {self.reference} ({self.host}) : "
            f"{plural(moved, 'couche')} {verb}{'s' if moved > 1 else ''} "
            f"({format_size(self.bytes_moved)}), {already}"
            f" sur {plural(len(self.layers), 'couche')} ; "
            f"empreinte {self.digest} ; {format_number(self.seconds, 2)} s"
        )

    def _rows(self) -> list[list[str]]:
        return [
            [
                str(number),
                short_digest(layer.digest),
                format_size(layer.size),
                layer.label,
                layer.docker_status,
                format_size(layer.size if layer.moved else 0),
            ]
            for number, layer in enumerate(self.layers, 1)
        ]

    _HEADERS = ("n°", "couche (digest)", "taille", "état", "docker a dit", "octets transférés")

    def __str__(self) -> str:
        return f"{self.summary()}\n{text_table(self._HEADERS, self._rows())}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._HEADERS, self._rows(), caption=self.summary())

    def moves(self) -> list[LayerMove]:
        return [LayerMove(layer.digest, layer.status, layer.size) for layer in self.layers]

    def graph(self) -> graphviz.Digraph:
        """The transfer drawn: the layers that moved, and those the destination already had."""
        return draw_transfer(
            self.moves(),
            source=self.source,
            destination=self.destination,
            image=self.reference,
            command=self.command,
        )


# -- progress ---------------------------------------------------------------------------------
class Progress(Protocol):
    def update(self, layer: str, status: str, current: int, total: int) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def update(self, layer: str, status: str, current: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class TextProgress:
    """A terminal display: one line each time a layer changes state (not per chunk)."""

    def __init__(self, title: str, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self.last: dict[str, str] = {}
        print(title, file=self.stream, flush=True)

    def update(self, layer: str, status: str, current: int, total: int) -> None:
        if self.last.get(layer) == status:
            return
        self.last[layer] = status
        size = f" ({format_size(total)})" if total else ""
        print(f"  {layer} : {status}{size}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class WidgetProgress:
    """ipywidgets bars, one per layer, updated at most every 0.1 s per layer."""

    def __init__(self, title: str) -> None:
        import ipywidgets  # type: ignore[import-untyped]
        from IPython.display import display

        class _Box(ipywidgets.VBox):  # type: ignore[misc]
            def __repr__(self) -> str:
                return f"Progression : {title}"

        self._widgets = ipywidgets
        self.box = _Box([ipywidgets.HTML(f"<b>{title}</b>")])
        self.bars: dict[str, Any] = {}
        self.seen: dict[str, float] = {}
        display(self.box)  # type: ignore[no-untyped-call]

    def update(self, layer: str, status: str, current: int, total: int) -> None:
        now = time.monotonic()
        bar = self.bars.get(layer)
        if bar is None:
            bar = self._widgets.IntProgress(
                min=0, max=1, description=layer, style={"description_width": "initial"}
            )
            self.bars[layer] = bar
            self.box.children = (*self.box.children, bar)
        final = status.lower().startswith(_FINAL_PUSH + _FINAL_PULL)
        if not final and now - self.seen.get(layer, 0.0) < 0.1:
            return
        self.seen[layer] = now
        if total:
            bar.max, bar.value = total, min(current, total)
        if final:
            bar.max, bar.value, bar.bar_style = 1, 1, "success"
        bar.description = f"{layer} : {status}"

    def close(self) -> None:
        pass


def _in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _progress(choice: bool | Progress | None, title: str) -> Progress:
    if choice is False:
        return _Silent()
    if choice is None or choice is True:
        return WidgetProgress(title) if _in_jupyter() else TextProgress(title)
    return choice


# -- errors -----------------------------------------------------------------------------------
#: The clinic's symptoms a push or a pull can end with, raised as their own errors.
_REFUSALS = ("http-https", "x509", "no-credentials", "denied", "unauthorized", "toomanyrequests")


def _error(message: str, host: DockerHost, registry: RegistryService, reference: str) -> Exception:
    diagnosis = diagnose(message)
    if diagnosis.symptom is not None and diagnosis.symptom.key in _REFUSALS:
        return diagnosis.error()
    text = message.lower()
    repository = reference.split("@")[0].rsplit(":", 1)[0] if "/" in reference else reference
    repository = repository.removeprefix(f"{registry.address}/")
    if "connection refused" in text or "no such host" in text or not registry.healthy:
        return RegistryDownError(
            f"Le registry {registry.address} ne répond pas ({message}).",
            "démarrez le labo : python -m registry_lab up (ou Lab.up()).",
        )
    if "does not exist locally" in text or "no such image" in text:
        return DaemonError(
            f"L'{host.label} n'a pas d'image « {reference} » à pousser ({message}).",
            f"construisez-la ou nommez-la d'abord : docker tag IMAGE {reference}",
        )
    if "manifest unknown" in text or "not found" in text or "name unknown" in text:
        if repository not in registry.repositories():
            return NameUnknownError(
                f"Le registry n'a aucun dépôt « {repository} ».",
                "vérifiez le nom ; python -m registry_lab status ou GET /v2/_catalog les liste.",
                status=404,
                code="NAME_UNKNOWN",
                detail=message,
            )
        tags = ", ".join(registry.tags(repository)) or "aucun"
        return ManifestUnknownError(
            f"Le dépôt « {repository} » n'a pas la référence demandée ({reference}).",
            f"tags du dépôt : {tags}.",
            status=404,
            code="MANIFEST_UNKNOWN",
            detail=message,
        )
    return DaemonError(f"L'{host.label} a refusé : {message}", "lisez le message du démon.")


def _events(call: Any) -> Iterator[Mapping[str, Any]]:
    import docker.errors
    import requests.exceptions

    try:
        yield from call()
    except requests.exceptions.ConnectionError as exc:
        raise DaemonDownError(
            f"Le démon Docker ne répond plus ({exc}).", "python -m registry_lab up le relance."
        ) from exc
    except docker.errors.APIError as exc:
        raise _StreamError(str(exc.explanation or exc)) from exc


class _StreamError(Exception):
    pass


# -- push and pull ----------------------------------------------------------------------------
def _qualify(registry: RegistryService, reference: str) -> str:
    first = reference.split("/", 1)[0]
    if "/" in reference and ("." in first or ":" in first or first == "localhost"):
        return reference
    return f"{registry.address}/{reference}"


def _split(reference: str) -> tuple[str, str]:
    """``host:port/repo:tag`` → (``host:port/repo``, ``tag``); a digest stays with ``@``."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        return name, digest
    name, _, tag = reference.rpartition(":")
    if "/" in tag or not name:
        return reference, "latest"
    return name, tag


def _run(
    command: str,
    host: DockerHost,
    registry: RegistryService,
    reference: str,
    call: Any,
    finals: tuple[str, ...],
    progress: Progress,
) -> tuple[dict[str, tuple[str, float, float]], str, list[str], float]:
    """Consume the daemon's stream: per layer (final status, start, end), digest, messages."""
    started = time.monotonic()
    first_seen: dict[str, float] = {}
    finished: dict[str, tuple[str, float, float]] = {}
    messages: list[str] = []
    digest = ""
    try:
        for event in _events(call):
            if "error" in event:
                detail = event.get("errorDetail", {}).get("message") or event["error"]
                raise _StreamError(str(detail))
            status = str(event.get("status", ""))
            aux = event.get("aux")
            if isinstance(aux, Mapping) and aux.get("Digest"):
                digest = str(aux["Digest"])
            if status.startswith("Digest: "):
                digest = status.removeprefix("Digest: ").strip()
            layer = event.get("id")
            if not layer or len(str(layer)) != 12:
                if status:
                    messages.append(status)
                continue
            layer = str(layer)
            now = time.monotonic()
            first_seen.setdefault(layer, now)
            detail = event.get("progressDetail") or {}
            progress.update(
                layer, status, int(detail.get("current", 0)), int(detail.get("total", 0))
            )
            if status.lower().startswith(finals):
                finished[layer] = (status, first_seen[layer], now)
    except _StreamError as exc:
        raise _error(str(exc), host, registry, reference) from None
    finally:
        progress.close()
    return finished, digest, messages, time.monotonic() - started


def _report(
    command: str,
    host: DockerHost,
    registry: RegistryService,
    reference: str,
    digest: str,
    manifest: ImageManifest,
    keys: list[str],
    finished: dict[str, tuple[str, float, float]],
    messages: list[str],
    seconds: float,
) -> TransferReport:
    layers = []
    for key, descriptor in zip(keys, manifest.layers, strict=False):
        docker_status, start, end = finished.get(key, ("Already exists", 0.0, 0.0))
        move = LayerMove.from_docker(descriptor.digest, docker_status)
        status = "present" if docker_status.lower() == "already exists" else move.status
        layers.append(
            LayerTransfer(descriptor.digest, descriptor.size, status, docker_status, end - start)
        )
    return TransferReport(
        command, reference, host.label, digest, tuple(layers), seconds, tuple(messages)
    )


def _manifest(registry: RegistryService, name: str, digest: str) -> ImageManifest:
    repository = name.removeprefix(f"{registry.address}/")
    manifest = registry.client.manifest(repository, digest)
    if not isinstance(manifest, ImageManifest):
        raise DaemonError(
            f"{repository}@{digest} est un index multi-plateforme, pas une image.",
            "le cours ne pousse que des images simples.",
        )
    return manifest


def push(
    host: DockerHost,
    registry: RegistryService,
    reference: str,
    *,
    source: str | None = None,
    progress: bool | Progress | None = None,
) -> TransferReport:
    """``docker tag SOURCE ADDR/REFERENCE`` then ``docker push`` through ``host``'s daemon.

    ``reference`` without a registry is put under the lab's registry; ``source`` (by default
    ``reference`` itself) is the local image to name so.
    """
    host.require()
    target = _qualify(registry, reference)
    name, tag = _split(target)
    local = source or reference
    image = host.find_image(local)
    if image is None:
        raise DaemonError(
            f"L'{host.label} n'a pas d'image « {local} » à pousser.",
            "construisez-la d'abord (build_example) ou vérifiez son nom : docker images.",
        )
    if target not in image.tags:
        image.tag(name, tag)
    display = _progress(progress, f"docker push {target} ({host.label})")
    finished, digest, messages, seconds = _run(
        "docker push",
        host,
        registry,
        target,
        lambda: host.client.api.push(
            name, tag=tag, stream=True, decode=True, auth_config=host.credentials(name)
        ),
        _FINAL_PUSH,
        display,
    )
    manifest = _manifest(registry, name, digest)
    keys = [diff_id.removeprefix("sha256:")[:12] for diff_id in image.attrs["RootFS"]["Layers"]]
    return _report(
        "docker push", host, registry, target, digest, manifest, keys, finished, messages, seconds
    )


def pull(
    host: DockerHost,
    registry: RegistryService,
    reference: str,
    *,
    progress: bool | Progress | None = None,
) -> TransferReport:
    """``docker pull ADDR/REFERENCE`` through ``host``'s daemon (a tag or ``@sha256:…``)."""
    host.require()
    target = _qualify(registry, reference)
    name, tag = _split(target)
    display = _progress(progress, f"docker pull {target} ({host.label})")
    finished, digest, messages, seconds = _run(
        "docker pull",
        host,
        registry,
        target,
        lambda: host.client.api.pull(
            name, tag=tag, stream=True, decode=True, auth_config=host.credentials(name)
        ),
        _FINAL_PULL,
        display,
    )
    if not digest and tag.startswith("sha256:"):
        digest = tag
    manifest = _manifest(registry, name, digest)
    keys = [descriptor.digest.removeprefix("sha256:")[:12] for descriptor in manifest.layers]
    return _report(
        "docker pull", host, registry, target, digest, manifest, keys, finished, messages, seconds
    )
