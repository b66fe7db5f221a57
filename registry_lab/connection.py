"""How to reach a registry over HTTP: its URL, TLS, credentials and user agent, in one client.

A registry on this machine (``localhost``, ``127.…``, ``::1``) is spoken to in plain HTTP and
without the environment's proxies; any other in HTTPS. ``auth=("user", "password")`` becomes
a `registry_lab.auth.RegistryAuth` (Basic or Bearer tokens, as the registry asks).

```python
http = open_client(registry_url("127.0.0.1:5000"), auth=None, verify=True, timeout=30)
```
"""

from __future__ import annotations

import ssl
from importlib import metadata

import httpx

from .errors import RegistryError

__all__ = ["USER_AGENT", "open_client", "registry_url", "same_server"]


def _version() -> str:
    try:
        return metadata.version("registry_lab")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


USER_AGENT = f"registry_lab/{_version()}"


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def registry_url(base_url: str) -> str:
    """``127.0.0.1:5000`` → ``http://127.0.0.1:5000``; another host without scheme: https."""
    if "://" not in base_url:
        host = base_url.split("/")[0].rsplit(":", 1)[0].strip("[]")
        base_url = f"{'http' if _is_loopback(host) else 'https'}://{base_url}"
    return base_url.rstrip("/")


def same_server(left: str, right: str) -> bool:
    """``localhost:5000`` and ``127.0.0.1:5000`` are the same server."""

    def norm(address: str) -> str:
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        host = "127.0.0.1" if _is_loopback(host.strip("[]")) else host
        return f"{host}:{port}"

    return norm(left.lower()) == norm(right.lower())


def _make_auth(auth: httpx.Auth | tuple[str, str] | None) -> httpx.Auth | None:
    if isinstance(auth, tuple):
        from .auth import RegistryAuth

        username, password = auth
        return RegistryAuth(username, password)
    return auth


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """``True``/``False``, or a context trusting the authority in the PEM file ``verify``."""
    if isinstance(verify, bool):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except OSError as exc:
        raise RegistryError(
            f"Certificat d'autorité illisible : {verify} ({exc.strerror or exc}).",
            "verify= attend le chemin d'un fichier PEM (le certificat de l'autorité qui "
            "a signé celui du registry), ou True/False.",
        ) from None


def open_client(
    base_url: str,
    *,
    auth: httpx.Auth | tuple[str, str] | None,
    verify: bool | str,
    timeout: float,
) -> httpx.Client:
    """The `httpx.Client` a `RegistryClient` talks through (``base_url`` from `registry_url`)."""
    return httpx.Client(
        base_url=base_url,
        auth=_make_auth(auth),
        verify=_tls(verify),
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        trust_env=not _is_loopback(httpx.URL(base_url).host),
    )
