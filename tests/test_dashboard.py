"""The dashboard and the registry browser without a browser: their state after each action.

Like a notebook under nbval: set ``.value``, call ``.click()``, read the model and the widgets.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import own_lab

from registry_lab import Lab
from registry_lab.browser import RegistryBrowser
from registry_lab.browser_model import BrowserModel
from registry_lab.dashboard import Dashboard
from registry_lab.dashboard_model import DashboardModel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        yield lab


def test_dashboard_actions_change_the_three_columns(lab: Lab) -> None:
    view = lab.dashboard()
    assert isinstance(view, Dashboard)
    assert repr(view) == "<Tableau de bord du labo : hôte A | registry | hôte B>"
    model = view.model
    assert "lab/busybox:latest" in model.snapshot.host_a.images

    view.example.value = "bonjour"
    view.buttons["build"].click()
    assert model.last is not None and model.last.ok, model.last
    assert model.last.command.startswith("docker build -t cours/bonjour:1.0 ")
    assert "cours/bonjour:1.0" in model.snapshot.host_a.images

    view.host.value = "a"
    view.reference.value = "cours/bonjour:1.0"
    view.buttons["push"].click()
    address = lab.registry.address
    assert model.last.ok, model.last
    assert model.last.command.startswith(f"docker push {address}/cours/bonjour:1.0")
    assert model.snapshot.registry == {"cours/bonjour": ("1.0",)}
    assert f"{address}/cours/bonjour:1.0" in model.snapshot.host_a.images
    assert "cours/bonjour : 1.0" in view.columns[1].value
    assert view.registry_tag.options == ("cours/bonjour:1.0",)
    assert "docker push" in view.journal.value

    view.host.value = "b"
    view.buttons["pull"].click()
    assert model.last.ok, model.last
    assert model.last.command.startswith(f"docker pull {address}/cours/bonjour:1.0")
    assert f"{address}/cours/bonjour:1.0" in model.snapshot.host_b.images
    assert "cours/bonjour:1.0" in view.columns[2].value

    view.reference.value = f"{address}/cours/bonjour:1.0"
    view.buttons["run"].click()
    assert model.last.ok, model.last
    assert "docker run --rm --network none --pull=never" in model.last.command
    assert "Bonjour" in model.last.output

    view.host.value = "a"
    view.reference.value = "cours/bonjour:1.0"
    view.target.value = "cours/bonjour:demo"
    view.buttons["tag"].click()
    assert model.last.command.startswith("docker tag cours/bonjour:1.0 cours/bonjour:demo")
    assert "cours/bonjour:demo" in model.snapshot.host_a.images


def test_delete_asks_for_confirmation(lab: Lab) -> None:
    model = DashboardModel(lab)
    model.build("a", "au-revoir")
    model.push("a", "cours/au-revoir:1.0")
    view = Dashboard(model)
    view.registry_tag.value = "cours/au-revoir:1.0"
    view.buttons["delete"].click()
    assert model.pending_delete == ("cours/au-revoir", "1.0")
    assert view.confirm_box.layout.display == "flex"
    assert "cours/au-revoir:1.0" in model.snapshot.references

    view.buttons["cancel"].click()
    assert model.pending_delete is None
    assert "cours/au-revoir:1.0" in model.snapshot.references

    view.buttons["delete"].click()
    view.buttons["confirm"].click()
    assert model.last is not None and model.last.ok, model.last
    assert model.last.command.startswith("curl -X DELETE")
    assert "cours/au-revoir:1.0" not in model.snapshot.references
    assert view.confirm_box.layout.display == "none"


def test_a_failed_action_is_shown_in_french(lab: Lab) -> None:
    model = DashboardModel(lab)
    result = model.push("b", "nulle/part:1.0")
    assert not result.ok
    assert "n'a pas d'image « nulle/part:1.0 »" in result.output
    assert "échec" in str(result)


def test_browser_walks_down_to_the_files_of_a_layer(lab: Lab) -> None:
    model = DashboardModel(lab)
    model.build("a", "bonjour")
    model.push("a", "cours/bonjour:1.0")
    view = lab.registry.browse()
    assert isinstance(view, RegistryBrowser)
    assert "cours/bonjour" in view.repositories.options

    view.repositories.value = "cours/bonjour"
    assert view.model.repository == "cours/bonjour"
    assert "1.0" in view.tags.options

    view.tags.value = "1.0"
    manifest = view.model.manifest
    assert manifest is not None
    assert manifest.digest in view.manifest.value
    assert manifest.media_type in view.manifest.value
    assert len(view.layers.options) == len(manifest.layers) >= 2

    view.layers.value = manifest.layers[-1].digest
    paths = [row.path for row in view.model.files]
    assert any(path.endswith("bonjour/message.txt") for path in paths), paths
    assert "message.txt" in view.files.value
    text = str(view.model)
    assert "fichiers de la couche" in text

    view.repositories.value = "cours/bonjour"  # unchanged: nothing reset
    view.refresh_button.click()
    assert view.model.repository is None and view.layers.options == ()


def test_browser_model_opens_an_index(lab: Lab) -> None:
    model = DashboardModel(lab)
    model.build("a", "bonjour")
    model.push("a", "cours/bonjour:1.0")
    client = lab.registry.client
    manifest = client.manifest("cours/bonjour", "1.0")
    index = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":'
        b'[{"mediaType":"%s","digest":"%s","size":%d,'
        b'"platform":{"os":"linux","architecture":"amd64"}}]}'
        % (manifest.media_type.encode(), manifest.digest.encode(), manifest.size)
    )
    client.put_manifest("cours/bonjour", "multi", index)
    browser = BrowserModel(client)
    browser.select_repository("cours/bonjour")
    browser.select_tag("multi")
    assert browser.index is not None and browser.manifest is None
    assert [d.digest for d in browser.platforms] == [manifest.digest]
    browser.select_platform(manifest.digest)
    assert browser.manifest is not None and browser.manifest.digest == manifest.digest
    assert "plate-forme" in str(browser) and "linux/amd64" in str(browser)
