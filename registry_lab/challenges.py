"""Parse ``WWW-Authenticate`` challenges (RFC 7235 grammar), with no I/O.

A registry that wants credentials answers ``401`` with one or more challenges: ``Basic
realm="…"`` or ``Bearer realm="…",service="…",scope="…"``. `RegistryAuth` answers them;
`registry_lab.api_errors` reads them to tell « demande une connexion » from « accès refusé ».

```python
pick_challenge(response.headers.get_list("www-authenticate"))   # Bearer first, else Basic
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Challenge",
    "normal_scopes",
    "parse_challenge",
    "parse_challenges",
    "pick_challenge",
]


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: its scheme and its parameters.

    Parameter names are lower case; ``scheme`` is kept as the server wrote it (compare it
    with `is_basic` / `is_bearer`, which ignore case).
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_basic(self) -> bool:
        return self.scheme.lower() == "basic"

    @property
    def is_bearer(self) -> bool:
        return self.scheme.lower() == "bearer"

    @property
    def realm(self) -> str | None:
        """For Bearer, the URL of the token service; for Basic, a name shown to people."""
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        """The scope parameter as written: scopes separated by spaces."""
        return self.params.get("scope")

    @property
    def scopes(self) -> tuple[str, ...]:
        """Each scope (``repository:equipe/app:pull,push``, ``registry:catalog:*``…)."""
        return tuple((self.scope or "").split())

    @property
    def error(self) -> str | None:
        """``invalid_token``, ``insufficient_scope``… when the server says why."""
        return self.params.get("error")


_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_TOKEN = re.compile(rf"{_TCHAR}+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=\s*(?:,|$))")
_UNQUOTED = re.compile(r"[^,\s]*")


def _skip_spaces(header: str, index: int) -> int:
    while index < len(header) and header[index] in " \t":
        index += 1
    return index


def _quoted(header: str, start: int) -> tuple[str, int]:
    """The quoted string that opens at ``header[start]`` (a ``"``), unescaped; and its end."""
    chars: list[str] = []
    index = start + 1
    while index < len(header):
        char = header[index]
        if char == "\\" and index + 1 < len(header):
            chars.append(header[index + 1])
            index += 2
        elif char == '"':
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise ValueError(f"WWW-Authenticate : guillemet non fermé (ouvert en position {start})")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge of a ``WWW-Authenticate`` header, in order (RFC 7235 grammar).

    Quoted values may hold commas, spaces and ``\\"``; unquoted values are read up to the next
    comma. A ``token68`` after a scheme (``Negotiate abc==``) is skipped. Raise `ValueError`
    on a header that cannot be read.
    """
    challenges: list[Challenge] = []
    current: Challenge | None = None
    index, end = 0, len(header)
    while True:
        while index < end and header[index] in " \t,":
            index += 1
        if index >= end:
            break
        name = _TOKEN.match(header, index)
        if name is None:
            raise ValueError(
                f"WWW-Authenticate : caractère inattendu {header[index]!r} en position {index}"
            )
        after = _skip_spaces(header, name.end())
        if current is not None and after < end and header[after] == "=":
            index = _skip_spaces(header, after + 1)
            if index < end and header[index] == '"':
                value, index = _quoted(header, index)
            else:
                unquoted = _UNQUOTED.match(header, index)
                assert unquoted is not None
                value, index = unquoted.group(), unquoted.end()
            current.params.setdefault(name.group().lower(), value)
            continue
        current = Challenge(name.group(), {})
        challenges.append(current)
        index = after
        token68 = _TOKEN68.match(header, index) if index > name.end() else None
        if token68 is not None:
            index = token68.end()
    if not challenges:
        raise ValueError("WWW-Authenticate : en-tête vide")
    return challenges


def parse_challenge(header: str) -> Challenge:
    """The first challenge of a ``WWW-Authenticate`` header (see `parse_challenges`).

    ```python
    >>> parse_challenge('Bearer realm="http://t/token",scope="repository:a/b:pull,push"').scopes
    ('repository:a/b:pull,push',)
    ```
    """
    return parse_challenges(header)[0]


def pick_challenge(headers: Iterable[str]) -> Challenge | None:
    """The challenge to answer: the first Bearer one, else the first Basic one."""
    found: list[Challenge] = []
    for header in headers:
        try:
            found.extend(parse_challenges(header))
        except ValueError:
            continue
    bearer = (challenge for challenge in found if challenge.is_bearer)
    basic = (challenge for challenge in found if challenge.is_basic)
    return next(bearer, None) or next(basic, None)


def _normal_scope(scope: str) -> str:
    """``repository:a/b:push,pull`` → ``repository:a/b:pull,push``.

    Distribution writes the actions of a scope in no fixed order (they come from a Go map):
    the same need must give the same cache key.
    """
    resource, colon, actions = scope.rpartition(":")
    if not colon:
        return scope
    return f"{resource}:{','.join(sorted(set(actions.split(','))))}"


def normal_scopes(challenge: Challenge) -> tuple[str, ...]:
    """The challenge's scopes, each with its actions sorted, without repeats, sorted."""
    return tuple(sorted({_normal_scope(scope) for scope in challenge.scopes}))
