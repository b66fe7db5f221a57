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
