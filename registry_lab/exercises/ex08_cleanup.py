"""Notebook 08's exercise: delete an image by digest, collect the garbage, and check the disk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ManifestUnknownError, NameUnknownError
from ..maintenance import push_tiny_image, tiny_layer
from ..manifests import sha256_digest, short_digest
from ..storage import blob_path
from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = [
    "EXERCISE_08_KEPT_TAG",
    "EXERCISE_08_OLD_TAG",
    "EXERCISE_08_REPOSITORY",
    "check_08",
    "prepare_08",
]

#: Notebook 08's exercise: two images of one repository that share their first layer.
EXERCISE_08_REPOSITORY = "exercices/menage"
EXERCISE_08_OLD_TAG = "vieux"
EXERCISE_08_KEPT_TAG = "garde"

_SHARED = tiny_layer({"srv/menage/commun.txt": "Une couche que les deux images partagent.\n" * 40})
_OLD = tiny_layer({"srv/menage/vieux.txt": "La couche propre à l'image vieux.\n" * 60})
_KEPT = tiny_layer({"srv/menage/garde.txt": "La couche propre à l'image garde.\n" * 50})


@dataclass(frozen=True)
class _Exercise08:
    """The digests the exercise is about (the same on every run: the layers are reproducible)."""

    shared: str = sha256_digest(_SHARED)
    old_layer: str = sha256_digest(_OLD)
    kept_layer: str = sha256_digest(_KEPT)


DIGESTS = _Exercise08()


def prepare_08(lab: Lab) -> tuple[str, str]:
    """Push ``exercices/menage:vieux`` and ``:garde`` (again); return their manifest digests."""
    client = lab.registry.client
    old = push_tiny_image(client, EXERCISE_08_REPOSITORY, EXERCISE_08_OLD_TAG, [_SHARED, _OLD])
    kept = push_tiny_image(client, EXERCISE_08_REPOSITORY, EXERCISE_08_KEPT_TAG, [_SHARED, _KEPT])
    return old, kept


def check_08(lab: Lab) -> Verdict:
    """Notebook 08: ``vieux`` deleted by digest and collected, ``garde`` and the shared layer kept.

    Four facts, read on the live registry and on its disk: the manifest of ``vieux`` answers
    ``MANIFEST_UNKNOWN``; ``garde`` still answers; the layer only ``vieux`` used has left
    ``blobs/``; the layer both images share is still there.
    """
    return verdict_of("Exercice 08", lab, lambda: _steps(lab))


def _steps(lab: Lab) -> list[Step]:
    client = lab.registry.client
    repository, old_tag, kept_tag = (
        EXERCISE_08_REPOSITORY,
        EXERCISE_08_OLD_TAG,
        EXERCISE_08_KEPT_TAG,
    )
    root = lab.registry.storage
    gc_hint = "garbage_collect(lab.registry) arrête le registry, balaie, puis le relance"
    steps: list[Step] = []
    try:
        tags = set(client.tags(repository))
    except NameUnknownError:
        tags = set()
    if old_tag in tags:
        steps.append(
            Step(
                False,
                f"{repository}:{old_tag} existe encore : son manifeste reste à supprimer.",
                f'delete_tag(lab.registry.client, "{repository}", "{old_tag}") le supprime par '
                "son empreinte",
            )
        )
    else:
        steps.append(Step(True, f"{repository}:{old_tag} a disparu : son manifeste est supprimé."))
    try:
        client.head_manifest(repository, kept_tag)
        steps.append(Step(True, f"{repository}:{kept_tag} répond toujours."))
    except (ManifestUnknownError, NameUnknownError):
        steps.append(
            Step(
                False,
                f"{repository}:{kept_tag} a disparu aussi : il fallait le garder.",
                "prepare_08(lab) remet les deux images ; ne supprimez que vieux.",
            )
        )
    if blob_path(root, DIGESTS.old_layer).exists():
        steps.append(
            Step(
                False,
                f"La couche propre à {old_tag} ({short_digest(DIGESTS.old_layer)}) est encore "
                "sur le disque : le ramasse-miettes n'est pas passé depuis la suppression.",
                gc_hint,
            )
        )
    else:
        steps.append(
            Step(
                True,
                f"La couche propre à {old_tag} ({short_digest(DIGESTS.old_layer)}) a quitté le "
                "disque.",
            )
        )
    if blob_path(root, DIGESTS.shared).exists():
        steps.append(
            Step(
                True,
                f"La couche partagée ({short_digest(DIGESTS.shared)}) est restée : {kept_tag} "
                "s'en sert.",
            )
        )
    else:
        steps.append(
            Step(
                False,
                f"La couche partagée ({short_digest(DIGESTS.shared)}) n'est plus sur le disque.",
                "prepare_08(lab) la remet ; puis supprimez seulement vieux.",
            )
        )
    return steps
