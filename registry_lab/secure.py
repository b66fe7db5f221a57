"""The lab's private and secured registry: Distribution over TLS, in the lab's own namespace.

The same registry program as the lab's, configured as a real private registry would be, one
step at a time (`MODES`):

- ``http``: no TLS at all, at a real address: Docker refuses it
  (« http: server gave HTTP response to HTTPS client »);
- ``tls``: HTTPS with a certificate from the lab's own authority, which a host trusts once its
  CA is in its ``/etc/docker/certs.d/ADRESSE/ca.crt`` (`SecureRegistry.trust`);
- ``htpasswd``: TLS and accounts (bcrypt), ``docker login`` needed to push or pull;
- ``token``: TLS and a token service (what Portus did): the registry trusts signed tokens
  that carry per-repository rights: « lecteur » may pull, « dev » may pull and push.

It listens on ``ADRESSE:5000`` inside `LabNetwork` (hosts reach it through the veth pair);
passwords are generated once, kept in a file only root can read, and never printed.

```python
secure = lab.secure("tls")       # starts it (idempotent), in the requested mode
secure.trust(lab.host_a)          # hôte A now trusts the lab's authority
secure.login(lab.host_a, "dev")   # docker login, the password through stdin
```
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import sys
import time
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from .certificates import CertificateAuthority, CertificateInfo
from .commands import CommandOutput
from .errors import (
    LabError,
    RegistryDownError,
    RegistryStartError,
    UnauthorizedError,
)
from .netns import LabNetwork
from .passwords import generate_password, masked_htpasswd, write_htpasswd
from .processes import is_alive, live_pid, log_tail, remove_file, spawn, stop_pid
from .services import RegistryService
from .state import write_private
from .tables import html_table, text_table
from .token_service import TokenCalls, TokenServiceConfig, decode_claims, read_calls

if TYPE_CHECKING:
    import graphviz

    from .hosts import DockerHost
    from .registry import RegistryClient

__all__ = ["MODES", "RIGHTS", "SecureRegistry", "TrustChange"]

#: The registry's configurations, from the least to the most secured.
MODES = ("http", "tls", "htpasswd", "token")
#: The registry's port inside its namespace, and the token service's.
SECURE_PORT = 5000
TOKEN_PORT = 5001
#: Who may do what in ``token`` mode (in ``htpasswd`` mode any account may do everything).
RIGHTS: dict[str, list[dict[str, object]]] = {
    "lecteur": [{"repository": "cours/*", "actions": ["pull"]}],
    "dev": [{"repository": "cours/*", "actions": ["pull", "push", "delete"]}, {"catalog": True}],
}
SERVICE = "registry-lab"
ISSUER = "registry-lab-jetons"

_CONFIG = """\
# Registry privé et sécurisé du labo, mode « {mode} », écrit par registry_lab.
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {data}
  # Comme l'image officielle registry:2 : DELETE refusé (UNSUPPORTED).
  delete:
    enabled: false
http:
  addr: {listen}
  secret: {secret}
{tls}{auth}"""

_TLS = """\
  tls:
    certificate: {certificate}
    key: {key}
"""

_HTPASSWD = """\
auth:
  htpasswd:
    realm: {realm}
    path: {path}
"""

_TOKEN = """\
auth:
  token:
    realm: {realm}
    service: {service}
    issuer: {issuer}
    rootcertbundle: {bundle}
"""


@dataclass(frozen=True)
class TrustChange:
    """What `SecureRegistry.trust` or `distrust` did to one host's ``certs.d``."""

    host: str
    address: str
    path: Path
    trusted: bool

    @property
    def docker_path(self) -> str:
        """The path as dockerd sees it."""
        return f"/etc/docker/certs.d/{self.address}/ca.crt"

    def __str__(self) -> str:
        if self.trusted:
            return (
                f"{self.host} fait confiance à l'autorité du labo pour {self.address} : "
                f"{self.docker_path}"
            )
        return f"{self.host} ne fait plus confiance à {self.address} ({self.docker_path} retiré)"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (
            f"<p>{escape(str(self))}<br><small>Dans le labo, ce dossier de l'{escape(self.host)} "
            f"est <code>{escape(str(self.path.parent))}</code>.</small></p>"
        )


class SecureRegistry(RegistryService):
    """The secured registry: its network, its authority, its accounts and its token service."""

    label = "registry sécurisé"

    def __init__(self, home: Path) -> None:
        super().__init__(home, SECURE_PORT)
        self.root = home / "registry-securise"
        self.network = LabNetwork.for_home(home)
        self.authority = CertificateAuthority(self.root / "ca")
        self._clients: dict[str, RegistryClient] = {}
        self._requested = "tls"

    # -- where it is -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``198.18.N.2:5000``: the prefix of image names pushed to this registry."""
        return f"{self.network.address}:{self.port}"

    @property
    def mode(self) -> str:
        """The mode of the last start (see `MODES`); ``tls`` when it never started."""
        try:
            mode = (self.root / "mode").read_text().strip()
        except OSError:
            return "tls"
        return mode if mode in MODES else "tls"

    @property
    def url(self) -> str:
        return f"{'http' if self.mode == 'http' else 'https'}://{self.address}"

    @property
    def ca_certificate(self) -> Path:
        """The lab's authority: the file a host copies to trust this registry."""
        return self.authority.cert_path

    @property
    def htpasswd(self) -> Path:
        return self.root / "htpasswd"

    @property
    def passwords_file(self) -> Path:
        return self.root / "mots-de-passe.json"

    @property
    def token_config(self) -> Path:
        return self.root / "jetons.json"

    @property
    def token_pidfile(self) -> Path:
        return self.root / "jetons.pid"

    @property
    def token_log(self) -> Path:
        return self.root / "jetons.log"

    @property
    def token_realm(self) -> str:
        return f"https://{self.network.address}:{TOKEN_PORT}/token"

    @property
    def token_pid(self) -> int | None:
        return live_pid(self.token_pidfile, str(self.token_config))

    # -- health ------------------------------------------------------------------------------
    def _status(self, url: str, timeout: float) -> int | None:
        verify: ssl.SSLContext | bool = False
        if url.startswith("https"):
            verify = ssl.create_default_context(cafile=str(self.ca_certificate))
        try:
            with httpx.Client(verify=verify, timeout=timeout, trust_env=False) as http:
                return http.get(url).status_code
        except (httpx.HTTPError, OSError):
            return None

    def ping(self, timeout: float = 1.0) -> bool:
        """True when ``GET /v2/`` answers (200, or 401 when it asks for credentials)."""
        return self._status(f"{self.url}/v2/", timeout) in (200, 401)

    @property
    def healthy(self) -> bool:
        if self.pid is None or not self.network.exists or not self.ping():
            return False
        return self.mode != "token" or self.token_pid is not None

    # -- accounts ----------------------------------------------------------------------------
    def users(self) -> list[str]:
        return list(RIGHTS)

    def _passwords(self) -> dict[str, str]:
        """The accounts' passwords, generated once (a file only root can read)."""
        try:
            saved = json.loads(self.passwords_file.read_text())
        except (OSError, ValueError):
            saved = {}
        if set(saved) != set(RIGHTS):
            saved = {user: saved.get(user) or generate_password() for user in RIGHTS}
            self.root.mkdir(parents=True, exist_ok=True)
            write_private(self.passwords_file, json.dumps(saved, indent=1) + "\n")
        return {user: str(password) for user, password in saved.items()}

    def password(self, user: str) -> str:
        """The password of ``user`` (to pass on, never to print)."""
        passwords = self._passwords()
        if user not in passwords:
            raise UnauthorizedError(
                f"Le registry sécurisé n'a pas de compte « {user} ».",
                f"comptes : {', '.join(RIGHTS)}.",
                status=401,
                code="UNAUTHORIZED",
            )
        return passwords[user]

    def accounts(self) -> AccountsTable:
        """The accounts and their rights (never their passwords)."""
        return AccountsTable(self.mode, self.passwords_file)

    def htpasswd_text(self) -> str:
        """The htpasswd file as the course shows it: names kept, bcrypt hashes masked."""
        return masked_htpasswd(self.htpasswd)

    # -- configuration -----------------------------------------------------------------------
    def _prepare(self, mode: str) -> None:
        self.authority.ensure()
        certificate, key = self.authority.issue("registry", ip_addresses=[self.network.address])
        signing_certificate, signing_key = self.authority.issue("jetons-signature", server=False)
        write_htpasswd(self.htpasswd, self._passwords())
        tls = "" if mode == "http" else _TLS.format(certificate=certificate, key=key)
        auth = ""
        if mode == "htpasswd":
            auth = _HTPASSWD.format(realm=SERVICE, path=self.htpasswd)
        elif mode == "token":
            auth = _TOKEN.format(
                realm=self.token_realm, service=SERVICE, issuer=ISSUER, bundle=self.ca_certificate
            )
            TokenServiceConfig(
                host=self.network.address,
                port=TOKEN_PORT,
                tls_certificate=certificate,
                tls_key=key,
                signing_certificate=signing_certificate,
                signing_key=signing_key,
                htpasswd=self.htpasswd,
                rights=RIGHTS,
                issuer=ISSUER,
                service=SERVICE,
                log=self.token_log,
            ).save(self.token_config)
        secret = self._secret()
        write_private(
            self.config,
            _CONFIG.format(
                mode=mode,
                data=self.storage,
                listen=self.address,
                secret=secret,
                tls=tls,
                auth=auth,
            ),
        )
        (self.root / "mode").write_text(f"{mode}\n")

    def _secret(self) -> str:
        path = self.root / "secret-http"
        if not path.exists():
            write_private(path, generate_password())
        return path.read_text().strip()

    def config_text(self) -> str:
        """The registry's configuration, as written (its HTTP secret masked)."""
        lines = self.config.read_text().splitlines()
        return "\n".join(
            "  secret: (masqué)" if line.strip().startswith("secret:") else line for line in lines
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def argv(self) -> list[str]:
        """Distribution's command line, run inside the lab's network namespace."""
        return self.network.command(*super().argv())

    def write_config(self) -> None:
        """Write everything the requested mode needs: certificates, accounts, configs."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._prepare(self._requested)

    def start(self, mode: str = "tls") -> None:
        """Start the registry in ``mode`` (restarted when it ran in another one)."""
        if mode not in MODES:
            raise LabError(
                f"Mode inconnu pour le registry sécurisé : « {mode} ».",
                f"modes : {', '.join(MODES)}.",
            )
        if self.healthy and self.mode == mode:
            return
        self.stop()
        self.network.create()
        self._requested = mode
        super().start()
        if mode == "token":
            token_argv = [
                sys.executable,
                "-m",
                "registry_lab.token_service",
                str(self.token_config),
            ]
            token_pid = spawn(self.network.command(*token_argv), self.root / "jetons-sortie.log")
            self.token_pidfile.write_text(f"{token_pid}\n")
            self._wait_token_service(token_pid)
        self.wait_ready()

    def _wait_token_service(self, pid: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_alive(pid):
            if self._status(f"https://{self.network.address}:{TOKEN_PORT}/", 0.5) is not None:
                return
            time.sleep(0.02)
        self.stop()
        raise RegistryStartError(
            f"Le service de jetons n'a pas démarré. Fin de son journal ({self.token_log}) :\n"
            f"{log_tail(self.token_log) or '(journal vide)'}",
            "lisez le journal ci-dessus ; « python -m registry_lab down » puis recommencez.",
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the registry and its token service (their data stays)."""
        for pid, pidfile in ((self.pid, self.pidfile), (self.token_pid, self.token_pidfile)):
            if pid is not None:
                stop_pid(pid, timeout)
            remove_file(pidfile)

    def remove(self) -> None:
        """Stop everything, then delete the namespace and the veth pair (``down``)."""
        self.stop()
        self.network.remove()

    def erase(self) -> None:
        """Stop the registry and erase its images (its authority and accounts stay)."""
        self.stop()
        if self.storage.exists():
            shutil.rmtree(self.storage)

    def require(self) -> None:
        if not self.healthy:
            raise RegistryDownError(
                f"Le registry sécurisé ({self.url}) ne répond pas (état : {self.state}).",
                "démarrez-le : lab.secure() dans un notebook.",
            )

    # -- hosts -------------------------------------------------------------------------------
    def _trust_path(self, host: DockerHost) -> Path:
        return host.certs_dir / self.address / "ca.crt"

    def trust(self, host: DockerHost) -> TrustChange:
        """Make ``host`` trust the lab's authority for this registry (``certs.d``, as Docker
        documents it: no restart needed, dockerd reads it at each connection)."""
        if host.pid is not None and not host.sees_own_etc_docker:
            raise LabError(
                f"Le dockerd de l'{host.label} a été démarré par une version du labo qui ne lui "
                "donnait pas son propre /etc/docker : il ne verrait pas l'autorité du labo.",
                "redémarrez le labo : python -m registry_lab down, puis python -m registry_lab up.",
            )
        path = self._trust_path(host)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.ca_certificate, path)
        return TrustChange(host.label, self.address, path, trusted=True)

    def distrust(self, host: DockerHost) -> TrustChange:
        """Remove what `trust` put in ``host``'s ``certs.d``."""
        path = self._trust_path(host)
        if path.parent.exists():
            shutil.rmtree(path.parent)
        return TrustChange(host.label, self.address, path, trusted=False)

    def trusts(self, host: DockerHost) -> bool:
        path = self._trust_path(host)
        return path.exists() and path.read_bytes() == self.ca_certificate.read_bytes()

    def login(
        self, host: DockerHost, user: str, password: str | None = None, *, check: bool = True
    ) -> CommandOutput:
        """``docker login`` on ``host``; the password goes through stdin, never on screen."""
        secret = self.password(user) if password is None else password
        output = host.docker(
            "login", "--username", user, "--password-stdin", self.address,
            check=False, stdin=secret,
        )  # fmt: skip
        if check and not output.ok:
            from .clinic import diagnose

            raise diagnose(output).error()
        return output

    def logout(self, host: DockerHost) -> CommandOutput:
        """``docker logout``: ``host`` forgets its credentials for this registry."""
        return host.docker("logout", self.address, check=False)

    def logged_in(self, host: DockerHost) -> str | None:
        """The account ``host`` is logged in with (read from its config.json), else None."""
        try:
            config = json.loads((host.docker_config / "config.json").read_text())
            auth = config["auths"][self.address]["auth"]
            return base64.b64decode(auth).decode().split(":", 1)[0]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def start_over(self, *hosts: DockerHost) -> None:
        """Back to an empty registry (same mode) that ``hosts`` neither trust nor log in to,
        and hold no image of: what the course needs to meet every error again."""
        mode = self.mode
        self.erase()
        self.forget_hosts(*hosts)
        for host in hosts:
            names = [tag for tag in host.image_tags() if tag.startswith(f"{self.address}/")]
            if names:
                host.docker("rmi", *names)
        self.start(mode)

    def forget_hosts(self, *hosts: DockerHost) -> None:
        """Back to the start: the hosts neither trust this registry nor are logged in."""
        for host in hosts:
            self.distrust(host)
            if self.logged_in(host) is not None:
                self.logout(host)

    # -- clients -----------------------------------------------------------------------------
    def client_for(self, user: str | None) -> RegistryClient:
        """A `RegistryClient` trusting the lab's authority, logged in as ``user`` (or nobody)."""
        from .auth import RegistryAuth
        from .registry import RegistryClient

        auth = RegistryAuth(user, self.password(user)) if user else None
        verify: str | bool = str(self.ca_certificate) if self.mode != "http" else False
        return RegistryClient(self.url, auth=auth, verify=verify, timeout=10)

    @property
    def client(self) -> RegistryClient:
        """The client the lab uses for its own reads (as « dev » when accounts are needed),
        one per mode: http or https, with or without credentials."""
        mode = self.mode
        if mode not in self._clients:
            self._clients[mode] = self.client_for("dev" if mode in ("htpasswd", "token") else None)
        return self._clients[mode]

    def token_for(self, user: str, *scopes: str) -> TokenView:
        """Ask the token service for ``scopes`` as ``user`` (a real HTTPS request), and show
        what the signed token says: its header and claims, never the token itself."""
        if self.mode != "token":
            raise LabError(
                f"Le registry sécurisé est en mode « {self.mode} » : pas de service de jetons.",
                'passez en mode jetons : secure = lab.secure("token").',
            )
        context = ssl.create_default_context(cafile=str(self.ca_certificate))
        params: dict[str, str | list[str]] = {"service": SERVICE, "scope": list(scopes)}
        with httpx.Client(verify=context, timeout=10, trust_env=False) as http:
            answer = http.get(self.token_realm, params=params, auth=(user, self.password(user)))
        if answer.status_code != 200:
            from .api_errors import Action, api_error

            action = Action(f"obtenir un jeton pour « {user} »")
            raise api_error(answer, action, f"{self.network.address}:{TOKEN_PORT}")
        token = str(answer.json()["token"])
        return TokenView(user, scopes, jwt.get_unverified_header(token), decode_claims(token))

    def token_calls(
        self, user: str | None = None, *, repository: str | None = None, last: int | None = None
    ) -> TokenCalls:
        """What the token service was asked, and what it granted (no secret in it).

        Only ``user``'s calls, only the scopes naming ``repository``, only the ``last`` ones,
        when given.
        """
        calls = []
        for call in read_calls(self.token_log):
            if user is not None and call.user != user:
                continue
            if repository is not None:
                call = replace(
                    call,
                    scopes=tuple(s for s in call.scopes if f":{repository}:" in s),
                    granted=tuple(s for s in call.granted if f":{repository}:" in s),
                )
                if not call.scopes:
                    continue
            calls.append(call)
        return TokenCalls(calls[-last:] if last else calls)

    def certificate(self) -> CertificateInfo:
        """The registry's certificate, as a client receives it."""
        return CertificateInfo.from_file(self.authority.folder / "registry.crt")

    def graph(self, *hosts: DockerHost) -> graphviz.Digraph:
        """The registry in its namespace, the veth pair, and what each host has for it."""
        from .graph import HostAccess, secure_network

        network = self.network
        return secure_network(
            network.name,
            (network.host_side, network.registry_side),
            (network.gateway, network.address),
            self.mode,
            [HostAccess(host.label, self.trusts(host), self.logged_in(host)) for host in hosts],
        )

    def _repr_html_(self) -> str:
        rows = [
            ["adresse", self.address],
            ["mode", self.mode],
            ["état", "en marche" if self.healthy else self.state],
            ["réseau", f"{self.network.name} ({self.network.gateway} ↔ {self.network.address})"],
            ["autorité (CA)", str(self.ca_certificate)],
        ]
        return html_table(["", ""], rows)

    def __repr__(self) -> str:
        return f"<SecureRegistry {self.url} mode={self.mode}>"


@dataclass(frozen=True)
class TokenView:
    """What a token carries: header and claims, shown without the token (a secret)."""

    user: str
    scopes: tuple[str, ...]
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def granted(self) -> list[str]:
        """The access the token grants, as ``type:name:actions``."""
        return [
            f"{entry['type']}:{entry['name']}:{','.join(entry['actions']) or '(rien)'}"
            for entry in self.claims.get("access", [])
        ]

    def _rows(self) -> list[list[str]]:
        chain = self.header.get("x5c", [])
        lifetime = int(self.claims.get("exp", 0)) - int(self.claims.get("iat", 0))
        return [
            ["en-tête alg", str(self.header.get("alg")), "signature RSA + SHA-256"],
            [
                "en-tête x5c",
                f"{len(chain)} certificat(s)",
                "signataire, émis par l'autorité du labo",
            ],
            ["iss", str(self.claims.get("iss")), "qui a émis le jeton (issuer du registry)"],
            ["sub", str(self.claims.get("sub")), "pour qui"],
            ["aud", str(self.claims.get("aud")), "pour quel registry (service)"],
            ["demandé", " ".join(self.scopes), "ce que le client a demandé"],
            ["access", " ".join(self.granted) or "(rien)", "ce que le jeton permet vraiment"],
            ["exp − iat", f"{lifetime} s", "durée de vie"],
        ]

    def __str__(self) -> str:
        return text_table(["champ", "valeur", "sens"], self._rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(["champ", "valeur", "sens"], self._rows())


@dataclass(frozen=True)
class AccountsTable:
    """The secured registry's accounts and rights, as a French table."""

    mode: str
    passwords_file: Path

    def _rows(self) -> list[list[str]]:
        rows = []
        for user, rights in RIGHTS.items():
            granted = []
            for right in rights:
                if right.get("catalog"):
                    granted.append("catalogue : lire")
                else:
                    actions = ", ".join(str(a) for a in right["actions"])  # type: ignore[attr-defined]
                    granted.append(f"{right['repository']} : {actions}")
            if self.mode == "htpasswd":
                granted = ["tout (htpasswd ne connaît pas de droits)"]
            rows.append([user, " ; ".join(granted), f"dans {self.passwords_file.name} (root seul)"])
        return rows

    def __str__(self) -> str:
        return text_table(["compte", "droits", "mot de passe"], self._rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(["compte", "droits", "mot de passe"], self._rows())
