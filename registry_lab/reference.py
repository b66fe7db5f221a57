"""Image references: Docker's grammar (the distribution ``reference`` package), in Python.

A reference names an image: ``[registre/]dépôt[:tag][@empreinte]``. This module parses and
normalises it exactly as Docker's ``ParseNormalizedNamed`` + ``TagNameOnly`` do, and never does
I/O:

```python
>>> ref = parse_reference("busybox")
>>> str(ref)
'docker.io/library/busybox:latest'
>>> ref.familiar()
'busybox:latest'
>>> parse_reference("localhost:5000/equipe/app:1.2").api_url
'http://localhost:5000'
```

The grammar (from ``distribution/reference``, ``reference.go`` and ``regexp.go``):

```
reference        := name [ ":" tag ] [ "@" digest ]
name             := [domain "/"] path
domain           := host [":" port-number]
host             := domain-name | "[" IPv6address "]"
domain-name      := domain-component ["." domain-component]*
domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
port-number      := /[0-9]+/
path             := path-component ["/" path-component]*     (255 characters at most)
path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
separator        := /[_.]|__|[-]+/
tag              := /[\\w][\\w.-]{0,127}/
digest           := algorithm ":" hex    (sha256: 64, sha384: 96, sha512: 128 lowercase hex)
```

Normalisation (``normalize.go``): the first component before a ``/`` is a registry only if it
contains ``.`` or ``:``, is ``localhost``, or has an uppercase letter; otherwise the registry is
``docker.io``. ``index.docker.io`` becomes ``docker.io``, a one-component repository on
``docker.io`` gets the ``library/`` prefix, and a reference without tag nor digest gets
``latest``. Every broken rule raises :class:`InvalidReferenceError` with a French message that
names the rule and a hint with a valid example.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .errors import InvalidReferenceError
from .manifests import short_digest
from .tables import html_table

__all__ = ["Reference", "parse_reference"]

DEFAULT_REGISTRY = "docker.io"
"""Docker Hub's name in references (``normalize.go``'s ``defaultDomain``)."""

LEGACY_DEFAULT_REGISTRY = "index.docker.io"
"""The old name of Docker Hub ("the Docker Index"), normalised to ``docker.io``."""

DOCKER_HUB_API = "https://registry-1.docker.io"
"""Where Docker Hub's registry API really answers."""

OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
MAX_PATH_LENGTH = 255
MAX_TAG_LENGTH = 128
ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}
"""Digest algorithms Docker knows (go-digest), with the number of hex digits of each."""

# The grammar's pieces, as in regexp.go (ASCII only: Go's \w is [0-9A-Za-z_]).
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?")
_PORT = re.compile(r"[0-9]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_SEPARATORS = re.compile(r"[._-]+")
_VALID_SEPARATOR = re.compile(r"[._]|__|-+")

_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-/")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:")
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_HEX_CHARS = frozenset("0123456789abcdefABCDEF")

_EXAMPLE_DIGEST = "sha256:" + "0123456789abcdef" * 4
_HINT_FULL = (
    "une référence s'écrit [registre/]dépôt[:tag][@empreinte], "
    "par exemple « localhost:5000/equipe/app:1.2 » ou « busybox »"
)


def _fail(message: str, hint: str, reference: str) -> InvalidReferenceError:
    return InvalidReferenceError(message, hint, reference=reference)


def _show(text: str, limit: int = 60) -> str:
    """A piece of the input, quoted and shortened for a message."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"« {text} »"


def _describe_char(char: str) -> str:
    if char == " ":
        return "« » (espace)"
    if char.isprintable() and not char.isspace():
        return f"« {char} »"
    return f"{char!r} (U+{ord(char):04X})"


def _forbidden(
    char: str, position: int, where: str, hint: str, reference: str
) -> InvalidReferenceError:
    return _fail(
        f"caractère interdit {_describe_char(char)} à la position {position} ({where})",
        hint,
        reference,
    )


# ---------------------------------------------------------------------------------------------
# The checks, one per part; ``offset`` is where the part starts in ``reference`` (positions in
# messages count from 1, in the text the user typed).


def _check_registry(registry: str, offset: int, reference: str) -> None:
    """``domain := host [":" port]``, host a domain name or a bracketed IPv6 address."""
    hint = "un registre s'écrit hôte[:port], par exemple « localhost:5000 » ou « ghcr.io »"
    if not registry:
        raise _fail("nom de registre vide", hint, reference)
    if registry.startswith("["):
        end = registry.find("]")
        if end < 0:
            raise _fail(
                f"crochet « ] » manquant dans le registre {_show(registry)}",
                "une adresse IPv6 s'écrit entre crochets, par exemple « [::1]:5000 »",
                reference,
            )
        inside = registry[1:end]
        if not inside:
            raise _fail(
                "adresse IPv6 vide entre crochets dans le registre",
                "par exemple « [::1]:5000 »",
                reference,
            )
        for index, char in enumerate(inside):
            if char not in _IPV6_CHARS:
                raise _forbidden(
                    char,
                    offset + 2 + index,
                    "dans l'adresse IPv6 du registre : seuls les chiffres hexadécimaux et « : » "
                    "sont permis, sans zone « % » ni IPv4 intégrée",
                    "par exemple « [fc00::1]:5000/equipe/app »",
                    reference,
                )
        _check_port(registry[end + 1 :], offset + end + 1, registry, reference)
        return
    host, colon, _ = registry.partition(":")
    if colon and registry.count(":") > 1:
        raise _fail(
            f"une adresse IPv6 de registre doit être entre crochets ({_show(registry)})",
            "par exemple « [fc00::1]:5000/equipe/app »",
            reference,
        )
    position = offset
    for component in host.split("."):
        if not component:
            raise _fail(
                f"composant vide dans le nom du registre {_show(registry)} "
                "(point au début, à la fin ou deux points de suite)",
                hint,
                reference,
            )
        for index, char in enumerate(component):
            if char not in _HOST_CHARS:
                raise _forbidden(
                    char,
                    position + index + 1,
                    "dans le nom du registre : lettres, chiffres, « - » et « . » seulement",
                    hint,
                    reference,
                )
        if not _DOMAIN_COMPONENT.fullmatch(component):
            raise _fail(
                f"un composant du nom du registre ne peut ni commencer ni finir par « - » "
                f"({_show(component)})",
                hint,
                reference,
            )
        position += len(component) + 1
    _check_port(registry[len(host) :], offset + len(host), registry, reference)


def _check_port(text: str, offset: int, registry: str, reference: str) -> None:
    """``text`` is what follows the host: nothing, or ``:`` and a port number."""
    if not text:
        return
    hint = (
        "le port est un nombre, par exemple « localhost:5000 » ; "
        "un tag se met après le dépôt (« localhost:5000/app:1.2 ») et ne contient pas « / »"
    )
    if not text.startswith(":"):
        raise _forbidden(text[0], offset + 1, "après l'adresse IPv6 du registre", hint, reference)
    if len(text) == 1:
        raise _fail(f"port vide après « : » dans le registre {_show(registry)}", hint, reference)
    if not _PORT.fullmatch(text[1:]):
        raise _fail(
            f"le port du registre doit être un nombre ({_show(text[1:])} dans {_show(registry)})",
            hint,
            reference,
        )


def _registry_is_recognised(registry: str) -> bool:
    """Would Docker read ``registry/…`` as a registry (normalize.go's rule)?"""
    return (
        registry == "localhost"
        or "." in registry
        or ":" in registry
        or registry.lower() != registry
    )


def _why_registry(first: str) -> str:
    """Why Docker reads ``first`` (what comes before the first ``/``) as a registry."""
    if first == "localhost":
        reason = "il s'appelle « localhost »"
    elif "." in first:
        reason = "il contient « . »"
    elif ":" in first:
        reason = "il contient « : »"
    else:
        reason = "il contient une majuscule"
    return (
        f"Docker lit {_show(first)}, avant le premier « / », comme un registre parce que {reason}"
    )


def _check_path(path: str, offset: int, reference: str) -> None:
    """``path := path-component ["/" path-component]*``, lowercase (length checked apart)."""
    hint = "un dépôt s'écrit en minuscules, par exemple « equipe/mon-app » ou « library/busybox »"
    if not path:
        raise _fail(
            "nom du dépôt vide",
            "donnez un dépôt avant le tag ou l'empreinte, par exemple « busybox:1.36 »",
            reference,
        )
    for index, char in enumerate(path):
        if char not in _PATH_CHARS and not ("A" <= char <= "Z"):
            raise _forbidden(
                char,
                offset + index + 1,
                "dans le nom du dépôt : minuscules, chiffres, « . », « _ », « - » et « / » "
                "seulement",
                hint,
                reference,
            )
    if path.lower() != path:
        raise _fail(
            f"le nom du dépôt doit être en minuscules ({_show(path)})",
            f"écrivez « {path.lower()} »",
            reference,
        )
    for component in path.split("/"):
        if not component:
            raise _fail(
                f"le nom du dépôt contient un composant vide ({_show(path)} : « / » au début, "
                "à la fin ou deux « / » de suite)",
                hint,
                reference,
            )
        if not (component[0].isalnum() and component[-1].isalnum()):
            raise _fail(
                "chaque composant du nom du dépôt doit commencer et finir par une lettre "
                f"minuscule ou un chiffre ({_show(component)})",
                hint,
                reference,
            )
        for separator in _SEPARATORS.findall(component):
            if not _VALID_SEPARATOR.fullmatch(separator):
                raise _fail(
                    f"séparateur interdit « {separator} » dans {_show(component)} : entre deux "
                    "lettres ou chiffres, seuls « . », « _ », « __ » ou des « - » sont permis",
                    hint,
                    reference,
                )
        if not _PATH_COMPONENT.fullmatch(component):  # pragma: no cover - the checks above
            raise _fail(f"composant de dépôt invalide {_show(component)}", hint, reference)


def _check_path_length(path: str, reference: str) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise _fail(
            f"le nom du dépôt dépasse {MAX_PATH_LENGTH} caractères ({len(path)})",
            "raccourcissez le chemin du dépôt, par exemple « equipe/app »",
            reference,
        )


def _check_tag(tag: str, offset: int, reference: str) -> None:
    """``tag := /[\\w][\\w.-]{0,127}/``."""
    hint = "un tag s'écrit avec lettres, chiffres, « _ », « . » et « - », par exemple « 1.2-rc1 »"
    if not tag:
        raise _fail("tag vide après « : »", hint, reference)
    for index, char in enumerate(tag):
        if char not in _TAG_CHARS:
            raise _forbidden(char, offset + index + 1, "dans le tag", hint, reference)
    if tag[0] in ".-":
        raise _fail(
            f"le tag doit commencer par une lettre, un chiffre ou « _ » ({_show(tag)})",
            hint,
            reference,
        )
    if len(tag) > MAX_TAG_LENGTH:
        raise _fail(
            f"le tag dépasse {MAX_TAG_LENGTH} caractères ({len(tag)})",
            "raccourcissez le tag, par exemple « 1.2 »",
            reference,
        )
    if not _TAG.fullmatch(tag):  # pragma: no cover - the checks above cover the grammar
        raise _fail(f"tag invalide {_show(tag)}", hint, reference)


def _check_digest(digest: str, offset: int, reference: str) -> None:
    """``digest := algorithm ":" hex``; go-digest then wants a known algorithm, lowercase hex."""
    hint = f"une empreinte s'écrit algorithme:hexadécimal, par exemple « {_EXAMPLE_DIGEST} »"
    if not digest:
        raise _fail("empreinte vide après « @ »", hint, reference)
    algorithm, colon, encoded = digest.partition(":")
    if not colon:
        raise _fail(
            f"l'empreinte doit avoir la forme algorithme:hexadécimal ({_show(digest)})",
            hint,
            reference,
        )
    if not algorithm:
        raise _fail("algorithme d'empreinte manquant avant « : »", hint, reference)
    if algorithm not in ALGORITHMS:
        if algorithm.lower() in ALGORITHMS:
            raise _fail(
                f"l'algorithme d'empreinte s'écrit en minuscules ({_show(algorithm)})",
                f"écrivez « {algorithm.lower()}:… »",
                reference,
            )
        if _ALGORITHM.fullmatch(algorithm):
            raise _fail(
                f"algorithme d'empreinte non pris en charge {_show(algorithm)} : "
                "sha256, sha384 ou sha512",
                hint,
                reference,
            )
        raise _fail(f"algorithme d'empreinte mal formé {_show(algorithm)}", hint, reference)
    start = offset + len(algorithm) + 1
    for index, char in enumerate(encoded):
        if char not in _HEX_CHARS:
            raise _forbidden(
                char, start + index + 1, "dans l'empreinte : chiffres hexadécimaux", hint, reference
            )
    if encoded.lower() != encoded:
        raise _fail(
            "l'empreinte doit être en hexadécimal minuscule",
            f"écrivez « {algorithm}:{encoded.lower()[:12]}… »",
            reference,
        )
    expected = ALGORITHMS[algorithm]
    if len(encoded) != expected:
        raise _fail(
            f"l'empreinte {algorithm} doit compter {expected} chiffres hexadécimaux "
            f"({len(encoded)} donnés)",
            hint,
            reference,
        )


# ---------------------------------------------------------------------------------------------


def _split_registry(text: str) -> tuple[str | None, int]:
    """normalize.go's ``splitDockerDomain``: the registry written, or None, and where the rest
    begins."""
    slash = text.find("/")
    if slash < 0:
        return None, 0
    first = text[:slash]
    if first in ("localhost", LEGACY_DEFAULT_REGISTRY) or _registry_is_recognised(first):
        return first, slash + 1
    return None, 0


def _split_rest(rest: str) -> tuple[str, str | None, str | None, int, int]:
    """``path[:tag][@digest]`` → path, tag, digest and where tag and digest begin in ``rest``."""
    name, at, digest_text = rest.partition("@")
    path, colon, tag_text = name.partition(":")
    return (
        path,
        tag_text if colon else None,
        digest_text if at else None,
        len(path) + 1,
        len(name) + 1,
    )


def _normalise_registry(registry: str, path: str) -> tuple[str, str]:
    if registry == LEGACY_DEFAULT_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = OFFICIAL_PREFIX + path
    return registry, path


def parse_reference(text: str) -> Reference:
    """Parse and normalise an image reference as Docker does.

    ```python
    >>> parse_reference("equipe/app")
    <Reference docker.io/equipe/app:latest>
    ```

    Raises :class:`InvalidReferenceError` (and nothing else) when ``text`` breaks a rule; its
    message names the rule, its hint shows a valid reference.
    """
    if not isinstance(text, str):
        raise _fail(
            f"une référence d'image est un texte, pas {type(text).__name__}",
            _HINT_FULL,
            repr(text),
        )
    if not text:
        raise _fail("référence vide", _HINT_FULL, text)
    if not text.strip():
        raise _fail("référence vide (rien que des espaces)", _HINT_FULL, text)
    if _IDENTIFIER.fullmatch(text):
        raise _fail(
            "une empreinte seule (64 chiffres hexadécimaux) n'est pas un nom de dépôt",
            f"pour désigner une image par son empreinte : « busybox@sha256:{text[:12]}… »",
            text,
        )
    if "://" in text:
        scheme = text[: text.index("://") + 3]
        raise _fail(
            "une référence d'image n'est pas une URL",
            f"retirez « {scheme} » : par exemple « localhost:5000/equipe/app:1.2 »",
            text,
        )
    registry, start = _split_registry(text)
    if registry is not None and "@" in registry and not registry.startswith("["):
        # The first "/" lies inside a digest: read the whole text as path[:tag][@digest] so
        # that the message points at the digest (Docker rejects it either way).
        registry, start = None, 0
    rest = text[start:]
    path, tag, digest, tag_at, digest_at = _split_rest(rest)
    if registry is not None:
        try:
            _check_registry(registry, 0, text)
        except InvalidReferenceError as error:
            raise _fail(error.message, f"{error.hint} ; {_why_registry(registry)}", text) from None
    _check_path(path, start, text)
    if tag is not None:
        _check_tag(tag, start + tag_at, text)
    if digest is not None:
        _check_digest(digest, start + digest_at, text)
    registry, path = _normalise_registry(registry or DEFAULT_REGISTRY, path)
    _check_path_length(path, text)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)


@dataclass(frozen=True, repr=False)
class Reference:
    """A normalised image reference: ``registry/repository[:tag][@digest]``.

    Build one with :func:`parse_reference`; the constructor checks every field too, and
    normalises Docker Hub (``index.docker.io`` → ``docker.io``, ``busybox`` →
    ``library/busybox``). ``tag`` is None only when a digest is given without a tag.
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __post_init__(self) -> None:
        shown = self._text()
        for field in ("registry", "repository"):
            if not isinstance(getattr(self, field), str):
                raise _fail(f"le champ {field} doit être un texte", _HINT_FULL, shown)
        for field in ("tag", "digest"):
            if getattr(self, field) is not None and not isinstance(getattr(self, field), str):
                raise _fail(f"le champ {field} doit être un texte ou None", _HINT_FULL, shown)
        _check_registry(self.registry, 0, shown)
        if not _registry_is_recognised(self.registry):
            raise _fail(
                f"{_show(self.registry)} ne serait pas lu comme un registre : Docker ne reconnaît "
                "un registre que s'il contient « . » ou « : », s'appelle « localhost » ou a une "
                "majuscule",
                "ajoutez le port ou le domaine, par exemple « registry:5000 » ou « registry.lan »",
                shown,
            )
        _check_path(self.repository, len(self.registry) + 1, shown)
        registry, repository = _normalise_registry(self.registry, self.repository)
        _check_path_length(repository, shown)
        if self.tag is not None:
            _check_tag(self.tag, len(self.registry) + len(self.repository) + 2, shown)
        if self.digest is not None:
            _check_digest(self.digest, len(shown) - len(self.digest), shown)
        if self.tag is None and self.digest is None:
            raise _fail(
                "une référence a besoin d'un tag ou d'une empreinte",
                f"par exemple « {registry}/{repository}:{DEFAULT_TAG} »",
                shown,
            )
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "repository", repository)

    def _text(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def name(self) -> str:
        """``registry/repository``, without tag nor digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What follows ``/manifests/`` in the API: the digest if there is one, else the tag."""
        if self.digest is not None:
            return self.digest
        assert self.tag is not None  # the constructor wants a tag or a digest
        return self.tag

    @property
    def scheme(self) -> str:
        """``http`` for a registry on this machine (localhost, 127.0.0.0/8, ::1), else
        ``https``: go-containerregistry's rule, and Docker's default insecure range."""
        return "http" if _is_loopback(self.registry) else "https"

    @property
    def api_url(self) -> str:
        """Where the registry's API answers (Docker Hub's is ``registry-1.docker.io``)."""
        if self.registry == DEFAULT_REGISTRY:
            return DOCKER_HUB_API
        return f"{self.scheme}://{self.registry}"

    def familiar(self) -> str:
        """Docker's short form: ``busybox:latest``, ``equipe/app:1.2``; full form elsewhere.

        Unlike Docker's ``FamiliarString``, ``docker.io/`` stays when dropping it would make the
        first component read as a registry (``docker.io/mon.equipe/app``), so that the short
        form always parses back to the same reference.
        """
        text = str(self)
        if self.registry != DEFAULT_REGISTRY:
            return text
        path = self.repository
        first = path.split("/", 1)[0]
        if "." in first or first == "localhost":
            return text
        if path.startswith(OFFICIAL_PREFIX) and "/" not in path[len(OFFICIAL_PREFIX) :]:
            path = path[len(OFFICIAL_PREFIX) :]
        return path + text[len(self.name) :]

    def with_tag(self, tag: str) -> Reference:
        """The same repository with another tag (checked); the digest is dropped."""
        attempt = f"{self.name}:{tag}"
        if not isinstance(tag, str):
            raise _fail("un tag est un texte", "par exemple « 1.2 »", attempt)
        _check_tag(tag, len(self.name) + 1, attempt)
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to ``digest`` (checked); the tag is kept."""
        prefix = self.name + (f":{self.tag}" if self.tag is not None else "")
        attempt = f"{prefix}@{digest}"
        if not isinstance(digest, str):
            raise _fail("une empreinte est un texte", f"par exemple « {_EXAMPLE_DIGEST} »", attempt)
        _check_digest(digest, len(prefix) + 1, attempt)
        return Reference(self.registry, self.repository, self.tag, digest)

    def with_registry(self, registry: str) -> Reference:
        """The same image in another registry (``docker.io`` rules applied)."""
        return Reference(registry, self.repository, self.tag, self.digest)

    def __str__(self) -> str:
        """The full canonical form ``registry/repository[:tag][@digest]``."""
        return self._text()

    def __repr__(self) -> str:
        return f"<Reference {self._text()}>"

    def _repr_html_(self) -> str:
        digest = f"{short_digest(self.digest)}…" if self.digest else "—"
        return html_table(
            ["registre", "dépôt", "tag", "empreinte"],
            [[self.registry, self.repository, self.tag or "—", digest]],
            caption="Référence d'image",
        )


def _is_loopback(registry: str) -> bool:
    """Is ``host[:port]`` this machine: localhost, ``*.localhost``, 127.0.0.0/8 or ::1?"""
    if registry.startswith("["):
        host = registry[1 : registry.find("]")]
    else:
        host = registry.partition(":")[0]
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
