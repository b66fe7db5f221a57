"""`registry_lab.api_errors`: the one mapping from a registry's answer to a French error.

Offline: each answer is an `httpx.Response` built here, shaped like Distribution's (its error
JSON, its ``WWW-Authenticate`` challenges). `RegistryClient` and `registry_lab.auth` both go
through this mapping; the live checks are in test_auth.py and test_registry_client.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from registry_lab.api_errors import Action, api_error, auth_error, auth_refusal
from registry_lab.auth import auth_error as auth_error_of_auth
from registry_lab.errors import (
    DeniedError,
    ManifestUnknownError,
    NameUnknownError,
    TooManyRequestsError,
    UnauthorizedError,
)

ADDRESS = "127.0.0.1:5000"
TOKEN_CHALLENGE = (
    'Bearer realm="http://127.0.0.1:5001/token",service="registry-lab",'
    'scope="repository:equipe/lu:push,pull"'
)
PUSH = Action("pousser le blob sha256:0123456789ab dans « equipe/lu »", "equipe/lu", kind="write")


def answer(
    status: int,
    method: str = "GET",
    path: str = "/v2/equipe/lu/tags/list",
    *,
    errors: list[dict[str, Any]] | None = None,
    challenge: str | None = None,
    authorization: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    request = httpx.Request(method, f"http://{ADDRESS}{path}", headers=headers)
    body = json.dumps({"errors": errors}).encode() if errors is not None else b""
    response_headers = {"WWW-Authenticate": challenge} if challenge else {}
    return httpx.Response(status, headers=response_headers, content=body, request=request)


UNAUTHORIZED = [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]


def test_insufficient_scope_is_denied_for_the_client_and_for_auth_error() -> None:
    response = answer(
        401,
        "POST",
        "/v2/equipe/lu/blobs/uploads/",
        errors=UNAUTHORIZED,
        challenge=f'{TOKEN_CHALLENGE},error="insufficient_scope"',
        authorization="Bearer jeton",
    )
    from_client = api_error(response, PUSH, ADDRESS)
    alone = auth_error(response)
    for error in (from_client, alone):
        assert isinstance(error, DeniedError)
        assert error.status == 401 and error.code == "UNAUTHORIZED"
        assert "Accès refusé par le registry 127.0.0.1:5000" in error.message
        assert "POST /v2/equipe/lu/blobs/uploads/" in error.message
        assert "repository:equipe/lu:pull,push" in error.message  # actions sorted
        assert "« authentication required »" in error.message
        assert "docker login 127.0.0.1:5000" in error.hint
        assert "jeton" not in error.message
    assert from_client.message.startswith(f"Impossible de {PUSH.text}. Accès refusé")
    assert alone.message.startswith("Accès refusé")
    assert auth_error_of_auth is auth_error  # auth.py re-exports the one implementation


def test_a_401_says_whether_credentials_were_sent() -> None:
    asked = api_error(answer(401, errors=UNAUTHORIZED, challenge=TOKEN_CHALLENGE), PUSH, ADDRESS)
    assert type(asked) is UnauthorizedError
    assert "Le registry 127.0.0.1:5000 demande une connexion" in asked.message
    assert 'auth=("utilisateur", "mot de passe")' in asked.hint
    refused = auth_error(
        answer(401, errors=UNAUTHORIZED, challenge='Basic realm="r"', authorization="Basic x")
    )
    assert type(refused) is UnauthorizedError
    assert "refuse ces identifiants" in refused.message
    assert "(HTTP 401, UNAUTHORIZED)" in refused.message


def test_head_and_403_without_a_body() -> None:
    head = api_error(answer(401, "HEAD", "/v2/equipe/lu/manifests/v1"), PUSH, ADDRESS)
    assert type(head) is UnauthorizedError and head.code == "UNAUTHORIZED"
    denied = api_error(answer(403, "DELETE", "/v2/equipe/lu/manifests/v1"), PUSH, ADDRESS)
    assert type(denied) is DeniedError and denied.code == "DENIED" and denied.status == 403
    refusal = auth_refusal(answer(403, errors=[{"code": "DENIED", "message": "non"}]))
    assert refusal.kind is DeniedError and not refusal.credentials_sent


def test_other_codes_keep_their_class_and_message() -> None:
    unknown = answer(
        404,
        errors=[
            {
                "code": "NAME_UNKNOWN",
                "message": "repository name not known to registry",
                "detail": {"name": "equipe/lu"},
            }
        ],
    )
    action = Action("lister les tags de « equipe/lu »", "equipe/lu")
    error = api_error(unknown, action, ADDRESS)
    assert type(error) is NameUnknownError
    assert error.message == (
        "Impossible de lister les tags de « equipe/lu » sur 127.0.0.1:5000 : le dépôt "
        "« equipe/lu » n'existe pas sur ce registry (HTTP 404, NAME_UNKNOWN) — le registry "
        "dit : « repository name not known to registry »."
    )
    assert json.loads(error.detail) == {"name": "equipe/lu"}
    manifest = api_error(answer(404, "HEAD", "/v2/equipe/lu/manifests/v9"), action, ADDRESS)
    assert type(manifest) is ManifestUnknownError and manifest.code == ""
    limited = answer(401, errors=[{"code": "TOOMANYREQUESTS", "message": "trop"}])
    assert type(api_error(limited, action, ADDRESS)) is TooManyRequestsError


@pytest.mark.parametrize("body", [b"<html>", b'{"errors": 5}', b'{"errors": ["x"]}', b"[1]"])
def test_odd_bodies_fall_back_on_the_status(body: bytes) -> None:
    request = httpx.Request("GET", f"http://{ADDRESS}/v2/equipe/lu/tags/list")
    response = httpx.Response(401, content=body, request=request)
    error = api_error(response, Action("lister les tags"), ADDRESS)
    assert type(error) is UnauthorizedError and error.code == "UNAUTHORIZED"
