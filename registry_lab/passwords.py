"""Passwords of the private registry's accounts, and the htpasswd file that holds their hashes.

Distribution's ``auth: htpasswd`` (and the lab's token service) accepts bcrypt entries only:
``user:$2b$10$…``. Go's bcrypt reads the ``$2a$``, ``$2b$`` and ``$2y$`` prefixes alike, so the
file keeps what Python's bcrypt writes (``$2b$``). The file is ``0600`` from its first byte:
a bcrypt hash is slow to attack, not impossible.

```python
from registry_lab.passwords import generate_password, write_htpasswd, check_htpasswd
secret = generate_password()
write_htpasswd(folder / "htpasswd", {"dev": secret})
check_htpasswd(folder / "htpasswd", "dev", secret)         # True
print(masked_htpasswd(folder / "htpasswd"))                # dev:$2b$10$… (empreinte bcrypt masquée)
```
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

import bcrypt

from .errors import LabError, describe_os_error
from .state import write_private

__all__ = [
    "MASK",
    "check_htpasswd",
    "generate_password",
    "htpasswd_users",
    "masked_htpasswd",
    "write_htpasswd",
]

#: What `masked_htpasswd` shows in place of a hash.
MASK = "(empreinte bcrypt masquée)"
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
#: bcrypt only reads the first 72 bytes of a password; the bcrypt package refuses longer ones.
_MAX_PASSWORD_BYTES = 72


def generate_password() -> str:
    """A random password of 20 url-safe characters (120 bits, from `secrets`)."""
    return secrets.token_urlsafe(15)


def _check_user(user: str) -> None:
    if not user or ":" in user or any(char.isspace() for char in user):
        raise LabError(
            f"Nom d'utilisateur refusé pour un fichier htpasswd : « {user} ».",
            "un nom sans « : » ni espace (le fichier sépare le nom et l'empreinte par « : »).",
        )


def _hash(user: str, password: str, rounds: int) -> str:
    secret = password.encode()
    if len(secret) > _MAX_PASSWORD_BYTES or "\n" in password:
        raise LabError(
            f"Mot de passe refusé pour « {user} » : plus de 72 octets, ou un saut de ligne.",
            "bcrypt ne lit que 72 octets : choisissez un mot de passe plus court "
            "(generate_password() en donne un de 20 caractères).",
        )
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def write_htpasswd(path: Path, users: Mapping[str, str], rounds: int = 10) -> None:
    """Write an htpasswd file of bcrypt entries (cost ``rounds``) for ``{user: password}``.

    The file is replaced at once (a registry reading it never sees half of it), and its mode
    is ``0600`` before any hash is written into it.
    """
    if not 4 <= rounds <= 31:
        raise LabError(
            f"Coût bcrypt impossible : {rounds}.",
            "un coût entre 4 et 31 ; 10 est la valeur par défaut de htpasswd -B.",
        )
    for user in users:
        _check_user(user)
    lines = "".join(f"{user}:{_hash(user, password, rounds)}\n" for user, password in users.items())
    try:
        write_private(Path(path), lines.encode("ascii"))
    except OSError as exc:
        raise LabError(
            f"Impossible d'écrire le fichier htpasswd {path} : {describe_os_error(exc)}.",
            "vérifiez que son dossier existe et que vous pouvez y écrire.",
        ) from None


def _entries(path: Path) -> list[tuple[str, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabError(
            f"Fichier htpasswd introuvable : {path}.",
            "créez-le avec write_htpasswd(chemin, {utilisateur: mot_de_passe}).",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = describe_os_error(exc) if isinstance(exc, OSError) else "pas du texte UTF-8"
        raise LabError(
            f"Fichier htpasswd illisible : {path} ({reason}).",
            "vérifiez ses droits, ou écrivez-le de nouveau avec write_htpasswd.",
        ) from None
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            user, _, hashed = line.partition(":")
            entries.append((user, hashed))
    return entries


def check_htpasswd(path: Path, user: str, password: str) -> bool:
    """True when ``user`` is in the file and ``password`` matches its bcrypt hash."""
    for name, hashed in _entries(path):
        if name == user:
            if not hashed.startswith(_BCRYPT_PREFIXES):
                return False
            try:
                return bcrypt.checkpw(password.encode(), hashed.encode("ascii"))
            except ValueError:  # a broken hash, or a password longer than 72 bytes
                return False
    return False


def htpasswd_users(path: Path) -> list[str]:
    """The user names of an htpasswd file, in its order."""
    return [user for user, _ in _entries(path)]


def masked_htpasswd(path: Path) -> str:
    """The file as a person may see it: each hash replaced by « (empreinte bcrypt masquée) »,
    only the algorithm and its cost kept (``dev:$2b$10$… (empreinte bcrypt masquée)``)."""
    lines = []
    for user, hashed in _entries(path):
        if hashed.startswith(_BCRYPT_PREFIXES):
            algorithm, cost = hashed[1:3], hashed[4:6]
            lines.append(f"{user}:${algorithm}${cost}$… {MASK}")
        else:
            lines.append(f"{user}:… (empreinte masquée)")
    return "\n".join(lines)
