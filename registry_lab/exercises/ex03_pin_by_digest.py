"""Notebook 03's exercise: find the digest behind a tag, then copy the image by that digest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ManifestUnknownError, NameUnknownError
from ..manifests import Descriptor, ImageManifest, short_digest
from .verdict import Step, Verdict, verdict_of

if TYPE_CHECKING:
    from ..lab import Lab
    from ..registry import RegistryClient

__all__ = [
    "EXERCISE_03_REPOSITORY",
    "EXERCISE_03_SOURCE_REPOSITORY",
    "EXERCISE_03_SOURCE_TAG",
    "EXERCISE_03_TAG",
    "check_03",
]

#: Notebook 03's exercise: the tag to pin, and where its image is copied by digest.
EXERCISE_03_SOURCE_REPOSITORY = "bibliotheque/bonjour"
EXERCISE_03_SOURCE_TAG = "stable"
EXERCISE_03_REPOSITORY = "exercices/bonjour"
EXERCISE_03_TAG = "epingle"


def check_03(lab: Lab, empreinte: str | None = None) -> Verdict:
    """Notebook 03: the digest behind ``bibliotheque/bonjour:stable``, and its copy by digest.

    ``empreinte`` is the learner's answer (``sha256:…``, or a whole ``nom@sha256:…``). Two facts
    are checked on the live registry: it is the digest of the manifest ``stable`` points to now
    (a config, layer, diff_id or older manifest digest is named as such), and
    ``exercices/bonjour:epingle`` holds that very manifest, with every blob it needs.
    """
    return verdict_of("Exercice 03", lab, lambda: _steps(lab, empreinte))


def _head(client: RegistryClient, repository: str, tag: str) -> Descriptor | None:
    """What ``repository:tag`` points to, or None when the tag (or the repository) is absent."""
    try:
        return client.head_manifest(repository, tag)
    except (ManifestUnknownError, NameUnknownError):
        return None


@dataclass(frozen=True)
class _Known:
    """A digest met in the exercise's repository: what kind of content it names, and whose."""

    kind: str  # "manifest", "config", "layer" or "diff_id"
    owner: str  # « bibliotheque/bonjour:1.0 », or several names
    number: int = 0  # the layer's position, for layers and diff_ids

    def explain(self) -> str:
        if self.kind == "manifest":
            return f"c'est l'empreinte du manifeste de {self.owner}"
        if self.kind == "config":
            return (
                f"c'est l'empreinte de la configuration de {self.owner} (l'ID de l'image que "
                "docker images affiche), pas celle de son manifeste : le registry désigne une "
                "image par l'empreinte de son manifeste"
            )
        if self.kind == "layer":
            return (
                f"c'est l'empreinte de la couche n° {self.number} de {self.owner}, pas celle du "
                "manifeste de l'image"
            )
        return (
            f"c'est le diff_id de la couche n° {self.number} de {self.owner} (l'empreinte de son "
            "contenu décompressé), pas l'empreinte du manifeste de l'image"
        )


def _known_digests(client: RegistryClient, repository: str) -> dict[str, _Known]:
    """Every digest a learner may meet in ``repository``: manifests, configs, layers, diff_ids."""
    tags_of: dict[str, list[str]] = {}
    for tag in sorted(client.tags(repository)):
        head = _head(client, repository, tag)
        if head is not None:
            tags_of.setdefault(head.digest, []).append(tag)
    known: dict[str, _Known] = {}
    for digest, tags in tags_of.items():
        owner = ", ".join(f"{repository}:{tag}" for tag in tags)
        known[digest] = _Known("manifest", owner)
        manifest = client.manifest(repository, digest)
        if not isinstance(manifest, ImageManifest):
            continue
        known.setdefault(manifest.config.digest, _Known("config", owner))
        for number, layer in enumerate(manifest.layers, 1):
            known.setdefault(layer.digest, _Known("layer", owner, number))
        config = client.config(repository, manifest)
        for number, diff_id in enumerate(config.diff_ids, 1):
            known.setdefault(diff_id, _Known("diff_id", owner, number))
    return known


def _given_digest(empreinte: str | None) -> str:
    """The digest in the learner's answer: ``sha256:…`` alone, or after the ``@`` of a name."""
    text = str(empreinte or "").strip()
    return text.rpartition("@")[2] if "@" in text else text


def _is_sha256(text: str) -> bool:
    hexa = text.removeprefix("sha256:")
    return text.startswith("sha256:") and len(hexa) == 64 and set(hexa) <= set("0123456789abcdef")


def _steps(lab: Lab, empreinte: str | None) -> list[Step]:
    client = lab.registry.client
    source, tag = EXERCISE_03_SOURCE_REPOSITORY, EXERCISE_03_SOURCE_TAG
    target, target_tag = EXERCISE_03_REPOSITORY, EXERCISE_03_TAG
    find_hint = f'client.head_manifest("{source}", "{tag}").digest donne cette empreinte'
    copy_hint = f'client.copy(f"{source}@{{empreinte}}", "{target}:{target_tag}")'

    current = _head(client, source, tag)
    if current is None:
        return [
            Step(
                False,
                f"Le registry n'a pas {source}:{tag}, le point de départ de l'exercice.",
                "exécutez d'abord les sections « Remplir la bibliothèque » et « Tag ou "
                "empreinte ? » du notebook 03 : elles poussent bonjour 1.0, 2.0 et stable.",
            )
        ]
    wanted = current.digest
    known = _known_digests(client, source)
    steps: list[Step] = []

    # 1. The learner's digest: the manifest that « stable » points to now.
    given = _given_digest(empreinte)
    if empreinte is None:
        steps.append(
            Step(
                False,
                "Aucune empreinte n'a été donnée à la vérification.",
                f"rangez-la dans une variable et passez-la : check_03(lab, empreinte) ; "
                f"{find_hint}.",
            )
        )
    elif not given:
        steps.append(
            Step(False, "La variable empreinte est vide : l'empreinte reste à trouver.", find_hint)
        )
    elif given == wanted:
        steps.append(
            Step(
                True,
                f"{short_digest(given)} est bien l'empreinte du manifeste que désigne "
                f"{source}:{tag}.",
            )
        )
    elif not _is_sha256(given):
        steps.append(
            Step(
                False,
                f"« {given} » n'est pas une empreinte : elle s'écrit sha256: suivi de 64 chiffres "
                "hexadécimaux en minuscules.",
                find_hint,
            )
        )
    else:
        found = known.get(given)
        if found is None:
            what = f"aucun manifeste, configuration ni couche de {source} n'a cette empreinte"
        elif found.kind == "manifest":
            what = (
                f"{found.explain()} ; {tag} désignait peut-être cette image quand vous l'avez "
                "cherchée, mais un tag se déplace"
            )
        else:
            what = found.explain()
        steps.append(
            Step(
                False,
                f"{short_digest(given)} n'est pas l'empreinte que désigne {source}:{tag} "
                f"({short_digest(wanted)}) : {what}.",
                find_hint,
            )
        )

    # 2. The copy: exercices/bonjour:epingle is that very manifest, blobs included.
    copied = _head(client, target, target_tag)
    if copied is None:
        steps.append(
            Step(
                False,
                f"Le registry n'a pas {target}:{target_tag} : la copie reste à faire.",
                copy_hint,
            )
        )
        return steps
    if copied.digest != wanted:
        found = known.get(copied.digest)
        whose = (
            f"le manifeste de {found.owner}"
            if found is not None and found.kind == "manifest"
            else f"une image qui ne vient pas de {source}"
        )
        steps.append(
            Step(
                False,
                f"{target}:{target_tag} désigne {short_digest(copied.digest)} ({whose}), pas "
                f"l'image que désigne {source}:{tag} ({short_digest(wanted)}).",
                f"copiez de nouveau, depuis la bonne empreinte : {copy_hint}",
            )
        )
        return steps
    manifest = client.manifest(target, wanted)
    blobs = manifest.blobs if isinstance(manifest, ImageManifest) else ()
    missing = [blob for blob in blobs if not client.blob_exists(target, blob.digest)]
    if missing:
        steps.append(
            Step(
                False,
                f"{target}:{target_tag} a le bon manifeste, mais {len(missing)} de ses blobs "
                f"manquent au dépôt {target} (dont {short_digest(missing[0].digest)}).",
                f"refaites la copie, elle envoie les blobs absents : {copy_hint}",
            )
        )
    else:
        steps.append(
            Step(
                True,
                f"{target}:{target_tag} est une copie exacte de {source}:{tag} : même empreinte "
                f"({short_digest(wanted)}), et ses {len(blobs)} blobs sont dans le dépôt "
                f"{target}.",
            )
        )
    return steps
