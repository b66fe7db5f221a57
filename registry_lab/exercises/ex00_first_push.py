"""Notebook 00's exercise: ``lab/busybox`` pushed by hôte A, then pulled by hôte B."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..images import BASE_IMAGE
from .verdict import BASE, Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["EXERCISE_00_REPOSITORY", "EXERCISE_00_TAG", "check_00"]

#: Where notebook 00's exercise puts ``lab/busybox`` in the registry.
EXERCISE_00_REPOSITORY = "exercices/premier-pas"
EXERCISE_00_TAG = "1.0"


def check_00(lab: Lab) -> Verdict:
    """Notebook 00: ``lab/busybox`` pushed by hôte A as ``exercices/premier-pas:1.0``, pulled by B.

    Three facts are checked on the real lab: the registry lists the tag; hôte B holds the image
    under the registry's name, pulled from it; and it is the very image ``lab/busybox`` of hôte A
    (same id, same layers).
    """
    return verdict_of("Exercice 00", lab, lambda: _steps(lab))


def _short_id(image_id: str) -> str:
    """``sha256:0ab5…`` → the 12 hexadecimal digits ``docker images`` shows."""
    return image_id.removeprefix("sha256:")[:12]


def _layers(count: int) -> str:
    return "1 couche" if count == 1 else f"{count} couches"


def _steps(lab: Lab) -> list[Step]:
    address = lab.registry.address
    repository, tag = EXERCISE_00_REPOSITORY, EXERCISE_00_TAG
    target = f"{address}/{repository}:{tag}"
    push_hint = f"sur l'hôte A, docker tag {BASE} {target} puis docker push {target}"
    pull_hint = f"sur l'hôte B, docker pull {target}"
    steps: list[Step] = []

    # 1. The registry: the repository and its tag.
    tags = lab.registry.tags(repository)
    if tag in tags:
        steps.append(Step(True, f"Le registry contient {repository}:{tag}."))
    else:
        if tags:
            seen = f"le dépôt {repository} existe, mais sans ce tag (tags : {', '.join(tags)})"
        else:
            seen = f"le registry n'a aucun dépôt {repository} avec un tag"
        if target in lab.host_a.image_tags():
            seen += f" ; l'hôte A a bien le nom {target}, il reste à le pousser"
        message = f"Rien n'a été poussé sous {repository}:{tag} : {seen}."
        steps.append(Step(False, message, push_hint))

    # 2. Hôte B: the image under the registry's name, and pulled from the registry.
    image_b = lab.host_b.find_image(target)
    if image_b is None:
        suffix = f"/{repository}:{tag}"
        others = [name for name in lab.host_b.image_tags() if name.endswith(suffix)]
        seen = f" (il a {', '.join(others)} : le nom attendu est {target})" if others else ""
        steps.append(Step(False, f"L'hôte B n'a pas l'image {target}{seen}.", pull_hint))
        return steps
    digests = [str(d) for d in image_b.attrs.get("RepoDigests") or []]
    if not any(d.startswith(f"{address}/{repository}@") for d in digests):
        steps.append(
            Step(
                False,
                f"L'hôte B a bien une image nommée {target}, mais elle n'a pas été tirée du "
                "registry (docker ne lui connaît aucun digest venu du registry).",
                pull_hint,
            )
        )
        return steps
    steps.append(Step(True, f"L'hôte B a récupéré {target} depuis le registry."))

    # 3. The very image lab/busybox of hôte A: same id, same layers.
    image_a = lab.host_a.find_image(BASE_IMAGE)
    assert image_a is not None  # checked before any exercise's own steps
    id_a, id_b = str(image_a.id), str(image_b.id)
    layers_a = list(image_a.attrs.get("RootFS", {}).get("Layers") or [])
    layers_b = list(image_b.attrs.get("RootFS", {}).get("Layers") or [])
    if id_a == id_b:
        steps.append(
            Step(
                True,
                f"C'est bien l'image {BASE} de l'hôte A : même identifiant "
                f"({_short_id(id_a)}) et mêmes couches ({_layers(len(layers_a))}).",
            )
        )
    else:
        shared = sum(a == b for a, b in zip(layers_a, layers_b, strict=False))
        steps.append(
            Step(
                False,
                f"L'image {target} de l'hôte B ({_short_id(id_b)}, {_layers(len(layers_b))}) "
                f"n'est pas {BASE} de l'hôte A ({_short_id(id_a)}, {_layers(len(layers_a))}) ; "
                f"couches en commun : {shared}. Le tag {tag} du registry désigne une autre image.",
                f"{push_hint} ; puis {pull_hint}",
            )
        )
    return steps
