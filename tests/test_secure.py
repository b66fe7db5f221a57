"""The private and secured registry, on the real components: two dockerd, Distribution over
TLS in the lab's own network namespace, htpasswd accounts, the token service.

Nothing is mocked: every refusal below is the one the real docker CLI or registry gives.
"""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import new_home
from secret_scan import find_secrets

from registry_lab import Lab
from registry_lab.clinic import diagnose
from registry_lab.errors import (
    DeniedError,
    TLSError,
    UnauthorizedError,
    UnsupportedError,
)
from registry_lab.examples import build_example
from registry_lab.netns import network_leftovers
from registry_lab.ports import free_port
from registry_lab.secure import SecureRegistry
from registry_lab.transfers import pull, push

IMAGE = "cours/bonjour:1.0"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    from conftest import discard_lab

    home = new_home()
    lab = Lab.up(home, free_port())
    try:
        build_example(lab.host_a, "bonjour")
        yield lab
    finally:
        discard_lab(home, lab.registry.port)


def _pushed(lab: Lab, mode: str) -> SecureRegistry:
    """The secured registry in ``mode``, holding IMAGE pushed from hôte A (as « dev »)."""
    secure = lab.secure(mode)
    secure.trust(lab.host_a)
    if mode in ("htpasswd", "token") and secure.logged_in(lab.host_a) != "dev":
        secure.login(lab.host_a, "dev")
    push(lab.host_a, secure, IMAGE, progress=False)
    return secure


def _docker_push(lab: Lab, secure: SecureRegistry, host_key: str = "a") -> str:
    host = lab.host_a if host_key == "a" else lab.host_b
    name = f"{secure.address}/{IMAGE}"
    host.docker("tag", IMAGE if host_key == "a" else name, name)
    return host.docker("push", name, check=False).output


def test_plain_http_at_a_real_address_is_refused(lab: Lab) -> None:
    secure = lab.secure("http")
    assert not secure.network.address.startswith("127.")
    output = _docker_push(lab, secure)
    assert "server gave HTTP response to HTTPS client" in output
    assert diagnose(output).code == "HTTP ≠ HTTPS"
    with pytest.raises(TLSError) as refused:
        push(lab.host_a, secure, IMAGE, progress=False)
    assert "insecure-registries" in refused.value.hint


def test_tls_needs_the_lab_authority_in_certs_d(lab: Lab) -> None:
    secure = lab.secure("tls")
    secure.forget_hosts(lab.host_a)
    output = _docker_push(lab, secure)
    assert "x509: certificate signed by unknown authority" in output
    with pytest.raises(TLSError) as refused:
        push(lab.host_a, secure, IMAGE, progress=False)
    assert "certs.d" in refused.value.hint

    assert lab.host_a.sees_own_etc_docker
    change = secure.trust(lab.host_a)
    assert change.path == lab.host_a.certs_dir / secure.address / "ca.crt"
    assert change.docker_path == f"/etc/docker/certs.d/{secure.address}/ca.crt"
    report = push(lab.host_a, secure, IMAGE, progress=False)
    assert secure.client.head_manifest("cours/bonjour", "1.0").digest == report.digest
    # The machine's own /etc/docker is not where the trust went.
    assert not Path(change.docker_path).exists()


def test_the_server_certificate_names_the_registry_address(lab: Lab) -> None:
    secure = lab.secure("tls")
    certificate = secure.certificate()
    assert secure.network.address in certificate.names
    done = subprocess.run(
        ["openssl", "verify", "-CAfile", str(secure.ca_certificate),
         str(secure.authority.folder / "registry.crt")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_htpasswd_push_needs_docker_login(lab: Lab) -> None:
    secure = lab.secure("htpasswd")
    secure.forget_hosts(lab.host_a)
    secure.trust(lab.host_a)
    output = _docker_push(lab, secure)
    assert "no basic auth credentials" in output
    with pytest.raises(UnauthorizedError):
        push(lab.host_a, secure, IMAGE, progress=False)

    with pytest.raises(UnauthorizedError) as wrong:
        secure.login(lab.host_a, "dev", password="pas-le-bon-mot-de-passe")
    assert "--password-stdin" in wrong.value.hint
    assert secure.logged_in(lab.host_a) is None

    logged = secure.login(lab.host_a, "dev")
    assert "Login Succeeded" in logged.output
    assert secure.password("dev") not in logged.output + logged.command
    assert secure.logged_in(lab.host_a) == "dev"
    config = lab.host_a.docker_config / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    report = push(lab.host_a, secure, IMAGE, progress=False)
    assert report.digest


def test_wrong_password_through_the_api_is_unauthorized_in_french(lab: Lab) -> None:
    secure = lab.secure("htpasswd")
    from registry_lab.auth import RegistryAuth
    from registry_lab.registry import RegistryClient

    client = RegistryClient(
        secure.url, auth=RegistryAuth("dev", "faux"), verify=str(secure.ca_certificate)
    )
    with pytest.raises(UnauthorizedError) as refused:
        list(client.tags("cours/bonjour"))
    assert refused.value.status == 401
    assert "refuse ces identifiants" in refused.value.message
    assert "mot de passe" in refused.value.hint


def test_token_rights_lecteur_pulls_and_cannot_push(lab: Lab) -> None:
    secure = lab.secure("token")
    secure.trust(lab.host_a)
    secure.login(lab.host_a, "dev")
    push(lab.host_a, secure, IMAGE, progress=False)

    secure.forget_hosts(lab.host_b)
    secure.trust(lab.host_b)
    secure.login(lab.host_b, "lecteur")
    name = f"{secure.address}/{IMAGE}"
    if lab.host_b.find_image(name) is not None:
        lab.host_b.docker("rmi", name)
    report = pull(lab.host_b, secure, IMAGE, progress=False)
    assert lab.host_b.find_image(name) is not None
    assert report.digest == secure.client.head_manifest("cours/bonjour", "1.0").digest

    output = _docker_push(lab, secure, host_key="b")
    assert "denied: requested access to the resource is denied" in output
    with pytest.raises(DeniedError):
        push(lab.host_b, secure, IMAGE, source=name, progress=False)
    asked = [
        call
        for call in secure.token_calls()
        if call.user == "lecteur" and any("push" in scope for scope in call.scopes)
    ]
    assert asked, "le service de jetons aurait dû recevoir la demande de push de « lecteur »"
    assert all("push" not in scope for call in asked for scope in call.granted)


def test_token_challenge_is_recorded(lab: Lab) -> None:
    secure = _pushed(lab, "token")
    client = secure.client_for("lecteur")
    with client.record() as transcript:
        client.manifest("cours/bonjour", "1.0")
    first = transcript[0]
    assert first.status == 401
    challenge = first.header("WWW-Authenticate") or ""
    assert challenge.startswith("Bearer ")
    for part in (f'realm="{secure.token_realm}"', 'service="registry-lab"', "scope="):
        assert part in challenge
    assert any("/token" in exchange.request_line for exchange in transcript)
    assert transcript[-1].status == 200
    text = str(transcript)
    assert secure.password("lecteur") not in text and "eyJ" not in text


def test_lecteur_token_cannot_upload(lab: Lab) -> None:
    secure = _pushed(lab, "token")
    # The registry answers 401 « insufficient_scope »: denied, as docker says it.
    with pytest.raises(DeniedError) as refused:
        secure.client_for("lecteur").upload_blob("cours/bonjour", b"interdit")
    assert "insufficient_scope" in str(refused.value.detail) or refused.value.status == 401


def test_delete_is_unsupported_on_the_secured_registry(lab: Lab) -> None:
    secure = _pushed(lab, "token")
    digest = secure.client.head_manifest("cours/bonjour", "1.0").digest
    with pytest.raises(UnsupportedError) as refused:
        secure.client.delete_manifest("cours/bonjour", digest)
    assert diagnose(refused.value).code == "UNSUPPORTED"


def test_secrets_stay_in_files_only_root_reads(lab: Lab) -> None:
    secure = _pushed(lab, "token")
    for path in (
        secure.passwords_file,
        secure.htpasswd,
        secure.authority.key_path,
        secure.authority.folder / "registry.key",
        secure.config,
        secure.token_config,
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    passwords = [secure.password(user) for user in secure.users()]
    shown = secure.htpasswd_text() + str(secure.accounts()) + secure.config_text()
    for log in (secure.log, secure.token_log, lab.host_a.log, lab.host_b.log):
        shown += log.read_text(errors="replace")
    assert find_secrets(shown, tuple(passwords)) == []


def test_exercise_07_both_ways(lab: Lab) -> None:
    from registry_lab.exercises import check_07, prepare_07

    secure = prepare_07(lab)
    build_example(lab.host_a, "au-revoir")
    before = check_07(lab)
    assert not before.ok
    text = str(before)
    assert "L'hôte B ne fait pas confiance" in text or "n'a pas cours/au-revoir" in text

    push(lab.host_a, secure, "cours/au-revoir:1.0", progress=False)
    secure.trust(lab.host_b)
    secure.login(lab.host_b, "dev")  # too much: the checker wants « lecteur »
    pull(lab.host_b, secure, "cours/au-revoir:1.0", progress=False)
    too_much = check_07(lab)
    assert not too_much.ok
    assert "connecté en « dev »" in str(too_much)

    secure.login(lab.host_b, "lecteur")
    lab.host_b.docker("rmi", f"{secure.address}/cours/au-revoir:1.0")
    pull(lab.host_b, secure, "cours/au-revoir:1.0", progress=False)
    after = check_07(lab)
    assert after.ok, str(after)


def test_status_lists_the_secured_registry_while_it_runs(lab: Lab) -> None:
    secure = _pushed(lab, "tls")
    shown = {component.name: component for component in lab.status().components}
    component = shown["registry sécurisé (tls)"]
    assert component.running and component.address == secure.url
    assert "cours/bonjour (1.0)" in component.contents
    secure.stop()
    names = [component.name for component in lab.status().components]
    assert all(not name.startswith("registry sécurisé") for name in names)


def test_down_removes_the_namespace_and_the_veth(lab: Lab) -> None:
    secure = _pushed(lab, "tls")
    assert secure.network.exists
    lab.down()
    assert network_leftovers(lab.home) == []
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert secure.network.name not in names
    # Everything comes back, images included.
    secure = lab.secure("tls")
    assert "1.0" in secure.tags("cours/bonjour")
