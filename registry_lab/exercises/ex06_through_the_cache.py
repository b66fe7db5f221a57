"""Notebook 06's exercise: pull on hôte B through the cache, and count what the Hub saw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["EXERCISE_06_IMAGE", "check_06"]

#: The image the exercise pulls from the Hub, through the cache.
EXERCISE_06_IMAGE = "public/utilitaire:1.0"


def check_06(lab: Lab, pulls_au_hub: int | None = None) -> Verdict:
    """Notebook 06: hôte B holds ``CACHE/public/utilitaire:1.0``, the cache holds it too, and
    ``pulls_au_hub`` (the learner's count of Hub pulls for a second pull through the cache,
    read in the Hub's log) is 0."""
    return verdict_of("Exercice 06", lab, lambda: _steps(lab, pulls_au_hub))


def _steps(lab: Lab, pulls_au_hub: int | None) -> list[Step]:
    cache = lab.cache()
    name = f"{cache.address}/{EXERCISE_06_IMAGE}"
    hint = f'pull(lab.host_b, cache, "{EXERCISE_06_IMAGE}")'
    steps = []
    if lab.host_b.find_image(name) is None:
        steps.append(Step(False, f"L'hôte B n'a pas {name}.", hint))
    else:
        steps.append(Step(True, f"L'hôte B a {name}, tiré à travers le cache."))
    repository = EXERCISE_06_IMAGE.split(":")[0]
    if repository in cache.repositories():
        steps.append(
            Step(True, f"Le cache garde {repository} : les pulls suivants restent chez lui.")
        )
    else:
        steps.append(Step(False, f"Le cache n'a pas {repository}.", hint))
    if pulls_au_hub is None:
        steps.append(
            Step(False, "La variable « pulls_au_hub » est vide.", "comptez : len(hub.pulls(debut))")
        )
    elif pulls_au_hub != 0:
        steps.append(
            Step(
                False,
                f"{pulls_au_hub} pull(s) au Hub pour le second passage ? Le cache a déjà le "
                "manifeste et les couches.",
                "supprimez l'image sur B, notez debut = hub.log_size(), tirez de nouveau, "
                "puis len(hub.pulls(debut))",
            )
        )
    else:
        steps.append(Step(True, "Le second pull n'a coûté aucun pull au Hub."))
    return steps
