"""What ``status`` reports: each component's state, shown as a French table."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .tables import html_table, text_table

__all__ = ["ComponentStatus", "LabStatus"]

_HEADERS = ("composant", "adresse", "pid", "version", "état", "contenu")


@dataclass(frozen=True)
class ComponentStatus:
    """One component of the lab: hôte A, the registry or hôte B."""

    name: str
    address: str
    pid: int | None
    state: str
    version: str
    contents: list[str]

    @property
    def running(self) -> bool:
        return self.state == "en marche"

    def row(self) -> list[str]:
        contents = "\n".join(self.contents) if self.contents else "(vide)"
        if not self.running:
            contents = "—"
        return [
            self.name,
            self.address,
            str(self.pid) if self.pid else "—",
            self.version or "—",
            self.state,
            contents,
        ]


@dataclass(frozen=True)
class LabStatus:
    """The whole lab; a notebook cell ending with it shows a table."""

    home: str
    components: tuple[ComponentStatus, ...]

    @property
    def running(self) -> bool:
        return all(component.running for component in self.components)

    def __getitem__(self, name: str) -> ComponentStatus:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    @property
    def summary(self) -> str:
        if self.running:
            return "Le labo est en marche."
        stopped = [c.name for c in self.components if not c.running]
        return f"Le labo n'est pas entièrement en marche : {', '.join(stopped)} à (re)démarrer."

    def __str__(self) -> str:
        table = text_table(_HEADERS, [c.row() for c in self.components])
        return f"{table}\n\n{self.summary}\nDossier d'état : {self.home}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = html_table(_HEADERS, [c.row() for c in self.components], caption="État du labo")
        home = f"Dossier d'état : <code>{escape(self.home)}</code>"
        return f"{table}<p>{escape(self.summary)}<br>{home}</p>"
