"""Notebooks 04 and 05's checkers on a real lab of their own: missing, wrong, then right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import own_lab

from registry_lab import Lab
from registry_lab.examples import build_example
from registry_lab.exercises import (
    EXERCISE_04_CONTAINER,
    EXERCISE_04_IMAGE,
    EXERCISE_05_CONTAINER,
    EXERCISE_05_REPOSITORY,
    EXERCISE_05_SOURCE,
    EXERCISE_05_TAG,
    check_04,
    check_05,
)
from registry_lab.transfers import pull, push


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        yield lab


def test_check_04_missing_wrong_then_right(lab: Lab) -> None:
    verdict = check_04(lab)
    assert not verdict.ok and "n'a pas l'image cours/au-revoir:1.0" in str(verdict)
    assert "Piste" in str(verdict)

    build_example(lab.host_a, "au-revoir")
    build_example(lab.host_a, "bonjour")
    verdict = check_04(lab)
    assert not verdict.ok and f"Aucun conteneur « {EXERCISE_04_CONTAINER} »" in str(verdict)

    lab.host_a.docker(
        "run", "--name", EXERCISE_04_CONTAINER, "--network", "none", "cours/bonjour:1.0"
    )
    verdict = check_04(lab)
    assert not verdict.ok and "vient d'une autre image (cours/bonjour:1.0)" in str(verdict)

    lab.host_a.docker("rm", "-f", EXERCISE_04_CONTAINER)
    lab.host_a.docker(
        "run", "--name", EXERCISE_04_CONTAINER, "--network", "none", EXERCISE_04_IMAGE
    )
    verdict = check_04(lab)
    assert verdict.ok, str(verdict)
    assert "réussi" in verdict.title and "aucun registry" in str(verdict)


def test_check_05_missing_wrong_then_right(lab: Lab) -> None:
    build_example(lab.host_a, "au-revoir")
    verdict = check_05(lab, "")
    assert not verdict.ok and f"n'a pas {EXERCISE_05_REPOSITORY}:{EXERCISE_05_TAG}" in str(verdict)

    target = f"{EXERCISE_05_REPOSITORY}:{EXERCISE_05_TAG}"
    report = push(lab.host_a, lab.registry, target, source=EXERCISE_05_SOURCE, progress=False)
    verdict = check_05(lab, "")
    assert not verdict.ok and "« empreinte » est vide" in str(verdict)

    layer = report.layers[0].digest
    verdict = check_05(lab, layer)
    assert not verdict.ok and "n'est pas l'empreinte du manifeste" in str(verdict)

    verdict = check_05(lab, report.digest)
    assert not verdict.ok and "n'a pas tiré cette image" in str(verdict)

    pull(lab.host_b, lab.registry, target, progress=False)
    name = f"{lab.registry.address}/{EXERCISE_05_REPOSITORY}"
    run = ("run", "--name", EXERCISE_05_CONTAINER, "--network", "none")
    lab.host_b.docker(*run, f"{name}:{EXERCISE_05_TAG}")  # by tag: not pinned
    verdict = check_05(lab, report.digest)
    assert not verdict.ok
    assert "« empreinte » est bien celle du manifeste poussé" in str(verdict)
    assert "un nom qui peut bouger" in str(verdict)

    lab.host_b.docker("rm", "-f", EXERCISE_05_CONTAINER)
    lab.host_b.docker(*run, f"{name}@{report.digest}")
    verdict = check_05(lab, report.digest)
    assert verdict.ok, str(verdict)
