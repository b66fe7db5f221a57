"""The error clinic: the errors learners meet with registries, recognised and explained.

Each `Symptom` knows how Docker or the registry words one error, why it happens and how to
fix it. `diagnose` reads a failed ``docker`` command (or an error of this package) and names
the symptom:

```python
essai = lab.host_a.docker("push", f"{secure.address}/cours/bonjour:1.0", check=False)
diagnose(essai)          # « x509 : certificat signé par une autorité inconnue », the why, the fix
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from .commands import CommandOutput
from .errors import (
    DeniedError,
    LabError,
    ManifestUnknownError,
    RegistryAPIError,
    RegistryLabError,
    TLSError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)
from .tables import html_table, text_table

__all__ = ["SYMPTOMS", "Diagnosis", "Symptom", "attempt", "catalogue", "diagnose"]


@dataclass(frozen=True)
class Symptom:
    """One error as learners meet it: how it is worded, why it happens, how to fix it."""

    key: str
    code: str
    title: str
    patterns: tuple[str, ...]
    why: str
    fix: str
    error: type[RegistryLabError]
    status: int = 0


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "http-https",
        "HTTP ≠ HTTPS",
        "Le registry parle HTTP, Docker lui parle HTTPS",
        ("server gave http response to https client",),
        "Docker n'accepte un registry en HTTP simple que sur 127.0.0.0/8 (ou s'il est déclaré "
        "dans « insecure-registries »). À toute autre adresse, il ouvre une connexion TLS ; le "
        "registry, lancé sans certificat, répond en HTTP clair, et Docker s'arrête là.",
        "donnez un certificat au registry (section http.tls de sa configuration) et faites "
        "confiance à son autorité sur chaque hôte. « insecure-registries » fait taire l'erreur, "
        "mais tout circule alors en clair, mots de passe compris.",
        TLSError,
    ),
    Symptom(
        "x509",
        "x509",
        "Certificat signé par une autorité inconnue",
        ("certificate signed by unknown authority", "certificate verify failed"),
        "Le registry présente un certificat signé par l'autorité du labo, que cet hôte ne "
        "connaît pas : ni dans le magasin du système, ni dans /etc/docker/certs.d/ADRESSE/. "
        "La connexion s'arrête avant toute requête HTTP.",
        "copiez le certificat de l'autorité dans /etc/docker/certs.d/ADRESSE:PORT/ca.crt sur "
        "chaque hôte (secure.trust(hôte)) ; dockerd le lit à chaque connexion, sans redémarrer.",
        TLSError,
    ),
    Symptom(
        "no-credentials",
        "UNAUTHORIZED",
        "Aucun identifiant : docker login n'a pas été fait",
        ("no basic auth credentials",),
        "Le registry a répondu 401 UNAUTHORIZED et demande une authentification ; cet hôte "
        "n'a aucun identifiant enregistré pour cette adresse (rien dans son config.json).",
        "docker login ADRESSE sur cet hôte (secure.login(hôte, « dev »)), puis recommencez.",
        UnauthorizedError,
        401,
    ),
    Symptom(
        "denied",
        "DENIED",
        "Authentifié, mais pas autorisé",
        ("requested access to the resource is denied",),
        "Le compte est reconnu, mais le jeton que le service de jetons lui a donné ne porte pas "
        "l'action demandée sur ce dépôt (ici push) : le registry répond 401 "
        "« insufficient_scope », que Docker affiche en « denied ».",
        "utilisez un compte qui a ce droit (docker login avec « dev »), ou faites-le accorder "
        "par l'administrateur (dans Portus ou Harbor : membre de l'équipe ou du projet).",
        DeniedError,
        403,
    ),
    Symptom(
        "unauthorized",
        "UNAUTHORIZED",
        "Identifiants refusés",
        (
            "failed with status: 401",
            "incorrect username or password",
            "unauthorized: authentication required",
            "unauthorized",
        ),
        "Le registry (ou son service de jetons) a répondu 401 : ce compte n'existe pas ou son "
        "mot de passe est faux. Rien n'a été enregistré sur l'hôte.",
        "vérifiez le nom et le mot de passe ; donnez le mot de passe par l'entrée standard "
        "(docker login --password-stdin), jamais en argument : il resterait dans l'historique.",
        UnauthorizedError,
        401,
    ),
    Symptom(
        "toomanyrequests",
        "TOOMANYREQUESTS",
        "Trop de pulls : la limite du registry amont est atteinte",
        ("toomanyrequests", "too many requests"),
        "Le registry amont compte les pulls (les manifestes lus) par adresse et par fenêtre de "
        "temps ; au-delà, il répond HTTP 429 jusqu'à la fin de la fenêtre.",
        "attendez (l'en-tête ratelimit-limit donne la fenêtre), authentifiez-vous (limite plus "
        "haute sur Docker Hub), ou mieux : passez par un cache pull-through (notebook 06).",
        TooManyRequestsError,
        429,
    ),
    Symptom(
        "unsupported",
        "UNSUPPORTED",
        "Opération désactivée sur ce registry (DELETE)",
        ("unsupported", "the operation is unsupported"),
        "Distribution refuse DELETE tant que storage.delete.enabled n'est pas à true ; c'est "
        "le réglage par défaut, celui de l'image officielle registry:2.",
        "activez storage.delete.enabled: true dans sa configuration et redémarrez-le ; la place "
        "ne revient qu'après le ramasse-miettes (notebook 08).",
        UnsupportedError,
        405,
    ),
    Symptom(
        "manifest-unknown",
        "MANIFEST_UNKNOWN",
        "Manifeste inconnu",
        ("manifest unknown",),
        "Le registry ne connaît pas cette référence : le tag n'existe pas (faute de frappe), "
        "ou son manifeste a été supprimé (DELETE par digest).",
        "listez les tags (GET /v2/DÉPÔT/tags/list) ; si l'image a été supprimée, poussez-la de "
        "nouveau.",
        ManifestUnknownError,
        404,
    ),
)

_BY_ERROR: dict[type[RegistryLabError], str] = {
    DeniedError: "denied",
    TooManyRequestsError: "toomanyrequests",
    UnsupportedError: "unsupported",
    ManifestUnknownError: "manifest-unknown",
    UnauthorizedError: "unauthorized",
}


def _symptom(key: str) -> Symptom:
    return next(symptom for symptom in SYMPTOMS if symptom.key == key)


@dataclass(frozen=True)
class Diagnosis:
    """What `diagnose` found: the symptom (None when unknown) and the line that shows it."""

    symptom: Symptom | None
    evidence: str

    @property
    def code(self) -> str:
        return self.symptom.code if self.symptom else "?"

    def error(self) -> RegistryLabError:
        """This diagnosis as an error of the package (French message, the fix as hint)."""
        if self.symptom is None:
            return LabError(f"Erreur non répertoriée : {self.evidence}", "lisez le message.")
        message = f"{self.symptom.title} : {self.evidence}"
        error = self.symptom.error
        if issubclass(error, RegistryAPIError):
            return error(
                message, self.symptom.fix, status=self.symptom.status, code=self.symptom.code
            )
        return error(message, self.symptom.fix)

    def __str__(self) -> str:
        if self.symptom is None:
            return f"Erreur non répertoriée : {self.evidence}"
        return (
            f"Diagnostic : {self.symptom.code} — {self.symptom.title}\n"
            f"Ce qui s'affiche : {self.evidence}\n"
            f"Pourquoi : {self.symptom.why}\n"
            f"Remède : {self.symptom.fix}"
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if self.symptom is None:
            return f"<p><b>Erreur non répertoriée</b> : <code>{escape(self.evidence)}</code></p>"
        return (
            '<div style="border-left:4px solid #c0392b;padding:4px 10px">'
            f"<b>Diagnostic : {escape(self.symptom.code)}</b> — {escape(self.symptom.title)}<br>"
            f"<b>Ce qui s'affiche</b> : <code>{escape(self.evidence)}</code><br>"
            f"<b>Pourquoi</b> : {escape(self.symptom.why)}<br>"
            f"<b>Remède</b> : {escape(self.symptom.fix)}</div>"
        )


def diagnose(failure: CommandOutput | BaseException | str) -> Diagnosis:
    """Name the error shown by a failed command, an error of this package, or a message."""
    if isinstance(failure, RegistryLabError):
        for kind, key in _BY_ERROR.items():
            if isinstance(failure, kind):
                return Diagnosis(_symptom(key), failure.message)
    text = failure.output if isinstance(failure, CommandOutput) else str(failure)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for symptom in SYMPTOMS:
        for line in reversed(lines):
            if any(pattern in line.lower() for pattern in symptom.patterns):
                return Diagnosis(symptom, line)
    return Diagnosis(None, lines[-1] if lines else "(aucun message)")


def attempt(action: Callable[[], object]) -> RegistryLabError:
    """Run ``action``, which must fail, and return the error it raised (to show it)."""
    try:
        action()
    except RegistryLabError as error:
        return error
    raise LabError(
        "L'erreur attendue ne s'est pas produite.",
        "l'état du labo a changé : relancez le notebook depuis le début.",
    )


@dataclass(frozen=True)
class Catalogue:
    """Every symptom of the clinic, as a French table."""

    symptoms: tuple[Symptom, ...]

    def _rows(self) -> list[list[str]]:
        return [[s.code, s.title, s.fix] for s in self.symptoms]

    def __str__(self) -> str:
        return text_table(["code", "erreur", "remède"], self._rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(["code", "erreur", "remède"], self._rows())


def catalogue() -> Catalogue:
    """The clinic's symptoms, one row each."""
    return Catalogue(SYMPTOMS)
