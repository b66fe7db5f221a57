"""Notebook 02's exercise: a big file made and removed in one ``RUN``, so no space is wasted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..french import format_size
from ..images import BASE_IMAGE
from ..layers import image_files, image_layers
from .verdict import BASE, Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["EXERCISE_02_IMAGE", "check_02"]

#: Notebook 02's exercise: the image to build, without wasted space.
EXERCISE_02_IMAGE = "exercices/sans-gaspillage:1.0"
_MIB = 1024 * 1024


def check_02(lab: Lab) -> Verdict:
    """Notebook 02: ``exercices/sans-gaspillage:1.0`` on hôte A, a 10 Mio file made and removed
    in one ``RUN``: no wasted space, an image barely bigger than ``lab/busybox``.
    """
    return verdict_of("Exercice 02", lab, lambda: _steps(lab))


def _steps(lab: Lab) -> list[Step]:
    tag = EXERCISE_02_IMAGE
    build_hint = (
        f"construisez {tag} à partir de {BASE} avec une seule instruction : RUN dd … && rm …"
    )
    if lab.host_a.find_image(tag) is None:
        return [Step(False, f"L'hôte A n'a pas d'image {tag}.", build_hint)]
    steps = [Step(True, f"L'hôte A a l'image {tag}.")]
    layers = image_layers(lab.host_a, tag)
    base = image_layers(lab.host_a, BASE_IMAGE)
    on_base = layers.diff_ids[: len(base.diff_ids)] == base.diff_ids
    steps.append(
        Step(
            on_base,
            f"Elle est construite sur {BASE} (sa première couche est celle de {BASE})."
            if on_base
            else f"Elle n'est pas construite sur {BASE}.",
            f"la première ligne du Dockerfile : FROM {BASE}",
        )
    )
    runs = [step for step in layers.steps if "dd " in step.created_by and "rm " in step.created_by]
    steps.append(
        Step(
            bool(runs),
            "Une même instruction RUN crée le gros fichier (dd) et le supprime (rm)."
            if runs
            else "Aucune instruction RUN ne fait à la fois dd et rm.",
            "RUN dd if=/dev/urandom of=/gros-fichier.bin bs=1M count=10 && rm /gros-fichier.bin",
        )
    )
    files = image_files(lab.host_a, tag)
    wasted = files.efficiency.wasted
    steps.append(
        Step(
            wasted == 0,
            "Espace gaspillé : 0 o (aucun fichier écrit puis effacé par une couche suivante)."
            if wasted == 0
            else f"Espace gaspillé : {format_size(wasted)} — une couche efface ce qu'une autre "
            "a écrit.",
            "créez et supprimez le fichier dans le même RUN : une couche ne garde que le résultat.",
        )
    )
    size = layers.size or 0
    small = size < 10 * _MIB
    steps.append(
        Step(
            small,
            f"Taille de l'image : {format_size(size)}, presque celle de {BASE} "
            f"({format_size(base.size or 0)}) : les 10 Mio n'y sont pas restés."
            if small
            else f"Taille de l'image : {format_size(size)} : les 10 Mio y sont restés.",
            build_hint,
        )
    )
    return steps
