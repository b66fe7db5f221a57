"""The course's example images, built offline on a lab host from ``registry_lab/dockerfiles/``.

| example | image | what it shows |
| --- | --- | --- |
| ``bonjour`` | ``cours/bonjour:1.0`` | an application on the base: one more layer, reproducible |
| ``au-revoir`` | ``cours/au-revoir:1.0`` | a second image on the same base: its layer is shared |
| ``bonjour-v2`` | ``cours/bonjour:2.0`` | version 2.0 on top of 1.0: one new layer, reproducible |
| ``couches`` | ``cours/couches:1.0`` | several layers; a 10 Mio file added, then deleted |
| ``vingt-couches`` | ``banc/vingt-couches:1.0`` | 20 layers of 10 Mio (the benchmark's image) |

```python
build_example(lab.host_a, "bonjour")      # 'cours/bonjour:1.0' (built unless already there)
print(dockerfile("couches"))              # the Dockerfile, as a learner reads it
```

Files copied into an image are dated 1970 and owned by root, so the ``COPY`` layers of
``bonjour`` and ``au-revoir`` have the same diffID on every host and every run; ``RUN``
layers (``couches``) differ from one build to the next (dates, random bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DaemonError
from .images import build_image, ensure_base_image

if TYPE_CHECKING:
    from .hosts import DockerHost

__all__ = ["EXAMPLES", "Example", "build_example", "dockerfile"]


@dataclass(frozen=True)
class Example:
    """One example image: its Dockerfile folder, its tag and the files its ``COPY`` takes."""

    folder: str
    tag: str
    description: str
    files: Mapping[str, str] = field(default_factory=dict)
    reproducible: bool = False

    @property
    def repository(self) -> str:
        return self.tag.rsplit(":", 1)[0]

    @property
    def version(self) -> str:
        return self.tag.rsplit(":", 1)[1]

    def path(self, name: str) -> Path:
        """A file of the example's folder, on disk."""
        return Path(str(resources.files("registry_lab") / "dockerfiles" / self.folder / name))

    def context_files(self) -> dict[str, Path]:
        """The build context's ``rootfs/…`` entries: path in the image → file of the folder."""
        return {f"rootfs/{target}": self.path(source) for target, source in self.files.items()}


EXAMPLES: dict[str, Example] = {
    example.folder: example
    for example in (
        Example(
            "bonjour",
            "cours/bonjour:1.0",
            "une petite application sur lab/busybox (une couche COPY de plus)",
            {
                "usr/local/bin/bonjour": "bonjour.sh",
                "srv/bonjour/message.txt": "message.txt",
                "srv/bonjour/LISEZMOI.txt": "LISEZMOI.txt",
            },
            reproducible=True,
        ),
        Example(
            "au-revoir",
            "cours/au-revoir:1.0",
            "une autre application sur la même base que cours/bonjour",
            {"usr/local/bin/au-revoir": "au-revoir.sh", "srv/au-revoir/message.txt": "message.txt"},
            reproducible=True,
        ),
        Example(
            "bonjour-v2",
            "cours/bonjour:2.0",
            "la version 2.0 de cours/bonjour, construite sur la 1.0 (une seule couche de plus)",
            {"srv/bonjour/message.txt": "message.txt", "srv/bonjour/NOTES.txt": "NOTES.txt"},
            reproducible=True,
        ),
        Example(
            "couches",
            "cours/couches:1.0",
            "plusieurs couches ; un fichier de 10 Mio ajouté puis supprimé",
            {"srv/couches/journal.txt": "journal.txt"},
        ),
        Example(
            "vingt-couches",
            "banc/vingt-couches:1.0",
            "20 couches de 10 Mio d'octets aléatoires (banc d'essai)",
        ),
    )
}


def _example(name: str) -> Example:
    try:
        return EXAMPLES[name]
    except KeyError:
        raise DaemonError(
            f"Aucun exemple ne s'appelle « {name} ».",
            f"exemples du cours : {', '.join(sorted(EXAMPLES))}.",
        ) from None


def dockerfile(name: str) -> str:
    """The Dockerfile of an example, as it is in the repository."""
    return _example(name).path("Dockerfile").read_text()


def build_example(host: DockerHost, name: str, *, rebuild: bool = False) -> str:
    """Build example ``name`` on ``host`` (offline, ``FROM lab/busybox``); return its tag.

    An image already there is kept unless ``rebuild`` is true; the base image is built first
    when the host lacks it.
    """
    example = _example(name)
    ensure_base_image(host)
    if name == "bonjour-v2":  # built on version 1.0, which must be there first
        build_example(host, "bonjour", rebuild=rebuild)
    if not rebuild and host.find_image(example.tag) is not None:
        return example.tag
    build_image(host, example.folder, example.tag, example.context_files())
    return example.tag
