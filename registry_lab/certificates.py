"""The lab's own certificate authority: it signs the registry's HTTPS certificate and the token
service's signing certificate, and nothing else.

A learner's machine trusts it only where the lab says so (``verify="…/ca.crt"``, a Docker
host's ``certs.d``), never system-wide. Private keys are written ``0600`` in a ``0700`` folder.

```python
from registry_lab.certificates import CertificateAuthority, CertificateInfo
ca = CertificateAuthority(Path("~/.registry-lab/tls").expanduser())
ca.ensure()                                              # ca.crt, ca.key (once)
cert, key = ca.issue("registry", ip_addresses=["127.0.0.1"], dns_names=["localhost"])
CertificateInfo.from_file(cert)                          # subject, SAN, dates, fingerprint
```
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import CertificateError, describe_os_error
from .state import write_private
from .tables import html_table, text_table

__all__ = ["CA_COMMON_NAME", "CertificateAuthority", "CertificateInfo", "x5c_chain"]

#: The authority's name, as a browser or ``openssl x509 -text`` shows it.
CA_COMMON_NAME = "Autorité de certification du labo registry_lab"
ORGANIZATION = "registry_lab"
CA_LIFETIME = dt.timedelta(days=3650)
LEAF_LIFETIME = dt.timedelta(days=365)
#: Backdating, so that a clock a little behind still accepts a fresh certificate.
BACKDATE = dt.timedelta(minutes=5)
#: A certificate this close to its end is issued again.
RENEW_BEFORE = dt.timedelta(days=7)
KEY_SIZE = 2048


# -- files ------------------------------------------------------------------------------------


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically, the file being ``mode`` from its first byte."""
    try:
        write_private(path, data, mode)
    except OSError as exc:
        raise CertificateError(
            f"Impossible d'écrire {path} : {describe_os_error(exc)}.",
            "vérifiez que le dossier des certificats du labo est accessible en écriture.",
        ) from None


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(
            f"Certificat introuvable : {path}.",
            "créez-le d'abord (CertificateAuthority.ensure() ou .issue(…)).",
        ) from None
    except OSError as exc:
        raise CertificateError(
            f"Certificat illisible : {path} ({describe_os_error(exc)}).",
            "vérifiez les droits du fichier.",
        ) from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            f"{path} n'est pas un certificat PEM.",
            "un fichier PEM commence par « -----BEGIN CERTIFICATE----- ».",
        ) from None


def _read_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        # the lab wrote this key itself (0600): skipping the slow RSA self-check is safe
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (OSError, ValueError, TypeError):
        raise CertificateError(
            f"Clé privée illisible : {path}.",
            "supprimez-la avec son certificat : le labo les créera de nouveau.",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(f"{path} n'est pas une clé RSA.", "le labo n'utilise que RSA.")
    return key


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _same_key(certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    return certificate.public_key() == key.public_key()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_usage(*, sign_certificates: bool = False, encipher_keys: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=encipher_keys,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _san(certificate: x509.Certificate) -> set[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    found = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    return found | set(names.get_values_for_type(x509.DNSName))


def _is_server(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.SERVER_AUTH in usage


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


# -- the authority ----------------------------------------------------------------------------


class CertificateAuthority:
    """The lab's CA in ``folder`` (``ca.crt``, ``ca.key``), and the certificates it issues there.

    ```python
    ca = CertificateAuthority(folder)
    ca.ensure()
    ca.issue("registry", ip_addresses=["127.0.0.1"])           # HTTPS server
    ca.issue("jetons", common_name="registry-lab-jetons", server=False)   # signs tokens
    ```
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"CertificateAuthority({str(self.folder)!r})"

    @property
    def cert_path(self) -> Path:
        """The authority's certificate: what a client trusts (``verify=``, ``rootcertbundle``)."""
        return self.folder / "ca.crt"

    @property
    def key_path(self) -> Path:
        """The authority's private key (mode 0600)."""
        return self.folder / "ca.key"

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
        except OSError as exc:
            raise CertificateError(
                f"Impossible de créer le dossier des certificats {self.folder} : "
                f"{describe_os_error(exc)}.",
                "choisissez un dossier où vous pouvez écrire (REGISTRY_LAB_HOME).",
            ) from None

    def _load(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey] | None:
        """The authority when both files are there, match, and are still valid for a while."""
        if not (self.cert_path.is_file() and self.key_path.is_file()):
            return None
        try:
            certificate = _read_certificate(self.cert_path)
            key = _read_key(self.key_path)
        except CertificateError:
            return None
        if not _same_key(certificate, key):
            return None
        if certificate.not_valid_after_utc - RENEW_BEFORE < _now():
            return None
        return certificate, key

    def ensure(self) -> None:
        """Create the authority's key and certificate when they are missing (or unusable)."""
        self._make_folder()
        if self._load() is not None:
            return
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            ]
        )
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(sign_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write(self.key_path, _key_pem(key), 0o600)
        _write(self.cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)

    def _authority(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        self.ensure()
        loaded = self._load()
        if loaded is None:  # pragma: no cover - ensure() just wrote them
            raise CertificateError(
                f"L'autorité de {self.folder} est inutilisable.",
                "supprimez ca.crt et ca.key : le labo en créera une nouvelle.",
            )
        return loaded

    def info(self) -> CertificateInfo:
        """What the authority's certificate says (subject, dates, fingerprint)."""
        return CertificateInfo.from_file(self.cert_path)

    def issue(
        self,
        name: str,
        *,
        ip_addresses: Sequence[str] = (),
        dns_names: Sequence[str] = (),
        common_name: str | None = None,
        server: bool = True,
    ) -> tuple[Path, Path]:
        """Write ``<name>.crt`` and ``<name>.key`` signed by the authority; return their paths.

        ``server=True``: an HTTPS server certificate (``serverAuth``) for the given IP
        addresses and DNS names. ``server=False``: a certificate that only signs (the token
        service's JWTs). Files already there are kept when the authority signed them and they
        name the same addresses; otherwise they are issued again.
        """
        if not name or name in ("ca", ".", "..") or "/" in name or os.sep in name:
            raise CertificateError(
                f"Nom de certificat refusé : « {name} ».",
                "un nom simple, sans « / », autre que « ca » (réservé à l'autorité).",
            )
        ips = [_ip(address) for address in ip_addresses]
        names = [dns.strip().lower() for dns in dns_names if dns.strip()]
        if server and not ips and not names:
            raise CertificateError(
                f"Le certificat de serveur « {name} » ne nomme aucune adresse.",
                "donnez ip_addresses=[…] ou dns_names=[…] : un client vérifie que le "
                "serveur porte le nom qu'il a appelé.",
            )
        cn = common_name or (names[0] if names else str(ips[0]) if ips else name)
        cert_path, key_path = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        ca_certificate, ca_key = self._authority()
        wanted = {str(ip) for ip in ips} | set(names)
        if self._reusable(cert_path, key_path, ca_certificate, wanted, cn, server):
            return cert_path, key_path

        key = _new_key()
        now = _now()
        ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, cn),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                    ]
                )
            )
            .issuer_name(ca_certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(min(now + LEAF_LIFETIME, ca_certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(encipher_keys=server), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False,
            )
        )
        if wanted:
            entries: list[x509.GeneralName] = [x509.IPAddress(ip) for ip in ips]
            entries += [x509.DNSName(dns) for dns in names]
            builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
        if server:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        certificate = builder.sign(ca_key, hashes.SHA256())
        _write(key_path, _key_pem(key), 0o600)
        _write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
        return cert_path, key_path

    @staticmethod
    def _reusable(
        cert_path: Path,
        key_path: Path,
        authority: x509.Certificate,
        names: set[str],
        common_name: str,
        server: bool,
    ) -> bool:
        if not (cert_path.is_file() and key_path.is_file()):
            return False
        try:
            certificate = _read_certificate(cert_path)
            key = _read_key(key_path)
            certificate.verify_directly_issued_by(authority)
        except (CertificateError, ValueError, TypeError, InvalidSignature):
            return False
        return (
            _same_key(certificate, key)
            and _san(certificate) == names
            and _common_name(certificate.subject) == common_name
            and _is_server(certificate) == server
            and certificate.not_valid_after_utc - RENEW_BEFORE > _now()
        )


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        raise CertificateError(
            f"« {address} » n'est pas une adresse IP.",
            "un nom d'hôte va dans dns_names=[…], une adresse dans ip_addresses=[…].",
        ) from None


# -- what a certificate says ------------------------------------------------------------------


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%d/%m/%Y %H:%M UTC")


@dataclass(frozen=True)
class CertificateInfo:
    """What a certificate file says, for a person: who, signed by whom, until when, for which
    names, and its SHA-256 fingerprint (what ``openssl x509 -fingerprint -sha256`` prints)."""

    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    names: tuple[str, ...]
    fingerprint: str
    is_ca: bool
    path: Path

    @classmethod
    def from_file(cls, path: Path) -> CertificateInfo:
        """Read a PEM certificate (`CertificateError` when it is missing or not one)."""
        path = Path(path)
        certificate = _read_certificate(path)
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
            is_ca = constraints.value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        try:
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            names = tuple(
                [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)]
                + san.value.get_values_for_type(x509.DNSName)
            )
        except x509.ExtensionNotFound:
            names = ()
        digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
        return cls(
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            names=names,
            fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
            is_ca=is_ca,
            path=path,
        )

    @property
    def self_signed(self) -> bool:
        """Issued by itself (the authority's own certificate)."""
        return self.subject == self.issuer

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("Sujet", self.subject),
            ("Émetteur", self.issuer + (" (lui-même)" if self.self_signed else "")),
            ("Valide du", _when(self.not_before)),
            ("Valide au", _when(self.not_after)),
            ("Noms (SAN)", ", ".join(self.names) or "aucun"),
            ("Autorité de certification", "oui" if self.is_ca else "non"),
            ("Empreinte SHA-256", self.fingerprint),
            ("Fichier", str(self.path)),
        ]

    def __str__(self) -> str:
        return text_table(("Certificat", self.path.name), self._rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(("Champ", "Valeur"), self._rows(), caption=f"Certificat {self.path.name}")


def x5c_chain(cert_path: Path) -> list[str]:
    """The ``x5c`` header of a JWT signed with this certificate's key: the base64 (standard,
    not url-safe) of its DER bytes, as Distribution's token verification decodes it."""
    der = _read_certificate(Path(cert_path)).public_bytes(serialization.Encoding.DER)
    return [base64.b64encode(der).decode("ascii")]
