"""Notebook 01's exercise: a container's own writable layer, above an image left unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..french import format_size
from ..layers import container_layer, image_files
from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["EXERCISE_01_CONTAINER", "EXERCISE_01_IMAGE", "check_01"]

#: Notebook 01's exercise: the container to create, and the image it starts from.
EXERCISE_01_CONTAINER = "exercice-01"
EXERCISE_01_IMAGE = "cours/bonjour:1.0"
_NOTES = "/srv/bonjour/notes.txt"
_README = "/srv/bonjour/LISEZMOI.txt"


def check_01(lab: Lab) -> Verdict:
    """Notebook 01: container ``exercice-01`` of ``cours/bonjour:1.0`` on hôte A, its own layer.

    Checked on the real lab: the container exists and comes from that image; ``docker diff``
    shows ``/srv/bonjour/notes.txt`` added and ``/srv/bonjour/LISEZMOI.txt`` deleted; and the
    image itself still holds ``LISEZMOI.txt`` (the deletion lives in the container's layer).
    """
    return verdict_of("Exercice 01", lab, lambda: _steps(lab))


def _steps(lab: Lab) -> list[Step]:
    import docker.errors

    name, image = EXERCISE_01_CONTAINER, EXERCISE_01_IMAGE
    run_hint = (
        f"docker run --name {name} --network none {image} sh -c "
        f'"echo … > {_NOTES} && rm {_README}" (après docker rm -f {name})'
    )
    expected = lab.host_a.find_image(image)
    if expected is None:
        return [
            Step(
                False,
                f"L'hôte A n'a pas l'image {image}.",
                "exécutez la cellule du notebook qui la construit (build_example).",
            )
        ]
    try:
        container = lab.host_a.client.containers.get(name)
    except docker.errors.NotFound:
        return [Step(False, f"L'hôte A n'a pas de conteneur nommé {name}.", run_hint)]
    steps = [Step(True, f"Le conteneur {name} existe sur l'hôte A.")]
    if container.attrs.get("Image") != expected.id:
        steps.append(
            Step(
                False,
                f"Le conteneur {name} n'a pas été créé à partir de {image}.",
                f"docker rm -f {name}, puis {run_hint}",
            )
        )
        return steps
    steps.append(Step(True, f"Il a été créé à partir de l'image {image}."))
    layer = container_layer(lab.host_a, name)
    added = {change.path for change in layer.added}
    removed = {change.path for change in layer.removed}
    steps.append(
        Step(
            _NOTES in added,
            f"Sa couche inscriptible contient le fichier ajouté {_NOTES} (docker diff : A)."
            if _NOTES in added
            else f"docker diff {name} ne montre pas {_NOTES} ajouté.",
            f"le conteneur doit écrire ce fichier : {run_hint}",
        )
    )
    steps.append(
        Step(
            _README in removed,
            f"Sa couche inscriptible note la suppression de {_README} (docker diff : D)."
            if _README in removed
            else f"docker diff {name} ne montre pas {_README} supprimé.",
            f"le conteneur doit supprimer ce fichier : {run_hint}",
        )
    )
    in_image = any(
        entry.path == _README
        for layer_files in image_files(lab.host_a, image).layers
        for entry in layer_files.entries
    )
    steps.append(
        Step(
            in_image,
            f"L'image {image} contient toujours {_README} : la suppression n'existe que dans "
            f"la couche du conteneur ({format_size(layer.size)})."
            if in_image
            else f"L'image {image} n'a plus {_README} : elle a été reconstruite ou remplacée.",
            "reconstruisez-la : build_example(lab.host_a, 'bonjour', rebuild=True).",
        )
    )
    return steps
