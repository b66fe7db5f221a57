"""The lab against real components: two ``dockerd`` and the Distribution registry.

What the course promises a learner, proved on a running lab: ``up`` twice changes nothing,
a crashed component is seen and repaired, an image pushed from hôte A is pulled and run on
hôte B, ``down``/``up`` keeps the registry's data, ``reset`` erases it, ``doctor`` is green.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    assert_nothing_left,
    cli_env,
    discard_lab,
    lab_pids,
    new_home,
    run_cli,
    start_time,
)

from registry_lab import BASE_IMAGE, CommandOutput, DockerHost, Lab, RegistryService
from registry_lab.ports import free_port
from registry_lab.processes import is_alive

pytestmark = pytest.mark.integration

REPOSITORY = "cours/bonjour"


@dataclass(frozen=True)
class Transfer:
    """What one build on A, two pushes, one pull and one run on B printed and left."""

    ref: str
    layers: list[str]
    before_pull: CommandOutput
    first_push: CommandOutput
    second_push: CommandOutput
    pull: CommandOutput
    run: CommandOutput


@pytest.fixture(scope="module")
def transfer(shared_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Transfer:
    """Build ``cours/bonjour:v1`` on A (3 layers), push it twice, pull and run it on B."""
    lab = shared_lab
    context = tmp_path_factory.mktemp("bonjour")
    (context / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nRUN echo bonjour > /message\n")
    ref = f"{lab.registry.address}/{REPOSITORY}:v1"
    lab.host_a.docker("build", "-t", "bonjour:v1", str(context))
    lab.host_a.docker("tag", "bonjour:v1", ref)
    layers = lab.host_a.client.images.get(ref).attrs["RootFS"]["Layers"]
    before = lab.host_b.docker("image", "inspect", ref, check=False)
    first = lab.host_a.docker("push", ref)
    second = lab.host_a.docker("push", ref)
    pull = lab.host_b.docker("pull", ref)
    run = lab.host_b.docker(
        "run", "--rm", "--network", "none", "--pull=never", ref, "cat", "/message"
    )
    return Transfer(ref, layers, before, first, second, pull, run)


def component(lab: Lab, name: str) -> DockerHost | RegistryService:
    return {"hôte A": lab.host_a, "hôte B": lab.host_b, "registry": lab.registry}[name]


def wait_dead(pid: int) -> None:
    """Wait (pytest-timeout bounds it) until ``pid`` is gone or a zombie."""
    while is_alive(pid):
        time.sleep(0.01)


# -- up ----------------------------------------------------------------------------------------
def test_lab_is_running(shared_lab: Lab) -> None:
    status = shared_lab.status()
    assert status.running, status
    assert [c.name for c in status.components] == ["hôte A", "registry", "hôte B"]
    assert BASE_IMAGE in status["hôte A"].contents
    assert status["registry"].address == f"http://127.0.0.1:{shared_lab.registry.port}"
    assert shared_lab.registry.port != 5000
    result = run_cli("status", home=shared_lab.home, port=shared_lab.registry.port)
    assert result.returncode == 0, result.output
    assert "Le labo est en marche." in result.stdout


def test_up_twice_is_a_no_op(shared_lab: Lab) -> None:
    before = lab_pids(shared_lab)
    assert None not in before.values()
    started = {name: start_time(pid) for name, pid in before.items() if pid}

    Lab(shared_lab.home, shared_lab.registry.port).start()
    result = run_cli("up", home=shared_lab.home, port=shared_lab.registry.port)

    assert result.returncode == 0, result.output
    again = Lab(shared_lab.home, shared_lab.registry.port)
    assert lab_pids(again) == before
    assert {name: start_time(pid) for name, pid in before.items() if pid} == started
    assert again.running


def test_doctor_is_green_on_this_machine(shared_lab: Lab) -> None:
    report = shared_lab.doctor()
    assert report.ok, report
    names = [check.name for check in report.checks]
    for expected in ("droits root", "programme dockerd", "programme docker-registry"):
        assert expected in names
    assert "noyau : overlayfs" in names
    assert "espace disque" in names
    port = next(c for c in report.checks if c.name.startswith("port "))
    assert f"pid {shared_lab.registry.pid}" in port.detail
    result = run_cli("doctor", home=shared_lab.home, port=shared_lab.registry.port)
    assert result.returncode == 0, result.output
    assert "Tout est prêt" in result.stdout
    assert "✘" not in result.stdout


# -- push on A, pull on B ----------------------------------------------------------------------
def test_host_b_does_not_have_the_image_before_the_pull(transfer: Transfer) -> None:
    assert transfer.before_pull.returncode != 0
    assert "No such image" in transfer.before_pull.output


def test_push_on_a_sends_every_layer_once(shared_lab: Lab, transfer: Transfer) -> None:
    assert len(transfer.layers) == 2  # busybox with its links, then the message
    pushed = re.findall(r"^\w+: Pushed$", transfer.first_push.output, re.MULTILINE)
    assert len(pushed) == len(transfer.layers), transfer.first_push.output
    again = re.findall(r"^\w+: Layer already exists$", transfer.second_push.output, re.MULTILINE)
    assert len(again) == len(transfer.layers), transfer.second_push.output
    assert "Pushed" not in transfer.second_push.output
    assert REPOSITORY in shared_lab.registry.repositories()
    assert shared_lab.registry.tags(REPOSITORY) == ["v1"]


def test_pull_on_b_then_run(shared_lab: Lab, transfer: Transfer) -> None:
    complete = re.findall(r"^\w+: Pull complete$", transfer.pull.output, re.MULTILINE)
    assert len(complete) == len(transfer.layers), transfer.pull.output
    assert transfer.run.output.strip() == "bonjour"
    assert transfer.ref in shared_lab.host_b.image_tags()
    image_b = shared_lab.host_b.client.images.get(transfer.ref)
    assert image_b.attrs["RootFS"]["Layers"] == transfer.layers


def test_registry_agrees_with_skopeo(shared_lab: Lab, transfer: Transfer) -> None:
    """An oracle nobody here wrote: skopeo reads the same manifest digest as hôte B."""
    completed = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{transfer.ref}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen = json.loads(completed.stdout)
    repo_digests = shared_lab.host_b.client.images.get(transfer.ref).attrs["RepoDigests"]
    assert f"{shared_lab.registry.address}/{REPOSITORY}@{seen['Digest']}" in repo_digests
    assert f"digest: {seen['Digest']}" in transfer.first_push.output
    assert len(seen["Layers"]) == len(transfer.layers)


# -- crashes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["hôte A", "hôte B", "registry"])
def test_kill_9_is_seen_then_repaired(shared_lab: Lab, transfer: Transfer, name: str) -> None:
    lab = shared_lab
    part = component(lab, name)
    before = lab_pids(lab)
    victim = before[name]
    assert victim is not None

    os.kill(victim, signal.SIGKILL)
    wait_dead(victim)

    status = lab.status()
    assert status[name].state == "arrêté anormalement"
    assert not status[name].running
    assert not status.running
    assert name in status.summary
    others = [c for c in status.components if c.name != name]
    assert all(c.running for c in others), status
    result = run_cli("status", home=lab.home, port=lab.registry.port)
    assert result.returncode == 3, result.output
    assert "arrêté anormalement" in result.stdout
    assert "Traceback" not in result.output

    lab.start()

    after = lab_pids(lab)
    assert after[name] is not None
    assert after[name] != victim
    assert part.healthy
    assert {k: v for k, v in after.items() if k != name} == {
        k: v for k, v in before.items() if k != name
    }
    assert lab.status().running
    assert {BASE_IMAGE, transfer.ref} <= set(lab.host_a.image_tags())
    assert transfer.ref in lab.host_b.image_tags()
    assert lab.registry.tags(REPOSITORY) == ["v1"]


# -- down, up, reset ---------------------------------------------------------------------------
def test_down_stops_everything_and_up_keeps_the_registry(
    shared_lab: Lab, transfer: Transfer
) -> None:
    lab = shared_lab
    repositories = lab.registry.repositories()
    assert REPOSITORY in repositories

    result = run_cli("down", home=lab.home, port=lab.registry.port)

    assert result.returncode == 0, result.output
    assert_nothing_left(lab.home)
    status = lab.status()
    assert [c.state for c in status.components] == ["arrêté"] * 3
    stopped = run_cli("status", home=lab.home, port=lab.registry.port)
    assert stopped.returncode == 3, stopped.output
    lab.down()  # a second down is harmless
    assert_nothing_left(lab.home)

    lab.start()

    assert lab.registry.repositories() == repositories
    assert lab.registry.tags(REPOSITORY) == ["v1"]
    assert transfer.ref in lab.host_b.image_tags()
    assert lab.status().running


def test_reset_without_a_terminal_refuses_and_erases_nothing(
    shared_lab: Lab, transfer: Transfer
) -> None:
    lab = shared_lab
    before = lab_pids(lab)

    result = run_cli("reset", home=lab.home, port=lab.registry.port)

    assert result.returncode == 2, result.output
    assert "--yes" in result.stderr
    assert "relancez" in result.stderr
    assert "Traceback" not in result.output
    assert lab.home.is_dir()
    assert lab_pids(lab) == before
    assert REPOSITORY in lab.registry.repositories()


def run_cli_on_a_terminal(answer: str, *args: str, home: Path, port: int) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, and type ``answer`` into it."""
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry_lab", "--home", str(home), "--port", str(port), *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            text=True,
            cwd="/tmp",
        )
        os.close(slave)
        slave = -1
        os.write(master, answer.encode())
        output, _ = process.communicate(timeout=120)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    return process.returncode, output


@pytest.fixture
def own_lab() -> Iterator[Lab]:
    """A lab of its own, for a test that erases it."""
    home = new_home()
    lab = Lab.up(home, free_port())
    yield lab
    discard_lab(home, lab.registry.port)


def test_reset_erases_the_registry_and_the_state_folder(own_lab: Lab) -> None:
    lab = own_lab
    ref = f"{lab.registry.address}/lab/busybox:latest"
    lab.host_a.docker("tag", BASE_IMAGE, ref)
    lab.host_a.docker("push", ref)
    assert lab.registry.repositories() == ["lab/busybox"]

    lab.reset()

    assert not lab.home.exists()
    assert_nothing_left(lab.home)
    lab.start()
    assert lab.registry.repositories() == []
    assert lab.host_b.image_tags() == []
    assert lab.host_a.image_tags() == [BASE_IMAGE]


def test_reset_on_a_terminal_asks_first(own_lab: Lab) -> None:
    lab = own_lab
    before = lab_pids(lab)

    code, output = run_cli_on_a_terminal("n\n", "reset", home=lab.home, port=lab.registry.port)

    assert code == 1, output
    assert "[o/N]" in output
    assert "Rien n'a été effacé." in output
    assert lab.home.is_dir()
    assert lab_pids(lab) == before

    code, output = run_cli_on_a_terminal("o\n", "reset", home=lab.home, port=lab.registry.port)

    assert code == 0, output
    assert "remis à zéro" in output
    assert not lab.home.exists()
    assert_nothing_left(lab.home)
