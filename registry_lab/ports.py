"""TCP ports on 127.0.0.1: is one free, and which process holds it when it is not."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path

__all__ = ["free_port", "port_holder", "port_is_free"]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (chosen by the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def port_holder(port: int) -> tuple[int, str] | None:
    """``(pid, command)`` of the process listening on TCP ``port``, when it can be found."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(entry / "fd"):
                if os.readlink(entry / "fd" / fd) in targets:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    return int(entry.name), cmdline.decode(errors="replace").strip()
    return None
