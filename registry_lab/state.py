"""The lab's state folder: where it is, its settings file, its lock, and its mounts."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import StateDirError, describe_os_error

__all__ = [
    "MAX_SOCKET_PATH",
    "default_home",
    "load_settings",
    "locked",
    "mounts_under",
    "prepare_home",
    "save_settings",
    "unmount_under",
    "write_private",
]


def write_private(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically, the file being ``mode`` (only its owner reads
    it) from its first byte; raises `OSError`, which each caller words in French."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    content = data.encode() if isinstance(data, str) else data
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)  # even if a temporary file was left with another mode
            os.write(fd, content)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


#: A unix socket path must fit in ``sockaddr_un.sun_path`` (108 bytes, NUL included).
MAX_SOCKET_PATH = 107

#: The deepest socket a host creates, relative to the state folder.
_DEEPEST_SOCKET = "hote-a/exec/containerd/containerd.sock.ttrpc"


def default_home() -> Path:
    """``$REGISTRY_LAB_HOME``, else ``~/.local/state/registry-lab``."""
    env = os.environ.get("REGISTRY_LAB_HOME")
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".local" / "state" / "registry-lab"


def prepare_home(home: Path, *, create: bool = True) -> None:
    """Create the state folder and prove it is writable and its socket paths short enough.

    With ``create=False`` (``doctor``), nothing is created: the folder, or the nearest
    existing folder above it, must accept a new file.
    """
    deepest = home / _DEEPEST_SOCKET
    if len(str(deepest).encode()) > MAX_SOCKET_PATH:
        raise StateDirError(
            f"Le dossier d'état {home} est trop profond : les sockets unix du labo y "
            f"dépasseraient {MAX_SOCKET_PATH} octets ({deepest}).",
            "choisissez un chemin plus court, par exemple : "
            "export REGISTRY_LAB_HOME=/tmp/registry-lab",
        )
    try:
        if create:
            home.mkdir(parents=True, exist_ok=True)
        existing = home
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(existing))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise StateDirError(
            f"Le dossier d'état {home} n'est pas accessible en écriture "
            f"({describe_os_error(exc)}).",
            "choisissez un dossier où vous pouvez écrire : "
            "export REGISTRY_LAB_HOME=/chemin/ou/écrire "
            "(ou l'option --home).",
        ) from exc


def load_settings(home: Path) -> dict[str, int]:
    """The settings saved by the last ``up`` (for example the registry's port)."""
    try:
        data = json.loads((home / "lab.json").read_text())
    except (OSError, ValueError):
        return {}
    return {key: value for key, value in data.items() if isinstance(value, int)}


def save_settings(home: Path, settings: dict[str, int]) -> None:
    (home / "lab.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def locked(home: Path) -> Iterator[None]:
    """Hold the state folder's lock: two ``up``/``down`` never run at once."""
    with open(home / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def mounts_under(folder: Path) -> list[str]:
    """Mount points inside ``folder`` (or ``folder`` itself), deepest first."""
    prefix = str(folder)
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_under(folder: Path) -> None:
    """Detach every mount a crashed dockerd left inside ``folder``."""
    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    for point in mounts_under(folder):
        libc.umount2(point.encode(), mnt_detach)
