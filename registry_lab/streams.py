"""Read-only byte streams for `tarfile`'s stream mode: chunks, hashing, gunzip, a worker thread.

A layer is read as it arrives — from the daemon (``docker save``) or from the registry (a
gzipped blob) — and never written to disk. These small file-like objects chain together:

```python
raw = ChunkReader(client.api.get_image("cours/app:1.0"))      # chunks → read(n)
compressed = HashingReader(blob_stream)                         # sha256 of what goes through
tar = tarfile.open(fileobj=HashingReader(GunzipReader(compressed)), mode="r|")
```
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

__all__ = ["ChunkReader", "GunzipReader", "HashingReader", "Readable"]


class Readable(Protocol):
    """Anything with ``read(size)`` returning bytes (b"" at the end)."""

    def read(self, size: int = -1, /) -> bytes: ...


class ChunkReader:
    """``read(n)`` over an iterator of byte chunks (an HTTP body, the Docker SDK's streams)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._offset = 0
        self._done = False

    def _fill(self) -> bool:
        while not self._done:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._done = True
                return False
            if chunk:
                self._buffer, self._offset = chunk, 0
                return True
        return False

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer[self._offset :]]
            self._buffer, self._offset = b"", 0
            parts.extend(self._chunks)
            self._done = True
            return b"".join(parts)
        parts = []
        wanted = size
        while wanted > 0:
            if self._offset >= len(self._buffer) and not self._fill():
                break
            piece = self._buffer[self._offset : self._offset + wanted]
            self._offset += len(piece)
            wanted -= len(piece)
            parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)


class HashingReader:
    """Pass bytes through and hash them: ``digest`` is ``sha256:…`` of everything read."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._source.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    def drain(self, block: int = 1 << 20) -> None:
        """Read (and hash) whatever is left: a tar's padding after its end marker."""
        while self.read(block):
            pass

    @property
    def digest(self) -> str:
        return f"sha256:{self._hash.hexdigest()}"


def _inflate(source: Readable, block: int) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream, chunk by chunk (several members allowed)."""
    inflate = zlib.decompressobj(wbits=31)
    limit = block * 16  # a run of zeros inflates a lot: keep each chunk bounded
    while compressed := source.read(block):
        while compressed:
            yield inflate.decompress(compressed, limit)
            if inflate.eof:
                # Anything after the end of a gzip member is the next member (the format
                # allows several).
                compressed = inflate.unused_data
                if compressed:
                    inflate = zlib.decompressobj(wbits=31)
            else:
                compressed = inflate.unconsumed_tail
    yield inflate.flush()


class GunzipReader(ChunkReader):
    """Decompress a gzip stream on the fly (a layer blob of the registry)."""

    def __init__(self, source: Readable, block: int = 1 << 16) -> None:
        super().__init__(_inflate(source, block))
