"""Push and pull through the lab's daemons: the course's claims, asserted on a real lab.

One lab of this module's own (two dockerd, one Distribution): hôte B lacks the image before
the pull; v2 of the app pushed after v1 sends only the layers v1 does not have (compared with
the images' layer lists); a pull by digest stays pinned when the tag moves; errors are French.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from conftest import discard_lab, new_home, own_lab

from registry_lab import Lab
from registry_lab.errors import (
    DaemonDownError,
    DaemonError,
    ManifestUnknownError,
    NameUnknownError,
    RegistryDownError,
)
from registry_lab.examples import build_example
from registry_lab.ports import free_port
from registry_lab.transfers import TextProgress, TransferReport, pull, push

V1, V2 = "cours/bonjour:1.0", "cours/bonjour:2.0"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        build_example(lab.host_a, "bonjour-v2")
        yield lab


def diff_ids(lab: Lab, reference: str) -> list[str]:
    image = lab.host_a.find_image(reference)
    assert image is not None
    return list(image.attrs["RootFS"]["Layers"])


def test_push_v1_then_pull_on_b(lab: Lab) -> None:
    target = f"{lab.registry.address}/{V1}"
    assert lab.host_b.find_image(target) is None  # B lacks the image before the pull

    stream = io.StringIO()
    sent = push(lab.host_a, lab.registry, V1, progress=TextProgress("push", stream))
    assert sent.reference == target
    assert len(sent.layers) == len(diff_ids(lab, V1)) == 2
    assert all(layer.moved for layer in sent.layers)
    assert sent.bytes_moved == sum(layer.size for layer in sent.layers) > 0
    manifest = lab.registry.client.manifest("cours/bonjour", "1.0")
    assert sent.digest == manifest.digest
    assert [layer.digest for layer in sent.layers] == [d.digest for d in manifest.layers]
    assert "Pushed" in stream.getvalue()

    received = pull(lab.host_b, lab.registry, V1, progress=False)
    assert received.digest == sent.digest
    assert all(layer.moved for layer in received.layers)
    image = lab.host_b.find_image(target)
    assert image is not None
    assert image.attrs["RootFS"]["Layers"] == diff_ids(lab, V1)
    run = lab.host_b.docker("run", "--rm", "--network", "none", target)
    assert "Bonjour" in run.output

    again = push(lab.host_a, lab.registry, V1, progress=False)
    assert again.moved == () and again.bytes_moved == 0
    assert {layer.docker_status for layer in again.layers} == {"Layer already exists"}
    assert again.digest == sent.digest


def test_v2_sends_only_the_layers_v1_lacks(lab: Lab) -> None:
    push(lab.host_a, lab.registry, V1, progress=False)
    v1, v2 = diff_ids(lab, V1), diff_ids(lab, V2)
    new = [layer for layer in v2 if layer not in v1]
    assert len(new) == 1 and v2[: len(v1)] == v1

    report = push(lab.host_a, lab.registry, V2, progress=False)
    manifest = lab.registry.client.manifest("cours/bonjour", "2.0")
    digest_of = dict(zip(v2, (d.digest for d in manifest.layers), strict=True))
    assert [layer.digest for layer in report.moved] == [digest_of[d] for d in new]
    assert [layer.digest for layer in report.present] == [digest_of[d] for d in v1]
    assert report.bytes_moved == sum(layer.size for layer in report.moved)
    assert report.bytes_moved < report.total_size

    pulled = pull(lab.host_b, lab.registry, V2, progress=False)  # B already has v1
    assert len(pulled.moved) == 1 and pulled.moved[0].digest == digest_of[new[0]]


def test_digest_pinning_holds_when_the_tag_moves(lab: Lab) -> None:
    v1 = push(lab.host_a, lab.registry, "cours/bonjour:stable", source=V1, progress=False)
    name = f"{lab.registry.address}/cours/bonjour"
    pinned = pull(lab.host_b, lab.registry, f"cours/bonjour@{v1.digest}", progress=False)
    assert pinned.digest == v1.digest

    v2 = push(lab.host_a, lab.registry, "cours/bonjour:stable", source=V2, progress=False)
    assert v2.digest != v1.digest
    assert lab.registry.client.head_manifest("cours/bonjour", "stable").digest == v2.digest
    again = pull(lab.host_b, lab.registry, f"cours/bonjour@{v1.digest}", progress=False)
    assert again.digest == v1.digest and again.moved == ()
    run = lab.host_b.docker("run", "--rm", "--network", "none", f"{name}@{v1.digest}")
    assert "version 2.0" not in run.output
    pull(lab.host_b, lab.registry, "cours/bonjour:stable", progress=False)
    moved = lab.host_b.docker("run", "--rm", "--network", "none", f"{name}@{v2.digest}")
    assert "version 2.0" in moved.output


def test_report_displays_in_french(lab: Lab) -> None:
    report = push(lab.host_a, lab.registry, V1, progress=False)
    assert isinstance(report, TransferReport)
    text = str(report)
    assert "déjà présente" in text and "couche" in text and report.digest in text
    html = report._repr_html_()
    assert "<table>" in html and "octets transférés" in html
    source = report.graph().source
    assert "docker push" in source and "déjà présente" in source


def test_unknown_repository_and_tag(lab: Lab) -> None:
    with pytest.raises(NameUnknownError) as unknown:
        pull(lab.host_b, lab.registry, "cours/inconnu:1.0", progress=False)
    assert "cours/inconnu" in unknown.value.message and unknown.value.hint
    with pytest.raises(ManifestUnknownError) as missing:
        pull(lab.host_b, lab.registry, "cours/bonjour:9.9", progress=False)
    assert "1.0" in missing.value.hint
    with pytest.raises(DaemonError):
        push(lab.host_a, lab.registry, "cours/absente:1.0", progress=False)


def test_registry_down_then_daemon_down() -> None:
    home = new_home()
    lab = Lab.up(home, free_port())
    try:
        build_example(lab.host_a, "bonjour")
        lab.registry.stop()
        with pytest.raises(RegistryDownError) as down:
            push(lab.host_a, lab.registry, V1, progress=False)
        assert "registry_lab up" in down.value.hint
        lab.host_b.stop()
        with pytest.raises(DaemonDownError):
            pull(lab.host_b, lab.registry, V1, progress=False)
    finally:
        discard_lab(home, lab.registry.port)
