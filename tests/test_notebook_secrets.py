"""No notebook shows a secret: every stored output of every notebook is scanned.

Passwords, tokens, bcrypt hashes, private keys and docker's saved credentials must never be
in what a learner reads on a forge; the lab passes them through files and stdin instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from secret_scan import find_secrets

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def output_texts(notebook: dict) -> list[str]:
    """Every text a cell's outputs hold: streams, results (all mime types), errors."""
    texts = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append("".join(output["text"]))
            for value in output.get("data", {}).values():
                texts.append("".join(value) if isinstance(value, list) else json.dumps(value))
            texts.extend(output.get("traceback", []))
    return texts


def test_every_notebook_is_scanned() -> None:
    assert len(NOTEBOOKS) >= 9
    assert any(path.name.startswith("07_") for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_secret_in_stored_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text())
    found = [secret for text in output_texts(notebook) for secret in find_secrets(text)]
    assert found == [], f"{path.name} montre des secrets : {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_password_typed_in_the_code(path: Path) -> None:
    notebook = json.loads(path.read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    found = [secret for source in sources for secret in find_secrets(source)]
    assert found == [], f"{path.name} écrit des secrets dans son code : {found}"


def test_the_scan_finds_what_it_must() -> None:
    """The scan is not blind: each kind of secret, planted in an output, is found."""
    planted = {
        "cells": [
            {
                "cell_type": "code",
                "source": [],
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["Authorization: Bearer abcdefgh12345678\n"],
                    },
                    {
                        "output_type": "execute_result",
                        "data": {
                            "text/plain": [
                                '{"token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZXYifQ.c2lnbmF0dXJl"}'
                            ]
                        },
                    },
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["dev:$2b$10$" + "a" * 53 + "\n"],
                    },
                    {
                        "output_type": "display_data",
                        "data": {"text/html": ['{"auths": {"x": {"auth": "ZGV2OnNlY3JldA=="}}}']},
                    },
                    {"output_type": "error", "traceback": ["-----BEGIN RSA PRIVATE KEY-----"]},
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["docker login -p s3cret registry\n"],
                    },
                ],
            }
        ]
    }
    found = [secret for text in output_texts(planted) for secret in find_secrets(text)]
    kinds = {secret.split(" : ")[0] for secret in found}
    assert {
        "en-tête Authorization",
        "jeton JWT",
        "empreinte bcrypt",
        "identifiants de config.json",
        "clé privée",
        "mot de passe en argument",
    } <= kinds
    assert find_secrets("le mot est secret-123", ("secret-123",))
    assert find_secrets("docker login --username dev --password-stdin 198.18.0.2:5000") == []
