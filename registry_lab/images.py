"""The lab's offline images: built on a lab host from the repo's Dockerfiles, never pulled."""

from __future__ import annotations

import io
import subprocess
import tarfile
from importlib import resources
from pathlib import Path
from typing import Literal

from .errors import ImageBuildError, MissingBinaryError
from .hosts import DockerHost
from .processes import find_binary

__all__ = [
    "BASE_IMAGE",
    "REGISTRY_IMAGE",
    "build_image",
    "ensure_base_image",
    "ensure_registry_image",
    "is_static_elf",
    "shared_libraries",
]

#: The lab's base image: ``FROM scratch`` + Debian's static busybox.
BASE_IMAGE = "lab/busybox:latest"

#: The registry as a container image, built from the Debian binary (like ``registry:2``).
REGISTRY_IMAGE = "lab/registry:2"

_PT_INTERP = 3


def is_static_elf(path: Path) -> bool:
    """True when ``path`` is an ELF program that needs no dynamic loader (no ``PT_INTERP``)."""
    data = path.read_bytes()[:65536]
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return False
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[32:40], order)
    phentsize = int.from_bytes(data[54:56], order)
    phnum = int.from_bytes(data[56:58], order)
    for index in range(phnum):
        start = phoff + index * phentsize
        if int.from_bytes(data[start : start + 4], order) == _PT_INTERP:
            return False
    return True


def static_busybox() -> Path:
    """The static busybox of the Debian package ``busybox-static``."""
    path = Path(find_binary("busybox")).resolve()
    if not is_static_elf(path):
        raise MissingBinaryError(
            f"Le busybox trouvé ({path}) n'est pas statique : il ne tourne pas dans une image "
            "FROM scratch.",
            "installez la version statique : apt-get install -y busybox-static",
            binary="busybox",
            package="busybox-static",
        )
    return path


def _context(dockerfile_dir: str, extra: dict[str, Path]) -> io.BytesIO:
    """A build context as a tar: the packaged Dockerfile folder plus ``extra`` files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = resources.files("registry_lab") / "dockerfiles" / dockerfile_dir
        for entry in sorted(folder.iterdir(), key=lambda item: item.name):
            content = entry.read_bytes()
            info = tarfile.TarInfo(entry.name)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
        for name, path in sorted(extra.items()):
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(path, "rb") as source:
                tar.addfile(info, source)
    buffer.seek(0)
    return buffer


def build_image(host: DockerHost, dockerfile_dir: str, tag: str, extra: dict[str, Path]) -> str:
    """Build a packaged Dockerfile on ``host``; return the image id. Never pulls anything."""
    context = _context(dockerfile_dir, extra)
    output: list[str] = []
    image_id = ""
    for event in host.client.api.build(
        fileobj=context, custom_context=True, tag=tag, rm=True, pull=False, decode=True
    ):
        if "stream" in event:
            output.append(event["stream"])
        if "aux" in event:
            image_id = event["aux"].get("ID", image_id)
        if "error" in event:
            raise ImageBuildError(
                f"La construction de {tag} sur l'{host.label} a échoué :\n"
                f"{''.join(output)}{event['error']}",
                "vérifiez le Dockerfile ; l'image doit partir de « scratch » "
                "ou d'une image du labo.",
            )
    return image_id


def ensure_base_image(host: DockerHost) -> str:
    """Build ``lab/busybox`` on ``host`` unless it is already there; return its id."""
    import docker.errors

    try:
        return str(host.client.images.get(BASE_IMAGE).id)
    except docker.errors.ImageNotFound:
        return build_image(host, "busybox", BASE_IMAGE, {"busybox": static_busybox()})


def shared_libraries(program: Path) -> list[Path]:
    """The shared libraries ``program`` loads (its loader included), as ``ldd`` lists them."""
    out = subprocess.run(["ldd", str(program)], capture_output=True, text=True, check=False)
    libraries = []
    for line in out.stdout.splitlines():
        words = line.split()
        path = words[2] if "=>" in words and len(words) > 2 else words[0] if words else ""
        if path.startswith("/"):
            libraries.append(Path(path))
    return libraries


def ensure_registry_image(host: DockerHost) -> str:
    """Build ``lab/registry:2`` on ``host`` (FROM scratch: the Debian binary and its libraries)."""
    import docker.errors

    try:
        return str(host.client.images.get(REGISTRY_IMAGE).id)
    except docker.errors.ImageNotFound:
        pass
    program = Path(find_binary("docker-registry"))
    files = {"rootfs/bin/registry": program.resolve()}
    for library in shared_libraries(program):
        files[f"rootfs{library}"] = library.resolve()
    return build_image(host, "registry", REGISTRY_IMAGE, files)
