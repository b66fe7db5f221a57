"""The registry's disk, read as the API's objects (the filesystem driver of Distribution 2.x).

```text
<rootdirectory>/docker/registry/v2/
├── blobs/sha256/<2 hex>/<64 hex>/data          every blob once: layers, configs, manifests
└── repositories/<name>/
    ├── _layers/sha256/<hex>/link                 « this repository may serve this blob »
    ├── _manifests/revisions/sha256/<hex>/link    a manifest of the repository (GET by digest)
    ├── _manifests/tags/<tag>/current/link        what the tag points to now
    ├── _manifests/tags/<tag>/index/sha256/…      where the tag has pointed (its history)
    └── _uploads/<uuid>/                          uploads under way
```

A ``link`` file holds one digest. Deleting a manifest through the API only removes links
(its revision's link, the tags that point to it): the blobs stay until the garbage collector
sweeps them, and the repository's folder stays, so the catalog still lists it.

```python
tree = read_storage(lab.registry.storage)
print(tree)                                  # one line per repository: tags, manifests, blobs
plan = plan_sweep(tree)                      # what « garbage-collect » will free, predicted
```
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .french import format_number, format_size, plural
from .manifests import short_digest
from .tables import text_table

__all__ = [
    "V2",
    "StorageTree",
    "StoredRepository",
    "SweepPlan",
    "blob_path",
    "disk_usage",
    "plan_sweep",
    "read_storage",
]

#: Where Distribution's filesystem driver keeps everything, under ``rootdirectory``.
V2 = Path("docker/registry/v2")


def _read_link(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _scandir(path: str) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(path), key=lambda entry: entry.name)
    except OSError:
        return []


def blob_path(root: Path, digest: str) -> Path:
    """The file that holds a blob's bytes: ``blobs/sha256/<2 hex>/<hex>/data``."""
    algorithm, _, hexa = digest.partition(":")
    return root / V2 / "blobs" / algorithm / hexa[:2] / hexa / "data"


def disk_usage(root: Path) -> int:
    """Bytes of every file under ``root`` (their sizes, as ``du --apparent-size -b`` adds up)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


@dataclass(frozen=True)
class StoredRepository:
    """One folder of ``repositories/``: what its links say."""

    name: str
    tags: Mapping[str, str]  # tag → manifest digest (``current/link``)
    revisions: tuple[str, ...]  # manifests with a revision link (sorted)
    deleted: tuple[str, ...]  # revision folders whose link is gone: manifests deleted
    layers: tuple[str, ...]  # blobs linked in ``_layers`` (sorted)
    uploads: int  # uploads under way in ``_uploads``

    @property
    def untagged(self) -> tuple[str, ...]:
        """Manifests no tag points to now (``--delete-untagged`` removes them)."""
        tagged = set(self.tags.values())
        return tuple(digest for digest in self.revisions if digest not in tagged)

    @property
    def in_catalog_without_tags(self) -> bool:
        """True for a repository emptied of its tags: ``_catalog`` still lists it."""
        return not self.tags

    def explain(self) -> str:
        """Why ``_catalog`` lists this repository, in French."""
        if self.tags:
            return f"{self.name} : {plural(len(self.tags), 'tag')}, il figure au catalogue."
        return (
            f"{self.name} : aucun tag, mais le catalogue le liste encore. Le catalogue parcourt "
            "les dossiers de repositories/ ; supprimer un manifeste retire des fichiers link, "
            "jamais le dossier du dépôt, et le ramasse-miettes ne l'efface pas non plus."
        )


@dataclass(frozen=True)
class StorageTree:
    """The storage folder of a registry, read once: repositories (links) and blobs (sizes)."""

    root: Path
    repositories: tuple[StoredRepository, ...]
    blobs: Mapping[str, int]  # digest → size of its ``data`` file
    manifests: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # digest → refs

    @property
    def total_bytes(self) -> int:
        return sum(self.blobs.values())

    def repository(self, name: str) -> StoredRepository:
        for repository in self.repositories:
            if repository.name == name:
                return repository
        raise KeyError(name)

    def references(self, digest: str) -> tuple[str, ...]:
        """The blobs a stored manifest names (config and layers, or an index's manifests)."""
        found = self.manifests.get(digest)
        if found is None:
            found = _references(self.root, digest)
            if isinstance(self.manifests, dict):
                self.manifests[digest] = found
        return found

    def rows(self) -> list[list[str]]:
        return [
            [
                repo.name,
                ", ".join(sorted(repo.tags)) or "(aucun)",
                str(len(repo.revisions)),
                str(len(repo.deleted)),
                str(len(repo.layers)),
            ]
            for repo in self.repositories
        ]

    def __str__(self) -> str:
        headers = ("dépôt", "tags", "manifestes", "supprimés", "blobs liés")
        size = format_size(self.total_bytes)
        return (
            f"{text_table(headers, self.rows())}\n\n{plural(len(self.blobs), 'blob')} sous "
            f"blobs/sha256 : {size}."
        )


def _references(root: Path, digest: str) -> tuple[str, ...]:
    """What the garbage collector marks from a manifest: its config and layers (or manifests)."""
    try:
        algorithm, _, hexa = digest.partition(":")
        with open(f"{root}/{V2}/blobs/{algorithm}/{hexa[:2]}/{hexa}/data", "rb") as handle:
            document = json.loads(handle.read())
    except (OSError, ValueError):
        return ()
    if not isinstance(document, dict):
        return ()
    refs: list[str] = []
    config = document.get("config")
    if isinstance(config, dict) and config.get("digest"):
        refs.append(str(config["digest"]))
    for key in ("layers", "manifests", "fsLayers"):
        for item in document.get(key) or ():
            if isinstance(item, dict):
                ref = item.get("digest") or item.get("blobSum")
                if ref:
                    refs.append(str(ref))
    return tuple(refs)


def _links(folder: str) -> tuple[list[str], list[str]]:
    """The digests of ``<folder>/sha256/<hex>/link`` files, and the hex folders without link.

    A link holds ``sha256:<hex>``, the name of its folder: its presence is what counts.
    """
    linked: list[str] = []
    unlinked: list[str] = []
    for algorithm in _scandir(folder):
        for entry in _scandir(algorithm.path):
            digest = f"{algorithm.name}:{entry.name}"
            (linked if os.path.isfile(entry.path + "/link") else unlinked).append(digest)
    return linked, unlinked


def _read_repository(name: str, path: str) -> StoredRepository:
    manifests = path + "/_manifests"
    revisions, deleted = _links(manifests + "/revisions")
    layers, _ = _links(path + "/_layers")
    tags = {}
    for tag in _scandir(manifests + "/tags"):
        digest = _read_link(tag.path + "/current/link")
        if digest:
            tags[tag.name] = digest
    uploads = len(_scandir(path + "/_uploads"))
    return StoredRepository(
        name, tags, tuple(sorted(revisions)), tuple(sorted(deleted)), tuple(sorted(layers)), uploads
    )


def _repository_folders(base: str, prefix: str = "") -> Iterable[tuple[str, str]]:
    """Every repository folder (one holding ``_manifests``), with its name, in sorted order."""
    children = _scandir(base)
    if any(child.name == "_manifests" for child in children):
        yield prefix.rstrip("/"), base
    for child in children:
        if child.is_dir() and not child.name.startswith("_"):
            yield from _repository_folders(child.path, f"{prefix}{child.name}/")


def read_storage(root: str | Path) -> StorageTree:
    """Read a registry's storage folder (its ``rootdirectory``): repositories and blobs."""
    root = Path(root)
    repositories = tuple(
        _read_repository(name, path)
        for name, path in _repository_folders(str(root / V2 / "repositories"))
    )
    blobs: dict[str, int] = {}
    for algorithm in _scandir(str(root / V2 / "blobs")):
        for prefix in _scandir(algorithm.path):
            for entry in _scandir(prefix.path):
                try:
                    blobs[f"{algorithm.name}:{entry.name}"] = os.stat(
                        os.path.join(entry.path, "data")
                    ).st_size
                except OSError:
                    continue
    return StorageTree(root, repositories, blobs, {})


@dataclass(frozen=True)
class SweepPlan:
    """What ``docker-registry garbage-collect`` will do, predicted from the storage tree.

    Mark: every manifest with a revision link (only the tagged ones with
    ``delete_untagged``), and every blob such a manifest names. Sweep: every blob of
    ``blobs/`` left unmarked, whoever uploaded it.
    """

    marked: frozenset[str]
    swept_blobs: tuple[str, ...]  # sorted
    swept_manifests: tuple[tuple[str, str], ...]  # (repository, digest), untagged ones
    sizes: Mapping[str, int]
    delete_untagged: bool = False

    @property
    def bytes_freed(self) -> int:
        return sum(self.sizes.get(digest, 0) for digest in self.swept_blobs)

    def __str__(self) -> str:
        lines = [
            f"Marquage : {plural(len(self.marked), 'blob')} gardés. Balayage : "
            f"{plural(len(self.swept_blobs), 'blob')} à libérer "
            f"({format_number(self.bytes_freed)} octets)"
            + (
                f", {plural(len(self.swept_manifests), 'manifeste')} sans tag à supprimer."
                if self.delete_untagged
                else "."
            )
        ]
        lines += [f"  à libérer : {short_digest(d)} ({self.sizes[d]} o)" for d in self.swept_blobs]
        return "\n".join(lines)


def plan_sweep(tree: StorageTree, *, delete_untagged: bool = False) -> SweepPlan:
    """Mark and sweep on paper: what the garbage collector will free, before it runs."""
    marked: set[str] = set()
    swept_manifests: list[tuple[str, str]] = []
    for repository in tree.repositories:
        untagged = set(repository.untagged) if delete_untagged else set()
        for digest in repository.revisions:
            if digest in untagged:
                swept_manifests.append((repository.name, digest))
                continue
            marked.add(digest)
            marked.update(tree.references(digest))
    swept = tuple(sorted(digest for digest in tree.blobs if digest not in marked))
    return SweepPlan(
        frozenset(marked), swept, tuple(swept_manifests), dict(tree.blobs), delete_untagged
    )
