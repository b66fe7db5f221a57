"""The HTTP conversation of a push or a pull, read from the real registry's log.

Unit tests parse log lines as Distribution writes them; the integration tests push and pull on
a lab of this module's own and check the transcript against the images' layer lists: one
upload per new layer, none for the layers the registry already had.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import own_lab

from registry_lab import Lab
from registry_lab.examples import build_example
from registry_lab.manifests import ImageManifest
from registry_lab.registry_log import Transcript, listen, parse_log
from registry_lab.transfers import pull, push

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
PREFIX = '127.0.0.1 - - [03/Dec/2026:15:59:24 +0000] "'
DOCKER = "docker/20.10.24 go/go1.19.8"


def line(request: str, status: int, agent: str = DOCKER) -> str:
    """A line of the registry's log as Distribution writes it (combined log format)."""
    return f'{PREFIX}{request} HTTP/1.1" {status} 0 "" "{agent}"'


LOG = "\n".join(
    [
        'time="2026-12-03T15:59:24Z" level=info msg="response completed" http.request.method=GET',
        line("GET /v2/", 200),
        line(f"HEAD /v2/lab/app/blobs/{D1}", 200),
        line(f"HEAD /v2/lab/app/blobs/{D2}", 404),
        line("POST /v2/lab/app/blobs/uploads/", 202),
        line("PATCH /v2/lab/app/blobs/uploads/u-1?_state=x", 202),
        line(f"PUT /v2/lab/app/blobs/uploads/u-1?_state=y&digest={D2}", 201),
        line("PUT /v2/lab/app/manifests/1.0", 201),
        line("GET /v2/_catalog", 200, "registry_lab/0.1.0"),
    ]
)


def test_parse_log_keeps_the_request_lines_only() -> None:
    requests = parse_log(LOG)
    assert [r.method for r in requests] == [
        "GET",
        "HEAD",
        "HEAD",
        "POST",
        "PATCH",
        "PUT",
        "PUT",
        "GET",
    ]
    assert requests[2].status == 404 and requests[2].blob == D2
    assert requests[5].query["digest"] == D2


def test_transcript_names_and_comments() -> None:
    requests = tuple(r for r in parse_log(LOG) if r.agent.startswith("docker/"))
    transcript = Transcript(requests, {D1: "couche 1", D2: "couche 2"})
    assert transcript.uploads == [D2]
    assert transcript.checked == [D1, D2]
    assert transcript.upload_sessions == 1
    text = str(transcript)
    assert "PATCH /v2/lab/app/blobs/uploads/…" in text
    assert "?digest=<couche 2>" in text
    assert "Envoi des octets de la couche 2" in text
    assert "La couche 1 : déjà dans le dépôt ? Oui" in text
    assert "Le manifeste, en dernier" in text
    assert "_state" not in text and "u-1" not in text
    assert "<table>" in transcript._repr_html_()
    # Grouped by step: the ping, the HEADs, the upload (POST, PATCH, PUT), the manifest.
    methods = [row[0].split()[0] for row in transcript.rows()]
    assert methods == ["GET", "HEAD", "HEAD", "POST", "PATCH", "PUT", "PUT"]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with own_lab() as lab:
        build_example(lab.host_a, "bonjour-v2")
        yield lab


def blobs(lab: Lab, repository: str, tag: str) -> tuple[str, list[str]]:
    manifest = lab.registry.client.manifest(repository, tag)
    assert isinstance(manifest, ImageManifest)
    return manifest.config.digest, [layer.digest for layer in manifest.layers]


def test_push_uploads_each_new_layer_once_and_nothing_else(lab: Lab) -> None:
    with listen(lab.registry) as first:
        push(lab.host_a, lab.registry, "cours/bonjour:1.0", progress=False)
    config1, layers1 = blobs(lab, "cours/bonjour", "1.0")
    assert sorted(first.transcript.uploads) == sorted([config1, *layers1])

    with listen(lab.registry) as second:
        push(lab.host_a, lab.registry, "cours/bonjour:2.0", progress=False)
    config2, layers2 = blobs(lab, "cours/bonjour", "2.0")
    new = [layer for layer in layers2 if layer not in layers1]
    assert len(new) == 1
    uploads = second.transcript.uploads
    assert sorted(uploads) == sorted([config2, *new])  # one upload per new layer (and config)
    assert not set(uploads) & set(layers1)  # none for the layers the registry had
    assert set(layers2) <= set(second.transcript.checked)  # a HEAD on each blob
    assert second.transcript.upload_sessions == len(uploads)
    puts = [r for r in second.transcript.requests if r.method == "PUT" and "/manifests/" in r.path]
    assert [r.path for r in puts] == ["/v2/cours/bonjour/manifests/2.0"]
    assert puts[0].status == 201
    assert all(r.agent.startswith("docker/") for r in second.transcript.requests)

    named = second.name_blobs("cours/bonjour:2.0")
    assert "<couche 3>" in str(named) and "La couche 1 : déjà dans le dépôt ? Oui" in str(named)

    with listen(lab.registry) as third:
        push(lab.host_a, lab.registry, "cours/bonjour:2.0", progress=False)
    assert third.transcript.uploads == [] and third.transcript.upload_sessions == 0


def test_pull_downloads_only_what_b_lacks(lab: Lab) -> None:
    push(lab.host_a, lab.registry, "cours/bonjour:2.0", progress=False)
    config2, layers2 = blobs(lab, "cours/bonjour", "2.0")
    with listen(lab.registry) as conversation:
        pull(lab.host_b, lab.registry, "cours/bonjour:2.0", progress=False)
    transcript = conversation.transcript
    assert sorted(transcript.downloads) == sorted([config2, *layers2])
    assert any(r.method == "GET" and "/manifests/" in r.path for r in transcript.requests)
    assert transcript.uploads == []
    with listen(lab.registry) as again:
        pull(lab.host_b, lab.registry, "cours/bonjour:2.0", progress=False)
    assert again.transcript.downloads == []
