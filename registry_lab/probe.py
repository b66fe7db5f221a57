"""Cheap health probes: one HTTP GET over a unix socket or TCP, with the standard library.

Used while waiting for a daemon to start, many times a second: no TLS context, no pool.
"""

from __future__ import annotations

import http.client
import socket

__all__ = ["http_status"]


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def http_status(
    path: str, *, unix_socket: str | None = None, port: int = 80, timeout: float = 1.0
) -> int | None:
    """Status code of ``GET path`` on a unix socket or on 127.0.0.1:port; None if unreachable."""
    connection: http.client.HTTPConnection
    if unix_socket is not None:
        connection = _UnixHTTPConnection(unix_socket, timeout)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
