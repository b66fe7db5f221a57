"""The checkers behind the notebooks' exercises: each one asks the real lab, never a mock.

A checker returns a `Verdict`: ``ok`` and French lines that say, point by point, what is
done (✔) and what is missing (✘), with the docker command that would fix it.

```python
from registry_lab.exercises import check_00
check_00(lab)    # a green ✔ or a red ✘ with what is missing, shown in the notebook
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from .errors import RegistryLabError
from .images import BASE_IMAGE

if TYPE_CHECKING:
    from .lab import Lab

__all__ = ["EXERCISE_00_REPOSITORY", "EXERCISE_00_TAG", "Step", "Verdict", "check_00"]

#: Where notebook 00's exercise puts ``lab/busybox`` in the registry.
EXERCISE_00_REPOSITORY = "exercices/premier-pas"
EXERCISE_00_TAG = "1.0"

_OK, _KO = "✔", "✘"

#: The base image as the exercises name it (``docker`` reads it as ``lab/busybox:latest``).
_BASE = BASE_IMAGE.removesuffix(":latest")


@dataclass(frozen=True)
class Step:
    """One point an exercise checks: whether it holds, what was seen, and how to fix it."""

    ok: bool
    message: str
    hint: str = ""

    def lines(self) -> list[str]:
        lines = [f"{_OK if self.ok else _KO} {self.message}"]
        if self.hint and not self.ok:
            lines.append(f"  Piste : {self.hint}")
        return lines


@dataclass(frozen=True)
class Verdict:
    """The answer of a checker: ``ok``, a French title and the explanation, line by line."""

    ok: bool
    title: str
    lines: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_steps(cls, exercise: str, steps: list[Step]) -> Verdict:
        """A verdict that holds when every step holds; its lines list each step."""
        failed = sum(not step.ok for step in steps)
        if failed == 0:
            title = f"{exercise} : réussi, bravo !"
        else:
            points = "1 point" if failed == 1 else f"{failed} points"
            title = f"{exercise} : pas encore, {points} à reprendre."
        lines = tuple(line for step in steps for line in step.lines())
        return cls(ok=failed == 0, title=title, lines=lines)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = _OK if self.ok else _KO
        return "\n".join([f"{mark} {self.title}", *(f"  {line}" for line in self.lines)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, background = ("#1e8449", "#e9f7ef") if self.ok else ("#c0392b", "#fdedec")
        mark = _OK if self.ok else _KO
        items = "".join(
            f'<div style="margin-left:1.2em;{_line_style(line)}">{escape(line.strip())}</div>'
            for line in self.lines
        )
        return (
            f'<div style="border-left:5px solid {color};background:{background};'
            'padding:6px 10px;border-radius:3px">'
            f'<b style="color:{color}">{mark} {escape(self.title)}</b>{items}</div>'
        )


def _line_style(line: str) -> str:
    if line.startswith(_OK):
        return "color:#1e8449"
    if line.startswith(_KO):
        return "color:#c0392b"
    return "margin-left:2.4em;font-family:monospace"


def _image(client: Any, name: str) -> Any | None:
    """The image ``name`` on one host (Docker SDK), or None when that host does not have it."""
    import docker.errors

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def _short(image_id: str) -> str:
    """``sha256:0ab5…`` → the 12 hexadecimal digits ``docker images`` shows."""
    return image_id.removeprefix("sha256:")[:12]


def _layers(count: int) -> str:
    return "1 couche" if count == 1 else f"{count} couches"


def _lab_steps(lab: Lab) -> list[Step]:
    """The lab itself: its three parts answer, hôte A has the base image."""
    down = [part.label for part in (lab.host_a, lab.registry, lab.host_b) if not part.healthy]
    if down:
        return [
            Step(
                False,
                f"Le labo ne répond pas entièrement ({', '.join(down)}) : "
                "rien ne peut être vérifié.",
                "démarrez-le : lab = Lab.up() dans le notebook, ou python -m registry_lab up",
            )
        ]
    if _image(lab.host_a.client, BASE_IMAGE) is None:
        return [
            Step(
                False,
                f"L'hôte A n'a plus l'image {_BASE}, le point de départ de l'exercice.",
                "Lab.up() (ou python -m registry_lab up) la reconstruit sur l'hôte A.",
            )
        ]
    return []


def check_00(lab: Lab) -> Verdict:
    """Notebook 00: ``lab/busybox`` pushed by hôte A as ``exercices/premier-pas:1.0``, pulled by B.

    Three facts are checked on the real lab: the registry lists the tag; hôte B holds the image
    under the registry's name, pulled from it; and it is the very image ``lab/busybox`` of hôte A
    (same id, same layers).
    """
    exercise = "Exercice 00"
    try:
        steps = _lab_steps(lab)
        if not steps:
            steps = _steps_00(lab)
    except RegistryLabError as exc:
        steps = [Step(False, f"Le labo a répondu par une erreur : {exc.message}", exc.hint)]
    return Verdict.from_steps(exercise, steps)


def _steps_00(lab: Lab) -> list[Step]:
    address = lab.registry.address
    repository, tag = EXERCISE_00_REPOSITORY, EXERCISE_00_TAG
    target = f"{address}/{repository}:{tag}"
    push_hint = f"sur l'hôte A, docker tag {_BASE} {target} puis docker push {target}"
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
    image_b = _image(lab.host_b.client, target)
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
    image_a = _image(lab.host_a.client, BASE_IMAGE)
    assert image_a is not None  # checked by _lab_steps
    id_a, id_b = str(image_a.id), str(image_b.id)
    layers_a = list(image_a.attrs.get("RootFS", {}).get("Layers") or [])
    layers_b = list(image_b.attrs.get("RootFS", {}).get("Layers") or [])
    if id_a == id_b:
        steps.append(
            Step(
                True,
                f"C'est bien l'image {_BASE} de l'hôte A : même identifiant "
                f"({_short(id_a)}) et mêmes couches ({_layers(len(layers_a))}).",
            )
        )
    else:
        shared = sum(a == b for a, b in zip(layers_a, layers_b, strict=False))
        steps.append(
            Step(
                False,
                f"L'image {target} de l'hôte B ({_short(id_b)}, {_layers(len(layers_b))}) "
                f"n'est pas {_BASE} de l'hôte A ({_short(id_a)}, {_layers(len(layers_a))}) ; "
                f"couches en commun : {shared}. Le tag {tag} du registry désigne une autre image.",
                f"{push_hint} ; puis {pull_hint}",
            )
        )
    return steps


# -- notebook 03: find the digest behind a tag, copy the image by digest ------------------------
if TYPE_CHECKING:
    from .manifests import Descriptor
    from .registry import RegistryClient

__all__ += [
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
    exercise = "Exercice 03"
    try:
        steps = _lab_steps(lab)
        if not steps:
            steps = _steps_03(lab, empreinte)
    except RegistryLabError as exc:
        steps = [Step(False, f"Le labo a répondu par une erreur : {exc.message}", exc.hint)]
    return Verdict.from_steps(exercise, steps)


def _head(client: RegistryClient, repository: str, tag: str) -> Descriptor | None:
    """What ``repository:tag`` points to, or None when the tag (or the repository) is absent."""
    from .errors import ManifestUnknownError, NameUnknownError

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
    from .manifests import ImageManifest

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


def _steps_03(lab: Lab, empreinte: str | None) -> list[Step]:
    from .manifests import ImageManifest, short_digest

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


# -- notebooks 01 and 02: a container's own layer; a build step that wastes nothing -------------
__all__ += [
    "EXERCISE_01_CONTAINER",
    "EXERCISE_01_IMAGE",
    "EXERCISE_02_IMAGE",
    "check_01",
    "check_02",
]

#: Notebook 01's exercise: the container to create, and the image it starts from.
EXERCISE_01_CONTAINER = "exercice-01"
EXERCISE_01_IMAGE = "cours/bonjour:1.0"
_NOTES = "/srv/bonjour/notes.txt"
_README = "/srv/bonjour/LISEZMOI.txt"

#: Notebook 02's exercise: the image to build, without wasted space.
EXERCISE_02_IMAGE = "exercices/sans-gaspillage:1.0"
_MIB = 1024 * 1024


def check_01(lab: Lab) -> Verdict:
    """Notebook 01: container ``exercice-01`` of ``cours/bonjour:1.0`` on hôte A, its own layer.

    Checked on the real lab: the container exists and comes from that image; ``docker diff``
    shows ``/srv/bonjour/notes.txt`` added and ``/srv/bonjour/LISEZMOI.txt`` deleted; and the
    image itself still holds ``LISEZMOI.txt`` (the deletion lives in the container's layer).
    """
    exercise = "Exercice 01"
    try:
        steps = _lab_steps(lab)
        if not steps:
            steps = _steps_01(lab)
    except RegistryLabError as exc:
        steps = [Step(False, f"Le labo a répondu par une erreur : {exc.message}", exc.hint)]
    return Verdict.from_steps(exercise, steps)


def _steps_01(lab: Lab) -> list[Step]:
    import docker.errors

    from .layers import container_layer, image_files
    from .manifests import format_size

    name, image = EXERCISE_01_CONTAINER, EXERCISE_01_IMAGE
    run_hint = (
        f"docker run --name {name} --network none {image} sh -c "
        f'"echo … > {_NOTES} && rm {_README}" (après docker rm -f {name})'
    )
    client = lab.host_a.client
    expected = _image(client, image)
    if expected is None:
        return [
            Step(
                False,
                f"L'hôte A n'a pas l'image {image}.",
                "exécutez la cellule du notebook qui la construit (build_example).",
            )
        ]
    try:
        container = client.containers.get(name)
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


def check_02(lab: Lab) -> Verdict:
    """Notebook 02: ``exercices/sans-gaspillage:1.0`` on hôte A, a 10 Mio file made and removed
    in one ``RUN``: no wasted space, an image barely bigger than ``lab/busybox``.
    """
    exercise = "Exercice 02"
    try:
        steps = _lab_steps(lab)
        if not steps:
            steps = _steps_02(lab)
    except RegistryLabError as exc:
        steps = [Step(False, f"Le labo a répondu par une erreur : {exc.message}", exc.hint)]
    return Verdict.from_steps(exercise, steps)


def _steps_02(lab: Lab) -> list[Step]:
    from .layers import image_files, image_layers
    from .manifests import format_size

    tag = EXERCISE_02_IMAGE
    build_hint = (
        f"construisez {tag} à partir de {_BASE} avec une seule instruction : RUN dd … && rm …"
    )
    if _image(lab.host_a.client, tag) is None:
        return [Step(False, f"L'hôte A n'a pas d'image {tag}.", build_hint)]
    steps = [Step(True, f"L'hôte A a l'image {tag}.")]
    layers = image_layers(lab.host_a, tag)
    base = image_layers(lab.host_a, BASE_IMAGE)
    on_base = layers.diff_ids[: len(base.diff_ids)] == base.diff_ids
    steps.append(
        Step(
            on_base,
            f"Elle est construite sur {_BASE} (sa première couche est celle de {_BASE})."
            if on_base
            else f"Elle n'est pas construite sur {_BASE}.",
            f"la première ligne du Dockerfile : FROM {_BASE}",
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
            f"Taille de l'image : {format_size(size)}, presque celle de {_BASE} "
            f"({format_size(base.size or 0)}) : les 10 Mio n'y sont pas restés."
            if small
            else f"Taille de l'image : {format_size(size)} : les 10 Mio y sont restés.",
            build_hint,
        )
    )
    return steps
