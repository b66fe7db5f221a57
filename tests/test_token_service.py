"""`registry_lab.token_service`: the policy and the tokens as functions, then the real thing.

The integration tests start the service as its own process (``python -m
registry_lab.token_service cfg.json``, HTTPS with a certificate of the lab's authority) and the
real Distribution registry (HTTPS too) with ``auth: token`` whose ``rootcertbundle`` is the
authority: the ``x5c`` chain of each token leads to it. `RegistryClient` talks to both,
trusting only ``ca.crt``. Nothing is mocked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from registry_auth_helpers import RegistryProcess

from registry_lab.certificates import CertificateAuthority, x5c_chain
from registry_lab.errors import DeniedError, LabError, UnauthorizedError
from registry_lab.passwords import write_htpasswd
from registry_lab.ports import free_port
from registry_lab.registry import RegistryClient
from registry_lab.token_service import (
    DEFAULT_ISSUER,
    DEFAULT_SERVICE,
    TokenCall,
    TokenCalls,
    TokenServer,
    TokenServiceConfig,
    answer,
    decode_claims,
    granted,
    make_token,
    read_calls,
)

PASSWORDS = {"dev": "dev-mdp-Vx81", "lecteur": "lecteur-mdp-Qk27", "admin": "admin-mdp-Zt90"}
WRONG = "pas-le-bon-mdp-5510"
RIGHTS: dict[str, list[dict[str, Any]]] = {
    "dev": [{"repository": "cours/*", "actions": ["pull", "push"]}],
    "lecteur": [{"repository": "cours/*", "actions": ["pull"]}],
    "admin": [{"repository": "*", "actions": ["*"]}, {"catalog": True}],
}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def trusting(setup: Setup) -> ssl.SSLContext:
    """A TLS context that trusts the lab's authority only."""
    return ssl.create_default_context(cafile=str(setup.authority.cert_path))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class Setup:
    authority: CertificateAuthority
    config: TokenServiceConfig
    config_path: Path


def make_setup(root: Path, port: int = 0) -> Setup:
    authority = CertificateAuthority(root / "ca")
    tls_certificate, tls_key = authority.issue("jetons-https", ip_addresses=["127.0.0.1"])
    signing_certificate, signing_key = authority.issue(
        "jetons-signature", common_name=DEFAULT_ISSUER, server=False
    )
    write_htpasswd(root / "htpasswd", PASSWORDS, rounds=4)
    config = TokenServiceConfig(
        host="127.0.0.1",
        port=port,
        tls_certificate=tls_certificate,
        tls_key=tls_key,
        signing_certificate=signing_certificate,
        signing_key=signing_key,
        htpasswd=root / "htpasswd",
        rights=RIGHTS,
        log=root / "appels.jsonl",
    )
    config.save(root / "jetons.json")
    return Setup(authority, config, root / "jetons.json")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return make_setup(tmp_path_factory.mktemp("jetons"), free_port())


# -- the policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "scope", "actions"),
    [
        ("dev", "repository:cours/app:pull,push", ["pull", "push"]),
        ("dev", "repository:cours/app:pull,push,delete", ["pull", "push"]),
        ("dev", "repository:cours/equipe/app:pull", ["pull"]),  # fnmatch's * crosses « / »
        ("dev", "repository:autre/app:pull", []),
        ("lecteur", "repository:cours/app:pull,push", ["pull"]),
        ("lecteur", "repository(plugin):cours/app:pull", ["pull"]),
        (None, "repository:cours/app:pull", []),
        ("inconnu", "repository:cours/app:pull", []),
        ("admin", "repository:nimporte/quoi:delete,pull,push", ["delete", "pull", "push"]),
        ("admin", "registry:catalog:*", ["*"]),
        ("dev", "registry:catalog:*", []),
        ("admin", "plugin:x:pull", []),  # a type the policy does not know
        ("dev", "repository:localhost:5000/cours/app:pull", []),
    ],
)
def test_granted_is_asked_actions_within_rights(
    user: str | None, scope: str, actions: list[str]
) -> None:
    entry = granted(RIGHTS, user, scope)
    assert entry is not None
    assert entry["actions"] == actions
    assert entry["type"] == scope.split(":")[0].split("(")[0]


def test_granted_keeps_the_name_whole_and_refuses_unreadable_scopes() -> None:
    entry = granted(RIGHTS, "admin", "repository:hote:5000/cours/app:pull")
    assert entry == {"type": "repository", "name": "hote:5000/cours/app", "actions": ["pull"]}
    assert granted(RIGHTS, "dev", "repository") is None
    assert granted(RIGHTS, "dev", ":x:pull") is None


def test_a_token_says_what_distribution_checks(setup: Setup) -> None:
    before = int(time.time())
    token = make_token(
        setup.config, "dev", ["repository:cours/app:pull,push", "repository:autre/app:pull"]
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["x5c"] == x5c_chain(setup.config.signing_certificate)
    certificate = x509.load_pem_x509_certificate(setup.config.signing_certificate.read_bytes())
    claims = jwt.decode(
        token,
        certificate.public_key(),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=DEFAULT_SERVICE,
        issuer=DEFAULT_ISSUER,
    )
    assert claims == decode_claims(token)
    assert claims["sub"] == "dev"
    assert before <= claims["iat"] == claims["nbf"] <= time.time()
    assert claims["exp"] - claims["iat"] == 300
    assert claims["access"] == [
        {"type": "repository", "name": "cours/app", "actions": ["pull", "push"]}
    ]
    other = decode_claims(make_token(setup.config, "dev", ["repository:cours/app:pull"]))
    assert other["jti"] != claims["jti"]


def test_anonymous_token_grants_nothing(setup: Setup) -> None:
    claims = decode_claims(make_token(setup.config, None, ["repository:cours/app:pull"]))
    assert claims["sub"] == "" and claims["access"] == []


# -- one request, without HTTP ----------------------------------------------------------------


def test_answer_gives_a_token_to_the_right_password(setup: Setup) -> None:
    result = answer(
        setup.config,
        "GET",
        "/token?service=registry-lab&scope=repository:cours/app:pull,push&account=lecteur",
        authorization=basic("lecteur", PASSWORDS["lecteur"]),
    )
    assert result.status == 200
    assert set(result.body) == {"token", "access_token", "expires_in", "issued_at"}
    assert result.body["token"] == result.body["access_token"]
    assert result.body["expires_in"] == 300
    assert result.body["issued_at"].endswith("Z")
    assert decode_claims(result.body["token"])["access"] == result.access
    assert result.call is not None
    assert (result.call.user, result.call.status) == ("lecteur", 200)
    assert result.call.scopes == ("repository:cours/app:pull,push",)
    assert result.call.granted == ("repository:cours/app:pull",)


def test_answer_refuses_a_wrong_password_with_a_basic_challenge(setup: Setup) -> None:
    result = answer(
        setup.config,
        "GET",
        "/token?service=registry-lab&scope=repository:cours/app:pull",
        authorization=basic("dev", WRONG),
    )
    assert result.status == 401
    assert json.dumps(result.body) == (
        '{"errors": [{"code": "UNAUTHORIZED", "message": "identifiants invalides", '
        '"detail": null}]}'
    )
    assert result.headers["WWW-Authenticate"] == f'Basic realm="{DEFAULT_ISSUER}"'
    assert result.call is not None
    assert (result.call.user, result.call.granted, result.call.status) == ("dev", (), 401)
    for header in ("Bearer abc", "Basic pas-du-base64", basic("", "x")):
        refused = answer(setup.config, "GET", "/token?service=registry-lab", authorization=header)
        assert refused.status == 401
    assert answer(setup.config, "GET", "/token?service=registry-lab").status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/token?service=autre&scope=repository:cours/app:pull",
        "/token?scope=repository:cours/app:pull",
        "/token?service=registry-lab&account=lecteur",  # account is not the user
    ],
)
def test_answer_400(setup: Setup, target: str) -> None:
    result = answer(setup.config, "GET", target, authorization=basic("dev", PASSWORDS["dev"]))
    assert result.status == 400
    assert result.body["errors"][0]["code"] == "INVALID_REQUEST"
    assert result.call is not None and result.call.status == 400


def test_answer_404_is_not_a_call(setup: Setup) -> None:
    result = answer(setup.config, "GET", "/")
    assert result.status == 404 and result.call is None


def test_several_scopes_in_parameters_or_separated_by_spaces(setup: Setup) -> None:
    result = answer(
        setup.config,
        "GET",
        "/token?service=registry-lab&scope=repository:cours/a:pull"
        "&scope=repository:cours/b:push%20registry:catalog:*",
        authorization=basic("admin", PASSWORDS["admin"]),
    )
    assert result.call is not None
    assert result.call.scopes == (
        "repository:cours/a:pull",
        "repository:cours/b:push",
        "registry:catalog:*",
    )
    assert result.call.granted == result.call.scopes


def test_oauth_password_grant_and_nothing_else(setup: Setup) -> None:
    form = (
        "grant_type=password&service=registry-lab&client_id=docker"
        f"&username=dev&password={PASSWORDS['dev']}&scope=repository%3Acours%2Fapp%3Apull"
    )
    result = answer(setup.config, "POST", "/token", form=form)
    assert result.status == 200
    assert result.body["access_token"] and result.body["scope"] == "repository:cours/app:pull"
    assert result.call is not None and result.call.method == "POST"
    wrong = answer(setup.config, "POST", "/token", form=form.replace(PASSWORDS["dev"], WRONG))
    assert (wrong.status, wrong.body) == (400, {"error": "invalid_grant"})
    refresh = answer(
        setup.config, "POST", "/token", form="grant_type=refresh_token&refresh_token=x"
    )
    assert (refresh.status, refresh.body) == (400, {"error": "unsupported_grant_type"})


# -- configuration and log --------------------------------------------------------------------


def test_config_round_trip_in_a_private_file(setup: Setup) -> None:
    assert stat.S_IMODE(setup.config_path.stat().st_mode) == 0o600
    loaded = TokenServiceConfig.load(setup.config_path)
    assert loaded == setup.config
    assert loaded.realm == f"https://127.0.0.1:{setup.config.port}/token"
    assert loaded.issuer == "registry-lab-jetons" and loaded.service == "registry-lab"
    assert loaded.registry_auth(setup.authority.cert_path) == {
        "token": {
            "realm": loaded.realm,
            "service": "registry-lab",
            "issuer": "registry-lab-jetons",
            "rootcertbundle": str(setup.authority.cert_path),
        }
    }
    assert not any(password in setup.config_path.read_text() for password in PASSWORDS.values())


def test_config_errors_are_french(setup: Setup, tmp_path: Path) -> None:
    with pytest.raises(LabError, match="introuvable"):
        TokenServiceConfig.load(tmp_path / "absent.json")
    (tmp_path / "cassé.json").write_text("{")
    with pytest.raises(LabError, match="illisible"):
        TokenServiceConfig.load(tmp_path / "cassé.json")
    with pytest.raises(LabError, match="Règle de droits illisible"):
        replace(setup.config, rights={"dev": [{"repository": "cours/*"}]})


def test_read_calls_skips_what_is_not_a_call(tmp_path: Path) -> None:
    log = tmp_path / "appels.jsonl"
    assert read_calls(log) == []
    line = {
        "time": "2026-01-02T03:04:05.678+00:00",
        "method": "GET",
        "user": None,
        "scopes": ["repository:cours/app:pull"],
        "granted": [],
        "status": 200,
    }
    log.write_text(f"Service de jetons à l'écoute…\n{json.dumps(line)}\n")
    calls = read_calls(log)
    assert calls == [
        TokenCall(
            time=calls[0].time,
            user=None,
            scopes=("repository:cours/app:pull",),
            granted=(),
            status=200,
        )
    ]
    assert calls[0].time.tzinfo is not None
    text = str(calls)
    assert "Utilisateur" in text and "anonyme" in text and "200 jeton délivré" in text
    html = calls._repr_html_()
    for header in ("Heure", "Utilisateur", "Portée demandée", "Droits accordés", "Statut"):
        assert header in html
    assert "Aucun appel" in str(TokenCalls())


def test_usage_errors_in_french(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "registry_lab.token_service", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    no_argument = run()
    assert no_argument.returncode == 2 and "usage : python -m" in no_argument.stderr
    missing = run(str(tmp_path / "absent.json"))
    assert missing.returncode == 1
    assert "Configuration du service de jetons introuvable" in missing.stderr


def test_in_process_server_reports_an_unreadable_htpasswd(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = replace(setup.config, port=0, htpasswd=tmp_path / "absent", log=tmp_path / "a.jsonl")
    server = TokenServer(config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.url == f"https://127.0.0.1:{server.port}" and server.port > 0
        with httpx.Client(verify=trusting(setup), timeout=10) as http:
            broken = http.get(
                f"{server.url}/token", params={"service": "registry-lab"}, auth=("dev", "x")
            )
            anonymous = http.get(f"{server.url}/token", params={"service": "registry-lab"})
            elsewhere = http.get(f"{server.url}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert broken.status_code == 500
    assert "Fichier htpasswd introuvable" in broken.json()["errors"][0]["message"]
    assert "Fichier htpasswd introuvable" in capsys.readouterr().err
    assert anonymous.status_code == 200  # no password to check
    assert elsewhere.status_code == 404
    assert [call.status for call in read_calls(config.log)] == [200]


# -- the real service, the real registry ------------------------------------------------------


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"le service de jetons n'a pas démarré :\n{log.read_text()}")


def start_service(config_path: Path, port: int, output: Path) -> subprocess.Popen[bytes]:
    with open(output, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry_lab.token_service", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_listening(port, process, output)
    return process


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, and its exit code; killed (and the test failed) if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="module")
def service(setup: Setup) -> Iterator[Path]:
    """The service's process; yields its output file (stdout and stderr)."""
    output = setup.config_path.parent / "sortie.log"
    process = start_service(setup.config_path, setup.config.port, output)
    yield output
    assert stop(process) == 0


@pytest.fixture(scope="module")
def registry(setup: Setup, service: Path) -> Iterator[RegistryProcess]:
    auth = setup.config.registry_auth(setup.authority.cert_path)["token"]
    section = "token:\n" + "".join(f"  {key}: {value}\n" for key, value in auth.items())
    tls = setup.authority.issue("registry", ip_addresses=["127.0.0.1"])
    process = RegistryProcess(setup.config_path.parent / "registry", section, tls=tls)
    yield process
    process.stop()


def client(setup: Setup, registry: RegistryProcess, user: str | None = None) -> RegistryClient:
    auth = (user, PASSWORDS[user]) if user else None
    return RegistryClient(
        registry.url, auth=auth, verify=str(setup.authority.cert_path), timeout=10
    )


def push_image(http: RegistryClient, repository: str, tag: str) -> str:
    layer = os.urandom(2048)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()],
            },
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": http.upload_blob(repository, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": http.upload_blob(repository, layer),
                "size": len(layer),
            }
        ],
    }
    return http.put_manifest(repository, tag, manifest, OCI_MANIFEST)


@pytest.mark.integration
def test_dev_pushes_lecteur_pulls_but_cannot_push(setup: Setup, registry: RegistryProcess) -> None:
    with client(setup, registry, "dev") as dev:
        digest = push_image(dev, "cours/app", "v1")
    with client(setup, registry, "lecteur") as lecteur:
        manifest = lecteur.manifest("cours/app", "v1")
        assert lecteur.head_manifest("cours/app", "v1").digest == digest
        layer = manifest.layers[0]  # type: ignore[union-attr]
        assert len(lecteur.blob("cours/app", layer.digest)) == 2048
        with pytest.raises(DeniedError) as refused:
            lecteur.upload_blob("cours/app", b"pas pour le lecteur\n")
    assert "repository:cours/app:pull,push" in refused.value.message
    with client(setup, registry, "dev") as dev, pytest.raises(DeniedError):
        dev.manifest("autre/app", "v1")  # no right outside cours/*


@pytest.mark.integration
def test_wrong_password_is_unauthorized(setup: Setup, registry: RegistryProcess) -> None:
    with (
        RegistryClient(
            registry.url, auth=("dev", WRONG), verify=str(setup.authority.cert_path), timeout=10
        ) as http,
        pytest.raises(UnauthorizedError) as caught,
    ):
        list(http.tags("cours/app"))
    assert "Identifiants refusés par le service de jetons" in caught.value.message
    assert WRONG not in str(caught.value)


@pytest.mark.integration
def test_anonymous_gets_a_token_without_access(setup: Setup, service: Path) -> None:
    realm = setup.config.realm
    params = {"service": "registry-lab", "scope": "repository:cours/app:pull"}
    with httpx.Client(verify=trusting(setup), timeout=10) as http:
        response = http.get(realm, params=params)
        wrong = http.get(realm, params=params, auth=("lecteur", WRONG))
        other_service = http.get(realm, params={**params, "service": "autre"})
    assert response.status_code == 200
    assert decode_claims(response.json()["token"])["access"] == []
    assert wrong.status_code == 401
    assert wrong.json() == {
        "errors": [{"code": "UNAUTHORIZED", "message": "identifiants invalides", "detail": None}]
    }
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="registry-lab-jetons"'
    assert other_service.status_code == 400
    # the service's certificate is trusted through the lab's authority, not the system's
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(realm, params=params, timeout=10)


@pytest.mark.integration
def test_catalog_right(setup: Setup, registry: RegistryProcess) -> None:
    with client(setup, registry, "dev") as dev:
        push_image(dev, "cours/catalogue", "v1")
    with client(setup, registry, "admin") as admin:
        assert "cours/catalogue" in list(admin.repositories())
    with client(setup, registry, "dev") as dev, pytest.raises(DeniedError):
        list(dev.repositories())


@pytest.mark.integration
def test_distribution_checks_the_chain_not_the_key_usage(
    setup: Setup, registry: RegistryProcess, tmp_path: Path
) -> None:
    """Distribution verifies ``x5c`` up to ``rootcertbundle`` with ``ExtKeyUsageAny``: a server
    certificate of the same authority signs acceptable tokens, another authority's does not."""
    url = f"{registry.url}/v2/cours/inexistant/tags/list"
    ca = trusting(setup)

    def status(config: TokenServiceConfig) -> int:
        token = make_token(config, "lecteur", ["repository:cours/inexistant:pull"])
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(url, headers=headers, verify=ca, timeout=10).status_code

    assert status(setup.config) == 404  # let in: the repository does not exist
    server_signed = replace(
        setup.config,
        signing_certificate=setup.config.tls_certificate,
        signing_key=setup.config.tls_key,
    )
    assert status(server_signed) == 404
    stranger = make_setup(tmp_path)
    foreign = replace(
        setup.config,
        signing_certificate=stranger.config.signing_certificate,
        signing_key=stranger.config.signing_key,
    )
    assert status(foreign) == 401


@pytest.mark.integration
def test_the_log_holds_calls_not_secrets(
    setup: Setup, registry: RegistryProcess, service: Path
) -> None:
    before = len(read_calls(setup.config.log))
    with client(setup, registry, "dev") as dev:
        push_image(dev, "cours/journal", "v1")
    with client(setup, registry, "lecteur") as lecteur:
        list(lecteur.tags("cours/journal"))
    realm, ca = setup.config.realm, trusting(setup)
    params = {"service": "registry-lab", "scope": "repository:cours/journal:pull"}
    httpx.get(realm, params=params, verify=ca, timeout=10)
    httpx.get(realm, params=params, auth=("dev", WRONG), verify=ca, timeout=10)
    calls = [
        (call.user, call.scopes, call.granted, call.status)
        for call in read_calls(setup.config.log)[before:]
    ]
    pull = ("repository:cours/journal:pull",)
    push = ("repository:cours/journal:pull,push",)
    assert ("dev", push, push, 200) in calls  # pushing asks pull and push together
    assert ("lecteur", pull, pull, 200) in calls
    assert calls[-2:] == [(None, pull, (), 200), ("dev", pull, (), 401)]
    for path in (setup.config.log, service):
        text = path.read_text()
        assert "eyJ" not in text, f"un jeton dans {path.name}"
        assert "Basic " not in text and "Authorization" not in text
        for password in (*PASSWORDS.values(), WRONG):
            assert password not in text, f"un mot de passe dans {path.name}"
    assert "Service de jetons à l'écoute sur https://127.0.0.1:" in service.read_text()


@pytest.mark.integration
def test_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    port = free_port()
    own = make_setup(tmp_path, port)
    output = tmp_path / "sortie.log"
    process = start_service(own.config_path, port, output)
    assert stop(process) == 0
    assert output.read_text().strip().endswith("Service de jetons arrêté.")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
