"""What every checker shares: a `Step` per point checked, the `Verdict` that gathers them,
and the checks of the lab itself that come before any exercise's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from ..errors import RegistryLabError
from ..images import BASE_IMAGE

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["BASE", "Step", "Verdict", "verdict_of"]

_OK, _KO = "✔", "✘"

#: The base image as the exercises name it (``docker`` reads it as ``lab/busybox:latest``).
BASE = BASE_IMAGE.removesuffix(":latest")


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
    if lab.host_a.find_image(BASE_IMAGE) is None:
        return [
            Step(
                False,
                f"L'hôte A n'a plus l'image {BASE}, le point de départ de l'exercice.",
                "Lab.up() (ou python -m registry_lab up) la reconstruit sur l'hôte A.",
            )
        ]
    return []


def verdict_of(exercise: str, lab: Lab, steps: Callable[[], list[Step]]) -> Verdict:
    """The verdict on ``exercise``: the lab's own checks, then ``steps`` once the lab is ready.

    An error of the lab (a daemon gone, a registry refusing) becomes a failed step, not a
    traceback.
    """
    try:
        checked = _lab_steps(lab) or steps()
    except RegistryLabError as exc:
        checked = [Step(False, f"Le labo a répondu par une erreur : {exc.message}", exc.hint)]
    return Verdict.from_steps(exercise, checked)
