"""The exercise checkers, against a real lab of their own (two dockerd, one Distribution).

Each test puts the lab in the state it needs (what a learner would have done, or not done),
then asks the checker; the right answer is cross-checked with skopeo, a registry client this
project did not write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry_lab import Lab
from registry_lab.exercises import (
    EXERCISE_00_REPOSITORY,
    EXERCISE_00_TAG,
    Step,
    Verdict,
    check_00,
)
from registry_lab.ports import free_port

_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A lab in its own short state folder, on a free port; erased at the end."""
    home = Path(tempfile.mkdtemp(prefix="rl-ex-", dir="/tmp"))
    lab = Lab.up(home=home, port=free_port())
    try:
        yield lab
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)


def target(lab: Lab) -> str:
    return f"{lab.registry.address}/{EXERCISE_00_REPOSITORY}:{EXERCISE_00_TAG}"


def forget_answer(lab: Lab) -> None:
    """Undo the exercise: the name leaves both hosts, the manifest leaves the registry."""
    for host in lab.hosts:
        host.docker("image", "rm", "--force", target(lab), check=False)
    url = f"{lab.registry.url}/v2/{EXERCISE_00_REPOSITORY}/manifests"
    head = httpx.head(f"{url}/{EXERCISE_00_TAG}", headers={"Accept": _MANIFEST_TYPES})
    if head.status_code == 200:
        digest = head.headers["Docker-Content-Digest"]
        assert httpx.delete(f"{url}/{digest}").status_code == 202
    assert EXERCISE_00_TAG not in lab.registry.tags(EXERCISE_00_REPOSITORY)


def push_from_a(lab: Lab, source: str = "lab/busybox") -> None:
    lab.host_a.docker("tag", source, target(lab))
    lab.host_a.docker("push", target(lab))


def skopeo_inspect(lab: Lab, *options: str) -> dict[str, Any]:
    """``skopeo inspect`` of the exercise's image: the oracle for what the registry holds."""
    argv = ["skopeo", "inspect", *options, "--tls-verify=false", f"docker://{target(lab)}"]
    data: dict[str, Any] = json.loads(
        subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout
    )
    return data


def text(verdict: Verdict) -> str:
    return str(verdict)


def test_verdict_shows_itself_in_french() -> None:
    good = Verdict.from_steps("Exercice test", [Step(True, "Fait.")])
    bad = Verdict.from_steps(
        "Exercice test", [Step(True, "Fait."), Step(False, "Manque.", "docker push x")]
    )
    assert good.ok and bool(good)
    assert str(good).splitlines() == ["✔ Exercice test : réussi, bravo !", "  ✔ Fait."]
    assert not bad.ok and not bool(bad)
    assert str(bad).splitlines() == [
        "✘ Exercice test : pas encore, 1 point à reprendre.",
        "  ✔ Fait.",
        "  ✘ Manque.",
        "    Piste : docker push x",
    ]
    assert repr(bad) == str(bad)
    assert "#1e8449" in good._repr_html_() and "✔" in good._repr_html_()
    assert "#c0392b" in bad._repr_html_() and "✘" in bad._repr_html_()
    assert "Piste : docker push x" in bad._repr_html_()


def test_a_lab_that_does_not_run_gives_a_verdict_not_an_error(tmp_path: Path) -> None:
    verdict = check_00(Lab(home=tmp_path / "jamais-demarre", port=free_port()))
    assert not verdict.ok
    assert "ne répond pas" in text(verdict)
    assert "Lab.up()" in text(verdict)
    assert "python -m registry_lab up" in text(verdict)


@pytest.mark.integration
def test_nothing_done_names_the_push_and_the_pull(lab: Lab) -> None:
    forget_answer(lab)
    verdict = check_00(lab)
    assert not verdict.ok
    out = text(verdict)
    assert "2 points à reprendre" in out
    assert f"aucun dépôt {EXERCISE_00_REPOSITORY}" in out
    assert f"docker tag lab/busybox {target(lab)} puis docker push {target(lab)}" in out
    assert f"L'hôte B n'a pas l'image {target(lab)}" in out
    assert f"docker pull {target(lab)}" in out
    assert "✔" not in out


@pytest.mark.integration
def test_tagged_on_a_but_not_pushed(lab: Lab) -> None:
    forget_answer(lab)
    lab.host_a.docker("tag", "lab/busybox", target(lab))
    out = text(check_00(lab))
    assert f"l'hôte A a bien le nom {target(lab)}, il reste à le pousser" in out


@pytest.mark.integration
def test_pushed_but_not_pulled_names_the_pull(lab: Lab) -> None:
    forget_answer(lab)
    push_from_a(lab)
    verdict = check_00(lab)
    assert not verdict.ok
    out = text(verdict)
    assert "1 point à reprendre" in out
    assert f"✔ Le registry contient {EXERCISE_00_REPOSITORY}:{EXERCISE_00_TAG}." in out
    assert f"✘ L'hôte B n'a pas l'image {target(lab)}." in out
    assert f"Piste : sur l'hôte B, docker pull {target(lab)}" in out


@pytest.mark.integration
def test_pulled_under_another_name_is_named(lab: Lab) -> None:
    forget_answer(lab)
    push_from_a(lab)
    other = f"localhost:{lab.registry.port}/{EXERCISE_00_REPOSITORY}:{EXERCISE_00_TAG}"
    lab.host_b.docker("pull", other)
    try:
        out = text(check_00(lab))
        assert f"(il a {other} : le nom attendu est {target(lab)})" in out
    finally:
        lab.host_b.docker("image", "rm", other)


@pytest.mark.integration
def test_an_image_loaded_on_b_without_the_registry_is_refused(lab: Lab, tmp_path: Path) -> None:
    forget_answer(lab)
    push_from_a(lab)
    archive = str(tmp_path / "image.tar")
    lab.host_a.docker("save", "--output", archive, target(lab))
    lab.host_b.docker("load", "--input", archive)
    verdict = check_00(lab)
    assert not verdict.ok
    assert "n'a pas été tirée du registry" in text(verdict)


@pytest.mark.integration
def test_another_image_under_the_right_name_is_refused(lab: Lab) -> None:
    forget_answer(lab)
    name = "exercice-00-autre"
    lab.host_a.docker("container", "rm", "--force", name, check=False)
    lab.host_a.docker("run", "--name", name, "--network", "none", "lab/busybox", "touch", "/f")
    lab.host_a.docker("commit", name, "lab/autre:1")
    lab.host_a.docker("container", "rm", name)
    push_from_a(lab, source="lab/autre:1")
    lab.host_b.docker("pull", target(lab))
    verdict = check_00(lab)
    assert not verdict.ok
    out = text(verdict)
    assert "2 couches) n'est pas lab/busybox de l'hôte A" in out
    assert "1 couche) ; couches en commun : 1." in out
    assert "Le tag 1.0 du registry désigne une autre image" in out


@pytest.mark.integration
def test_the_right_answer_passes(lab: Lab) -> None:
    forget_answer(lab)
    push_from_a(lab)
    lab.host_b.docker("pull", target(lab))
    verdict = check_00(lab)
    assert verdict.ok, str(verdict)
    out = text(verdict)
    assert out.startswith("✔ Exercice 00 : réussi")
    assert "✘" not in out
    assert "et mêmes couches (1 couche)." in out
    assert "#1e8449" in verdict._repr_html_()

    # The facts behind the ✔, seen by skopeo: the registry's manifest is the one B pulled,
    # and its config is the image id of lab/busybox on hôte A.
    manifest = skopeo_inspect(lab)
    config = skopeo_inspect(lab, "--config")
    image_b = lab.host_b.client.images.get(target(lab))
    repository = f"{lab.registry.address}/{EXERCISE_00_REPOSITORY}"
    assert f"{repository}@{manifest['Digest']}" in image_b.attrs["RepoDigests"]
    assert image_b.id == lab.host_a.client.images.get("lab/busybox").id
    assert config["rootfs"]["diff_ids"] == image_b.attrs["RootFS"]["Layers"]
