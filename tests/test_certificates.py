"""`registry_lab.certificates`: the lab's authority and what it issues, checked by others.

``openssl verify`` and Python's ssl module judge the certificates (a client trusting only
``ca.crt`` connects, one with the system's trust does not), and the real Distribution registry
serves HTTPS with one of them.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import re
import shutil
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from registry_auth_helpers import RegistryProcess

from registry_lab.certificates import (
    CA_COMMON_NAME,
    CertificateAuthority,
    CertificateInfo,
    x5c_chain,
)
from registry_lab.errors import CertificateError, RegistryError
from registry_lab.registry import RegistryClient

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl absent")


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki") / "ca")
    ca.ensure()
    return ca


@pytest.fixture(scope="module")
def server_pair(authority: CertificateAuthority) -> tuple[Path, Path]:
    return authority.issue("serveur", ip_addresses=["127.0.0.1"])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


# -- the authority ----------------------------------------------------------------------------


def test_authority_files_and_modes(authority: CertificateAuthority) -> None:
    assert authority.cert_path == authority.folder / "ca.crt"
    assert authority.key_path == authority.folder / "ca.key"
    assert mode(authority.folder) == 0o700
    assert mode(authority.key_path) == 0o600
    assert b"PRIVATE KEY" in authority.key_path.read_bytes()
    info = authority.info()
    assert info.is_ca and info.self_signed
    assert f"CN={CA_COMMON_NAME}" in info.subject and "O=registry_lab" in info.subject
    now = dt.datetime.now(dt.UTC)
    assert info.not_before < now - dt.timedelta(minutes=4)
    assert now + dt.timedelta(days=3640) < info.not_after < now + dt.timedelta(days=3660)
    assert info.names == ()


def test_authority_extensions(authority: CertificateAuthority) -> None:
    certificate = x509.load_pem_x509_certificate(authority.cert_path.read_bytes())
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert not usage.key_encipherment
    certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_ensure_keeps_a_working_authority(authority: CertificateAuthority) -> None:
    before = authority.info().fingerprint
    authority.ensure()
    assert authority.info().fingerprint == before


@needs_openssl
def test_fingerprint_is_what_openssl_prints(authority: CertificateAuthority) -> None:
    shown = openssl("x509", "-in", str(authority.cert_path), "-noout", "-fingerprint", "-sha256")
    assert shown.stdout.strip().split("=", 1)[1] == authority.info().fingerprint
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", authority.info().fingerprint)


# -- what it issues ---------------------------------------------------------------------------


@needs_openssl
def test_openssl_verifies_a_server_certificate(
    authority: CertificateAuthority, server_pair: tuple[Path, Path]
) -> None:
    certificate, key = server_pair
    assert (certificate.name, key.name) == ("serveur.crt", "serveur.key")
    assert mode(key) == 0o600
    checked = openssl("verify", "-CAfile", str(authority.cert_path), str(certificate))
    assert checked.returncode == 0 and checked.stdout.strip().endswith(": OK"), checked.stderr
    text = openssl("x509", "-in", str(certificate), "-noout", "-text").stdout
    assert "IP Address:127.0.0.1" in text
    assert "TLS Web Server Authentication" in text
    assert "CA:FALSE" in text
    assert "X509v3 Authority Key Identifier" in text
    # a certificate nobody vouches for: openssl refuses it
    alone = openssl("verify", str(certificate))
    assert alone.returncode != 0


@needs_openssl
def test_a_signing_certificate_only_signs(authority: CertificateAuthority) -> None:
    certificate, key = authority.issue("signature", common_name="registry-lab-jetons", server=False)
    assert mode(key) == 0o600
    checked = openssl("verify", "-CAfile", str(authority.cert_path), str(certificate))
    assert checked.returncode == 0, checked.stderr
    loaded = x509.load_pem_x509_certificate(certificate.read_bytes())
    with pytest.raises(x509.ExtensionNotFound):
        loaded.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    usage = loaded.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not (usage.key_encipherment or usage.key_cert_sign or usage.crl_sign)
    info = CertificateInfo.from_file(certificate)
    assert "CN=registry-lab-jetons" in info.subject
    assert not info.is_ca and info.names == ()


def test_issue_reuses_then_reissues_when_the_names_change(
    authority: CertificateAuthority,
) -> None:
    first, key = authority.issue("bascule", ip_addresses=["127.0.0.1"])
    fingerprint = CertificateInfo.from_file(first).fingerprint
    again, _ = authority.issue("bascule", ip_addresses=["127.0.0.1"])
    assert again == first and CertificateInfo.from_file(again).fingerprint == fingerprint
    authority.issue("bascule", ip_addresses=["127.0.0.1"], dns_names=["localhost"])
    changed = CertificateInfo.from_file(first)
    assert changed.fingerprint != fingerprint
    assert set(changed.names) == {"127.0.0.1", "localhost"}
    assert mode(key) == 0o600


def test_a_new_authority_reissues_what_the_old_one_signed(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "ca")
    certificate, _ = ca.issue("registry", dns_names=["registry.lab"])  # ensure() on the way
    old = CertificateInfo.from_file(certificate).fingerprint
    ca.cert_path.unlink()
    ca.ensure()  # a key without its certificate: a new authority
    ca.issue("registry", dns_names=["registry.lab"])
    assert CertificateInfo.from_file(certificate).fingerprint != old
    x509.load_pem_x509_certificate(certificate.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca.cert_path.read_bytes())
    )


@pytest.mark.parametrize(
    ("name", "kwargs", "words"),
    [
        ("ca", {"ip_addresses": ["127.0.0.1"]}, "réservé à l'autorité"),
        ("../evasion", {"ip_addresses": ["127.0.0.1"]}, "Nom de certificat refusé"),
        ("registry", {"ip_addresses": ["registry.lab"]}, "n'est pas une adresse IP"),
        ("registry", {}, "ne nomme aucune adresse"),
    ],
)
def test_requests_it_refuses(
    authority: CertificateAuthority, name: str, kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(CertificateError) as caught:
        authority.issue(name, **kwargs)
    assert words in str(caught.value)
    assert caught.value.hint


def test_reading_a_missing_or_broken_certificate(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="Certificat introuvable"):
        CertificateInfo.from_file(tmp_path / "absent.crt")
    (tmp_path / "faux.crt").write_text("pas un certificat\n")
    with pytest.raises(CertificateError, match="n'est pas un certificat PEM"):
        CertificateInfo.from_file(tmp_path / "faux.crt")


def test_info_reads_in_french(
    authority: CertificateAuthority, server_pair: tuple[Path, Path]
) -> None:
    info = CertificateInfo.from_file(server_pair[0])
    assert info.not_before.tzinfo is not None and info.not_after.tzinfo is not None
    assert dt.timedelta(days=364) < info.not_after - info.not_before < dt.timedelta(days=366)
    assert info.issuer == authority.info().subject
    text = str(info)
    for label in ("Sujet", "Émetteur", "Valide du", "Valide au", "Noms (SAN)", "Empreinte"):
        assert label in text
    assert "127.0.0.1" in text and "Autorité de certification  non" in text
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d UTC", text)
    html = info._repr_html_()
    assert "<table>" in html and "Émetteur" in html and "Empreinte SHA-256" in html
    assert info.fingerprint in html and str(server_pair[0]) in html
    assert ">oui<" in authority.info()._repr_html_()


def test_x5c_is_the_standard_base64_of_the_der(server_pair: tuple[Path, Path]) -> None:
    chain = x5c_chain(server_pair[0])
    assert len(chain) == 1
    der = x509.load_pem_x509_certificate(server_pair[0].read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    assert base64.b64decode(chain[0], validate=True) == der  # not url-safe: validate refuses -_


# -- Python's ssl and the real Distribution judge them ----------------------------------------


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"bonjour")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the refused handshakes below are expected


@pytest.fixture
def https_server(server_pair: tuple[Path, Path]) -> Iterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*server_pair)
    server = _QuietServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fetch(host: str, port: int, context: ssl.SSLContext) -> bytes:
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read()
    finally:
        connection.close()


def test_python_ssl_trusts_it_through_the_authority_only(
    authority: CertificateAuthority, https_server: int
) -> None:
    trusting = ssl.create_default_context(cafile=str(authority.cert_path))
    assert fetch("127.0.0.1", https_server, trusting) == b"bonjour"
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        fetch("127.0.0.1", https_server, ssl.create_default_context())
    # issued for the address 127.0.0.1, not for the name localhost
    with pytest.raises(ssl.SSLCertVerificationError, match=r"Hostname mismatch|IP address"):
        fetch("localhost", https_server, trusting)


@pytest.mark.integration
def test_distribution_serves_https_with_an_issued_certificate(
    authority: CertificateAuthority, server_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    registry = RegistryProcess(tmp_path / "registry", "", tls=server_pair)
    try:
        with RegistryClient(registry.url, verify=str(authority.cert_path), timeout=5) as client:
            ping = client.ping()
        with (
            RegistryClient(registry.url, timeout=5) as untrusting,
            pytest.raises(RegistryError),
        ):
            untrusting.ping()
    finally:
        registry.stop()
    assert registry.url.startswith("https://127.0.0.1:")
    assert ping.ok and ping.api_version == "registry/2.0"
