"""The registry browser's widgets (layout only; the state lives in `browser_model`)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from .browser_model import BrowserModel, describe
from .french import format_size
from .manifests import short_digest

if TYPE_CHECKING:
    from .registry import RegistryClient

__all__ = ["RegistryBrowser", "browse"]


def _select(description: str) -> widgets.Select:
    return widgets.Select(options=[], description=description, rows=8)


class RegistryBrowser(widgets.VBox):  # type: ignore[misc]
    """Repositories → tags → manifest (or index → platforms) → layers → files."""

    def __init__(self, model: BrowserModel) -> None:
        self.model = model
        self.repositories = _select("Dépôts :")
        self.tags = _select("Tags :")
        self.platforms = _select("Plates-formes :")
        self.layers = _select("Couches :")
        self.layers.layout.width = "95%"
        self.manifest = widgets.HTML()
        self.files = widgets.HTML()
        self.refresh_button = widgets.Button(description="Rafraîchir le catalogue")
        self.refresh_button.on_click(lambda _b: self._act(model.refresh))
        self.repositories.observe(self._pick("repository"), names="value")
        self.tags.observe(self._pick("tag"), names="value")
        self.platforms.observe(self._pick("platform"), names="value")
        self.layers.observe(self._pick("layer"), names="value")
        self._rendering = False
        super().__init__(
            [
                widgets.HTML(f"<h3>Le registry {escape(model.client.base_url)}</h3>"),
                self.refresh_button,
                widgets.HBox([self.repositories, self.tags, self.platforms]),
                self.manifest,
                self.layers,
                self.files,
            ]
        )
        self.render()

    def _pick(self, level: str) -> Any:
        actions = {
            "repository": self.model.select_repository,
            "tag": self.model.select_tag,
            "platform": self.model.select_platform,
            "layer": self.model.select_layer,
        }

        def handler(change: dict[str, Any]) -> None:
            if not self._rendering and change["new"]:
                self._act(lambda: actions[level](change["new"]))

        return handler

    def _act(self, action: Any) -> None:
        action()
        self.render()

    def render(self) -> None:
        m = self.model
        self._rendering = True
        try:
            self.repositories.options = m.repositories
            self.repositories.value = m.repository
            self.tags.options = m.tags
            self.tags.value = m.tag
            self.platforms.options = [(describe(d), d.digest) for d in m.platforms]
            self.platforms.value = m.manifest.digest if m.index and m.manifest else None
            self.platforms.layout.display = "flex" if m.index is not None else "none"
            self.layers.options = [
                (f"{i} · {describe(d)}", d.digest) for i, d in enumerate(m.layers, 1)
            ]
            self.layers.value = m.layer.digest if m.layer is not None else None
        finally:
            self._rendering = False
        self.manifest.value = self._manifest_html()
        rows = "".join(
            f"<tr><td>{escape(r.kind)}</td><td><code>{escape(r.path)}</code></td>"
            f"<td>{format_size(r.size)}</td></tr>"
            for r in m.files
        )
        self.files.value = (
            f"<b>Fichiers de la couche {short_digest(m.layer.digest)}</b><table>{rows}</table>"
            if m.layer is not None
            else ""
        )

    def _manifest_html(self) -> str:
        m = self.model
        parts = []
        if m.index is not None:
            parts.append(
                f"<b>Index</b> <code>{escape(m.index.digest)}</code> · {escape(m.index.media_type)}"
                f" · {len(m.index.manifests)} plate(s)-forme(s)"
            )
        if m.manifest is not None:
            manifest = m.manifest
            parts.append(
                f"<b>Manifeste</b> <code>{escape(manifest.digest)}</code> · "
                f"{escape(manifest.media_type)} · {format_size(manifest.size)}<br>"
                f"<b>Config</b> <code>{escape(describe(manifest.config))}</code><br>"
                f"{len(manifest.layers)} couche(s), {format_size(manifest.total_size)} au total"
            )
        return "<br>".join(parts)

    def __repr__(self) -> str:
        return "<Navigateur du registry : dépôts → tags → manifeste → couches → fichiers>"


def browse(client: RegistryClient) -> RegistryBrowser:
    """A browser over any registry ``client`` reaches: ``client.browse()`` in a notebook."""
    return RegistryBrowser(BrowserModel(client))
