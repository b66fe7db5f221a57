"""The one place that turns a registry's answer, or a transport failure, into a French error.

Like go-containerregistry's ``remote/transport/error.go``: the registry's error JSON
(``{"errors": [{code, message, detail}]}``) chooses the class, else the HTTP status and the
URL do; a final ``401``/``403`` is read with its ``WWW-Authenticate`` challenge (« demande
une connexion », « refuse ces identifiants », « accès refusé »), for `RegistryClient` and
`registry_lab.auth` alike. The classes themselves live in `registry_lab.errors`.

```python
api_error(response, Action("lire le manifeste « cours/app:v1 »", "cours/app", "v1"), address)
auth_error(response)          # UnauthorizedError or DeniedError for a final 401/403
```
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from .challenges import normal_scopes, pick_challenge
from .errors import (
    BlobUnknownError,
    DeniedError,
    DigestInvalidError,
    ManifestUnknownError,
    NameUnknownError,
    RegistryAPIError,
    RegistryDownError,
    RegistryError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)
from .manifests import is_digest, short_digest

__all__ = [
    "Action",
    "AuthRefusal",
    "api_error",
    "auth_error",
    "auth_refusal",
    "registry_address",
    "transport_error",
]

#: Error codes that name their class outright; ``UNAUTHORIZED`` and ``DENIED`` are read with
#: the challenge (`auth_refusal`), like the statuses 401 and 403.
_BY_CODE: dict[str, type[RegistryAPIError]] = {
    "TOOMANYREQUESTS": TooManyRequestsError,
    "UNSUPPORTED": UnsupportedError,
    "NAME_UNKNOWN": NameUnknownError,
    "MANIFEST_UNKNOWN": ManifestUnknownError,
    "BLOB_UNKNOWN": BlobUnknownError,
    "DIGEST_INVALID": DigestInvalidError,
}
_BY_STATUS: dict[int, type[RegistryAPIError]] = {
    405: UnsupportedError,
    429: TooManyRequestsError,
}
_AUTH_CODES = ("UNAUTHORIZED", "DENIED")
_AUTH_STATUSES = (401, 403)


@dataclass(frozen=True)
class Action:
    """What the client was doing, in French (« lire le manifeste … »), for error messages."""

    text: str
    repository: str = ""
    reference: str = ""
    kind: str = "read"  # read, write, delete


def registry_address(url: httpx.URL) -> str:
    """``host:port`` as a person types it (``docker login 127.0.0.1:5000``)."""
    return url.netloc.decode("ascii")


# -- what the registry said ---------------------------------------------------------------------
class _Said(NamedTuple):
    """The first entry of a registry's ``{"errors": [{code, message, detail}]}`` body."""

    code: str
    message: str
    detail: str

    def label(self, status: int, code: str | None = None) -> str:
        """``HTTP 401, UNAUTHORIZED`` then, if the registry wrote one, its message quoted."""
        code = self.code if code is None else code
        quoted = f" — le registry dit : « {self.message} »" if self.message else ""
        return f"(HTTP {status}" + (f", {code}" if code else "") + f"){quoted}"


def _error_entries(response: httpx.Response) -> list[dict[str, Any]]:
    if response.request.method == "HEAD":
        return []
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, httpx.ResponseNotRead):
        return []
    entries = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def _said(response: httpx.Response) -> _Said:
    entries = _error_entries(response)
    first = entries[0] if entries else {}
    detail = first.get("detail")
    return _Said(
        str(first.get("code", "")),
        str(first.get("message", "")),
        json.dumps(detail, ensure_ascii=False) if detail not in (None, "") else "",
    )


# -- a final 401/403 ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthRefusal:
    """A final ``401``/``403`` read once: which error it is, and what the request carried.

    `DeniedError` for a ``403``, a ``DENIED`` code or a ``401`` whose challenge says
    ``error="insufficient_scope"`` (the account is known, the right is missing);
    `UnauthorizedError` for any other ``401`` (credentials missing or refused).
    """

    kind: type[UnauthorizedError] | type[DeniedError]
    status: int
    code: str
    credentials_sent: bool
    scopes: tuple[str, ...]
    detail: str

    def error(self, message: str, hint: str) -> UnauthorizedError | DeniedError:
        return self.kind(message, hint, status=self.status, code=self.code, detail=self.detail)


def auth_refusal(response: httpx.Response, said: _Said | None = None) -> AuthRefusal:
    """Read a ``401``/``403`` of a registry or of its token service (see `AuthRefusal`)."""
    said = _said(response) if said is None else said
    status = response.status_code
    challenge = pick_challenge(response.headers.get_list("www-authenticate"))
    insufficient = challenge is not None and challenge.error == "insufficient_scope"
    denied = status == 403 or said.code == "DENIED" or insufficient
    return AuthRefusal(
        kind=DeniedError if denied else UnauthorizedError,
        status=status,
        code=said.code or ("DENIED" if status == 403 else "UNAUTHORIZED"),
        credentials_sent="authorization" in response.request.headers,
        scopes=normal_scopes(challenge) if challenge is not None else (),
        detail=said.detail,
    )


def auth_error(
    response: httpx.Response, action: Action | None = None
) -> UnauthorizedError | DeniedError:
    """The French error for a registry's final ``401``/``403`` (after `RegistryAuth` tried).

    `DeniedError` when the account lacks the right, `UnauthorizedError` when credentials are
    missing (« demande une connexion ») or refused (« refuse ces identifiants »): see
    `AuthRefusal`. With ``action``, the message opens with what the client was doing.
    """
    return _auth_error(response, _said(response), action)


def _auth_error(
    response: httpx.Response, said: _Said, action: Action | None
) -> UnauthorizedError | DeniedError:
    refusal = auth_refusal(response, said)
    request = response.request
    registry = registry_address(request.url)
    if refusal.kind is DeniedError:
        wanted = f" (droits demandés : {' '.join(refusal.scopes)})" if refusal.scopes else ""
        what = (
            f"Accès refusé par le registry {registry} : ce compte n'a pas le droit de faire "
            f"{request.method} {request.url.path}{wanted}"
        )
        hint = (
            f"connectez-vous avec un compte qui a ce droit (docker login {registry}), ou "
            "demandez-le à l'administrateur du registry."
        )
    elif refusal.credentials_sent:
        what = f"Le registry {registry} refuse ces identifiants"
        hint = (
            "vérifiez le nom d'utilisateur et le mot de passe ; avec docker : "
            f"docker login {registry}."
        )
    else:
        what = f"Le registry {registry} demande une connexion"
        hint = (
            'donnez un utilisateur et son mot de passe : RegistryClient(…, auth=("utilisateur", '
            '"mot de passe")) ou RegistryAuth(utilisateur, mot_de_passe) ; avec docker : '
            f"docker login {registry}."
        )
    doing = f"Impossible de {action.text}. " if action is not None else ""
    return refusal.error(f"{doing}{what} {said.label(refusal.status, refusal.code)}.", hint)


# -- any other error answer ---------------------------------------------------------------------
def _class_for(status: int, code: str, path: str) -> type[RegistryAPIError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status == 404:
        if "/referrers/" in path:
            return UnsupportedError  # a registry with the API never answers 404 there
        if "/manifests/" in path:
            return ManifestUnknownError
        if "/blobs/" in path and "/uploads/" not in path:
            return BlobUnknownError
        return NameUnknownError
    return _BY_STATUS.get(status, RegistryAPIError)


def _explain(
    kind: type[RegistryAPIError], action: Action, response: httpx.Response, address: str
) -> tuple[str, str]:
    """What went wrong and what to try, in French, for one error class."""
    repository, reference = action.repository, action.reference
    if kind is NameUnknownError:
        return (
            f"le dépôt « {repository} » n'existe pas sur ce registry",
            "vérifiez le nom (client.repositories() liste les dépôts) ; un dépôt naît au "
            f"premier push : docker push {address}/{repository}:TAG.",
        )
    if kind is ManifestUnknownError:
        if is_digest(reference):
            return (
                f"aucun manifeste d'empreinte {short_digest(reference)} dans « {repository} »",
                "l'image a peut-être été supprimée ; client.head_manifest(dépôt, tag).digest "
                "donne l'empreinte actuelle d'un tag.",
            )
        return (
            f"le tag « {reference} » n'existe pas dans le dépôt « {repository} »",
            f'client.tags("{repository}") liste les tags existants ; poussez l\'image '
            f"d'abord : docker push {address}/{repository}:{reference or 'TAG'}.",
        )
    if kind is BlobUnknownError:
        what = short_digest(reference) if reference else "demandé"
        return (
            f"le blob {what} est absent du dépôt « {repository} »",
            "poussez d'abord chaque blob (configuration et couches), puis le manifeste ; un blob "
            "d'un autre dépôt du même registry se monte sans transfert (mount_blob).",
        )
    if kind is TooManyRequestsError:
        wait = response.headers.get("Retry-After")
        return (
            "trop de requêtes : la limite de débit du registry est atteinte",
            (f"attendez {wait} s" if wait else "attendez un peu")
            + " puis relancez ; un compte authentifié a souvent une limite plus haute.",
        )
    if kind is UnsupportedError:
        if action.kind == "delete":
            return (
                "la suppression est désactivée sur ce registry",
                "Distribution supprime seulement si sa configuration contient "
                "« storage: delete: enabled: true » (le registry du labo l'active) ; "
                "capabilities.probe(client) mesure ce qu'un registry permet.",
            )
        if "/referrers/" in response.request.url.path:
            return (
                "ce registry n'a pas l'API referrers (OCI 1.1)",
                "les signatures et SBOM s'y cherchent autrement (tags sha256-….sig) ; "
                "Distribution 3 et les registries OCI 1.1 ont cette API.",
            )
        return (
            "ce registry ne permet pas cette opération",
            "capabilities.probe(client) mesure ce que ce registry permet.",
        )
    if kind is DigestInvalidError:
        if action.kind == "delete" and not is_digest(reference):
            return (
                "ce registry ne supprime pas un tag seul, seulement un manifeste par son empreinte",
                f'supprimez par empreinte : client.delete_manifest("{repository}", '
                f'client.head_manifest("{repository}", "{reference}").digest) ; '
                "tous les tags qui pointent vers ce manifeste disparaissent avec lui.",
            )
        return (
            "le registry a refusé le contenu : son empreinte ne correspond pas",
            "l'empreinte annoncée doit être le sha256 des octets exacts envoyés ; "
            "recalculez-la sur le contenu tel qu'il part.",
        )
    return (
        f"le registry a répondu {response.status_code} {response.reason_phrase}",
        "lisez le message du registry ci-dessus ; pour le labo, « python -m registry_lab "
        "status » montre son état et son journal.",
    )


def api_error(response: httpx.Response, action: Action, address: str) -> RegistryAPIError:
    """The French exception for an error answer of the registry (its JSON code, else status)."""
    said = _said(response)
    status = response.status_code
    if said.code not in _BY_CODE and (status in _AUTH_STATUSES or said.code in _AUTH_CODES):
        return _auth_error(response, said, action)
    kind = _class_for(status, said.code, response.request.url.path)
    explanation, hint = _explain(kind, action, response, address)
    return kind(
        f"Impossible de {action.text} sur {address} : {explanation} {said.label(status)}.",
        hint,
        status=status,
        code=said.code,
        detail=said.detail,
    )


# -- below HTTP ---------------------------------------------------------------------------------
def transport_error(exc: Exception, action: Action, base_url: str, timeout: float) -> Exception:
    """The French exception for a failure below HTTP: refused, timed out, TLS, cut."""
    text = str(exc)
    down_hint = (
        "si c'est le registry du labo, démarrez-le : python -m registry_lab up ; sinon "
        f"vérifiez l'adresse {base_url} et que le registry tourne."
    )
    if isinstance(exc.__context__, ssl.SSLError) or "SSL" in text or "CERTIFICATE" in text:
        if "WRONG_VERSION_NUMBER" in text or "record layer" in text:
            return RegistryError(
                f"Impossible de {action.text} : {base_url} ne parle pas TLS (HTTPS) ({text}).",
                "ce registry répond en HTTP simple : utilisez une URL en http:// "
                "(le registry du labo est en HTTP sur 127.0.0.1).",
            )
        return RegistryError(
            f"Impossible de {action.text} : la connexion TLS avec {base_url} a échoué ({text}).",
            'le certificat du registry n\'est pas reconnu : passez verify="chemin/ca.pem" '
            "(le certificat de l'autorité qui l'a signé) à RegistryClient.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return RegistryDownError(
            f"Le registry {base_url} n'a pas répondu à temps ({timeout:g} s) : impossible de "
            f"{action.text}.",
            down_hint,
        )
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text.lower():
            reason = "connexion refusée : rien n'écoute à cette adresse"
        elif "name" in text.lower() and ("resolution" in text.lower() or "known" in text.lower()):
            reason = "nom d'hôte inconnu (DNS)"
        else:
            reason = text
        return RegistryDownError(
            f"Le registry {base_url} ne répond pas ({reason}) : impossible de {action.text}.",
            down_hint,
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return RegistryError(
            f"Adresse de registry invalide : {base_url} ({text}).",
            "une adresse de registry ressemble à http://127.0.0.1:5000 ou https://registre.example.",
        )
    return RegistryDownError(
        f"La connexion avec {base_url} a été coupée pendant « {action.text} » ({text or exc!r}).",
        down_hint,
    )
