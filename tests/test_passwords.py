"""`registry_lab.passwords`: generated passwords, and an htpasswd file the real registry reads.

The integration test starts Distribution (``docker-registry serve``) with ``auth: htpasswd``
on the file `write_htpasswd` wrote: the right password opens ``/v2/``, a wrong one does not.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest
from registry_auth_helpers import RegistryProcess

from registry_lab.errors import LabError
from registry_lab.passwords import (
    MASK,
    check_htpasswd,
    generate_password,
    htpasswd_users,
    masked_htpasswd,
    write_htpasswd,
)

USERS = {"dev": "mdp-du-dev-8Qz", "lecteur": "mdp-du-lecteur-4Kw"}


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("htpasswd") / "htpasswd"
    write_htpasswd(path, USERS, rounds=4)
    return path


def test_generated_passwords_are_long_random_and_url_safe() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert re.fullmatch(r"[A-Za-z0-9_-]{20}", password)


def test_entries_are_bcrypt_and_the_file_is_private(htpasswd: Path) -> None:
    assert stat.S_IMODE(htpasswd.stat().st_mode) == 0o600
    lines = htpasswd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["dev", "lecteur"]
    for line in lines:
        hashed = line.split(":", 1)[1]
        assert re.fullmatch(r"\$2b\$04\$[./A-Za-z0-9]{53}", hashed)
    assert not any(password in htpasswd.read_text() for password in USERS.values())
    assert htpasswd_users(htpasswd) == ["dev", "lecteur"]


def test_default_cost_is_ten(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    write_htpasswd(path, {"dev": "x"})
    assert path.read_text().startswith("dev:$2b$10$")


def test_check(htpasswd: Path) -> None:
    assert check_htpasswd(htpasswd, "dev", USERS["dev"])
    assert check_htpasswd(htpasswd, "lecteur", USERS["lecteur"])
    assert not check_htpasswd(htpasswd, "dev", USERS["lecteur"])
    assert not check_htpasswd(htpasswd, "inconnu", USERS["dev"])
    assert not check_htpasswd(htpasswd, "dev", "x" * 100)  # longer than bcrypt reads


def test_apache_style_2y_entries_are_read(tmp_path: Path) -> None:
    """``htpasswd -B`` writes ``$2y$``: the same algorithm under another name."""
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path / "htpasswd"
    path.write_text(f"# un commentaire\n\nancien:$2y${hashed[4:]}\nmd5:$apr1$abc$def\n")
    assert check_htpasswd(path, "ancien", "secret")
    assert not check_htpasswd(path, "md5", "secret")
    assert htpasswd_users(path) == ["ancien", "md5"]


def test_masked_shows_names_algorithm_and_cost_only(htpasswd: Path) -> None:
    shown = masked_htpasswd(htpasswd)
    assert shown.splitlines() == [f"dev:$2b$04$… {MASK}", f"lecteur:$2b$04$… {MASK}"]
    assert MASK == "(empreinte bcrypt masquée)"
    for line in htpasswd.read_text().splitlines():
        assert line.split(":", 1)[1][7:] not in shown


def test_rewriting_keeps_the_file_private_from_its_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("ancien contenu\n")
    path.chmod(0o644)
    write_htpasswd(path, {"dev": "nouveau"}, rounds=4)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert htpasswd_users(path) == ["dev"]
    assert os.listdir(tmp_path) == ["htpasswd"]  # no temporary file left


@pytest.mark.parametrize(
    ("users", "rounds", "words"),
    [
        ({"a:b": "x"}, 4, "Nom d'utilisateur refusé"),
        ({"a b": "x"}, 4, "Nom d'utilisateur refusé"),
        ({"": "x"}, 4, "Nom d'utilisateur refusé"),
        ({"dev": "é" * 40}, 4, "72 octets"),
        ({"dev": "x"}, 3, "Coût bcrypt impossible"),
    ],
)
def test_what_it_refuses(tmp_path: Path, users: dict[str, str], rounds: int, words: str) -> None:
    with pytest.raises(LabError) as caught:
        write_htpasswd(tmp_path / "htpasswd", users, rounds=rounds)
    assert words in caught.value.message and caught.value.hint
    assert not (tmp_path / "htpasswd").exists()


def test_a_missing_file_is_a_french_error(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="Fichier htpasswd introuvable"):
        check_htpasswd(tmp_path / "absent", "dev", "x")
    with pytest.raises(LabError, match="introuvable"):
        masked_htpasswd(tmp_path / "absent")


# -- the real registry reads it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, htpasswd: Path) -> Iterator[str]:
    process = RegistryProcess(
        tmp_path_factory.mktemp("registry"),
        f"htpasswd:\n  realm: registry-lab\n  path: {htpasswd}\n",
    )
    yield process.url
    process.stop()


@pytest.mark.integration
@pytest.mark.parametrize("user", sorted(USERS))
def test_distribution_accepts_the_right_password(registry: str, user: str) -> None:
    response = httpx.get(f"{registry}/v2/", auth=(user, USERS[user]), timeout=5)
    assert response.status_code == 200


@pytest.mark.integration
def test_distribution_refuses_a_wrong_password_or_none(registry: str) -> None:
    wrong = httpx.get(f"{registry}/v2/", auth=("dev", USERS["lecteur"]), timeout=5)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="registry-lab"'
    anonymous = httpx.get(f"{registry}/v2/", timeout=5)
    assert anonymous.status_code == 401
