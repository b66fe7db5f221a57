"""`registry_lab.auth`: the challenge parser, and the auth flow against the real registry.

The integration tests start the real Distribution program (``docker-registry``) twice: once
with ``auth: htpasswd`` (Basic), once with ``auth: token`` trusting a test token service
(`registry_auth_helpers.TokenService`: the package's policy and RS256 JWTs, whose ``x5c`` leads
to the lab's authority). Nothing of the registry is mocked.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from registry_auth_helpers import (
    ISSUER,
    SERVICE,
    USERS,
    RegistryProcess,
    TokenService,
)

from registry_lab.auth import Challenge, RegistryAuth, auth_error, parse_challenge, parse_challenges
from registry_lab.certificates import x5c_chain
from registry_lab.errors import DeniedError, RegistryDownError, UnauthorizedError
from registry_lab.passwords import write_htpasswd
from registry_lab.ports import free_port
from registry_lab.registry import RegistryClient

# -- parse_challenge (pure) -------------------------------------------------------------------


def test_distribution_bearer_challenge_keeps_commas_inside_quotes() -> None:
    header = (
        'Bearer realm="http://127.0.0.1:5001/token",service="registry-lab",'
        'scope="repository:equipe/app:pull,push"'
    )
    challenge = parse_challenge(header)
    assert challenge.is_bearer and not challenge.is_basic
    assert challenge.realm == "http://127.0.0.1:5001/token"
    assert challenge.service == "registry-lab"
    assert challenge.scope == "repository:equipe/app:pull,push"
    assert challenge.scopes == ("repository:equipe/app:pull,push",)
    assert challenge.error is None


def test_several_scopes_and_an_error() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg",'
        'scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"'
    )
    assert challenge.scopes == ("repository:a/b:pull,push", "repository:c:pull")
    assert challenge.error == "insufficient_scope"


def test_case_spaces_unquoted_values_and_escapes() -> None:
    challenge = parse_challenge(
        'basic  REALM = "Registre \\"privé\\", équipe"  ,  charset=UTF-8 , realm="ignoré"'
    )
    assert challenge.is_basic
    assert challenge.scheme == "basic"
    assert challenge.params == {"realm": 'Registre "privé", équipe', "charset": "UTF-8"}


def test_unquoted_url_realm() -> None:
    challenge = parse_challenge(
        "Bearer realm=http://t:1/token?a=b,service=s,scope=registry:catalog:*"
    )
    assert challenge.realm == "http://t:1/token?a=b"
    assert challenge.service == "s"
    assert challenge.scopes == ("registry:catalog:*",)


def test_several_challenges_in_one_header() -> None:
    found = parse_challenges('Negotiate abc==, Basic realm="a, b", Bearer realm="r",scope="x"')
    assert [c.scheme for c in found] == ["Negotiate", "Basic", "Bearer"]
    assert found[0].params == {}
    assert found[1].realm == "a, b"
    assert found[2].params == {"realm": "r", "scope": "x"}
    assert parse_challenge('Basic realm="a", Bearer realm="r"').is_basic


@pytest.mark.parametrize("header", ["", "  , ", '="x"', 'Bearer realm="jamais fermé', "Bearer ;"])
def test_unreadable_headers_raise_value_error(header: str) -> None:
    with pytest.raises(ValueError, match="WWW-Authenticate"):
        parse_challenge(header)


def test_challenge_repr_is_plain() -> None:
    shown = repr(Challenge("Basic", {"realm": "r"}))
    assert shown == "Challenge(scheme='Basic', params={'realm': 'r'})"


def test_username_and_password_go_together() -> None:
    with pytest.raises(ValueError, match="vont ensemble"):
        RegistryAuth("dev")


# -- integration: the real registry ------------------------------------------------------------

BASIC_USER, BASIC_PASSWORD = "alice", "alice-mdp-3xq"
WRONG_PASSWORD = "pas-le-bon-mdp-7421"


def pushed(client: httpx.Client, repository: str, data: bytes) -> str:
    """Push one blob (POST an upload, then PUT ?digest=); return its digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = client.post(f"/v2/{repository}/blobs/uploads/")
    assert start.status_code == 202, start.text
    # keep the upload's own query (_state): httpx's params= would replace it
    location = httpx.URL(start.headers["Location"]).copy_merge_params({"digest": digest})
    done = client.put(
        location,
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    root = tmp_path_factory.mktemp("basic")
    write_htpasswd(root / "htpasswd", {BASIC_USER: BASIC_PASSWORD}, rounds=4)  # fast
    registry = RegistryProcess(
        root / "registry", f"htpasswd:\n  realm: registry-lab\n  path: {root / 'htpasswd'}\n"
    )
    yield registry
    registry.stop()
    assert not registry.running


@pytest.fixture(scope="module")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    service = TokenService(tmp_path_factory.mktemp("jetons"))
    yield service
    service.stop()


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, token_service: TokenService
) -> Iterator[RegistryProcess]:
    registry = RegistryProcess(tmp_path_factory.mktemp("token"), token_service.registry_auth())
    yield registry
    registry.stop()
    assert not registry.running


@pytest.fixture
def tokens(token_service: TokenService) -> TokenService:
    """The token service, its call list emptied for this test."""
    token_service.clear()
    return token_service


def client(registry: RegistryProcess, auth: httpx.Auth | None, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=registry.url, auth=auth, timeout=5, **kwargs)  # type: ignore[arg-type]


@pytest.mark.integration
def test_basic_without_credentials_gives_the_401_back(basic_registry: RegistryProcess) -> None:
    with client(basic_registry, RegistryAuth()) as http:
        response = http.get("/v2/")
    assert response.status_code == 401
    assert response.history == []  # nothing to retry with
    assert parse_challenge(response.headers["WWW-Authenticate"]).is_basic
    error = auth_error(response)
    assert isinstance(error, UnauthorizedError)
    assert "demande une connexion" in error.message and "docker login" in error.hint


@pytest.mark.integration
def test_basic_wrong_password_is_retried_once_then_unauthorized(
    basic_registry: RegistryProcess,
) -> None:
    auth = RegistryAuth(BASIC_USER, WRONG_PASSWORD)
    with client(basic_registry, auth) as http:
        response = http.get("/v2/")
        again = http.get("/v2/_catalog")
    assert response.status_code == 401
    assert [r.status_code for r in response.history] == [401]  # one retry, never a loop
    assert response.request.headers["Authorization"].startswith("Basic ")
    assert again.status_code == 401 and again.history == []  # sent with Basic at once
    error = auth_error(response)
    assert isinstance(error, UnauthorizedError)
    assert error.status == 401 and error.code == "UNAUTHORIZED"
    assert "refuse ces identifiants" in error.message
    assert WRONG_PASSWORD not in f"{error} {error!r} {auth!r}"


@pytest.mark.integration
def test_basic_right_password_reaches_v2_and_the_catalog(basic_registry: RegistryProcess) -> None:
    with client(basic_registry, RegistryAuth(BASIC_USER, BASIC_PASSWORD)) as http:
        ping = http.get("/v2/")
        digest = pushed(http, "equipe/basic", b"couche de test basic\n")
        catalog = http.get("/v2/_catalog")
        blob = http.get(f"/v2/equipe/basic/blobs/{digest}")
    assert ping.status_code == 200
    assert [r.status_code for r in ping.history] == [401]
    assert catalog.status_code == 200 and catalog.history == []
    assert catalog.json() == {"repositories": ["equipe/basic"]}
    assert blob.content == b"couche de test basic\n"


@pytest.mark.integration
def test_anonymous_challenge_names_realm_service_and_scope(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    with client(token_registry, None) as http:
        response = http.get("/v2/equipe/app/tags/list")
    assert response.status_code == 401
    challenge = parse_challenge(response.headers["WWW-Authenticate"])
    assert challenge.is_bearer
    assert challenge.realm == tokens.realm
    assert challenge.service == SERVICE
    assert challenge.scopes == ("repository:equipe/app:pull",)
    assert tokens.calls == []


@pytest.mark.integration
def test_anonymous_token_has_no_rights(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    with client(token_registry, RegistryAuth()) as http:
        response = http.get("/v2/equipe/app/tags/list")
    assert response.status_code == 401
    assert [call.user for call in tokens.calls] == [None]  # asked without credentials
    assert parse_challenge(response.headers["WWW-Authenticate"]).error == "insufficient_scope"
    assert isinstance(auth_error(response), DeniedError)


@pytest.mark.integration
def test_dev_pushes_and_reads_a_blob_with_one_token_per_scope(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    seen: list[str] = []
    auth = RegistryAuth("dev", USERS["dev"].password)
    hooks = {"request": [lambda request: seen.append(f"{request.method} {request.url.path}")]}
    data = b"une couche poussee par dev\n"
    with client(token_registry, auth, event_hooks=hooks) as http:
        digest = pushed(http, "equipe/app", data)
        first = http.get(f"/v2/equipe/app/blobs/{digest}")
        again = http.head(f"/v2/equipe/app/blobs/{digest}")
        pushed(http, "equipe/app", b"une autre couche\n")
    assert first.status_code == 200 and first.content == data
    assert again.status_code == 200 and again.history == []
    assert tokens.calls_for("repository:equipe/app:pull,push") == [tokens.calls[0]], (
        "un seul jeton pour pousser"
    )
    assert len(tokens.calls_for("repository:equipe/app:pull")) == 1
    assert len(tokens.calls) == 2
    assert all(call.user == "dev" and call.status == 200 for call in tokens.calls)
    # the token requests went through the client itself (its hooks saw them)
    assert seen.count("GET /token") == 2
    # learned challenges: only the first request of each kind met a 401
    assert seen.count("POST /v2/equipe/app/blobs/uploads/") == 3
    assert sum(line.startswith("PUT ") for line in seen) == 2


@pytest.mark.integration
def test_lecteur_pulls_but_a_push_ends_on_insufficient_scope(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    with client(token_registry, RegistryAuth("dev", USERS["dev"].password)) as http:
        digest = pushed(http, "equipe/lu", b"a lire\n")
    tokens.clear()
    with client(token_registry, RegistryAuth("lecteur", USERS["lecteur"].password)) as http:
        pulled = http.get(f"/v2/equipe/lu/blobs/{digest}")
        push = http.post("/v2/equipe/lu/blobs/uploads/")
        push_again = http.post("/v2/equipe/lu/blobs/uploads/")
    assert pulled.status_code == 200 and pulled.content == b"a lire\n"
    assert push.status_code == 401
    # first try (401), token request (200), then the retry: its 401 is handed back
    assert [r.status_code for r in push.history] == [401, 200]
    assert push.request.headers["Authorization"].startswith("Bearer ")
    assert parse_challenge(push.headers["WWW-Authenticate"]).error == "insufficient_scope"
    assert push_again.status_code == 401 and push_again.history == []  # no loop, no new token
    assert len(tokens.calls_for("repository:equipe/lu:pull,push")) == 1
    assert len(tokens.calls_for("repository:equipe/lu:pull")) == 1
    error = auth_error(push)
    assert isinstance(error, DeniedError)
    assert "Accès refusé" in error.message and "repository:equipe/lu:pull,push" in error.message


@pytest.mark.integration
def test_registry_client_raises_what_auth_error_says(
    token_registry: RegistryProcess, basic_registry: RegistryProcess, tokens: TokenService
) -> None:
    """`RegistryClient` reads a final 401/403 with the same mapping as `auth_error`."""
    dev = ("dev", USERS["dev"].password)
    with RegistryClient(token_registry.url, auth=dev, timeout=5) as client:
        digest = client.upload_blob("equipe/client", b"lu par le client\n")
    reader = ("lecteur", USERS["lecteur"].password)
    with RegistryClient(token_registry.url, auth=reader, timeout=5) as client:
        assert client.blob("equipe/client", digest) == b"lu par le client\n"
        with pytest.raises(DeniedError) as denied:  # 401 insufficient_scope: a right missing
            client.upload_blob("equipe/client", b"pas pour le lecteur\n")
    assert denied.value.message.startswith("Impossible de pousser le blob")
    assert "Accès refusé" in denied.value.message
    assert "repository:equipe/client:pull,push" in denied.value.message
    assert denied.value.status == 401 and denied.value.code == "UNAUTHORIZED"
    with (
        RegistryClient(token_registry.url, timeout=5) as anonymous,
        pytest.raises(UnauthorizedError) as asked,
    ):
        list(anonymous.tags("equipe/client"))
    assert "demande une connexion" in asked.value.message and "docker login" in asked.value.hint
    wrong = (BASIC_USER, WRONG_PASSWORD)
    with (
        RegistryClient(basic_registry.url, auth=wrong, timeout=5) as client,
        pytest.raises(UnauthorizedError) as refused,
    ):
        list(client.repositories())
    assert "refuse ces identifiants" in refused.value.message
    assert WRONG_PASSWORD not in f"{refused.value} {refused.value!r}"


@pytest.mark.integration
def test_wrong_password_on_the_token_service_raises_unauthorized(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    auth = RegistryAuth("dev", WRONG_PASSWORD)
    with client(token_registry, auth) as http, pytest.raises(UnauthorizedError) as caught:
        http.get("/v2/equipe/app/tags/list")
    error = caught.value
    assert error.status == 401
    assert "Identifiants refusés par le service de jetons" in error.message
    assert tokens.realm in error.message
    assert "docker login" in error.hint and "mot de passe" in error.hint
    assert WRONG_PASSWORD not in f"{error} {error!r} {error.hint} {auth!r}"
    assert [(call.user, call.status) for call in tokens.calls] == [("dev", 401)]


@pytest.mark.integration
def test_tokens_and_passwords_stay_out_of_reprs(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    password = USERS["dev"].password
    auth = RegistryAuth("dev", password)
    with client(token_registry, auth) as http:
        response = http.get("/v2/equipe/vide/tags/list")
    assert response.status_code == 404  # let in: the repository does not exist
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    token = tokens.issued[-1]
    assert response.request.headers["Authorization"] == f"Bearer {token}"
    shown = " ".join(
        [repr(auth), str(auth), repr(response.request), repr(response.request.headers)]
    )
    assert "1 jeton(s) en cache" in repr(auth) and "'dev'" in repr(auth)
    assert token not in shown and token[-20:] not in shown
    assert password not in shown


@pytest.mark.integration
def test_an_expired_token_is_fetched_again_before_sending(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    tokens.expires_in = 1
    try:
        with client(token_registry, RegistryAuth("dev", USERS["dev"].password)) as http:
            first = http.get("/v2/equipe/vide/tags/list")
            cached = http.get("/v2/equipe/vide/tags/list")
            time.sleep(1.0)
            renewed = http.get("/v2/equipe/vide/tags/list")
    finally:
        tokens.expires_in = 300
    assert [r.status_code for r in first.history] == [401, 200]
    assert cached.history == []
    # the learned challenge sends the token request first: no 401 from the registry
    assert [r.status_code for r in renewed.history] == [200]
    assert renewed.status_code == 404 and len(tokens.calls) == 2
    assert renewed.request.headers["Authorization"] != first.request.headers["Authorization"]


@pytest.mark.integration
def test_async_client_runs_the_same_flow(
    token_registry: RegistryProcess, tokens: TokenService
) -> None:
    async def tags() -> httpx.Response:
        auth = RegistryAuth("dev", USERS["dev"].password)
        async with httpx.AsyncClient(base_url=token_registry.url, auth=auth, timeout=5) as http:
            await http.get("/v2/equipe/vide/tags/list")
            return await http.get("/v2/equipe/vide/tags/list")

    response = asyncio.run(tags())
    assert response.status_code == 404  # let in: the repository does not exist
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert response.history == []
    assert len(tokens.calls) == 1


@pytest.mark.integration
def test_token_service_down_raises_registry_down_with_the_realm(
    tmp_path: Path, token_service: TokenService
) -> None:
    realm = f"http://127.0.0.1:{free_port()}/token"  # nothing listens there
    section = token_service.registry_auth().replace(token_service.realm, realm)
    registry = RegistryProcess(tmp_path / "registry", section)
    try:
        auth = RegistryAuth("dev", "x")
        with client(registry, auth) as http, pytest.raises(RegistryDownError) as caught:
            http.get("/v2/")

        async def ping() -> None:
            async with httpx.AsyncClient(base_url=registry.url, auth=auth, timeout=5) as http:
                await http.get("/v2/")

        with pytest.raises(RegistryDownError, match="ne répond pas"):
            asyncio.run(ping())
    finally:
        registry.stop()
    assert realm in caught.value.message
    assert "ne répond pas" in caught.value.message
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert not registry.running


@pytest.mark.integration
def test_the_test_token_service_is_trusted_by_distribution(
    token_registry: RegistryProcess, token_service: TokenService
) -> None:
    """A check of the helpers themselves: the issuer and the x5c header Distribution wants."""
    import jwt

    token = token_service.token("dev", ["repository:equipe/app:pull"])
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["x5c"] == x5c_chain(token_service.config.signing_certificate)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == ISSUER and claims["aud"] == SERVICE
    with httpx.Client(base_url=token_registry.url, timeout=5) as http:
        ok = http.get("/v2/", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert os.path.exists(token_service.authority.cert_path)  # the registry's rootcertbundle
