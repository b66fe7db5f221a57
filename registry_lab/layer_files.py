"""The files of each layer, read from its tar as it streams by; wasted space as dive counts it.

A layer is a tar of the differences from the layers below it. Reading the layers in order
tells, for each one, which files it **adds**, which it **changes** (they existed below) and
which it **removes** — a removal is a *whiteout*: an empty file ``.wh.<name>`` beside the
removed one, or ``.wh..wh..opq`` in a folder whose former contents are all hidden (an
*opaque* folder). Nothing is unpacked: only the tar headers are kept.

```python
entries, diff_id, size = read_layer_tar(stream)      # one layer, streamed
files = compare_layers([LayerTar(...), ...])          # changes per layer, efficiency
files.efficiency.wasted                              # bytes, as dive reports them
```
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from html import escape

from .french import format_size, plural
from .manifests import short_digest
from .streams import HashingReader, Readable
from .tables import html_table, text_table

__all__ = [
    "OPAQUE",
    "WHITEOUT",
    "Change",
    "Efficiency",
    "FileChange",
    "ImageFiles",
    "LayerFiles",
    "LayerTar",
    "TarEntry",
    "WastedPath",
    "compare_layers",
    "efficiency",
    "read_layer_tar",
]

#: The prefix of a whiteout: ``.wh.name`` removes ``name`` from the layers below.
WHITEOUT = ".wh."
#: The marker of an opaque folder: everything the layers below put in it is hidden.
OPAQUE = ".wh..wh..opq"

_KINDS = {
    tarfile.REGTYPE: "fichier",
    tarfile.AREGTYPE: "fichier",
    tarfile.CONTTYPE: "fichier",
    tarfile.DIRTYPE: "dossier",
    tarfile.SYMTYPE: "lien symbolique",
    tarfile.LNKTYPE: "lien physique",
    tarfile.CHRTYPE: "périphérique",
    tarfile.BLKTYPE: "périphérique",
    tarfile.FIFOTYPE: "tube nommé",
}

#: How many changes a layer shows in a notebook before « … et N autres ».
SHOWN_CHANGES = 12


# -- one layer's tar -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TarEntry:
    """One member of a layer tar: its path (``bin/sh``), kind, size and link target."""

    name: str
    kind: str
    size: int
    link: str = ""

    @property
    def path(self) -> str:
        """The path inside the image: ``/bin/sh``."""
        return "/" + self.name

    @property
    def is_dir(self) -> bool:
        return self.kind == "dossier"

    @property
    def is_whiteout(self) -> bool:
        return posixpath.basename(self.name).startswith(WHITEOUT)

    @property
    def is_opaque(self) -> bool:
        return posixpath.basename(self.name) == OPAQUE

    @property
    def disk_size(self) -> int:
        """What Docker counts for this entry: file bytes, or the target's length for a symlink."""
        if self.kind == "fichier":
            return self.size
        if self.kind == "lien symbolique":
            return len(self.link.encode())
        return 0


def _entry(member: tarfile.TarInfo) -> TarEntry | None:
    name = member.name
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    name = name.rstrip("/")
    if not name or name == ".":
        return None
    kind = _KINDS.get(member.type, "autre")
    return TarEntry(name, kind, member.size if kind == "fichier" else 0, member.linkname)


def read_layer_tar(stream: Readable) -> tuple[list[TarEntry], str, int]:
    """Read a layer tar as it streams: its entries, its diffID (sha256) and its byte size.

    Only headers are parsed; file contents go by, hashed, and are dropped.
    """
    hashed = HashingReader(stream)
    with tarfile.open(fileobj=hashed, mode="r|", bufsize=1 << 20) as tar:  # type: ignore[call-overload]
        entries = [entry for member in tar if (entry := _entry(member)) is not None]
    hashed.drain()
    return entries, hashed.digest, hashed.size


@dataclass(frozen=True)
class LayerTar:
    """What streaming one layer gave: its entries and the digests computed on the way."""

    diff_id: str
    entries: tuple[TarEntry, ...]
    tar_size: int
    instruction: str = ""
    digest: str = ""
    compressed_size: int | None = None

    @property
    def size(self) -> int:
        """The layer's size as ``docker history`` shows it (files + symlink targets)."""
        return sum(entry.disk_size for entry in self.entries)


# -- changes ---------------------------------------------------------------------------------------
class Change(Enum):
    """What a layer does to a path; the letter is ``docker diff``'s."""

    ADDED = "A"
    CHANGED = "C"
    REMOVED = "D"

    @property
    def label(self) -> str:
        return {"A": "ajouté", "C": "modifié", "D": "supprimé"}[self.value]


@dataclass(frozen=True)
class FileChange:
    """One path a layer adds, changes or removes (``via``: the whiteout that removed it)."""

    path: str
    change: Change
    kind: str
    size: int
    via: str = ""

    def row(self) -> list[str]:
        shown = self.path + ("/" if self.kind == "dossier" else "")
        how = f"{self.change.label} ({self.via})" if self.via else self.change.label
        return [self.change.value, shown, how, self.kind, format_size(self.size)]


_CHANGE_HEADERS = ("", "chemin", "changement", "type", "taille")


@dataclass(frozen=True)
class LayerFiles:
    """One layer's files: every tar entry, and what it adds, changes and removes."""

    position: int
    diff_id: str
    instruction: str
    size: int
    tar_size: int
    entries: tuple[TarEntry, ...]
    changes: tuple[FileChange, ...]
    opaque_dirs: tuple[str, ...] = ()
    digest: str = ""
    compressed_size: int | None = None

    def _of(self, change: Change) -> list[FileChange]:
        return [item for item in self.changes if item.change is change]

    @property
    def added(self) -> list[FileChange]:
        return self._of(Change.ADDED)

    @property
    def changed(self) -> list[FileChange]:
        return self._of(Change.CHANGED)

    @property
    def removed(self) -> list[FileChange]:
        return self._of(Change.REMOVED)

    @property
    def names(self) -> list[str]:
        """The entries' names, in tar order: what ``tar -t`` lists (without the final ``/``)."""
        return [entry.name for entry in self.entries]

    @property
    def summary(self) -> str:
        counts = [
            plural(len(self.added), "ajout"),
            plural(len(self.changed), "modification"),
            plural(len(self.removed), "suppression"),
        ]
        return ", ".join(counts)

    def _title(self) -> str:
        return (
            f"Couche {self.position} — {self.instruction or '(instruction inconnue)'} — "
            f"{short_digest(self.diff_id)}, {format_size(self.size)} : {self.summary}"
        )

    def _rows(self, limit: int | None) -> tuple[list[list[str]], int]:
        shown = self.changes if limit is None else self.changes[:limit]
        return [item.row() for item in shown], len(self.changes) - len(shown)

    def __str__(self) -> str:
        rows, more = self._rows(SHOWN_CHANGES)
        text = f"{self._title()}\n{text_table(_CHANGE_HEADERS, rows)}"
        return text + (f"\n… et {more} autre(s)" if more else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows, more = self._rows(SHOWN_CHANGES)
        table = html_table(_CHANGE_HEADERS, rows, caption=self._title())
        return table + (f"<p>… et {more} autre(s)</p>" if more else "")


# -- the stacked file system -----------------------------------------------------------------------
@dataclass
class _Node:
    kind: str = "dossier"
    size: int = 0
    children: dict[str, _Node] = field(default_factory=dict)
    #: False for a folder no tar entry named (only implied by a path under it).
    explicit: bool = False

    def total(self) -> int:
        """This node's size plus, for a folder, everything under it (dive's way)."""
        return self.size + sum(child.total() for child in self.children.values())

    def walk(self, prefix: str) -> Iterator[tuple[str, _Node]]:
        for name, child in sorted(self.children.items()):
            path = f"{prefix}/{name}"
            yield path, child
            yield from child.walk(path)


class _Tree:
    """The file system seen through the layers stacked so far."""

    def __init__(self) -> None:
        self.root = _Node()

    def get(self, path: str) -> _Node | None:
        node = self.root
        for part in path.strip("/").split("/"):
            found = node.children.get(part)
            if found is None:
                return None
            node = found
        return node

    def _parent(self, path: str) -> tuple[_Node, str]:
        parts = path.strip("/").split("/")
        node = self.root
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Node())
        return node, parts[-1]

    def put(self, path: str, kind: str, size: int) -> None:
        parent, name = self._parent(path)
        node = parent.children.get(name)
        if node is None or (node.kind == "dossier") != (kind == "dossier"):
            parent.children[name] = _Node(kind, size, explicit=True)
        else:
            node.kind, node.size, node.explicit = kind, size, True

    def remove(self, path: str) -> _Node | None:
        parent, name = self._parent(path)
        return parent.children.pop(name, None)


def _split_whiteout(entry: TarEntry) -> str:
    """``srv/.wh.gros`` → ``/srv/gros``: the path a whiteout removes."""
    folder, name = posixpath.split(entry.name)
    return "/" + posixpath.join(folder, name[len(WHITEOUT) :])


def _layer_changes(tree: _Tree, layer: LayerTar) -> tuple[list[FileChange], list[str]]:
    """Compare one layer with the stack below it, then stack it."""
    changes: list[FileChange] = []
    opaque: list[str] = []
    listed = {entry.path for entry in layer.entries}
    # Removals first: a whiteout or an opaque folder hides what lies *below* this layer.
    for entry in layer.entries:
        if entry.is_opaque:
            folder = "/" + posixpath.dirname(entry.name)
            opaque.append(folder)
            node = tree.get(folder)
            for name, child in sorted(node.children.items()) if node else []:
                path = f"{folder.rstrip('/')}/{name}"
                if path not in listed:
                    changes.append(
                        FileChange(path, Change.REMOVED, child.kind, child.total(), OPAQUE)
                    )
            if node is not None:
                node.children.clear()
        elif entry.is_whiteout:
            path = _split_whiteout(entry)
            removed = tree.remove(path)
            kind = removed.kind if removed else "inconnu"
            size = removed.total() if removed else 0
            changes.append(
                FileChange(path, Change.REMOVED, kind, size, posixpath.basename(entry.name))
            )
    for entry in layer.entries:
        if entry.is_whiteout:
            continue
        change = Change.CHANGED if tree.get(entry.path) is not None else Change.ADDED
        changes.append(FileChange(entry.path, change, entry.kind, entry.disk_size))
        tree.put(entry.path, entry.kind, entry.size)
    return sorted(changes, key=lambda item: (item.path, item.change.value)), opaque


# -- wasted space (dive) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WastedPath:
    """A path written by several layers: all its copies but one are wasted."""

    path: str
    layers: tuple[int, ...]
    cumulative_size: int

    def row(self) -> list[str]:
        layers = ", ".join(str(number) for number in self.layers)
        return [self.path, str(len(self.layers)), layers, format_size(self.cumulative_size)]


@dataclass(frozen=True)
class Efficiency:
    """dive's numbers: wasted bytes, efficiency score, and the paths that waste space.

    For every path each layer writes (a file, an empty folder, a whiteout), dive adds up the
    sizes of all its versions (a whiteout counts 0 for a file, and the former size of a
    folder) and keeps the smallest. The **score** is Σ smallest / Σ all (1 = nothing
    wasted); the **wasted** bytes are the sums of the paths written by two layers or more.
    """

    score: float
    wasted: int
    image_size: int
    user_size: int
    paths: tuple[WastedPath, ...]

    @property
    def wasted_percent(self) -> float:
        """Wasted bytes over the bytes of the layers above the first (dive's « user » size)."""
        return self.wasted / self.user_size if self.user_size else 0.0

    def lines(self) -> list[str]:
        wasted = f"Espace gaspillé : {format_size(self.wasted)}"
        if self.user_size:
            wasted += (
                f", soit {_percent(self.wasted_percent)} de la taille des couches au-dessus "
                "de la première"
            )
        return [
            f"Taille de l'image : {format_size(self.image_size)}",
            wasted,
            f"Score d'efficacité : {_percent(self.score)}",
        ]

    def rows(self) -> list[list[str]]:
        return [item.row() for item in self.paths if item.cumulative_size > 0]

    def __str__(self) -> str:
        table = text_table(("chemin", "copies", "couches", "taille cumulée"), self.rows())
        return "\n".join(self.lines()) + ("\n\n" + table if self.rows() else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        lines = "<br>".join(escape(line) for line in self.lines())
        table = html_table(
            ("chemin", "copies", "couches", "taille cumulée"),
            self.rows(),
            caption="Chemins écrits par plusieurs couches (espace gaspillé)",
        )
        return f"<p>{lines}</p>" + (table if self.rows() else "")


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def _leaves(entries: Sequence[TarEntry]) -> list[TarEntry]:
    """Entries that no other entry of the same layer lies under (dive visits leaves only).

    Like dive, an opaque marker is no entry at all: its folder may be a leaf.
    """
    parents = {posixpath.dirname(entry.name) for entry in entries if not entry.is_opaque}
    for parent in list(parents):
        while parent:
            parent = posixpath.dirname(parent)
            parents.add(parent)
    return [entry for entry in entries if entry.name not in parents and not entry.is_opaque]


def efficiency(layers: Sequence[LayerTar], sizes: Sequence[int] | None = None) -> Efficiency:
    """dive's efficiency score and wasted space for these layers (bottom first).

    ``sizes`` are the layers' sizes (``docker history``); by default, computed from the tars.
    """
    sizes = list(sizes) if sizes is not None else [layer.size for layer in layers]
    cumulative: dict[str, int] = {}
    smallest: dict[str, int] = {}
    seen_in: dict[str, list[int]] = {}
    below = _Tree()
    for position, layer in enumerate(layers, 1):
        for entry in _leaves(layer.entries):
            if entry.is_whiteout:
                path = _split_whiteout(entry)
                node = below.get(path)
                # dive sizes a removed folder by what it held, a removed file as 0 (and a
                # folder no entry named, only implied by its contents, as a file).
                folder = node is not None and node.kind == "dossier" and node.explicit
                size = node.total() if node is not None and folder else 0
            else:
                path, size = entry.path, entry.size
            cumulative[path] = cumulative.get(path, 0) + size
            smallest[path] = min(smallest.get(path, size), size)
            seen_in.setdefault(path, []).append(position)
        _layer_changes(below, layer)
    total = sum(cumulative.values())
    score = sum(smallest.values()) / total if total else 1.0
    paths = sorted(
        (
            WastedPath(path, tuple(found), cumulative[path])
            for path, found in seen_in.items()
            if len(found) > 1
        ),
        key=lambda item: (-item.cumulative_size, item.path),
    )
    return Efficiency(
        score=score,
        wasted=sum(item.cumulative_size for item in paths),
        image_size=sum(sizes),
        user_size=sum(sizes[1:]),
        paths=tuple(paths),
    )


# -- the whole image -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageFiles:
    """Every layer of an image with its files, and the image's efficiency."""

    image: str
    where: str
    layers: tuple[LayerFiles, ...]
    efficiency: Efficiency

    def layer(self, position: int) -> LayerFiles:
        """Layer ``position`` (1 = the bottom one)."""
        return self.layers[position - 1]

    def rows(self) -> list[list[str]]:
        return [
            [
                str(layer.position),
                layer.instruction,
                short_digest(layer.diff_id),
                format_size(layer.size),
                str(len(layer.added)),
                str(len(layer.changed)),
                str(len(layer.removed)),
            ]
            for layer in self.layers
        ]

    _HEADERS = ("couche", "instruction", "diffID", "taille", "ajouts", "modifs", "suppr.")

    def _title(self) -> str:
        return f"Fichiers par couche de {self.image} ({self.where})"

    def __str__(self) -> str:
        table = text_table(self._HEADERS, self.rows())
        return f"{self._title()}\n{table}\n\n{self.efficiency}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = html_table(self._HEADERS, self.rows(), caption=self._title())
        return table + self.efficiency._repr_html_()


def compare_layers(
    image: str, where: str, layers: Sequence[LayerTar], sizes: Sequence[int] | None = None
) -> ImageFiles:
    """Each layer against the ones below it: added, changed and removed files; efficiency."""
    tree = _Tree()
    result = []
    for position, layer in enumerate(layers, 1):
        changes, opaque = _layer_changes(tree, layer)
        size = sizes[position - 1] if sizes is not None else layer.size
        result.append(
            LayerFiles(
                position=position,
                diff_id=layer.diff_id,
                instruction=layer.instruction,
                size=size,
                tar_size=layer.tar_size,
                entries=layer.entries,
                changes=tuple(changes),
                opaque_dirs=tuple(opaque),
                digest=layer.digest,
                compressed_size=layer.compressed_size,
            )
        )
    return ImageFiles(image, where, tuple(result), efficiency(layers, sizes))
