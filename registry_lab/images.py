"""The lab's offline images: built on a lab host from the repo's Dockerfiles, never pulled."""

from __future__ import annotations

import io
import os
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
    "busybox_applets",
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


def _entry(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644) -> tarfile.TarInfo:
    """A tar entry owned by root, dated 1970: the same bytes on every machine and every run."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, 0
    return info


def _context(
    dockerfile_dir: str, files: dict[str, Path], symlinks: dict[str, str] | None = None
) -> io.BytesIO:
    """A reproducible build context: the packaged Dockerfile folder, ``files`` and ``symlinks``.

    Every entry (parent folders included) has fixed owner, mode and date, so a ``COPY`` of
    it gives a layer with the same diffID on every host: the layer is content-addressed.
    """
    symlinks = symlinks or {}
    folders = sorted(
        {str(parent) for name in (*files, *symlinks) for parent in Path(name).parents} - {"."}
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        packaged = resources.files("registry_lab") / "dockerfiles" / dockerfile_dir
        for item in sorted(packaged.iterdir(), key=lambda item: item.name):
            content = item.read_bytes()
            info = _entry(item.name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for folder in folders:
            tar.addfile(_entry(folder, tarfile.DIRTYPE, 0o755))
        for name, path in sorted(files.items()):
            content = path.read_bytes()
            info = _entry(name, mode=0o755 if os.access(path, os.X_OK) else 0o644)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for name, target in sorted(symlinks.items()):
            info = _entry(name, tarfile.SYMTYPE, 0o777)
            info.linkname = target
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def build_image(
    host: DockerHost,
    dockerfile_dir: str,
    tag: str,
    files: dict[str, Path],
    symlinks: dict[str, str] | None = None,
) -> str:
    """Build a packaged Dockerfile on ``host``; return the image id. Never pulls anything."""
    context = _context(dockerfile_dir, files, symlinks)
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


def busybox_applets(busybox: Path) -> dict[str, str]:
    """The links ``busybox --install -s /bin`` would make: ``rootfs/bin/<applet>`` → busybox."""
    listing = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return {
        f"rootfs/bin/{applet}": "/bin/busybox"
        for applet in listing.stdout.split()
        if applet != "busybox"
    }


def ensure_base_image(host: DockerHost) -> str:
    """Build ``lab/busybox`` on ``host`` unless it is already there; return its id."""
    found = host.find_image(BASE_IMAGE)
    if found is not None:
        return str(found.id)
    busybox = static_busybox()
    return build_image(
        host, "busybox", BASE_IMAGE, {"rootfs/bin/busybox": busybox}, busybox_applets(busybox)
    )


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
    found = host.find_image(REGISTRY_IMAGE)
    if found is not None:
        return str(found.id)
    program = Path(find_binary("docker-registry"))
    files = {"rootfs/bin/registry": program.resolve()}
    for library in shared_libraries(program):
        files[f"rootfs{library}"] = library.resolve()
    return build_image(host, "registry", REGISTRY_IMAGE, files)
