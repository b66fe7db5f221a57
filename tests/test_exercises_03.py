"""Notebook 03's checker, against a real lab of its own (two dockerd, one Distribution).

The lab is put in the state the notebook leaves — ``bibliotheque/bonjour`` 1.0 and 2.0 built on
hôte A and pushed, ``stable`` moved from 1.0 to 2.0 — then each test plays one answer of a
learner (a right one, or a classic mistake) and reads the verdict. The facts behind a ✔ are
cross-checked with skopeo and with hôte A's own view of the image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from registry_lab import Lab, ManifestUnknownError, NameUnknownError
from registry_lab.exercises import (
    EXERCISE_03_REPOSITORY,
    EXERCISE_03_SOURCE_REPOSITORY,
    EXERCISE_03_SOURCE_TAG,
    EXERCISE_03_TAG,
    Verdict,
    check_03,
)
from registry_lab.manifests import ImageManifest, short_digest
from registry_lab.ports import free_port
from registry_lab.registry import RegistryClient

SOURCE = EXERCISE_03_SOURCE_REPOSITORY
TARGET = EXERCISE_03_REPOSITORY

DOCKERFILE = """\
FROM lab/busybox
COPY bonjour.txt /bonjour.txt
CMD ["cat", "/bonjour.txt"]
"""


@dataclass(frozen=True)
class Library:
    """What the notebook puts in the registry: two versions of bonjour and the ``stable`` tag."""

    lab: Lab
    v1: str  # manifest digests
    v2: str

    @property
    def client(self) -> RegistryClient:
        return self.lab.registry.client

    def name(self, repository: str, tag: str) -> str:
        return f"{self.lab.registry.address}/{repository}:{tag}"

    def manifest(self, digest: str) -> ImageManifest:
        manifest = self.client.manifest(SOURCE, digest)
        assert isinstance(manifest, ImageManifest)
        return manifest


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A lab in its own short state folder, on a free port; erased at the end."""
    home = Path(tempfile.mkdtemp(prefix="rl-ex3-", dir="/tmp"))
    lab = Lab.up(home=home, port=free_port())
    try:
        yield lab
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)


def build_bonjour(lab: Lab, version: str) -> str:
    """What the notebook builds: lab/busybox plus one text file dated 1970."""
    name = f"{lab.registry.address}/{SOURCE}:{version}"
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "Dockerfile").write_text(DOCKERFILE)
        (Path(folder) / "bonjour.txt").write_text(f"Bonjour ! Je suis la version {version}.\n")
        for path in Path(folder).iterdir():
            os.utime(path, (0, 0))
        lab.host_a.docker("build", "--quiet", "--tag", name, folder)
    return name


@pytest.fixture(scope="module")
def built(lab: Lab) -> tuple[str, str]:
    return build_bonjour(lab, "1.0"), build_bonjour(lab, "2.0")


@pytest.fixture
def library(lab: Lab, built: tuple[str, str]) -> Library:
    """The registry as the notebook leaves it, before the exercise: no copy yet."""
    v1, v2 = built
    stable = f"{lab.registry.address}/{SOURCE}:{EXERCISE_03_SOURCE_TAG}"
    for name in (v1, v2):
        lab.host_a.docker("push", "--quiet", name)
    for version in (v1, v2):  # stable: 1.0 first, then moved to 2.0
        lab.host_a.docker("tag", version, stable)
        lab.host_a.docker("push", "--quiet", stable)
    client = lab.registry.client
    copied = _head_digest(client, TARGET, EXERCISE_03_TAG)
    if copied is not None:
        client.delete_manifest(TARGET, copied)
    library = Library(
        lab,
        v1=client.head_manifest(SOURCE, "1.0").digest,
        v2=client.head_manifest(SOURCE, "2.0").digest,
    )
    assert client.head_manifest(SOURCE, EXERCISE_03_SOURCE_TAG).digest == library.v2 != library.v1
    return library


def _head_digest(client: RegistryClient, repository: str, tag: str) -> str | None:
    try:
        return client.head_manifest(repository, tag).digest
    except (ManifestUnknownError, NameUnknownError):
        return None


def copy_to_target(library: Library, source: str) -> None:
    library.client.copy(source, f"{TARGET}:{EXERCISE_03_TAG}")


def skopeo_digest(name: str) -> str:
    """The manifest digest skopeo (a client this project did not write) reads for ``name``."""
    argv = ["skopeo", "inspect", "--tls-verify=false", f"docker://{name}"]
    data: dict[str, Any] = json.loads(
        subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout
    )
    return str(data["Digest"])


def text(verdict: Verdict) -> str:
    return str(verdict)


def test_a_lab_that_does_not_run_gives_a_verdict_not_an_error(tmp_path: Path) -> None:
    verdict = check_03(Lab(home=tmp_path / "jamais-demarre", port=free_port()), "sha256:0")
    assert not verdict.ok
    assert "ne répond pas" in text(verdict)
    assert "Lab.up()" in text(verdict)


@pytest.mark.integration
def test_without_the_stable_tag_the_checker_says_where_to_start(library: Library) -> None:
    library.client.delete_manifest(SOURCE, library.v2)  # stable and 2.0 point to it
    verdict = check_03(library.lab, library.v2)
    assert not verdict.ok
    out = text(verdict)
    assert f"Le registry n'a pas {SOURCE}:stable" in out
    assert "« Remplir la bibliothèque »" in out
    assert "1 point à reprendre" in out


@pytest.mark.integration
def test_nothing_done_names_the_lookup_and_the_copy(library: Library) -> None:
    verdict = check_03(library.lab, "")
    assert not verdict.ok
    out = text(verdict)
    assert "2 points à reprendre" in out
    assert "La variable empreinte est vide" in out
    assert f'client.head_manifest("{SOURCE}", "stable").digest' in out
    assert f"Le registry n'a pas {TARGET}:{EXERCISE_03_TAG} : la copie reste à faire." in out
    assert f'client.copy(f"{SOURCE}@{{empreinte}}", "{TARGET}:{EXERCISE_03_TAG}")' in out
    assert "✔" not in out.split("\n", 1)[1]


@pytest.mark.integration
def test_no_digest_passed_asks_for_it(library: Library) -> None:
    out = text(check_03(library.lab))
    assert "Aucune empreinte n'a été donnée à la vérification." in out
    assert "check_03(lab, empreinte)" in out


@pytest.mark.integration
def test_the_config_digest_is_named_as_the_image_id(library: Library) -> None:
    config_digest = library.manifest(library.v2).config.digest
    # The fact the explanation states: the config digest is the image ID docker shows.
    assert library.lab.host_a.client.images.get(library.name(SOURCE, "2.0")).id == config_digest
    out = text(check_03(library.lab, config_digest))
    assert f"{short_digest(config_digest)} n'est pas l'empreinte que désigne {SOURCE}:stable" in out
    assert "configuration de bibliotheque/bonjour:2.0, bibliotheque/bonjour:stable" in out
    assert "l'ID de l'image que docker images affiche" in out


@pytest.mark.integration
def test_a_layer_digest_and_a_diff_id_are_named(library: Library) -> None:
    layer = library.manifest(library.v2).layers[-1].digest
    out = text(check_03(library.lab, layer))
    assert "c'est l'empreinte de la couche n° 2 de bibliotheque/bonjour:2.0" in out

    # The diffID as hôte A knows it (docker inspect: RootFS.Layers), not as the registry has it.
    image = library.lab.host_a.client.images.get(library.name(SOURCE, "2.0"))
    diff_id = image.attrs["RootFS"]["Layers"][-1]
    out = text(check_03(library.lab, diff_id))
    assert "c'est le diff_id de la couche n° 2" in out
    assert "contenu décompressé" in out


@pytest.mark.integration
def test_the_digest_stable_had_before_it_moved(library: Library) -> None:
    out = text(check_03(library.lab, library.v1))
    assert f"c'est l'empreinte du manifeste de {SOURCE}:1.0" in out
    assert "un tag se déplace" in out
    assert f"({short_digest(library.v2)})" in out


@pytest.mark.integration
@pytest.mark.parametrize("answer", ["stable", "sha256:abc", "SHA256:" + "A" * 64])
def test_what_is_not_a_digest_is_said_so(library: Library, answer: str) -> None:
    out = text(check_03(library.lab, answer))
    assert f"« {answer} » n'est pas une empreinte" in out
    assert "64 chiffres hexadécimaux en minuscules" in out


@pytest.mark.integration
def test_an_unknown_digest_is_said_so(library: Library) -> None:
    out = text(check_03(library.lab, "sha256:" + "0" * 64))
    assert f"aucun manifeste, configuration ni couche de {SOURCE} n'a cette empreinte" in out


@pytest.mark.integration
def test_the_copy_of_the_old_version_is_refused(library: Library) -> None:
    copy_to_target(library, f"{SOURCE}:1.0")
    verdict = check_03(library.lab, library.v2)
    assert not verdict.ok
    out = text(verdict)
    assert "1 point à reprendre" in out
    assert f"✔ {short_digest(library.v2)} est bien l'empreinte" in out
    assert (
        f"{TARGET}:{EXERCISE_03_TAG} désigne {short_digest(library.v1)} "
        f"(le manifeste de {SOURCE}:1.0)"
    ) in out
    assert "copiez de nouveau, depuis la bonne empreinte" in out


@pytest.mark.integration
def test_an_image_from_elsewhere_is_refused(library: Library) -> None:
    busybox = library.name("bibliotheque/busybox", "1.0")
    library.lab.host_a.docker("tag", "lab/busybox", busybox)
    library.lab.host_a.docker("push", "--quiet", busybox)
    copy_to_target(library, "bibliotheque/busybox:1.0")
    out = text(check_03(library.lab, library.v2))
    assert f"(une image qui ne vient pas de {SOURCE})" in out


@pytest.mark.integration
def test_a_copy_missing_a_blob_is_refused_then_repaired(library: Library) -> None:
    source = f"{SOURCE}@{library.v2}"
    copy_to_target(library, source)
    layer = library.manifest(library.v2).layers[-1].digest
    library.client.delete_blob(TARGET, layer)  # the blob leaves exercices/bonjour only
    out = text(check_03(library.lab, library.v2))
    assert "a le bon manifeste, mais 1 de ses blobs manquent" in out
    assert short_digest(layer) in out

    copy_to_target(library, source)  # a second copy sends what is missing
    assert check_03(library.lab, library.v2).ok


@pytest.mark.integration
def test_the_right_answer_passes(library: Library) -> None:
    # What the notebook's solution does: the digest from a HEAD, the copy by digest.
    empreinte = library.client.head_manifest(SOURCE, EXERCISE_03_SOURCE_TAG).digest
    report = library.client.copy(f"{SOURCE}@{empreinte}", f"{TARGET}:{EXERCISE_03_TAG}")
    assert report.digest == empreinte
    verdict = check_03(library.lab, empreinte)
    assert verdict.ok, text(verdict)
    out = text(verdict)
    assert out.startswith("✔ Exercice 03 : réussi")
    assert "✘" not in out
    assert f"même empreinte ({short_digest(empreinte)}), et ses 3 blobs" in out
    assert "#1e8449" in verdict._repr_html_()

    # The whole pinned name is accepted too.
    assert check_03(library.lab, f"{library.lab.registry.address}/{SOURCE}@{empreinte}").ok

    # The facts behind the ✔, seen by skopeo: both names lead to one manifest, version 2.0.
    assert skopeo_digest(library.name(TARGET, EXERCISE_03_TAG)) == empreinte
    assert skopeo_digest(library.name(SOURCE, EXERCISE_03_SOURCE_TAG)) == empreinte
    assert skopeo_digest(library.name(SOURCE, "2.0")) == empreinte
