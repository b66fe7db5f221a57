"""Notebook 07's exercise: hôte B pulls from the secured registry as « lecteur », and only so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab
    from ..secure import SecureRegistry

__all__ = ["EXERCISE_07_IMAGE", "check_07", "prepare_07"]

#: The image « dev » pushes from hôte A and « lecteur » pulls on hôte B.
EXERCISE_07_IMAGE = "cours/au-revoir:1.0"


def prepare_07(lab: Lab) -> SecureRegistry:
    """The exercise's starting point: token mode; hôte A trusts the registry and is logged in
    as « dev »; hôte B trusts nothing, is logged in nowhere, has nothing."""
    secure = lab.secure("token")
    secure.trust(lab.host_a)
    if secure.logged_in(lab.host_a) != "dev":
        secure.login(lab.host_a, "dev")
    secure.forget_hosts(lab.host_b)
    name = f"{secure.address}/{EXERCISE_07_IMAGE}"
    if lab.host_b.find_image(name) is not None:
        lab.host_b.docker("rmi", name)
    return secure


def check_07(lab: Lab) -> Verdict:
    """Notebook 07: ``cours/au-revoir:1.0`` is in the secured registry (token mode), hôte B
    trusts its authority, is logged in as « lecteur » (not « dev »), and holds the image with
    the registry's digest; the token service granted that pull to « lecteur »."""
    return verdict_of("Exercice 07", lab, lambda: _steps(lab))


def _steps(lab: Lab) -> list[Step]:
    from ..secure import SecureRegistry

    secure = SecureRegistry(lab.home)
    repository, tag = EXERCISE_07_IMAGE.split(":")
    name = f"{secure.address}/{EXERCISE_07_IMAGE}"
    if not secure.healthy or secure.mode != "token":
        return [
            Step(
                False,
                f"Le registry sécurisé n'est pas en mode token (mode : {secure.mode}, état : "
                f"{secure.state}).",
                'secure = lab.secure("token")',
            )
        ]
    steps = []
    tags = secure.tags(repository)
    if tag not in tags:
        steps.append(
            Step(
                False,
                f"Le registry sécurisé n'a pas {EXERCISE_07_IMAGE}.",
                f'en « dev » sur l\'hôte A : push(lab.host_a, secure, "{EXERCISE_07_IMAGE}")',
            )
        )
        return steps
    steps.append(Step(True, f"Le registry sécurisé a {EXERCISE_07_IMAGE} (poussée par « dev »)."))
    if secure.trusts(lab.host_b):
        steps.append(Step(True, "L'hôte B fait confiance à l'autorité du labo (certs.d)."))
    else:
        steps.append(
            Step(
                False,
                "L'hôte B ne fait pas confiance à l'autorité du labo.",
                "secure.trust(lab.host_b)",
            )
        )
    user = secure.logged_in(lab.host_b)
    if user == "lecteur":
        steps.append(
            Step(True, "L'hôte B est connecté en « lecteur » : le droit de tirer, rien de plus.")
        )
    else:
        who = f"en « {user} »" if user else "avec aucun compte"
        steps.append(
            Step(
                False,
                f"L'hôte B est connecté {who} : il lui suffit de « lecteur ».",
                'secure.login(lab.host_b, "lecteur")',
            )
        )
    image = lab.host_b.find_image(name)
    expected = secure.client.head_manifest(repository, tag).digest
    digests = [d.split("@", 1)[1] for d in (image.attrs.get("RepoDigests") or [])] if image else []
    if image is None:
        steps.append(
            Step(
                False,
                f"L'hôte B n'a pas {name}.",
                f'pull(lab.host_b, secure, "{EXERCISE_07_IMAGE}")',
            )
        )
    elif expected not in digests:
        steps.append(
            Step(
                False,
                f"L'image {name} de l'hôte B n'a pas le digest du registry ({expected[:19]}…).",
                f'tirez-la de nouveau : pull(lab.host_b, secure, "{EXERCISE_07_IMAGE}")',
            )
        )
    else:
        steps.append(Step(True, f"L'hôte B a {name}, au digest du registry."))
    granted = [
        call
        for call in secure.token_calls()
        if call.user == "lecteur" and any(repository in scope for scope in call.granted)
    ]
    if granted:
        steps.append(
            Step(True, f"Le service de jetons a accordé à « lecteur » : pull sur {repository}.")
        )
    else:
        steps.append(
            Step(
                False,
                f"Le service de jetons n'a accordé aucun jeton à « lecteur » pour {repository}.",
                "tirez l'image sur l'hôte B une fois connecté en « lecteur ».",
            )
        )
    return steps
