"""Notebook 04's exercise: one host is enough to build and run, no registry involved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["EXERCISE_04_CONTAINER", "EXERCISE_04_IMAGE", "check_04"]

#: The image notebook 04's exercise builds on hôte A, and the container it runs from it.
EXERCISE_04_IMAGE = "cours/au-revoir:1.0"
EXERCISE_04_CONTAINER = "exercice-04"


def check_04(lab: Lab) -> Verdict:
    """Notebook 04: ``cours/au-revoir:1.0`` built on hôte A, and run there as ``exercice-04``.

    Checked on the real lab: hôte A holds the image; a container named ``exercice-04`` exists on
    hôte A, made from that image; it ended without error (exit code 0).
    """
    return verdict_of("Exercice 04", lab, lambda: _steps(lab))


def _steps(lab: Lab) -> list[Step]:
    host = lab.host_a
    build_hint = 'build_example(lab.host_a, "au-revoir") (ou docker build sur l\'hôte A)'
    run_hint = (
        f"sur l'hôte A : docker run --name {EXERCISE_04_CONTAINER} --network none "
        f"{EXERCISE_04_IMAGE}"
    )
    image = host.find_image(EXERCISE_04_IMAGE)
    if image is None:
        return [Step(False, f"L'hôte A n'a pas l'image {EXERCISE_04_IMAGE}.", build_hint)]
    steps = [Step(True, f"L'hôte A a l'image {EXERCISE_04_IMAGE}, construite sur place.")]
    found = [c for c in host.containers() if c.name == EXERCISE_04_CONTAINER]
    if not found:
        steps.append(
            Step(False, f"Aucun conteneur « {EXERCISE_04_CONTAINER} » sur l'hôte A.", run_hint)
        )
        return steps
    container = found[0]
    if container.image is None or container.image.id != image.id:
        tags = ", ".join(container.image.tags) if container.image is not None else "?"
        steps.append(
            Step(
                False,
                f"Le conteneur {EXERCISE_04_CONTAINER} vient d'une autre image "
                f"({tags or 'sans nom'}).",
                f"docker rm -f {EXERCISE_04_CONTAINER}, puis {run_hint}",
            )
        )
        return steps
    steps.append(
        Step(True, f"Le conteneur {EXERCISE_04_CONTAINER} vient bien de {EXERCISE_04_IMAGE}.")
    )
    state = container.attrs.get("State", {})
    if state.get("Running") or state.get("ExitCode") != 0:
        steps.append(
            Step(
                False,
                f"Le conteneur {EXERCISE_04_CONTAINER} n'a pas fini normalement "
                f"(état : {state.get('Status')}, code {state.get('ExitCode')}).",
                "lancez-le sans -d et attendez qu'il se termine.",
            )
        )
    else:
        steps.append(
            Step(True, "Il s'est exécuté et terminé sans erreur : aucun registry n'a servi.")
        )
    return steps
