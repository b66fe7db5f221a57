"""Check content against the digest it is named by, and say so in French when it differs.

A registry names every blob and manifest by the hash of its bytes (``sha256:…``): the client
hashes what it reads as it passes (`Hashed`) and raises `DigestMismatchError` (`mismatch`)
when the bytes are not the ones named.

```python
data = Hashed(response.iter_bytes(), "sha256:…")
for chunk in data: ...
if data.digest != expected: raise mismatch("Blob … altéré", expected, data.digest, hint)
```
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import DigestMismatchError

__all__ = ["Hashed", "digest_of", "mismatch"]


def _hasher(digest: str) -> Any:
    """A hasher of the algorithm ``digest`` names (``sha256:…``, ``sha512:…``); sha256 else."""
    algorithm = digest.partition(":")[0] or "sha256"
    try:
        return hashlib.new(algorithm)
    except ValueError:
        return hashlib.sha256()


class Hashed:
    """Chunks passing through, hashed (with the algorithm of ``like``) and counted."""

    def __init__(self, chunks: Iterable[bytes], like: str = "sha256:") -> None:
        self._chunks = chunks
        self._hasher = _hasher(like)
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._hasher.update(chunk)
            self.size += len(chunk)
            yield chunk

    @property
    def digest(self) -> str:
        """``algorithm:hex`` of what went through so far."""
        return f"{self._hasher.name}:{self._hasher.hexdigest()}"


def digest_of(data: bytes, like: str = "sha256:") -> str:
    """The digest of ``data`` with the algorithm of ``like``: ``sha256:<hex>`` by default."""
    hasher = _hasher(like)
    hasher.update(data)
    return f"{hasher.name}:{hasher.hexdigest()}"


def mismatch(what: str, expected: str, actual: str, hint: str) -> DigestMismatchError:
    """The French error for content whose digest is not the one expected."""
    return DigestMismatchError(
        f"{what} : l'empreinte attendue est {expected} mais le contenu reçu hache vers {actual}.",
        hint,
        expected=expected,
        actual=actual,
    )
