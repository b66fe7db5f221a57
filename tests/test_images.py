"""The lab's offline images: built from the repo's Dockerfiles, never pulled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_lab import BASE_IMAGE, Lab
from registry_lab.images import (
    REGISTRY_IMAGE,
    ensure_base_image,
    ensure_registry_image,
    is_static_elf,
    shared_libraries,
)
from registry_lab.ports import free_port
from registry_lab.probe import http_status


def test_the_busybox_of_busybox_static_needs_no_loader() -> None:
    assert is_static_elf(Path("/bin/busybox"))
    assert not is_static_elf(Path("/usr/bin/docker-registry"))


def test_the_registry_program_needs_only_libc_and_its_loader() -> None:
    names = sorted(path.name for path in shared_libraries(Path("/usr/bin/docker-registry")))
    assert names == ["ld-linux-x86-64.so.2", "libc.so.6"]


@pytest.mark.integration
def test_the_base_image_is_scratch_plus_busybox(shared_lab: Lab) -> None:
    image_id = ensure_base_image(shared_lab.host_a)
    image = shared_lab.host_a.client.images.get(BASE_IMAGE)
    assert image.id == image_id
    assert len(image.attrs["RootFS"]["Layers"]) == 1
    run = shared_lab.host_a.docker("run", "--rm", "--network", "none", BASE_IMAGE, "ls", "/bin")
    assert "busybox" in run.lines and "sh" in run.lines


@pytest.fixture
def registry_container(shared_lab: Lab) -> Iterator[int]:
    """The lab's registry image running as a container on hôte A, on a free loopback port."""
    port = free_port()
    host = shared_lab.host_a
    ensure_registry_image(host)
    name = f"registre-{port}"
    host.docker(
        "run", "-d", "--name", name, "--network", "host",
        "-e", f"REGISTRY_HTTP_ADDR=127.0.0.1:{port}", REGISTRY_IMAGE,
    )  # fmt: skip
    try:
        yield port
    finally:
        host.docker("rm", "-f", "-v", name)


@pytest.mark.integration
def test_the_registry_runs_as_a_container_and_takes_a_push(
    shared_lab: Lab, registry_container: int
) -> None:
    port = registry_container
    deadline = time.monotonic() + 10
    while http_status("/v2/", port=port) != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert http_status("/v2/", port=port) == 200

    image = shared_lab.host_a.client.images.get(REGISTRY_IMAGE)
    assert image.attrs["Config"]["Entrypoint"] == ["/bin/registry"]
    assert image.attrs["Config"]["Cmd"] == ["serve", "/etc/docker/registry/config.yml"]

    ensure_base_image(shared_lab.host_a)
    target = f"127.0.0.1:{port}/conteneur/busybox:1"
    shared_lab.host_a.docker("tag", BASE_IMAGE, target)
    push = shared_lab.host_a.docker("push", target)
    assert "digest: sha256:" in push.output
    shared_lab.host_a.docker("rmi", target)


@pytest.mark.integration
def test_the_base_layer_has_the_same_digest_on_both_hosts(shared_lab: Lab) -> None:
    layers = []
    for host in shared_lab.hosts:
        ensure_base_image(host)
        layers.append(host.client.images.get(BASE_IMAGE).attrs["RootFS"]["Layers"])
    assert layers[0] == layers[1]
    assert len(layers[0]) == 1
