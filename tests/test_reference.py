"""Image references: Docker's own test cases, the French error for each broken rule, properties.

The valid and invalid cases come from distribution/reference's ``reference_test.go`` and
``normalize_test.go`` (run there through ``ParseNormalizedNamed`` + ``TagNameOnly``). The
properties compare ``parse_reference`` with an independent transliteration of Docker's regular
expressions (``regexp.go``) and of ``normalize.go``, kept below as ``docker_parse``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from registry_lab.errors import InvalidReferenceError
from registry_lab.reference import Reference, parse_reference

SHA256 = "sha256:" + "f" * 64
REDIS = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
BUSYBOX = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
SHA512 = "sha512:" + "f" * 128
SHA384 = "sha384:" + "0a" * 48
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
SONG = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"


# --- Docker's grammar, transliterated from regexp.go and normalize.go (the test oracle) -------

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = _ALNUM + f"(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + rf"(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN_AND_PORT = _HOST + r"(?::[0-9]+)?"
_REMOTE_NAME = _PATH_COMPONENT + f"(?:/{_PATH_COMPONENT})*"
_NAME = f"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
DOCKER_REFERENCE = re.compile(f"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
DOCKER_ANCHORED_NAME = re.compile(f"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
DOCKER_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
GO_DIGEST_ENCODED = {
    "sha256": r"[a-f0-9]{64}",
    "sha384": r"[a-f0-9]{96}",
    "sha512": r"[a-f0-9]{128}",
}


def docker_split_domain(name: str) -> tuple[str, str]:
    """normalize.go's ``splitDockerDomain``."""
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return "docker.io", "library/" + name
    if maybe_domain == "localhost":
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == "index.docker.io":
        domain, remote = "docker.io", maybe_remote
    elif "." in maybe_domain or ":" in maybe_domain or maybe_domain.lower() != maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = "docker.io", name
    if domain == "docker.io" and "/" not in remote:
        remote = "library/" + remote
    return domain, remote


def docker_parse(text: str) -> tuple[str, str, str | None, str | None] | None:
    """``TagNameOnly(ParseNormalizedNamed(text))`` as (domain, path, tag, digest), or None."""
    if DOCKER_IDENTIFIER.fullmatch(text):
        return None
    domain, remainder = docker_split_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        return None
    match = DOCKER_REFERENCE.fullmatch(domain + "/" + remainder)
    if match is None:
        return None
    name, tag, digest = match.groups()
    name_match = DOCKER_ANCHORED_NAME.fullmatch(name)
    assert name_match is not None
    found_domain, path = name_match.groups()
    if len(path) > 255:
        return None
    if digest is not None:
        algorithm, _, encoded = digest.partition(":")
        pattern = GO_DIGEST_ENCODED.get(algorithm)
        if pattern is None or not re.fullmatch(pattern, encoded):
            return None
    if tag is None and digest is None:
        tag = "latest"
    return found_domain or "", path, tag, digest


def parse_or_error(text: str) -> Reference | InvalidReferenceError:
    try:
        return parse_reference(text)
    except InvalidReferenceError as error:
        return error


# --- Valid references and their normal form --------------------------------------------------

VALID = [
    # normalize_test.go: TestValidateReferenceName
    ("docker/docker", "docker.io/docker/docker:latest"),
    ("library/debian", "docker.io/library/debian:latest"),
    ("debian", "docker.io/library/debian:latest"),
    ("docker.io/docker/docker", "docker.io/docker/docker:latest"),
    ("docker.io/library/debian", "docker.io/library/debian:latest"),
    ("docker.io/debian", "docker.io/library/debian:latest"),
    ("index.docker.io/docker/docker", "docker.io/docker/docker:latest"),
    ("index.docker.io/library/debian", "docker.io/library/debian:latest"),
    ("index.docker.io/debian", "docker.io/library/debian:latest"),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest"),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest"),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest"),
    ("192.168.0.1", "docker.io/library/192.168.0.1:latest"),
    ("192.168.0.1:80", "docker.io/library/192.168.0.1:80"),
    ("192.168.0.1:8/debian", "192.168.0.1:8/debian:latest"),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000/debian:latest"),
    (SONG, f"docker.io/library/{SONG}:latest"),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker:latest"),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest"),
    (f"docker.io/{HEX64}", f"docker.io/library/{HEX64}:latest"),
    ("Docker/docker", "Docker/docker:latest"),
    ("DOCKER/docker", "DOCKER/docker:latest"),
    # normalize_test.go: TestValidateRemoteName
    ("docker-rules/docker", "docker.io/docker-rules/docker:latest"),
    ("docker---rules/docker", "docker.io/docker---rules/docker:latest"),
    ("doc/docker", "docker.io/doc/docker:latest"),
    ("d/docker", "docker.io/d/docker:latest"),
    ("jess/t", "docker.io/jess/t:latest"),
    ("dock__er/docker", "docker.io/dock__er/docker:latest"),
    # normalize_test.go: TestParseRepositoryInfo, TestNormalizedSplitHostname
    ("fooo/bar", "docker.io/fooo/bar:latest"),
    ("library/ubuntu", "docker.io/library/ubuntu:latest"),
    ("other/library", "docker.io/other/library:latest"),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest"),
    ("example.com/privatebase", "example.com/privatebase:latest"),
    ("example.com:8000/private/moonbase", "example.com:8000/private/moonbase:latest"),
    ("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest"),
    ("library/foo/bar", "docker.io/library/foo/bar:latest"),
    ("store/foo/bar", "docker.io/store/foo/bar:latest"),
    ("Foo/bar", "Foo/bar:latest"),
    ("test_com/foo", "docker.io/test_com/foo:latest"),
    ("test-com:8080/foo", "test-com:8080/foo:latest"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest"),
    # normalize_test.go: TestParseAnyReference, TestParseReferenceWithTagAndDigest
    ("redis:latest", "docker.io/library/redis:latest"),
    (f"redis@{REDIS}", f"docker.io/library/redis@{REDIS}"),
    (f"dmcgowan/myapp@{REDIS}", f"docker.io/dmcgowan/myapp@{REDIS}"),
    (HEX64[:63], f"docker.io/library/{HEX64[:63]}:latest"),
    ("dbcc1", "docker.io/library/dbcc1:latest"),
    (f"busybox:latest@{BUSYBOX}", f"docker.io/library/busybox:latest@{BUSYBOX}"),
    # reference_test.go: TestReferenceParse (through ParseNormalizedNamed)
    ("test_com", "docker.io/library/test_com:latest"),
    ("test.com:tag", "docker.io/library/test.com:tag"),
    ("test.com:5000", "docker.io/library/test.com:5000"),
    ("test.com/repo:tag", "test.com/repo:tag"),
    ("test:5000/repo", "test:5000/repo:latest"),
    (f"test:5000/repo@{SHA256}", f"test:5000/repo@{SHA256}"),
    (f"test:5000/repo:tag@{SHA256}", f"test:5000/repo:tag@{SHA256}"),
    ("lowercase:Uppercase", "docker.io/library/lowercase:Uppercase"),
    (
        "a/" * 127 + "a:tag-puts-this-over-max",
        "docker.io/" + "a/" * 127 + "a:tag-puts-this-over-max",
    ),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io/test.example.com/my-app:test.example.com",
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512}", f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512}"),
    ("foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"),
    ("foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050"),
    ("[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag"),
    (f"[2001:db8::1]:5000/repo:tag@{SHA256}", f"[2001:db8::1]:5000/repo:tag@{SHA256}"),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo:latest"),
    ("[::1]:5000/repo", "[::1]:5000/repo:latest"),
    # the course's own
    ("busybox", "docker.io/library/busybox:latest"),
    ("equipe/app", "docker.io/equipe/app:latest"),
    ("localhost:5000/equipe/app:1.2", "localhost:5000/equipe/app:1.2"),
    ("localhost/app", "localhost/app:latest"),
    ("localhost", "docker.io/library/localhost:latest"),
    ("ghcr.io/equipe/app:v1", "ghcr.io/equipe/app:v1"),
    (f"127.0.0.1:5000/equipe/app@{SHA384}", f"127.0.0.1:5000/equipe/app@{SHA384}"),
    ("busybox:_", "docker.io/library/busybox:_"),
    ("busybox:" + "a" * 128, "docker.io/library/busybox:" + "a" * 128),
    ("a" * 247, "docker.io/library/" + "a" * 247 + ":latest"),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_reference_normal_form(text: str, expected: str) -> None:
    ref = parse_reference(text)
    assert str(ref) == expected
    assert ref.tag is not None or ref.digest is not None
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar()) == ref


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_references_agree_with_docker(text: str, expected: str) -> None:
    ref = parse_reference(text)
    assert docker_parse(text) == (ref.registry, ref.repository, ref.tag, ref.digest)


def test_fields() -> None:
    ref = parse_reference(f"localhost:5000/equipe/app:1.2@{SHA256}")
    assert ref.registry == "localhost:5000"
    assert ref.repository == "equipe/app"
    assert ref.tag == "1.2"
    assert ref.digest == SHA256
    assert ref.name == "localhost:5000/equipe/app"
    assert ref.identifier == SHA256
    assert parse_reference("busybox:1.36").identifier == "1.36"
    digest_only = parse_reference(f"localhost:5000/equipe/app@{SHA256}")
    assert digest_only.tag is None
    assert digest_only.identifier == SHA256


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("busybox", "busybox:latest"),
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("equipe/app:1.2", "equipe/app:1.2"),
        ("docker.io/equipe/app:1.2", "equipe/app:1.2"),
        ("library/foo/bar", "library/foo/bar:latest"),
        (f"busybox:latest@{BUSYBOX}", f"busybox:latest@{BUSYBOX}"),
        (f"redis@{REDIS}", f"redis@{REDIS}"),
        ("localhost:5000/equipe/app:1.2", "localhost:5000/equipe/app:1.2"),
        ("127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase:latest"),
        # Docker's FamiliarString would print "mon.equipe/app:1" and "localhost/app:1", which
        # parse back with mon.equipe and localhost as registries: the short form keeps docker.io.
        ("docker.io/mon.equipe/app:1", "docker.io/mon.equipe/app:1"),
        ("docker.io/localhost/app:1", "docker.io/localhost/app:1"),
        ("docker.io/library/foo.bar", "foo.bar:latest"),
    ],
)
def test_familiar(text: str, familiar: str) -> None:
    ref = parse_reference(text)
    assert ref.familiar() == familiar
    assert parse_reference(familiar) == ref


@pytest.mark.parametrize(
    ("registry", "scheme", "api_url"),
    [
        ("docker.io", "https", "https://registry-1.docker.io"),
        ("ghcr.io", "https", "https://ghcr.io"),
        ("localhost", "http", "http://localhost"),
        ("localhost:5000", "http", "http://localhost:5000"),
        ("LOCALHOST:5000", "http", "http://LOCALHOST:5000"),
        ("registre.localhost:5000", "http", "http://registre.localhost:5000"),
        ("127.0.0.1:5000", "http", "http://127.0.0.1:5000"),
        ("127.1.2.3:5000", "http", "http://127.1.2.3:5000"),
        ("[::1]:5000", "http", "http://[::1]:5000"),
        ("[0:0:0:0:0:0:0:1]", "http", "http://[0:0:0:0:0:0:0:1]"),
        ("[::2]:5000", "https", "https://[::2]:5000"),
        ("128.0.0.1:5000", "https", "https://128.0.0.1:5000"),
        ("192.168.1.1:5000", "https", "https://192.168.1.1:5000"),
        ("localhost.example.com", "https", "https://localhost.example.com"),
        ("127.0.0.1.nip.io", "https", "https://127.0.0.1.nip.io"),
        ("999.0.0.1:5000", "https", "https://999.0.0.1:5000"),
    ],
)
def test_scheme_and_api_url(registry: str, scheme: str, api_url: str) -> None:
    ref = parse_reference(f"{registry}/equipe/app")
    assert ref.scheme == scheme
    assert ref.api_url == api_url


def test_with_tag_drops_digest() -> None:
    ref = parse_reference(f"localhost:5000/equipe/app:1.2@{SHA256}")
    assert str(ref.with_tag("2.0")) == "localhost:5000/equipe/app:2.0"
    with pytest.raises(InvalidReferenceError, match="le tag dépasse 128 caractères") as info:
        ref.with_tag("a" * 129)
    assert info.value.reference == "localhost:5000/equipe/app:" + "a" * 129
    with pytest.raises(InvalidReferenceError, match="position 28"):
        ref.with_tag("a/b")


def test_with_digest_keeps_tag() -> None:
    ref = parse_reference("localhost:5000/equipe/app:1.2")
    assert str(ref.with_digest(SHA256)) == f"localhost:5000/equipe/app:1.2@{SHA256}"
    pinned = ref.with_digest(SHA256)
    assert pinned.with_digest(SHA512).digest == SHA512
    with pytest.raises(InvalidReferenceError, match="64 chiffres hexadécimaux"):
        ref.with_digest("sha256:abc")
    with pytest.raises(InvalidReferenceError, match="forme algorithme:hexadécimal"):
        ref.with_digest("abc")


def test_with_registry() -> None:
    ref = parse_reference("busybox:1.36")
    moved = ref.with_registry("localhost:5000")
    assert str(moved) == "localhost:5000/library/busybox:1.36"
    assert moved.scheme == "http"
    assert moved.with_registry("index.docker.io") == ref
    hub = parse_reference("localhost:5000/app:1").with_registry("docker.io")
    assert str(hub) == "docker.io/library/app:1"
    with pytest.raises(InvalidReferenceError, match="ne serait pas lu comme un registre"):
        ref.with_registry("registry")
    with pytest.raises(InvalidReferenceError, match="nom de registre vide"):
        ref.with_registry("")
    with pytest.raises(InvalidReferenceError, match="port du registre doit être un nombre"):
        ref.with_registry("localhost:http")


def test_constructor_checks_and_normalises() -> None:
    assert Reference("index.docker.io", "busybox", "latest", None) == parse_reference("busybox")
    with pytest.raises(InvalidReferenceError, match="besoin d'un tag ou d'une empreinte"):
        Reference("localhost:5000", "app", None, None)
    with pytest.raises(InvalidReferenceError, match="minuscules"):
        Reference("localhost:5000", "App", "1", None)
    with pytest.raises(InvalidReferenceError, match="doit être un texte"):
        Reference("localhost:5000", "app", 1, None)  # type: ignore[arg-type]


def test_repr_and_html() -> None:
    ref = parse_reference(f"localhost:5000/equipe/app:1.2@{BUSYBOX}")
    assert repr(ref) == f"<Reference localhost:5000/equipe/app:1.2@{BUSYBOX}>"
    html = ref._repr_html_()
    for label in ("registre", "dépôt", "tag", "empreinte"):
        assert label in html
    assert "sha256:86e0e091d0da…" in html
    assert BUSYBOX not in html
    assert "—" in parse_reference(f"app@{BUSYBOX}")._repr_html_()
    assert "&lt;" not in html


# --- Invalid references: each names the rule it breaks ---------------------------------------

INVALID = [
    ("", "référence vide"),
    ("   ", "référence vide"),
    ("https://github.com/docker/docker", "n'est pas une URL"),
    ("docker/Docker", "le nom du dépôt doit être en minuscules"),
    ("Busybox", "le nom du dépôt doit être en minuscules"),
    ("Uppercase:tag", "le nom du dépôt doit être en minuscules"),
    ("test:5000/Uppercase/lowercase:tag", "le nom du dépôt doit être en minuscules"),
    ("docker.io/docker/Docker", "le nom du dépôt doit être en minuscules"),
    ("-docker", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("-docker/docker", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("docker-/docker", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("-docker-/docker", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("____/____", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("_docker/_docker", "commencer et finir par une lettre minuscule ou un chiffre"),
    ("-docker.io/docker/docker", "ne peut ni commencer ni finir par « - »"),
    ("docker///docker", "composant vide"),
    ("docker.io/docker///docker", "composant vide"),
    ("docker/", "composant vide"),
    ("/busybox", "composant vide"),
    # a first component with "." is a registry for Docker: these break the host-name rules
    ("dock..er/docker", "composant vide dans le nom du registre"),
    ("dock_.er/docker", "caractère interdit « _ » à la position 5"),
    ("dock-.er/docker", "un composant du nom du registre ne peut ni commencer ni finir par « - »"),
    ("docker/dock..er", "séparateur interdit « .. »"),
    ("docker/dock_.er", "séparateur interdit « _. »"),
    ("docker/dock-.er", "séparateur interdit « -. »"),
    ("dock___er/docker", "séparateur interdit « ___ »"),
    ("docker/a.-b", "séparateur interdit « .- »"),
    ("[fc00::1]", "caractère interdit « [ » à la position 1"),
    ("[fc00::1]:5000", "caractère interdit « [ » à la position 1"),
    ("fc00::1:5000/debian", "adresse IPv6 de registre doit être entre crochets"),
    ("[fe80::1%eth0]:5000/debian", "caractère interdit « % » à la position 9"),
    ("[fe80::1%@invalidzone]:5000/repo", "caractère interdit « % » à la position 9"),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", "caractère interdit « . » à la position 19"),
    ("[2001:db8::1/repo", "crochet « ] » manquant"),
    ("[]:5000/repo", "adresse IPv6 vide"),
    ("[::1]x/repo", "après l'adresse IPv6"),
    (HEX64, "une empreinte seule (64 chiffres hexadécimaux) n'est pas un nom de dépôt"),
    ("a/" * 128 + "a:tag", "le nom du dépôt dépasse 255 caractères (257)"),
    ("a" * 248, "le nom du dépôt dépasse 255 caractères (256)"),
    (
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255" * 4 + "/docker",
        "dépasse 255",
    ),
    ("aa/asdf$$^/aa", "caractère interdit « $ » à la position 8"),
    (":justtag", "nom du dépôt vide"),
    (f"@{SHA256}", "nom du dépôt vide"),
    ("localhost:5000/", "nom du dépôt vide"),
    (
        "repo@sha256:" + "f" * 34,
        "l'empreinte sha256 doit compter 64 chiffres hexadécimaux (34 donnés)",
    ),
    ("repo@sha512:" + "f" * 64, "l'empreinte sha512 doit compter 128 chiffres hexadécimaux"),
    ("validname@invaliddigest:" + "f" * 64, "algorithme d'empreinte non pris en charge"),
    ("repo@md5:" + "f" * 32, "algorithme d'empreinte non pris en charge"),
    ("repo@SHA256:" + "f" * 64, "l'algorithme d'empreinte s'écrit en minuscules"),
    ("repo@sha256:" + "F" * 64, "l'empreinte doit être en hexadécimal minuscule"),
    ("repo@1sha:" + "f" * 64, "algorithme d'empreinte mal formé"),
    ("repo@:" + "f" * 64, "algorithme d'empreinte manquant"),
    ("repo@", "empreinte vide"),
    ("repo@sha256", "l'empreinte doit avoir la forme algorithme:hexadécimal"),
    ("repo@sha256:" + "g" * 64, "caractère interdit « g » à la position 13"),
    ("repo@sha256:ab/cd", "caractère interdit « / » à la position 15"),
    (f"repo@{SHA256}@{SHA256}", "caractère interdit « @ »"),
    ("busybox:", "tag vide"),
    ("busybox:-1", "le tag doit commencer par une lettre, un chiffre ou « _ »"),
    ("busybox:.1", "le tag doit commencer par une lettre, un chiffre ou « _ »"),
    ("busybox:" + "a" * 129, "le tag dépasse 128 caractères"),
    ("busybox:1:2", "caractère interdit « : » à la position 10"),
    ("busybox:été", "caractère interdit « é » à la position 9"),
    ("foo_bar.com/x", "caractère interdit « _ » à la position 4"),
    ("FOO_BAR/x", "caractère interdit « _ » à la position 4"),
    ("registre..lan/x", "composant vide dans le nom du registre"),
    ("localhost:/x", "port vide"),
    ("localhost:50a0/x", "le port du registre doit être un nombre"),
    ("foo:ta/g", "le port du registre doit être un nombre"),
    ("bùsybox", "caractère interdit « ù » à la position 2"),
    ("busybox\x00", "caractère interdit '\\x00' (U+0000) à la position 8"),
    ("busybox ", "caractère interdit « » (espace) à la position 8"),
    (" busybox", "caractère interdit « » (espace) à la position 1"),
    ("busybox\n", "caractère interdit '\\n' (U+000A) à la position 8"),
]


@pytest.mark.parametrize(("text", "rule"), INVALID)
def test_invalid_reference_names_the_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    error = info.value
    assert rule in error.message
    assert error.reference == text
    assert error.hint
    assert "Piste :" in str(error)


@pytest.mark.parametrize(("text", "rule"), INVALID)
def test_invalid_references_are_invalid_for_docker(text: str, rule: str) -> None:
    expected = docker_parse(text)
    # Docker gives foo_bar.com/x no registry at all: see the test below.
    assert expected is None or expected[0] == ""


def test_why_the_first_component_is_a_registry() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference("dock..er/docker")
    assert "Docker lit « dock..er »" in info.value.hint
    assert "il contient « . »" in info.value.hint


def test_registry_that_docker_reads_as_a_path() -> None:
    """The one deliberate difference: Docker accepts ``foo_bar.com/x`` with *no* domain at all
    (``foo_bar.com`` is a valid path component but not a host name); a reference without a
    registry cannot be fetched, so it is an error here."""
    assert docker_parse("foo_bar.com/x") == ("", "foo_bar.com/x", "latest", None)
    with pytest.raises(InvalidReferenceError, match="nom du registre"):
        parse_reference("foo_bar.com/x")


def test_not_a_string() -> None:
    with pytest.raises(InvalidReferenceError, match="est un texte"):
        parse_reference(None)  # type: ignore[arg-type]


# --- Properties ------------------------------------------------------------------------------

HEX = "0123456789abcdef"
domain_components = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
ports = st.integers(min_value=0, max_value=99999).map(str)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.from_regex(r"\[[a-fA-F0-9:]{0,20}:[a-fA-F0-9:]{0,18}\]", fullmatch=True)
with_port = st.tuples(st.one_of(domain_components, ipv4, ipv6), ports).map(":".join)
dotted = st.lists(domain_components, min_size=2, max_size=4).map(".".join)
registries = st.one_of(
    st.sampled_from(["docker.io", "index.docker.io", "localhost", "ghcr.io", "localhost:5000"]),
    with_port,
    dotted,
    ipv4,
    ipv6,
    domain_components.filter(lambda c: c.lower() != c),
)
path_components = st.from_regex(
    r"[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}", fullmatch=True
)
paths = st.lists(path_components, min_size=1, max_size=4).map("/".join)
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
digests = st.sampled_from(sorted({"sha256": 64, "sha384": 96, "sha512": 128}.items())).flatmap(
    lambda item: st.text(HEX, min_size=item[1], max_size=item[1]).map(lambda h: f"{item[0]}:{h}")
)


@st.composite
def references(draw: st.DrawFn) -> Reference:
    digest = draw(st.none() | digests)
    tag = draw(tags) if digest is None else draw(st.none() | tags)
    return Reference(draw(registries), draw(paths), tag, digest)


@settings(max_examples=300, deadline=None)
@given(references())
def test_format_then_parse_is_identity(ref: Reference) -> None:
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar()) == ref
    assert docker_parse(str(ref)) == (ref.registry, ref.repository, ref.tag, ref.digest)
    assert ref.tag is not None or ref.digest is not None


FRAGMENTS = [
    "a", "b0", "A", "Z", "_", "__", ".", "..", "-", "--", "/", "//", ":", "@", "[", "]", "::1",
    "localhost", "docker.io", "index.docker.io", "library", ":5000", "5000", "latest", "sha256",
    "sha512", "md5", "SHA256", "f" * 32, "f" * 64, "F" * 64, HEX64, "a" * 128, "a/" * 64, " ",
    "\x00", "é", "\n", "%", "$", "foo_bar.com", "Foo", "[fc00::1]", "127.0.0.1",
]  # fmt: skip
near_valid = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
    st.text(alphabet="ab0_.-/:@[]AF ", max_size=40),
    st.builds(lambda r, s: str(r)[: len(str(r)) - s], references(), st.integers(0, 5)),
    st.builds(
        lambda r, i, c: str(r)[:i] + c + str(r)[i:],
        references(),
        st.integers(0, 80),
        st.sampled_from(list("A_.-/:@[] é")),
    ),
)


@settings(max_examples=500, deadline=None)
@given(near_valid)
@example("foo_bar.com/x")
@example("a" * 247)
@example("a" * 248)
def test_accepts_exactly_what_docker_accepts(text: str) -> None:
    expected = docker_parse(text)
    result = parse_or_error(text)
    if expected is None or expected[0] == "":
        assert isinstance(result, InvalidReferenceError), result
        assert result.reference == text
        assert result.message and result.hint
    else:
        assert isinstance(result, Reference), result
        assert (result.registry, result.repository, result.tag, result.digest) == expected


@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_any_text_parses_or_raises_invalid_reference(text: str) -> None:
    result = parse_or_error(text)
    if isinstance(result, InvalidReferenceError):
        assert result.reference == text
        assert result.message and result.hint
    else:
        assert parse_reference(str(result)) == result


loopback = st.one_of(
    st.just("localhost"),
    st.builds(lambda p: f"localhost:{p}", ports),
    st.builds(lambda c: f"{c}.localhost", domain_components),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
        lambda t: "127." + ".".join(map(str, t))
    ),
    st.builds(lambda p: f"[::1]:{p}", ports),
    st.just("[::1]"),
)
remote = st.builds(
    lambda first, rest, tld: ".".join([first, *rest, tld]),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True),
    st.lists(domain_components, max_size=2),
    st.sampled_from(["io", "com", "fr", "lan"]),
).filter(lambda host: "localhost" not in host.lower() and host != "docker.io")


@given(loopback, st.none() | ports)
def test_loopback_registries_use_http(host: str, port: str | None) -> None:
    registry = host if port is None or ":" in host else f"{host}:{port}"
    ref = parse_reference(f"{registry}/equipe/app:1.2")
    assert ref.scheme == "http"
    assert ref.api_url == f"http://{registry}"


@given(remote, st.none() | ports)
def test_other_registries_use_https(host: str, port: str | None) -> None:
    registry = host if port is None else f"{host}:{port}"
    ref = parse_reference(f"{registry}/equipe/app:1.2")
    assert ref.scheme == "https"
    assert ref.api_url == f"https://{registry}"


@given(paths.filter(lambda path: "." not in path.split("/")[0]), tags)
def test_docker_hub_api_url(path: str, tag: str) -> None:
    for prefix in ("", "docker.io/", "index.docker.io/"):
        ref = parse_reference(f"{prefix}{path}:{tag}")
        assert ref.registry == "docker.io"
        assert ref.scheme == "https"
        assert ref.api_url == "https://registry-1.docker.io"
