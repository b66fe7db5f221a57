"""Typed, read-only views of what a registry stores: manifests, indexes, configs, descriptors.

No I/O here: every view is parsed from the exact bytes a registry sent, keeps those bytes
(``raw``) and knows its own digest (the sha256 of ``raw``). The registry client
(`registry_lab.registry`) fetches the bytes; this module only reads them.

```python
manifest = parse_manifest(raw, "application/vnd.oci.image.manifest.v1+json")
manifest.digest            # 'sha256:…' computed from raw
[layer.digest for layer in manifest.layers]
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import RegistryError
from .french import format_size
from .tables import html_table, text_table

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN_LAYER",
    "DOCKER_LAYER",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_ACCEPT",
    "MANIFEST_MEDIA_TYPES",
    "OCI_CONFIG",
    "OCI_FOREIGN_LAYER",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_ZSTD",
    "OCI_MANIFEST",
    "Descriptor",
    "HistoryEntry",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "LayerInfo",
    "Platform",
    "Repository",
    "format_reference",
    "is_digest",
    "media_type_label",
    "parse_manifest",
    "sha256_digest",
    "short_digest",
]

# -- media types --------------------------------------------------------------------------------
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_FOREIGN_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

#: Single-image manifests, and indexes (lists of manifests, one per platform).
MANIFEST_MEDIA_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_MEDIA_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
#: The ``Accept`` header of a manifest request: every type this module reads.
MANIFEST_ACCEPT = ", ".join((*MANIFEST_MEDIA_TYPES, *INDEX_MEDIA_TYPES))

_LABELS = {
    DOCKER_MANIFEST: "manifeste Docker v2 (schéma 2)",
    DOCKER_MANIFEST_LIST: "liste de manifestes Docker",
    OCI_MANIFEST: "manifeste OCI",
    OCI_INDEX: "index OCI",
    DOCKER_CONFIG: "configuration Docker",
    OCI_CONFIG: "configuration OCI",
    DOCKER_LAYER: "couche tar+gzip (Docker)",
    DOCKER_FOREIGN_LAYER: "couche étrangère (Docker, non distribuable)",
    OCI_LAYER: "couche tar non compressée (OCI)",
    OCI_LAYER_GZIP: "couche tar+gzip (OCI)",
    OCI_LAYER_ZSTD: "couche tar+zstd (OCI)",
    OCI_FOREIGN_LAYER: "couche non distribuable (OCI)",
}


def media_type_label(media_type: str) -> str:
    """The media type in French words: ``"manifeste OCI"``; unknown types are returned as is."""
    return _LABELS.get(media_type, media_type or "(type inconnu)")


# -- small helpers shared by every display -------------------------------------------------------
def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: the digest a registry names content by."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def is_digest(reference: str) -> bool:
    """Is this reference a digest (``sha256:…``) rather than a tag (a tag has no ``:``)?"""
    return ":" in reference


def format_reference(repository: str, reference: str) -> str:
    """``repo:tag`` or ``repo@sha256:…``, as a person writes it."""
    return f"{repository}@{reference}" if is_digest(reference) else f"{repository}:{reference}"


def short_digest(digest: str, length: int = 12) -> str:
    """``sha256:0123456789ab``: enough to tell digests apart in a table."""
    algorithm, _, hexa = digest.partition(":")
    return f"{algorithm}:{hexa[:length]}" if hexa else digest[:length]


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(
            f"Le {what} reçu n'est pas du JSON lisible ({exc}).",
            "le registry a renvoyé autre chose qu'un document JSON : vérifiez l'URL et le "
            "type de média demandé.",
        ) from exc
    if not isinstance(data, dict):
        raise RegistryError(
            f"Le {what} reçu n'est pas un objet JSON.",
            "un manifeste ou une configuration est un objet JSON { … }.",
        )
    return data


# -- descriptors and platforms -------------------------------------------------------------------
@dataclass(frozen=True)
class Platform:
    """The platform an image runs on: ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``Platform.parse("linux/arm64/v8")``."""
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(
                f"plateforme invalide : {text!r} (attendu : os/architecture[/variante])"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Platform:
        return cls(
            os=str(data.get("os", "")),
            architecture=str(data.get("architecture", "")),
            variant=data.get("variant") or None,
            os_version=data.get("os.version") or None,
        )

    def matches(self, wanted: Platform) -> bool:
        """True when this platform is ``wanted`` (a variant left out in ``wanted`` matches any)."""
        return (
            self.os == wanted.os
            and self.architecture == wanted.architecture
            and (wanted.variant is None or self.variant == wanted.variant)
        )

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True)
class Descriptor:
    """A pointer to content: its media type, digest and size (and, in an index, a platform)."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    platform: Platform | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Descriptor:
        platform = data.get("platform")
        return cls(
            media_type=str(data.get("mediaType", "")),
            digest=str(data.get("digest", "")),
            size=int(data.get("size", 0)),
            urls=tuple(data.get("urls") or ()),
            annotations=dict(data.get("annotations") or {}),
            platform=Platform.from_json(platform) if isinstance(platform, dict) else None,
        )

    @property
    def short(self) -> str:
        return short_digest(self.digest)

    @property
    def foreign(self) -> bool:
        """A layer the registry does not hold (Windows base layers): only its ``urls``."""
        return self.media_type in (DOCKER_FOREIGN_LAYER, OCI_FOREIGN_LAYER)

    def __repr__(self) -> str:
        where = f" {self.platform}" if self.platform else ""
        return f"<Descriptor {self.short} {format_size(self.size)} {self.media_type}{where}>"


# -- manifests and indexes -----------------------------------------------------------------------
_SUMMARY_HEADERS = ("propriété", "valeur")


class _SummaryAndEntries:
    """Shown as a summary table (property, value) above the table of its entries: a manifest's
    layers, an index's images, a config's history."""

    def summary(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _entries(self) -> tuple[tuple[str, ...], list[list[str]], str, str]:
        """The entries' headers and rows, their caption, and the summary's caption."""
        raise NotImplementedError

    def __str__(self) -> str:
        headers, rows, _, _ = self._entries()
        head = text_table(_SUMMARY_HEADERS, [list(row) for row in self.summary()])
        return f"{head}\n\n{text_table(headers, rows)}"

    def _repr_html_(self) -> str:
        headers, rows, caption, title = self._entries()
        summary = [list(row) for row in self.summary()]
        head = html_table(_SUMMARY_HEADERS, summary, caption=title)
        return head + html_table(headers, rows, caption=caption)


class _Document(_SummaryAndEntries):
    """What a manifest and an index share: their exact bytes (``raw``), hence their digest and
    size."""

    media_type: str
    raw: bytes

    @property
    def digest(self) -> str:
        """The document's digest: the sha256 of its exact bytes."""
        return sha256_digest(self.raw)

    @property
    def size(self) -> int:
        """The size of the document itself."""
        return len(self.raw)

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size)


@dataclass(frozen=True)
class ImageManifest(_Document):
    """One image for one platform: a config blob and an ordered list of layer blobs."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def total_size(self) -> int:
        """What a pull moves at most: config + every layer (compressed) + the manifest."""
        return self.size + self.config.size + sum(layer.size for layer in self.layers)

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """The config then the layers: every blob this manifest needs."""
        return (self.config, *self.layers)

    def layer_rows(self) -> list[list[str]]:
        return [
            [str(number), media_type_label(layer.media_type), layer.short, format_size(layer.size)]
            for number, layer in enumerate(self.layers, 1)
        ]

    def summary(self) -> list[tuple[str, str]]:
        return [
            ("type de média", f"{self.media_type} ({media_type_label(self.media_type)})"),
            ("empreinte", self.digest),
            ("taille du manifeste", format_size(self.size)),
            ("configuration", f"{self.config.short} ({format_size(self.config.size)})"),
            ("couches", str(len(self.layers))),
            ("taille totale", format_size(self.total_size)),
        ]

    def __repr__(self) -> str:
        return (
            f"<ImageManifest {short_digest(self.digest)} {media_type_label(self.media_type)}, "
            f"{len(self.layers)} couche(s), {format_size(self.total_size)}>"
        )

    def _entries(self) -> tuple[tuple[str, ...], list[list[str]], str, str]:
        headers = ("n°", "type de média", "empreinte", "taille")
        return headers, self.layer_rows(), "Couches", "Manifeste d'image"


@dataclass(frozen=True)
class ImageIndex(_Document):
    """Several images under one name: one manifest per platform (manifest list, OCI index)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def platforms(self) -> list[Platform]:
        return [entry.platform for entry in self.manifests if entry.platform is not None]

    def for_platform(self, platform: str | Platform) -> Descriptor:
        """The entry for ``platform`` (``"linux/arm64"``); `KeyError` when there is none."""
        wanted = Platform.parse(platform) if isinstance(platform, str) else platform
        for entry in self.manifests:
            if entry.platform is not None and entry.platform.matches(wanted):
                return entry
        known = ", ".join(str(p) for p in self.platforms) or "aucune"
        raise KeyError(f"aucune image pour {wanted} dans cet index (plateformes : {known})")

    def rows(self) -> list[list[str]]:
        return [
            [
                str(entry.platform) if entry.platform else "(non précisée)",
                media_type_label(entry.media_type),
                entry.short,
                format_size(entry.size),
            ]
            for entry in self.manifests
        ]

    def summary(self) -> list[tuple[str, str]]:
        return [
            ("type de média", f"{self.media_type} ({media_type_label(self.media_type)})"),
            ("empreinte", self.digest),
            ("taille de l'index", format_size(self.size)),
            ("images", str(len(self.manifests))),
        ]

    def __repr__(self) -> str:
        platforms = ", ".join(str(p) for p in self.platforms)
        return (
            f"<ImageIndex {short_digest(self.digest)} {media_type_label(self.media_type)}, "
            f"{len(self.manifests)} image(s) : {platforms}>"
        )

    def _entries(self) -> tuple[tuple[str, ...], list[list[str]], str, str]:
        headers = ("plateforme", "type de média", "empreinte", "taille")
        return headers, self.rows(), "Images", "Index (une image par plateforme)"


def parse_manifest(raw: bytes, media_type: str | None = None) -> ImageManifest | ImageIndex:
    """Read a manifest or an index from its bytes.

    The type comes from ``media_type`` (the response's ``Content-Type``), else from the JSON's
    own ``mediaType``, else from its shape (``manifests`` → index, ``config`` → manifest).

    ```python
    parse_manifest(response.content, response.headers["Content-Type"])
    ```
    """
    data = _json_object(raw, "manifeste")
    declared = str(data.get("mediaType") or "")
    kind = (media_type or "").split(";")[0].strip()
    if kind not in (*MANIFEST_MEDIA_TYPES, *INDEX_MEDIA_TYPES):
        kind = declared
    if kind not in (*MANIFEST_MEDIA_TYPES, *INDEX_MEDIA_TYPES):
        if data.get("schemaVersion") != 2:
            raise RegistryError(
                f"Manifeste au schéma {data.get('schemaVersion')!r} (type « {kind or '?'} ») : "
                "seul le schéma 2 (Docker v2, OCI) est lu ici.",
                "le schéma 1 est obsolète : repoussez l'image avec un Docker récent.",
            )
        kind = OCI_INDEX if "manifests" in data else OCI_MANIFEST
    annotations = dict(data.get("annotations") or {})
    if kind in INDEX_MEDIA_TYPES:
        entries = tuple(Descriptor.from_json(entry) for entry in data.get("manifests") or ())
        return ImageIndex(kind, entries, raw, annotations)
    if not isinstance(data.get("config"), dict):
        raise RegistryError(
            "Manifeste d'image sans champ « config ».",
            "un manifeste d'image pointe vers sa configuration et ses couches.",
        )
    return ImageManifest(
        media_type=kind,
        config=Descriptor.from_json(data["config"]),
        layers=tuple(Descriptor.from_json(layer) for layer in data.get("layers") or ()),
        raw=raw,
        annotations=annotations,
    )


# -- the image config -----------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``docker history``: the instruction, and whether it made a layer."""

    created: str
    created_by: str
    empty_layer: bool
    comment: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryEntry:
        return cls(
            created=str(data.get("created", "")),
            created_by=str(data.get("created_by", "")),
            empty_layer=bool(data.get("empty_layer", False)),
            comment=str(data.get("comment", "")),
        )

    @property
    def instruction(self) -> str:
        """The Dockerfile instruction, without the ``/bin/sh -c #(nop)`` noise of the builder."""
        text = self.created_by.strip()
        for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)"):
            if text.startswith(prefix):
                return text[len(prefix) :].strip()
        if text.startswith("/bin/sh -c "):
            return "RUN " + text[len("/bin/sh -c ") :]
        return text


@dataclass(frozen=True)
class LayerInfo:
    """One layer seen three ways: compressed blob (registry), diffID (daemon), history line."""

    descriptor: Descriptor
    diff_id: str
    history: HistoryEntry | None


@dataclass(frozen=True)
class ImageConfig(_SummaryAndEntries):
    """The image config blob: platform, run settings, diffIDs and history."""

    raw: bytes = field(repr=False)
    architecture: str = ""
    os: str = ""
    variant: str | None = None
    created: str = ""
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    diff_ids: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @classmethod
    def parse(cls, raw: bytes) -> ImageConfig:
        """Read a config blob (Docker or OCI: same JSON)."""
        data = _json_object(raw, "fichier de configuration")
        run = data.get("config") or {}
        rootfs = data.get("rootfs") or {}
        return cls(
            raw=raw,
            architecture=str(data.get("architecture", "")),
            os=str(data.get("os", "")),
            variant=data.get("variant") or None,
            created=str(data.get("created", "")),
            env=tuple(run.get("Env") or ()),
            cmd=tuple(run.get("Cmd") or ()),
            entrypoint=tuple(run.get("Entrypoint") or ()),
            working_dir=str(run.get("WorkingDir") or ""),
            labels=dict(run.get("Labels") or {}),
            diff_ids=tuple(rootfs.get("diff_ids") or ()),
            history=tuple(HistoryEntry.from_json(entry) for entry in data.get("history") or ()),
        )

    @property
    def digest(self) -> str:
        """The config's digest: also the image ID that ``docker images`` shows."""
        return sha256_digest(self.raw)

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)

    def layers(self, manifest: ImageManifest) -> list[LayerInfo]:
        """Pair each layer of ``manifest`` with its diffID and the history line that made it.

        History lines marked ``empty_layer`` (ENV, CMD…) made no layer and are skipped.
        """
        made_layers = [entry for entry in self.history if not entry.empty_layer]
        return [
            LayerInfo(
                descriptor=descriptor,
                diff_id=self.diff_ids[index] if index < len(self.diff_ids) else "",
                history=made_layers[index] if index < len(made_layers) else None,
            )
            for index, descriptor in enumerate(manifest.layers)
        ]

    def summary(self) -> list[tuple[str, str]]:
        return [
            ("plateforme", str(self.platform)),
            ("créée le", self.created or "—"),
            ("Entrypoint", " ".join(self.entrypoint) or "—"),
            ("Cmd", " ".join(self.cmd) or "—"),
            ("Env", "\n".join(self.env) or "—"),
            ("couches (diff_ids)", str(len(self.diff_ids))),
            ("empreinte (ID de l'image)", self.digest),
        ]

    def history_rows(self) -> list[list[str]]:
        rows = []
        layer = 0
        for number, entry in enumerate(self.history, 1):
            if entry.empty_layer:
                made = "non (métadonnée)"
            else:
                diff_id = self.diff_ids[layer] if layer < len(self.diff_ids) else ""
                made = f"oui : {short_digest(diff_id)}" if diff_id else "oui"
                layer += 1
            rows.append([str(number), entry.instruction, made])
        return rows

    def __repr__(self) -> str:
        return (
            f"<ImageConfig {short_digest(self.digest)} {self.platform}, "
            f"{len(self.diff_ids)} couche(s), {len(self.history)} ligne(s) d'historique>"
        )

    def _entries(self) -> tuple[tuple[str, ...], list[list[str]], str, str]:
        headers = ("n°", "instruction", "couche (diff_id)")
        return headers, self.history_rows(), "Historique", "Configuration de l'image"


# -- a repository: its tags and what each points to ----------------------------------------------
@dataclass(frozen=True)
class Repository:
    """The tags of one repository and the manifest each tag points to (HEAD, no body)."""

    registry: str
    name: str
    tags: Mapping[str, Descriptor] = field(default_factory=dict, hash=False)

    @property
    def digests(self) -> set[str]:
        """The distinct manifests: two tags on one digest are one and the same image."""
        return {descriptor.digest for descriptor in self.tags.values()}

    def rows(self) -> list[list[str]]:
        return [
            [tag, media_type_label(d.media_type), d.short, format_size(d.size)]
            for tag, d in sorted(self.tags.items())
        ]

    @property
    def caption(self) -> str:
        tags, images = len(self.tags), len(self.digests)
        return (
            f"Dépôt « {self.name} » sur {self.registry} : {tags} tag{'s' if tags > 1 else ''}, "
            f"{images} manifeste{'s' if images > 1 else ''} distinct{'s' if images > 1 else ''}"
        )

    _HEADERS = ("tag", "type de média", "empreinte", "taille du manifeste")

    def __str__(self) -> str:
        return f"{self.caption}\n{text_table(self._HEADERS, self.rows())}"

    def __repr__(self) -> str:
        return f"<Repository {self.registry}/{self.name}, {len(self.tags)} tag(s)>"

    def _repr_html_(self) -> str:
        return html_table(self._HEADERS, self.rows(), caption=self.caption)
