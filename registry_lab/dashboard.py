"""The lab dashboard's widgets (layout only; the state and actions live in `dashboard_model`)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from .dashboard_model import DashboardModel, HostView, LabSnapshot
from .examples import EXAMPLES

if TYPE_CHECKING:
    from .lab import Lab

__all__ = ["Dashboard", "dashboard"]

_BOX = "border:1px solid #ccc;border-radius:6px;padding:6px;min-width:260px"


def _list(items: list[str], empty: str) -> str:
    if not items:
        return f"<i>{escape(empty)}</i>"
    return (
        "<ul style='margin:0;padding-left:18px'>"
        + "".join(f"<li><code>{escape(item)}</code></li>" for item in items)
        + "</ul>"
    )


def _host_html(view: HostView) -> str:
    if view.error:
        return f"<h4>{escape(view.label)}</h4><b>{escape(view.error)}</b>"
    containers = [f"{c.name} ({c.image}) : {c.status}" for c in view.containers]
    return (
        f"<h4>{escape(view.label)}</h4><b>Images</b>{_list(list(view.images), 'aucune image')}"
        f"<b>Conteneurs</b>{_list(containers, 'aucun conteneur')}"
    )


def _registry_html(snapshot: LabSnapshot) -> str:
    if snapshot.registry_error:
        return f"<h4>registry</h4><b>{escape(snapshot.registry_error)}</b>"
    rows = [
        f"{repo} : {', '.join(tags) or '—'}" for repo, tags in sorted(snapshot.registry.items())
    ]
    return f"<h4>registry</h4><b>Dépôts et tags</b>{_list(rows, 'aucun dépôt')}"


class Dashboard(widgets.VBox):  # type: ignore[misc]
    """hôte A | registry | hôte B side by side, with the actions of a live demo."""

    def __init__(self, model: DashboardModel) -> None:
        self.model = model
        self.columns = [widgets.HTML(layout=widgets.Layout(flex="1")) for _ in range(3)]
        for column in self.columns:
            column.add_class("rl-column")
        self.host = widgets.ToggleButtons(
            options=[("hôte A", "a"), ("hôte B", "b")], value="a", description="Sur :"
        )
        self.example = widgets.Dropdown(options=sorted(EXAMPLES), value="bonjour")
        self.reference = widgets.Text(
            value="cours/bonjour:1.0", placeholder="image (dépôt:tag)", description="Image :"
        )
        self.target = widgets.Text(placeholder="nouveau nom (tag)", description="Vers :")
        self.registry_tag = widgets.Dropdown(options=[], description="Tag :")
        self.buttons = {
            name: widgets.Button(description=label)
            for name, label in [
                ("build", "Construire"),
                ("tag", "Étiqueter"),
                ("push", "Pousser"),
                ("pull", "Tirer"),
                ("run", "Lancer"),
                ("delete", "Supprimer le tag"),
                ("confirm", "Confirmer la suppression"),
                ("cancel", "Annuler"),
                ("refresh", "Rafraîchir"),
            ]
        }
        self.confirmation = widgets.HTML()
        self.confirm_box = widgets.HBox(
            [self.confirmation, self.buttons["confirm"], self.buttons["cancel"]],
            layout=widgets.Layout(display="none"),
        )
        self.journal = widgets.HTML()
        self.journal.add_class("rl-log")
        for name, button in self.buttons.items():
            button.on_click(lambda _button, name=name: self._on(name))
        b = self.buttons
        super().__init__(
            [
                widgets.HTML("<h3>Le labo : hôte A | registry | hôte B</h3>"),
                widgets.HBox(self.columns),
                self.host,
                widgets.HBox([self.example, b["build"], b["refresh"]]),
                widgets.HBox([self.reference, b["push"], b["pull"], b["run"]]),
                widgets.HBox([self.target, b["tag"]]),
                widgets.HBox([self.registry_tag, b["delete"]]),
                self.confirm_box,
                self.journal,
            ]
        )
        model.listeners.append(lambda _model: self.render())
        model.refresh()

    def _on(self, name: str) -> None:
        m, host, ref = self.model, self.host.value, self.reference.value.strip()
        actions: dict[str, Any] = {
            "build": lambda: m.build(host, self.example.value),
            "tag": lambda: m.tag(host, ref, self.target.value.strip()),
            "push": lambda: m.push(host, ref),
            "pull": lambda: m.pull(host, ref),
            "run": lambda: m.run(host, ref),
            "confirm": m.confirm_delete,
            "refresh": m.refresh,
        }
        if name == "delete" and self.registry_tag.value:
            self.confirmation.value = escape(m.request_delete(self.registry_tag.value))
            self.confirm_box.layout.display = "flex"
            return
        if name == "cancel":
            m.cancel_delete()
        elif name in actions:
            actions[name]()
        self.confirm_box.layout.display = "none"
        self.render()

    def render(self) -> None:
        snapshot = self.model.snapshot
        self.columns[0].value = f"<div style='{_BOX}'>{_host_html(snapshot.host_a)}</div>"
        self.columns[1].value = f"<div style='{_BOX}'>{_registry_html(snapshot)}</div>"
        self.columns[2].value = f"<div style='{_BOX}'>{_host_html(snapshot.host_b)}</div>"
        references = snapshot.references
        if list(self.registry_tag.options) != references:
            self.registry_tag.options = references
        last = self.model.last
        if last is not None:
            color = "#070" if last.ok else "#a00"
            self.journal.value = (
                f"<pre style='color:{color};white-space:pre-wrap'>{escape(str(last))}</pre>"
            )

    def __repr__(self) -> str:
        return "<Tableau de bord du labo : hôte A | registry | hôte B>"


def dashboard(lab: Lab) -> Dashboard:
    """The dashboard of ``lab``: ``lab.dashboard()`` in a notebook."""
    return Dashboard(DashboardModel(lab))
