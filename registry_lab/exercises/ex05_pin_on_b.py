"""Notebook 05's exercise: push from hôte A, then pull on hôte B by digest (pinned)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ManifestUnknownError, NameUnknownError
from ..manifests import short_digest
from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = [
    "EXERCISE_05_CONTAINER",
    "EXERCISE_05_REPOSITORY",
    "EXERCISE_05_SOURCE",
    "EXERCISE_05_TAG",
    "check_05",
]

#: Notebook 05's exercise: hôte A's image, and where it goes in the registry.
EXERCISE_05_SOURCE = "cours/au-revoir:1.0"
EXERCISE_05_REPOSITORY = "exercices/au-revoir"
EXERCISE_05_TAG = "1.0"
#: The container hôte B runs from the image, named by its digest.
EXERCISE_05_CONTAINER = "exercice-05"


def check_05(lab: Lab, empreinte: str | None = None) -> Verdict:
    """Notebook 05: ``cours/au-revoir:1.0`` pushed as ``exercices/au-revoir:1.0``, pinned on B.

    ``empreinte`` is the learner's answer (``sha256:…``). Checked on the real lab: the registry
    has the tag; ``empreinte`` is the digest of its manifest; hôte B pulled the image from the
    registry and runs a container ``exercice-05`` started with the name ``…@sha256:…`` (its
    ``Config.Image`` keeps the name it was given: a tag would move, the digest does not).
    """
    return verdict_of("Exercice 05", lab, lambda: _steps(lab, empreinte))


def _steps(lab: Lab, empreinte: str | None) -> list[Step]:
    address = lab.registry.address
    name = f"{address}/{EXERCISE_05_REPOSITORY}"
    push_hint = (
        f'push(lab.host_a, lab.registry, "{EXERCISE_05_REPOSITORY}:{EXERCISE_05_TAG}", '
        f'source="{EXERCISE_05_SOURCE}")'
    )
    try:
        digest = lab.registry.client.head_manifest(EXERCISE_05_REPOSITORY, EXERCISE_05_TAG).digest
    except (ManifestUnknownError, NameUnknownError):
        target = f"{EXERCISE_05_REPOSITORY}:{EXERCISE_05_TAG}"
        return [Step(False, f"Le registry n'a pas {target}.", push_hint)]
    steps = [
        Step(
            True,
            f"Le registry a {EXERCISE_05_REPOSITORY}:{EXERCISE_05_TAG} ({short_digest(digest)}).",
        )
    ]
    answer = (empreinte or "").strip().rsplit("@", 1)[-1]
    if not answer:
        steps.append(
            Step(
                False,
                "La variable « empreinte » est vide.",
                "le rapport du push la donne : rapport.digest",
            )
        )
    elif answer != digest:
        steps.append(
            Step(
                False,
                f"« {short_digest(answer)} » n'est pas l'empreinte du manifeste du tag "
                f"({short_digest(digest)}) : une empreinte de couche, ou d'une autre version ?",
                "le rapport du push la donne : rapport.digest",
            )
        )
    else:
        steps.append(Step(True, "« empreinte » est bien celle du manifeste poussé."))
    pinned = f"{name}@{digest}"
    image = lab.host_b.find_image(pinned)
    pull_hint = f'pull(lab.host_b, lab.registry, "{EXERCISE_05_REPOSITORY}@{digest}")'
    if image is None or pinned not in (image.attrs.get("RepoDigests") or []):
        steps.append(Step(False, "L'hôte B n'a pas tiré cette image du registry.", pull_hint))
        return steps
    steps.append(Step(True, "L'hôte B a tiré l'image du registry."))
    run_hint = f"sur l'hôte B : docker run --name {EXERCISE_05_CONTAINER} --network none {pinned}"
    found = [c for c in lab.host_b.containers() if c.name == EXERCISE_05_CONTAINER]
    if not found:
        steps.append(
            Step(False, f"Aucun conteneur « {EXERCISE_05_CONTAINER} » sur l'hôte B.", run_hint)
        )
        return steps
    used = str(found[0].attrs.get("Config", {}).get("Image", ""))
    if used != pinned:
        steps.append(
            Step(
                False,
                f"Le conteneur {EXERCISE_05_CONTAINER} a été lancé avec « {used} » : un nom "
                "qui peut bouger, pas l'empreinte.",
                f"docker rm -f {EXERCISE_05_CONTAINER}, puis {run_hint}",
            )
        )
    else:
        steps.append(
            Step(
                True, f"Le conteneur {EXERCISE_05_CONTAINER} tourne l'image épinglée par empreinte."
            )
        )
    return steps
