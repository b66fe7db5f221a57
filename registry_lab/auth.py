"""Registry authentication as an `httpx.Auth` flow: HTTP Basic and Bearer tokens.

A registry that wants credentials answers ``401`` with a ``WWW-Authenticate`` challenge:

- ``Basic realm="…"`` (Distribution with ``auth: htpasswd``): send the request again with
  the user name and password;
- ``Bearer realm="https://auth/token",service="…",scope="repository:a/b:pull,push"``
  (``auth: token``, Docker Hub): ask the token service (``GET realm?service=…&scope=…``, with
  the user name and password when there are some), then send the request again with the token.

```python
import httpx
from registry_lab.auth import RegistryAuth

with httpx.Client(auth=RegistryAuth("dev", "secret")) as http:
    http.get("http://127.0.0.1:5000/v2/equipe/app/tags/list")
```

The flow never guesses a scope: it learns it from the challenge, and remembers, for each
repository and kind of access (read, write, delete), which challenge came back, so the next
request of that kind leaves with the right credentials at once (no second ``401``, and no body
to send twice). Tokens are cached per ``(realm, service, scopes)`` until they expire. Each
request is retried at most once: a final ``401`` is handed back to the caller, whose job is to
raise (`auth_error` turns it into a French error). The token request goes through the same
client (same transport, same event hooks): it is yielded from the flow like the others.

The challenge parser (`parse_challenge`, `Challenge`) lives in `registry_lab.challenges`, and
`auth_error` in `registry_lab.api_errors`, which reads a registry's final ``401``/``403`` and
the token service's alike; both are re-exported here.

Passwords and tokens never appear in a ``repr()`` nor in an error message.
"""

from __future__ import annotations

import re
import threading
import time
from base64 import b64encode
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from .api_errors import auth_error, auth_refusal, registry_address
from .challenges import (
    Challenge,
    normal_scopes,
    parse_challenge,
    parse_challenges,
    pick_challenge,
)
from .errors import DeniedError, RegistryAPIError, RegistryDownError, UnauthorizedError

__all__ = ["Challenge", "RegistryAuth", "auth_error", "parse_challenge", "parse_challenges"]

#: Lifetime of a token whose answer has no ``expires_in`` (the token specification's default).
DEFAULT_TOKEN_LIFETIME = 60.0


# -- what a request needs ---------------------------------------------------------------------

_Origin = tuple[str, str, int | None]
#: origin, resource (``repository:NAME`` or the path), kind of access (pull, push, delete)
_RequestKey = tuple[_Origin, str, str]
#: realm, service, scopes
_TokenKey = tuple[str, str, tuple[str, ...]]

_REPOSITORY_PATH = re.compile(r"^/v2/(?P<name>.+)/(?:blobs|manifests|tags|referrers)/")


def _origin(url: httpx.URL) -> _Origin:
    return (url.scheme, url.host, url.port)


def _request_key(request: httpx.Request) -> _RequestKey:
    """Which requests share a challenge: same registry, same repository, same kind of access.

    It mirrors how Distribution asks for access (GET/HEAD → pull; POST/PUT/PATCH → pull,push;
    DELETE → delete), without writing any scope: the scope itself always comes from the
    challenge.
    """
    match = _REPOSITORY_PATH.match(request.url.path)
    resource = f"repository:{match['name']}" if match else request.url.path
    method = request.method.upper()
    access = "pull" if method in ("GET", "HEAD") else "delete" if method == "DELETE" else "push"
    return (_origin(request.url), resource, access)


def _token_key(challenge: Challenge) -> _TokenKey:
    return (challenge.realm or "", challenge.service or "", normal_scopes(challenge))


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float

    @property
    def valid(self) -> bool:
        return time.monotonic() < self.expires_at


_BASIC = "basic"
#: what a try carried: nothing, Basic credentials, or the token of a key
_Attempt = str | _TokenKey | None


def _basic_header(username: str, password: str) -> str:
    return "Basic " + b64encode(f"{username}:{password}".encode()).decode("ascii")


# -- the flow ---------------------------------------------------------------------------------


class RegistryAuth(httpx.Auth):
    """Basic and Bearer-token authentication for a registry (one object per client).

    ```python
    auth = RegistryAuth("dev", "secret")      # or RegistryAuth() for anonymous tokens
    httpx.Client(auth=auth).get("http://127.0.0.1:5000/v2/_catalog")
    ```

    Raise `UnauthorizedError` when the token service refuses the credentials,
    `RegistryDownError` when it does not answer. A registry's final ``401`` is returned, not
    raised.
    """

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        if (username is None) != (password is None):
            raise ValueError(
                "RegistryAuth : le nom d'utilisateur et le mot de passe vont ensemble "
                "(donnez les deux, ou aucun pour un accès anonyme)"
            )
        self.username = username
        self._password = password
        self._lock = threading.Lock()
        self._bearer: dict[_RequestKey, Challenge] = {}
        self._basic: dict[_Origin, Challenge] = {}
        self._tokens: dict[_TokenKey, _Token] = {}

    def __repr__(self) -> str:
        who = f"utilisateur={self.username!r}" if self.username is not None else "anonyme"
        with self._lock:
            count = sum(token.valid for token in self._tokens.values())
        return f"<RegistryAuth {who}, {count} jeton(s) en cache>"

    @property
    def has_credentials(self) -> bool:
        return self.username is not None and self._password is not None

    def clear(self) -> None:
        """Forget every token and every learned challenge."""
        with self._lock:
            self._bearer.clear()
            self._basic.clear()
            self._tokens.clear()

    # -- the generator httpx drives --

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send ``request``; after a 401, answer its challenge and send it once more.

        Every request yielded that is not ``request`` itself is a token request.
        """
        key = _request_key(request)
        sent: _Attempt = None
        known = self._known_challenge(key)
        if known is not None:
            sent = yield from self._authorize(request, known)
        response = yield request
        if response.status_code != 401:
            return
        challenge = pick_challenge(response.headers.get_list("www-authenticate"))
        if challenge is None:
            return
        self._remember(key, challenge)
        if challenge.is_basic and sent == _BASIC:
            return  # these credentials were just refused
        if challenge.is_bearer and sent is not None and sent == _token_key(challenge):
            if challenge.error == "insufficient_scope":
                return  # the token has what the service grants: asking again gives the same
            self._forget_token(_token_key(challenge))  # expired or revoked: get a new one
        if (yield from self._authorize(request, challenge)) is None:
            return
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """`auth_flow` for `httpx.Client`: read token answers only (blobs stay streamed)."""
        flow = self.auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                watch = _Watch(outgoing, asynchronous=False) if outgoing is not request else None
                try:
                    response = yield outgoing
                except GeneratorExit as exit:
                    self._raise_if_token_service_down(request, outgoing, _failure(exit, watch))
                    raise
                if outgoing is not request:
                    response.read()
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """`auth_flow` for `httpx.AsyncClient` (same flow, token answers read asynchronously)."""
        flow = self.auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                watch = _Watch(outgoing, asynchronous=True) if outgoing is not request else None
                try:
                    response = yield outgoing
                except GeneratorExit as exit:
                    self._raise_if_token_service_down(request, outgoing, _failure(exit, watch))
                    raise
                if outgoing is not request:
                    await response.aread()
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()

    # -- answering a challenge --

    def _authorize(
        self, request: httpx.Request, challenge: Challenge
    ) -> Generator[httpx.Request, httpx.Response, _Attempt]:
        """Put credentials for ``challenge`` on ``request`` (fetching a token if needed)."""
        if challenge.is_basic:
            if self.username is None or self._password is None:
                return None
            request.headers["Authorization"] = _basic_header(self.username, self._password)
            return _BASIC
        if not challenge.is_bearer or not challenge.realm:
            return None
        key = _token_key(challenge)
        token = self._cached_token(key)
        if token is None:
            token = yield from self._fetch_token(request, challenge)
        request.headers["Authorization"] = f"Bearer {token}"
        return key

    def _fetch_token(
        self, request: httpx.Request, challenge: Challenge
    ) -> Generator[httpx.Request, httpx.Response, str]:
        realm = challenge.realm or ""
        params = httpx.QueryParams(
            [("service", challenge.service)] if challenge.service else []
        ).merge({"scope": list(_token_key(challenge)[2])})
        headers = {"Accept": "application/json"}
        if "user-agent" in request.headers:
            headers["User-Agent"] = request.headers["user-agent"]
        if self.username is not None and self._password is not None:
            headers["Authorization"] = _basic_header(self.username, self._password)
        url = httpx.URL(realm).copy_merge_params(params)  # keeps the realm's own query
        response = yield httpx.Request("GET", url, headers=headers)
        value, lifetime = self._read_token(request, realm, response)
        margin = min(10.0, lifetime / 10)
        with self._lock:
            self._tokens[_token_key(challenge)] = _Token(
                value, time.monotonic() + lifetime - margin
            )
        return value

    def _read_token(
        self, request: httpx.Request, realm: str, response: httpx.Response
    ) -> tuple[str, float]:
        """The token and its lifetime (seconds) from the token service's answer, or raise."""
        if response.status_code in (401, 403):
            raise self._token_refused(request, realm, response)
        try:
            data = response.json() if response.is_success else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            what = (
                f"a répondu {response.status_code} {response.reason_phrase}"
                if not response.is_success
                else "a répondu sans jeton (ni « token » ni « access_token » dans son JSON)"
            )
            raise RegistryAPIError(
                f"Le service de jetons {realm} {what}.",
                "vérifiez l'adresse du service de jetons (realm) annoncée par le registry.",
                status=response.status_code,
            )
        lifetime = _lifetime(data)
        return token, lifetime

    def _token_refused(
        self, request: httpx.Request, realm: str, response: httpx.Response
    ) -> UnauthorizedError | DeniedError:
        """The token service's ``401``/``403``, read like a registry's (`auth_refusal`)."""
        refusal = auth_refusal(response)
        login = f"docker login {registry_address(request.url)}"
        if refusal.kind is DeniedError:
            return refusal.error(
                f"Le service de jetons {realm} refuse de donner un jeton"
                + (f" à « {self.username} »." if self.username is not None else "."),
                "ce compte n'a pas accès à ce registry ; demandez l'accès à son administrateur.",
            )
        if refusal.credentials_sent:
            return refusal.error(
                f"Identifiants refusés par le service de jetons {realm} "
                f"(utilisateur « {self.username} »).",
                f"vérifiez le nom d'utilisateur et le mot de passe ({login} les "
                "redemande à docker) ; puis recommencez.",
            )
        return refusal.error(
            f"Le service de jetons {realm} refuse les accès anonymes.",
            "donnez un utilisateur et son mot de passe : RegistryAuth(utilisateur, "
            f"mot_de_passe) ; avec docker : {login}.",
        )

    def _raise_if_token_service_down(
        self, request: httpx.Request, outgoing: httpx.Request, failure: BaseException | None
    ) -> None:
        """Turn a network failure of a token request into a French `RegistryDownError`."""
        if outgoing is request or failure is None:
            return
        realm = str(outgoing.url.copy_with(query=None))
        reason = (
            "délai dépassé"
            if isinstance(failure, httpx.TimeoutException | httpcore.TimeoutException)
            else "connexion impossible"
            if isinstance(failure, httpx.ConnectError | httpcore.ConnectError)
            else "erreur réseau"
        )
        raise RegistryDownError(
            f"Le service de jetons {realm} ne répond pas ({reason} : {failure}). Le registry "
            f"{registry_address(request.url)} l'exige pour donner accès.",
            "démarrez le service de jetons, ou vérifiez l'adresse (realm) dans la configuration "
            "« auth: token » du registry.",
        ) from failure

    # -- memory --

    def _known_challenge(self, key: _RequestKey) -> Challenge | None:
        with self._lock:
            return self._bearer.get(key) or self._basic.get(key[0])

    def _remember(self, key: _RequestKey, challenge: Challenge) -> None:
        with self._lock:
            if challenge.is_bearer:
                self._bearer[key] = challenge
            elif challenge.is_basic:
                self._basic[key[0]] = challenge

    def _cached_token(self, key: _TokenKey) -> str | None:
        with self._lock:
            token = self._tokens.get(key)
            if token is None or not token.valid:
                self._tokens.pop(key, None)
                return None
            return token.value

    def _forget_token(self, key: _TokenKey) -> None:
        with self._lock:
            self._tokens.pop(key, None)


#: what counts as "the token service does not answer" (never a cancellation or Ctrl+C)
_NETWORK_ERRORS = (OSError, httpx.TransportError, httpcore.NetworkError, httpcore.TimeoutException)


class _Watch:
    """Network errors met while a token request is sent, seen through httpcore's ``trace``.

    When sending a request it yielded fails, httpx closes the flow: the flow then receives a
    ``GeneratorExit``, not the error. In a sync flow the error is that exit's context; an
    async generator's exit has none, hence this watch on the request itself.
    """

    def __init__(self, request: httpx.Request, *, asynchronous: bool) -> None:
        self.errors: list[BaseException] = []
        request.extensions = {
            **request.extensions,
            "trace": self._async_trace if asynchronous else self._trace,
        }

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        error = info.get("exception")
        if event.endswith(".failed") and isinstance(error, _NETWORK_ERRORS):
            self.errors.append(error)

    async def _async_trace(self, event: str, info: dict[str, Any]) -> None:
        self._trace(event, info)


def _failure(exit: GeneratorExit, watch: _Watch | None) -> BaseException | None:
    """The network error that made httpx close the flow, if that is why it closed it."""
    if watch is None:
        return None
    if isinstance(exit.__context__, httpx.TransportError):
        return exit.__context__
    return watch.errors[-1] if watch.errors else None


def _lifetime(data: dict[str, Any]) -> float:
    value = data.get("expires_in")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_TOKEN_LIFETIME
