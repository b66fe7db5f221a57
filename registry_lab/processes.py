"""Processes the lab starts: spawn detached, find by pid file, stop by pid, read logs.

The lab only ever signals a pid it can prove is its own: the pid comes from one of its
pid files, or its command line names the lab's state folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import MissingBinaryError

__all__ = [
    "BINARY_PACKAGES",
    "STANDARD_BIN_DIRS",
    "find_binary",
    "is_alive",
    "live_pid",
    "log_tail",
    "pids_mentioning",
    "process_state",
    "read_pid",
    "remove_file",
    "spawn",
    "stop_pid",
]

#: The states of a process the lab starts, as ``status`` shows them.
RUNNING = "en marche"
STOPPED = "arrêté"
CRASHED = "arrêté anormalement"

#: Which Debian package installs each program the lab needs.
BINARY_PACKAGES: dict[str, str] = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "containerd": "containerd",
    "runc": "runc",
    "docker-registry": "docker-registry",
    "busybox": "busybox-static",
    "dot": "graphviz",
    "skopeo": "skopeo",
    "ip": "iproute2",
    "unshare": "util-linux",
    "nginx": "nginx",
}

#: Where Debian puts programs; looked at when PATH misses one, to give a better hint.
STANDARD_BIN_DIRS: tuple[str, ...] = (
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
)


def find_binary(name: str) -> str:
    """Return the path of program ``name`` on PATH, or raise a French `MissingBinaryError`."""
    found = shutil.which(name)
    if found:
        return found
    package = BINARY_PACKAGES.get(name, name)
    elsewhere = shutil.which(name, path=os.pathsep.join(STANDARD_BIN_DIRS))
    if elsewhere:
        folder = os.path.dirname(elsewhere)
        raise MissingBinaryError(
            f"Le programme « {name} » est installé ({elsewhere}) mais absent du PATH.",
            f'ajoutez {folder} au PATH, par exemple : export PATH="$PATH:{folder}"',
            binary=name,
            package=package,
        )
    raise MissingBinaryError(
        f"Le programme « {name} » est introuvable : le paquet Debian « {package} » "
        "n'est pas installé.",
        f"installez-le : apt-get install -y {package} (ou lancez « make lab », qui le fait)",
        binary=name,
        package=package,
    )


def remove_file(path: Path) -> None:
    """Remove a pid file or socket if it is there (a broken state folder is not an error)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        path.unlink()


def read_pid(pidfile: Path) -> int | None:
    """The pid written in ``pidfile``, or None when the file is absent or unreadable."""
    try:
        text = pidfile.read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return int(text) if text.isdigit() else None


def process_state(pid: int | None, pidfile: Path) -> str:
    """``en marche`` with a live ``pid``; else ``arrêté``, or ``arrêté anormalement`` when the
    pid file outlived its process (a crash)."""
    if pid is not None:
        return RUNNING
    return CRASHED if pidfile.exists() else STOPPED


def live_pid(pidfile: Path, marker: str) -> int | None:
    """The pid in ``pidfile`` when that process runs and its command line names ``marker``."""
    pid = read_pid(pidfile)
    return pid if is_alive(pid, marker) else None


def _reap(pid: int) -> None:
    """Collect ``pid`` if it is a dead child of this process (so it is not a zombie)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def is_alive(pid: int | None, marker: str | None = None) -> bool:
    """True when ``pid`` runs (not a zombie) and its command line contains ``marker``."""
    if not pid or pid <= 0:
        return False
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in ("Z", "X"):
        return False
    return marker is None or marker in _cmdline(pid)


def pids_mentioning(text: str) -> list[int]:
    """Pids of the live processes whose command line contains ``text`` (sorted)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            pid = int(entry.name)
            if text in _cmdline(pid) and is_alive(pid):
                pids.append(pid)
    return sorted(pids)


def spawn(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` detached from this process (own session), output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    return proc.pid


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """Send SIGTERM to ``pid``, wait for it to end, SIGKILL it after ``timeout`` seconds."""
    if not is_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while is_alive(pid):
        time.sleep(0.02)


def log_tail(log: Path, lines: int = 12) -> str:
    """The last ``lines`` lines of a log file (empty when there is none)."""
    try:
        content = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(content.rstrip().splitlines()[-lines:])
