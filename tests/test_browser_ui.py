"""The dashboard and the registry browser in a real JupyterLab, clicked in headless Chromium.

A lab of its own (temporary folder, free port) has ``cours/bonjour:1.0`` built on hôte A.
JupyterLab is started on a free loopback port with a random token, on a folder holding one
notebook (``lab.dashboard()`` then ``lab.registry.browse()``); Debian's Chromium, driven by
Playwright (no browser download), runs it, pushes on A and pulls on B from the dashboard,
then opens a repository, a tag and a layer in the browser. Screenshots go to
``test-artifacts/`` (not committed). JupyterLab, its kernel and the lab are stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import own_lab

from registry_lab import Lab
from registry_lab.examples import build_example
from registry_lab.ports import free_port

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "tableau",
            "metadata": {},
            "outputs": [],
            "source": "from registry_lab import Lab\n\nlab = Lab()\nlab.dashboard()",
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "navigateur",
            "metadata": {},
            "outputs": [],
            "source": "lab.registry.browse()",
        },
    ],
    "metadata": {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


@dataclass(frozen=True)
class JupyterLab:
    url: str
    token: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        build_example(lab.host_a, "bonjour")
        yield lab


@pytest.fixture(scope="module")
def jupyter(lab: Lab) -> Iterator[JupyterLab]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium manque : bash scripts/install-system.sh (paquet Debian chromium)")
    root = Path(tempfile.mkdtemp(prefix="rl-jupyter-", dir="/tmp"))
    (root / "tableau.ipynb").write_text(json.dumps(NOTEBOOK, ensure_ascii=False))
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ)
    env.update(
        REGISTRY_LAB_HOME=str(lab.home),
        REGISTRY_LAB_PORT=str(lab.registry.port),
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
    )
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--allow-root",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
    ]
    log = (root / "jupyter.log").open("wb")
    process = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=root
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/status", params={"token": token}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab n'a pas démarré :\n" + (root / "jupyter.log").read_text())
            time.sleep(0.2)
        yield JupyterLab(url, token, process)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def test_dashboard_and_browser_in_jupyterlab(jupyter: JupyterLab, lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    address = lab.registry.address
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(90_000)
            expect.set_options(timeout=90_000)
            page.goto(f"{jupyter.url}/lab/tree/tableau.ipynb?token={jupyter.token}")
            # Keys sent before the kernel is idle can be lost: wait for it, and send them
            # again (from the first cell) if the dashboard has not appeared.
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()
            dashboard = page.locator(
                ".widget-vbox", has_text="Le labo : hôte A | registry | hôte B"
            )
            for _attempt in range(3):
                page.locator(".jp-Notebook .jp-Cell").first.locator(".cm-content").click()
                page.keyboard.press("Shift+Enter")
                page.keyboard.press("Shift+Enter")
                try:
                    expect(dashboard.first).to_be_visible(timeout=30_000)
                    break
                except AssertionError:
                    continue
            expect(dashboard.first).to_be_visible()
            columns = page.locator(".rl-column")
            expect(columns.nth(0)).to_contain_text("cours/bonjour:1.0")
            page.screenshot(path=str(ARTIFACTS / "tableau-1-ouvert.png"), full_page=True)

            # push on hôte A (the default host and image)
            page.get_by_role("button", name="Pousser", exact=True).click()
            log = page.locator(".rl-log")
            expect(log).to_contain_text(f"docker push {address}/cours/bonjour:1.0")
            expect(columns.nth(1)).to_contain_text("cours/bonjour : 1.0")
            page.screenshot(path=str(ARTIFACTS / "tableau-2-push.png"), full_page=True)

            # pull on hôte B
            page.get_by_role("button", name="hôte B", exact=True).click()
            page.get_by_role("button", name="Tirer", exact=True).click()
            expect(log).to_contain_text(f"docker pull {address}/cours/bonjour:1.0")
            expect(columns.nth(2)).to_contain_text(f"{address}/cours/bonjour:1.0")
            page.screenshot(path=str(ARTIFACTS / "tableau-3-pull.png"), full_page=True)

            # the browser: repository → tag → layer → files
            page.get_by_role("button", name="Rafraîchir le catalogue").click()
            repositories = page.locator(".widget-select", has_text="Dépôts :").locator("select")
            expect(repositories.locator("option", has_text="cours/bonjour")).to_have_count(1)
            repositories.select_option(label="cours/bonjour")
            tags = page.locator(".widget-select", has_text="Tags :").locator("select")
            expect(tags.locator("option", has_text="1.0")).to_have_count(1)
            tags.select_option(label="1.0")
            expect(page.get_by_text("Manifeste", exact=False).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "navigateur-1-manifeste.png"), full_page=True)
            layers = page.locator(".widget-select", has_text="Couches :").locator("select")
            options = layers.locator("option")
            expect(options.first).to_contain_text("application/vnd")
            layers.select_option(index=options.count() - 1)
            expect(page.get_by_text("Fichiers de la couche")).to_be_visible()
            expect(page.locator("code", has_text="srv/bonjour/message.txt")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "navigateur-2-fichiers.png"), full_page=True)
        finally:
            browser.close()

    # what the page showed is what the lab holds
    assert lab.host_b.find_image(f"{address}/cours/bonjour:1.0") is not None
    assert "1.0" in lab.registry.tags("cours/bonjour")
