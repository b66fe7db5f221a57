"""Notebook 08's checker on a real lab: each missing step is named, the full answer passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import own_lab

from registry_lab import Lab, delete_tag, garbage_collect
from registry_lab.exercises import EXERCISE_08_REPOSITORY, check_08, prepare_08

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        yield lab


def test_each_step_of_the_cleanup_is_checked(lab: Lab) -> None:
    prepare_08(lab)
    untouched = check_08(lab)
    assert not untouched.ok
    assert "✘" in str(untouched)

    delete_tag(lab.registry.client, EXERCISE_08_REPOSITORY, "vieux")
    deleted_only = check_08(lab)
    assert not deleted_only.ok, "sans ramasse-miettes, la couche de « vieux » est encore sur disque"
    assert str(deleted_only).count("✘") < str(untouched).count("✘")

    garbage_collect(lab.registry)
    done = check_08(lab)
    assert done.ok, str(done)
    assert "réussi" in str(done)


def test_deleting_the_kept_image_is_refused(lab: Lab) -> None:
    prepare_08(lab)
    delete_tag(lab.registry.client, EXERCISE_08_REPOSITORY, "garde")
    garbage_collect(lab.registry)
    verdict = check_08(lab)
    assert not verdict.ok
    assert "garde" in str(verdict)
