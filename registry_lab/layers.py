"""Layer facts: an image's layers on a lab host or in the registry, and a container's own layer.

An image is a stack of read-only layers. Each one is a tar of file differences, named by a
digest — two of them, in fact:

- the **diffID**, sha256 of the *uncompressed* tar: what a Docker host keeps
  (``docker inspect`` → ``RootFS.Layers``, and the config's ``rootfs.diff_ids``);
- the **digest**, sha256 of the *compressed* (gzip) tar: what the registry stores and what
  the manifest lists. Same content, another encoding, another fingerprint.

```python
image_layers(lab.host_a, "cours/bonjour:1.0")       # docker history, with diffIDs
registry_layers(lab.registry.client, "cours/bonjour", "1.0")   # diffID ↔ digest
container_layer(lab.host_a, "bonjour-1")             # docker diff, and its size
image_files(lab.host_a, "cours/couches:1.0")         # files per layer, wasted space
```
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DaemonError, DigestMismatchError, RegistryError
from .french import format_size, plural
from .layer_files import ImageFiles, LayerTar, compare_layers, read_layer_tar
from .manifests import HistoryEntry, ImageConfig, ImageManifest, sha256_digest, short_digest
from .streams import ChunkReader, GunzipReader, HashingReader, Readable
from .tables import html_table, text_table

if TYPE_CHECKING:
    from .hosts import DockerHost
    from .registry import RegistryClient

__all__ = [
    "EMPTY_LAYER",
    "ContainerChange",
    "ContainerLayer",
    "ImageLayers",
    "LayerDigests",
    "LayerStep",
    "chain_ids",
    "container_layer",
    "image_files",
    "image_layers",
    "layer_digests",
    "registry_files",
    "registry_layers",
]

#: The diffID of an empty tar (1 024 zero bytes): a build step that changed no file.
EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

_INSTRUCTION_WIDTH = 64
_GZIP_MAGIC = b"\x1f\x8b"


def _instruction(created_by: str) -> str:
    """The Dockerfile line of a history entry, shortened for a table."""
    text = " ".join(HistoryEntry("", created_by, False).instruction.split())
    if len(text) > _INSTRUCTION_WIDTH:
        text = text[: _INSTRUCTION_WIDTH - 1] + "…"
    return text or "(inconnue)"


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chainID of each layer: the layer *and everything below it*, as the daemon stores it.

    ``chain(1) = diffID(1)``; ``chain(n) = sha256(chain(n-1) + " " + diffID(n))``. Two images
    share a layer on disk when they share its chainID — the same base, in the same order.
    """
    chains: list[str] = []
    for diff_id in diff_ids:
        if chains:
            text = f"{chains[-1]} {diff_id}".encode()
            diff_id = sha256_digest(text)
        chains.append(diff_id)
    return chains


# -- an image's layers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerStep:
    """One line of an image's history: the instruction, and the layer it made (if any).

    ``position`` is the layer's number (1 = the bottom one); ``None`` for a step that only
    changed metadata (``ENV``, ``CMD``…): an *empty* step, which made no layer.
    """

    step: int
    instruction: str
    created_by: str
    position: int | None = None
    diff_id: str = ""
    size: int | None = 0
    digest: str = ""
    compressed_size: int | None = None
    media_type: str = ""

    @property
    def empty(self) -> bool:
        return self.position is None

    def layer_cell(self) -> str:
        return "— (métadonnée)" if self.empty else str(self.position)


@dataclass(frozen=True)
class ImageLayers:
    """An image's history, step by step, with the layers it made (``docker history``, and more)."""

    image: str
    where: str
    image_id: str
    steps: tuple[LayerStep, ...]

    @property
    def layers(self) -> tuple[LayerStep, ...]:
        """The steps that made a layer, bottom first."""
        return tuple(step for step in self.steps if not step.empty)

    @property
    def diff_ids(self) -> list[str]:
        return [step.diff_id for step in self.layers]

    @property
    def digests(self) -> list[str]:
        """The compressed digests (known for an image read from a registry)."""
        return [step.digest for step in self.layers]

    @property
    def chain_ids(self) -> list[str]:
        return chain_ids(self.diff_ids)

    @property
    def size(self) -> int | None:
        """The sum of the layers' sizes (uncompressed); None when a size is unknown."""
        sizes = [step.size for step in self.layers]
        return None if any(size is None for size in sizes) else sum(s or 0 for s in sizes)

    @property
    def compressed_size(self) -> int | None:
        sizes = [step.compressed_size for step in self.layers]
        return None if any(size is None for size in sizes) else sum(s or 0 for s in sizes)

    @property
    def from_registry(self) -> bool:
        return any(step.digest for step in self.steps)

    def _headers(self) -> tuple[str, ...]:
        if self.from_registry:
            return (
                "étape",
                "instruction",
                "couche",
                "diffID (non compressé)",
                "digest (compressé)",
                "taille compressée",
            )
        return ("étape", "instruction", "couche", "diffID", "taille")

    def rows(self) -> list[list[str]]:
        rows = []
        for step in self.steps:
            row = [str(step.step), step.instruction, step.layer_cell()]
            if self.from_registry:
                row += [
                    short_digest(step.diff_id) if step.diff_id else "",
                    short_digest(step.digest) if step.digest else "",
                    _size(step.compressed_size) if not step.empty else "",
                ]
            else:
                row += [
                    short_digest(step.diff_id) if step.diff_id else "",
                    _size(step.size) if not step.empty else "0 o",
                ]
            rows.append(row)
        return rows

    def summary(self) -> str:
        count = len(self.layers)
        empty = len(self.steps) - count
        parts = [
            f"{self.image} ({self.where}) : {plural(len(self.steps), 'étape')}, "
            f"{plural(count, 'couche')}, {plural(empty, 'étape')} sans couche"
        ]
        if self.size is not None:
            parts.append(f"taille {format_size(self.size)}")
        if self.compressed_size is not None:
            parts.append(f"compressée {format_size(self.compressed_size)}")
        return " ; ".join(parts)

    def __str__(self) -> str:
        return f"{self.summary()}\n{text_table(self._headers(), self.rows())}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._headers(), self.rows(), caption=self.summary())


def _size(size: int | None) -> str:
    return "—" if size is None else format_size(size)


def _steps(
    history: Sequence[HistoryEntry],
    diff_ids: Sequence[str],
    sizes: Sequence[int | None] | None = None,
) -> list[LayerStep]:
    """Pair history lines with layers: each line not marked ``empty_layer`` made the next one."""
    steps: list[LayerStep] = []
    position = 0
    for number, entry in enumerate(history, 1):
        step = LayerStep(number, _instruction(entry.created_by), entry.created_by)
        if not entry.empty_layer and position < len(diff_ids):
            size = _at(sizes, position)
            step = replace(step, position=position + 1, diff_id=diff_ids[position], size=size)
            position += 1
        steps.append(step)
    # An image without history (imported, hand-made): one step per layer, unnamed.
    for extra in range(position, len(diff_ids)):
        steps.append(
            LayerStep(
                len(steps) + 1,
                "(sans historique)",
                "",
                extra + 1,
                diff_ids[extra],
                _at(sizes, extra),
            )
        )
    return steps


def _at(sizes: Sequence[int | None] | None, index: int) -> int | None:
    return sizes[index] if sizes is not None and index < len(sizes) else None


# -- the daemon side -------------------------------------------------------------------------------
def _image(host: DockerHost, name: str) -> Any:
    found = host.find_image(name)
    if found is None:
        raise DaemonError(
            f"L'{host.label} n'a pas d'image « {name} ».",
            f"listez ses images : lab.{_attr(host)}.docker('images') ; construisez-la ou tirez-la "
            "d'abord (docker pull 127.0.0.1:PORT/…).",
        )
    return found


def _attr(host: DockerHost) -> str:
    return f"host_{host.key}"


def _config_on_disk(host: DockerHost, image_id: str) -> bytes | None:
    """The image config as the daemon stores it, when its files are on this machine.

    The image ID *is* the sha256 of the config: the bytes are checked before use.
    """
    info = host.client.info()
    root, driver = info.get("DockerRootDir"), info.get("Driver")
    if not root or not driver:
        return None
    hexa = image_id.removeprefix("sha256:")
    path = Path(root) / "image" / driver / "imagedb" / "content" / "sha256" / hexa
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return raw if sha256_digest(raw) == image_id else None


def _image_config(host: DockerHost, name: str, image_id: str) -> ImageConfig:
    raw = _config_on_disk(host, image_id)
    if raw is None:
        raw = _read_saved_image(host.client.api.get_image(name), keep_layers=False).config
    return ImageConfig.parse(raw)


def image_layers(host: DockerHost, image: str) -> ImageLayers:
    """The history of ``image`` on a lab host: each step, its layer (diffID) and the layer's size.

    Sizes are those of ``docker history``; steps that made no layer are marked.
    """
    found = _image(host, image)
    image_id = str(found.id)
    config = _image_config(host, image, image_id)
    # docker history: newest first, one size per history line (0 for an empty step).
    api_sizes = [int(item.get("Size") or 0) for item in reversed(host.client.api.history(image))]
    sizes = [
        size
        for size, entry in zip(api_sizes, config.history, strict=False)
        if not entry.empty_layer
    ]
    steps = _steps(config.history, config.diff_ids, sizes)
    return ImageLayers(image, host.label, image_id, tuple(steps))


# -- docker save, streamed -------------------------------------------------------------------------
@dataclass(frozen=True)
class _SavedImage:
    config: bytes
    layer_paths: tuple[str, ...]
    layers: dict[str, LayerTar]


def _rest(stream: Readable, head: bytes, block: int = 1 << 20) -> Iterator[bytes]:
    yield head
    while chunk := stream.read(block):
        yield chunk


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _read_saved_image(chunks: Iterable[bytes], *, keep_layers: bool = True) -> _SavedImage:
    """Walk a ``docker save`` stream once: its JSON files, and each layer tar as it passes.

    Both formats are read: Docker's (``<id>/layer.tar``, ``manifest.json``) and the OCI
    layout of recent Docker versions (``blobs/sha256/…``, gzipped or not).
    """
    documents: dict[str, bytes] = {}
    layers: dict[str, LayerTar] = {}
    aliases: dict[str, str] = {}
    with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as outer:  # type: ignore[call-overload]
        for member in outer:
            name = _normalise(member.name)
            if member.issym() or member.islnk():
                target = member.linkname
                if member.issym():
                    target = f"{name.rsplit('/', 1)[0] if '/' in name else ''}/{target}"
                aliases[name] = _normalise(target)
                continue
            if not member.isfile():
                continue
            stream = outer.extractfile(member)
            assert stream is not None
            head = stream.read(min(member.size, 512))
            if head.startswith(b"{") or head.startswith(b"[") or member.size < 512:
                documents[name] = head + stream.read()
            elif keep_layers:
                reader: Readable = ChunkReader(_rest(stream, head))
                if head.startswith(_GZIP_MAGIC):
                    reader = GunzipReader(reader)
                entries, diff_id, tar_size = read_layer_tar(reader)
                layers[name] = LayerTar(diff_id, tuple(entries), tar_size)
    manifest = json.loads(documents.get("manifest.json", b"[]") or b"[]")
    if not manifest:
        raise DaemonError(
            "Le flux de « docker save » n'a pas de manifest.json lisible.",
            "la version de Docker de cet hôte écrit peut-être un format inconnu ici.",
        )
    paths = tuple(_normalise(path) for path in manifest[0].get("Layers") or [])
    for alias, target in aliases.items():
        if target in layers:
            layers[alias] = layers[target]
    return _SavedImage(documents[_normalise(manifest[0]["Config"])], paths, layers)


def image_files(host: DockerHost, image: str) -> ImageFiles:
    """The files of every layer of ``image`` on a lab host, from ``docker save`` streamed.

    Nothing is written to disk: the archive is read as it comes, each layer tar parsed on the
    fly (headers only) and hashed, so its diffID is checked against the image config.
    """
    _image(host, image)
    saved = _read_saved_image(host.client.api.get_image(image))
    config = ImageConfig.parse(saved.config)
    layers = [saved.layers[path] for path in saved.layer_paths]
    computed = [layer.diff_id for layer in layers]
    if computed != list(config.diff_ids):
        raise DaemonError(
            f"Les couches de « {image} » lues sur l'{host.label} ne hachent pas vers les diffIDs "
            "de sa configuration.",
            "l'image est peut-être abîmée : supprimez-la, puis reconstruisez-la ou tirez-la "
            "à nouveau.",
        )
    steps = [step for step in _steps(config.history, config.diff_ids) if not step.empty]
    named = [
        replace(layer, instruction=step.instruction)
        for layer, step in zip(layers, steps, strict=True)
    ]
    return compare_layers(image, host.label, named)


# -- the registry side ---------------------------------------------------------------------------
def _manifest_and_config(
    client: RegistryClient, repository: str, reference: str
) -> tuple[ImageManifest, ImageConfig]:
    manifest = client.manifest_for_platform(repository, reference)
    return manifest, client.config(repository, manifest)


def registry_layers(client: RegistryClient, repository: str, reference: str) -> ImageLayers:
    """An image in a registry, read from its manifest and config: diffID ↔ digest, layer by layer.

    The manifest lists the **compressed** layers (digest, size); the config lists the
    **uncompressed** ones (``rootfs.diff_ids``) and the history. Both lists have one entry
    per layer, in the same order: that is the whole mapping.
    """
    manifest, config = _manifest_and_config(client, repository, reference)
    if len(manifest.layers) != len(config.diff_ids):
        raise RegistryError(
            f"« {repository}:{reference} » : le manifeste liste {len(manifest.layers)} couche(s), "
            f"la configuration {len(config.diff_ids)}.",
            "l'image est incohérente : repoussez-la depuis un hôte Docker.",
        )
    steps = []
    for step in _steps(config.history, config.diff_ids):
        if step.position is not None:
            layer = manifest.layers[step.position - 1]
            step = replace(
                step,
                digest=layer.digest,
                compressed_size=layer.size,
                media_type=layer.media_type,
                size=None,
            )
        steps.append(step)
    where = f"registry {client.address}"
    return ImageLayers(f"{repository}:{reference}", where, config.digest, tuple(steps))


@dataclass(frozen=True)
class LayerDigests:
    """The two fingerprints of each layer of a pushed image, recomputed from the blobs.

    For each layer the blob is streamed from the registry: its sha256 must be the
    **digest** of the manifest; gunzipped, its sha256 must be the **diffID** of the config.
    """

    image: str
    steps: tuple[LayerStep, ...]
    computed_digests: tuple[str, ...]
    computed_diff_ids: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return list(self.computed_digests) == [s.digest for s in self.steps] and list(
            self.computed_diff_ids
        ) == [s.diff_id for s in self.steps]

    _HEADERS = (
        "couche",
        "instruction",
        "digest (manifeste)",
        "taille compressée",
        "diffID (config)",
        "taille décompressée",
        "vérifié",
    )

    def rows(self) -> list[list[str]]:
        rows = []
        for index, step in enumerate(self.steps):
            same = (
                self.computed_digests[index] == step.digest
                and self.computed_diff_ids[index] == step.diff_id
            )
            rows.append(
                [
                    str(step.position),
                    step.instruction,
                    short_digest(step.digest),
                    _size(step.compressed_size),
                    short_digest(step.diff_id),
                    format_size(self.sizes[index]),
                    "✔ sha256(blob) = digest ; sha256(gunzip(blob)) = diffID"
                    if same
                    else "✘ empreinte différente",
                ]
            )
        return rows

    def _caption(self) -> str:
        verdict = "les deux empreintes correspondent" if self.ok else "ÉCART constaté"
        return f"{self.image} : digest (compressé) ↔ diffID (non compressé) — {verdict}"

    def __str__(self) -> str:
        return f"{self._caption()}\n{text_table(self._HEADERS, self.rows())}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._HEADERS, self.rows(), caption=self._caption())


def _verify_blob(
    client: RegistryClient, repository: str, digest: str, walk: Callable[[Readable], Any]
) -> tuple[str, str, int, Any]:
    compressed = HashingReader(ChunkReader(client.iter_blob(repository, digest)))
    head = compressed.read(2)
    source: Readable = ChunkReader(_rest(compressed, head))
    if head == _GZIP_MAGIC:
        source = GunzipReader(source)
    plain = HashingReader(source)
    result = walk(plain)
    plain.drain()
    compressed.drain()
    return compressed.digest, plain.digest, plain.size, result


def layer_digests(client: RegistryClient, repository: str, reference: str) -> LayerDigests:
    """Stream every layer blob of an image and recompute its digest and its diffID."""
    layers = registry_layers(client, repository, reference).layers
    digests, diff_ids, sizes = [], [], []
    for step in layers:
        digest, diff_id, size, _ = _verify_blob(client, repository, step.digest, lambda r: None)
        digests.append(digest)
        diff_ids.append(diff_id)
        sizes.append(size)
    return LayerDigests(
        f"{repository}:{reference}", layers, tuple(digests), tuple(diff_ids), tuple(sizes)
    )


def registry_files(client: RegistryClient, repository: str, reference: str) -> ImageFiles:
    """The files of every layer of an image in the registry: its blobs, streamed and gunzipped."""
    image = registry_layers(client, repository, reference)
    layers = []
    for step in image.layers:
        digest, diff_id, _, (entries, _, tar_size) = _verify_blob(
            client, repository, step.digest, read_layer_tar
        )
        if diff_id != step.diff_id:
            raise DigestMismatchError(
                f"La couche {step.position} de « {image.image} », décompressée, hache vers "
                f"{short_digest(diff_id)} au lieu du diffID {short_digest(step.diff_id)} de la "
                "configuration.",
                "l'image du registry est incohérente : repoussez-la depuis un hôte Docker.",
                expected=step.diff_id,
                actual=diff_id,
            )
        layers.append(
            LayerTar(
                diff_id,
                tuple(entries),
                tar_size,
                instruction=step.instruction,
                digest=digest,
                compressed_size=step.compressed_size,
            )
        )
    return compare_layers(image.image, image.where, layers)


# -- a container's writable layer ------------------------------------------------------------------
_DIFF_KINDS = {0: "C", 1: "A", 2: "D"}
_DIFF_LABELS = {"A": "ajouté", "C": "modifié", "D": "supprimé"}


@dataclass(frozen=True)
class ContainerChange:
    """One line of ``docker diff``: ``A`` added, ``C`` changed, ``D`` deleted."""

    kind: str
    path: str

    @property
    def label(self) -> str:
        return _DIFF_LABELS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


@dataclass(frozen=True)
class ContainerLayer:
    """A container's thin writable layer: what it changed above its image, and its size."""

    name: str
    image: str
    host: str
    state: str
    changes: tuple[ContainerChange, ...]
    size: int
    virtual_size: int

    def _of(self, kind: str) -> list[ContainerChange]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def added(self) -> list[ContainerChange]:
        return self._of("A")

    @property
    def changed(self) -> list[ContainerChange]:
        return self._of("C")

    @property
    def removed(self) -> list[ContainerChange]:
        return self._of("D")

    def summary(self) -> str:
        return (
            f"Conteneur {self.name} ({self.state}, image {self.image}, {self.host}) : couche "
            f"inscriptible de {format_size(self.size)} ; avec l'image : "
            f"{format_size(self.virtual_size)}"
        )

    def rows(self) -> list[list[str]]:
        return [[change.kind, change.path, change.label] for change in self.changes]

    def __str__(self) -> str:
        if not self.changes:
            return f"{self.summary()}\n(aucun changement)"
        table = text_table(("", "chemin", "changement"), self.rows())
        return f"{self.summary()}\n{table}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self.changes:
            return f"<p>{escape(self.summary())}<br>(aucun changement)</p>"
        return html_table(("", "chemin", "changement"), self.rows(), caption=self.summary())


_STATES = {
    "created": "créé",
    "running": "en marche",
    "paused": "en pause",
    "restarting": "redémarre",
    "exited": "arrêté",
    "dead": "mort",
}


def container_layer(host: DockerHost, container: str) -> ContainerLayer:
    """``docker diff`` and ``docker ps --size`` for one container of a lab host."""
    import docker.errors

    try:
        found = host.client.containers.get(container)
    except docker.errors.NotFound:
        raise DaemonError(
            f"L'{host.label} n'a pas de conteneur « {container} ».",
            f"listez-les : lab.{_attr(host)}.docker('ps', '-a').",
        ) from None
    api = host.client.api
    listed = api.containers(all=True, size=True, filters={"id": found.id})
    sizes = listed[0] if listed else {}
    changes = sorted(
        (
            ContainerChange(_DIFF_KINDS.get(item["Kind"], "?"), item["Path"])
            for item in api.diff(found.id) or []
        ),
        key=lambda change: change.path,
    )
    return ContainerLayer(
        name=found.name,
        image=str(found.attrs.get("Config", {}).get("Image", "")),
        host=host.label,
        state=_STATES.get(found.status, found.status),
        changes=tuple(changes),
        size=int(sizes.get("SizeRw") or 0),
        virtual_size=int(sizes.get("SizeRootFs") or 0),
    )
