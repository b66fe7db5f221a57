"""The registry browser's state, without widgets (the view is `browser.py`).

repositories → tags → manifest (or index → platforms) → layers → files of a layer.

```python
model = BrowserModel(client)
model.select_repository("cours/bonjour")
model.select_tag("1.0")
model.select_layer(model.layers[-1].digest)
print(model)
```
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import NameUnknownError
from .french import format_size
from .manifests import Descriptor, ImageIndex, ImageManifest, short_digest

if TYPE_CHECKING:
    from .registry import RegistryClient

__all__ = ["BrowserModel", "FileRow", "describe", "layer_entries"]


@dataclass(frozen=True)
class FileRow:
    """One entry of a layer's tar: its path, its kind and its size."""

    path: str
    kind: str
    size: int

    def __str__(self) -> str:
        return f"{self.kind} {self.path} ({format_size(self.size)})"


_KINDS = {
    tarfile.REGTYPE: "fichier",
    tarfile.AREGTYPE: "fichier",
    tarfile.DIRTYPE: "dossier",
    tarfile.SYMTYPE: "lien",
    tarfile.LNKTYPE: "lien dur",
}


def layer_entries(blob: bytes) -> list[FileRow]:
    """The entries of a layer blob (gzip or plain tar), in archive order."""
    data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return [
            FileRow(member.name.removeprefix("./"), _KINDS.get(member.type, "autre"), member.size)
            for member in tar.getmembers()
        ]


def describe(descriptor: Descriptor) -> str:
    """``sha256:abc… · 1,2 Mo · media type`` (and the platform, when there is one)."""
    platform = f" · {descriptor.platform}" if descriptor.platform else ""
    return (
        f"{short_digest(descriptor.digest)} · {format_size(descriptor.size)} · "
        f"{descriptor.media_type}{platform}"
    )


class BrowserModel:
    """Where the browser stands, and what it shows at each level."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self.repositories: list[str] = []
        self.repository: str | None = None
        self.tags: list[str] = []
        self.tag: str | None = None
        self.index: ImageIndex | None = None
        self.manifest: ImageManifest | None = None
        self.layer: Descriptor | None = None
        self.files: list[FileRow] = []
        self.refresh()

    def refresh(self) -> list[str]:
        """Read the catalog again; keeps nothing selected below it."""
        self.repositories = sorted(self.client.repositories(page_size=1000))
        self._clear_below("repository")
        return self.repositories

    def _clear_below(self, level: str) -> None:
        order = ["repository", "tag", "manifest", "layer"]
        below = order[order.index(level) :]
        if "repository" in below:
            self.repository, self.tags = None, []
        if "tag" in below:
            self.tag, self.index = None, None
        if "manifest" in below:
            self.manifest = None
        self.layer, self.files = None, []

    def select_repository(self, name: str) -> list[str]:
        """Open a repository: its tags."""
        self._clear_below("repository")
        self.repository = name
        try:
            self.tags = sorted(self.client.tags(name))
        except NameUnknownError:
            self.tags = []
        return self.tags

    def select_tag(self, tag: str) -> ImageManifest | ImageIndex:
        """Open a tag: its manifest, or its index (then choose a platform)."""
        if self.repository is None:
            raise ValueError("choisissez d'abord un dépôt")
        self._clear_below("tag")
        self.tag = tag
        document = self.client.manifest(self.repository, tag)
        if isinstance(document, ImageIndex):
            self.index = document
        else:
            self.manifest = document
        return document

    @property
    def platforms(self) -> list[Descriptor]:
        return list(self.index.manifests) if self.index is not None else []

    def select_platform(self, digest: str) -> ImageManifest:
        """Open one manifest of an index (by its digest)."""
        if self.repository is None or self.index is None:
            raise ValueError("aucun index ouvert")
        self._clear_below("manifest")
        document = self.client.manifest(self.repository, digest)
        if not isinstance(document, ImageManifest):
            raise ValueError(f"{digest} n'est pas le manifeste d'une image")
        self.manifest = document
        return document

    @property
    def layers(self) -> list[Descriptor]:
        return list(self.manifest.layers) if self.manifest is not None else []

    def select_layer(self, digest: str) -> list[FileRow]:
        """Open a layer: download its blob (digest verified) and list its files."""
        if self.repository is None or self.manifest is None:
            raise ValueError("aucun manifeste ouvert")
        chosen = next((d for d in self.manifest.layers if d.digest == digest), None)
        if chosen is None:
            raise ValueError(f"couche inconnue dans ce manifeste : {digest}")
        self.layer = chosen
        self.files = layer_entries(self.client.blob(self.repository, digest))
        return self.files

    def lines(self) -> list[str]:
        """What the browser shows, as text (each level that is open)."""
        lines = [f"Dépôts ({len(self.repositories)}) : {', '.join(self.repositories) or '—'}"]
        if self.repository is not None:
            lines.append(f"{self.repository} — tags : {', '.join(self.tags) or '—'}")
        if self.index is not None:
            lines.append(f"{self.repository}:{self.tag} — index {self.index.media_type}")
            lines += [f"  plate-forme {describe(d)}" for d in self.index.manifests]
        if self.manifest is not None:
            m = self.manifest
            lines.append(f"manifeste {short_digest(m.digest)} · {m.media_type}")
            lines.append(f"  config {describe(m.config)}")
            lines += [f"  couche {i} : {describe(d)}" for i, d in enumerate(m.layers, 1)]
        if self.layer is not None:
            lines.append(f"fichiers de la couche {short_digest(self.layer.digest)} :")
            lines += [f"  {row}" for row in self.files]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return "<BrowserModel du registry>"
