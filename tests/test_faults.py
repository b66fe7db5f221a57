"""Bad input and faults: each one stops ``up`` with a French message and a hint, never a
traceback, and leaves nothing of the lab running behind it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    CliResult,
    assert_french_error,
    assert_nothing_left,
    cli_env,
    run_cli,
)

from registry_lab import (
    DaemonStartError,
    Lab,
    MissingBinaryError,
    NotRootError,
    PortBusyError,
    RegistryStartError,
    StateDirError,
)
from registry_lab.ports import free_port
from registry_lab.state import MAX_SOCKET_PATH

pytestmark = pytest.mark.integration

NOBODY = 65534


def hint_line(result: CliResult) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("Piste : "))


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that this test process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- not root ----------------------------------------------------------------------------------
def test_up_as_a_plain_user_says_root_is_needed(scratch_home: Path) -> None:
    os.chown(scratch_home, NOBODY, NOBODY)
    as_nobody = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")

    result = run_cli(
        "up", home=scratch_home, port=free_port(), prefix=as_nobody, env=cli_env(HOME="/tmp")
    )

    assert_french_error(result, "il faut être root", "dockerd")
    assert "sudo" in hint_line(result)
    assert_nothing_left(scratch_home)
    assert not (scratch_home / "hote-a").exists()


def test_start_checks_root_before_anything(
    scratch_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    with pytest.raises(NotRootError) as caught:
        Lab(scratch_home, free_port()).start()

    assert "root" in caught.value.message
    assert "sudo" in caught.value.hint
    assert list(scratch_home.iterdir()) == []


# -- a missing program -------------------------------------------------------------------------
def test_up_without_dockerd_on_path(scratch_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "vide"
    empty.mkdir()

    result = run_cli("up", home=scratch_home, port=free_port(), env=cli_env(PATH=str(empty)))

    assert_french_error(result, "« dockerd »", "PATH")
    assert "PATH" in hint_line(result)
    assert os.path.dirname(shutil.which("dockerd") or "/usr/sbin/dockerd") in hint_line(result)
    assert_nothing_left(scratch_home)


def test_start_names_the_debian_package_of_a_missing_program(
    scratch_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("registry_lab.processes.STANDARD_BIN_DIRS", (str(tmp_path),))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(MissingBinaryError) as caught:
        Lab(scratch_home, free_port()).start()

    assert caught.value.binary == "dockerd"
    assert caught.value.package == "docker.io"
    assert "« docker.io »" in caught.value.message
    assert "apt-get install -y docker.io" in caught.value.hint
    assert_nothing_left(scratch_home)


# -- a busy port -------------------------------------------------------------------------------
def test_up_on_a_busy_port_names_the_holder(scratch_home: Path, busy_port: int) -> None:
    me = os.getpid()
    my_command = Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()

    with pytest.raises(PortBusyError) as caught:
        Lab(scratch_home, busy_port).start()

    error = caught.value
    assert error.port == busy_port
    assert error.holder == my_command
    assert f"Le port {busy_port} de 127.0.0.1 est déjà pris" in error.message
    assert f"(pid {me})" in error.message
    assert my_command in error.message
    assert f"--port {busy_port + 1}" in error.hint
    assert_nothing_left(scratch_home)

    result = run_cli("up", home=scratch_home, port=busy_port)

    assert_french_error(result, f"port {busy_port}", f"(pid {me})", "déjà pris")
    assert "--port" in hint_line(result)
    assert_nothing_left(scratch_home)


def test_doctor_sees_a_busy_port_and_names_the_fix(scratch_home: Path, busy_port: int) -> None:
    report = Lab(scratch_home, busy_port).doctor()

    assert not report.ok
    [failure] = report.failures
    assert failure.name == f"port {busy_port} (registry)"
    assert f"pid {os.getpid()}" in failure.detail
    assert failure.fix == f"python -m registry_lab up --port {busy_port + 1}"
    assert "1 problème(s)" in report.summary

    result = run_cli("doctor", home=scratch_home, port=busy_port)

    assert result.returncode == 1, result.output
    assert "✘" in result.stdout
    assert f"--port {busy_port + 1}" in result.stdout
    assert "Traceback" not in result.output


# -- a daemon that does not start --------------------------------------------------------------
def test_a_dockerd_that_fails_shows_its_log_and_leaves_nothing(scratch_home: Path) -> None:
    (scratch_home / "hote-a").mkdir()
    (scratch_home / "hote-a" / "data").write_text("un fichier là où dockerd veut un dossier\n")
    port = free_port()

    with pytest.raises(DaemonStartError) as caught:
        Lab(scratch_home, port).start()

    log = (scratch_home / "hote-a" / "dockerd.log").read_text().strip()
    assert log, "dockerd n'a rien écrit dans son journal"
    message = caught.value.message
    assert "Le démon Docker de l'hôte A n'a pas démarré" in message
    assert "Fin de son journal" in message
    assert log.splitlines()[-1] in message
    assert "reset --yes" in caught.value.hint
    assert_nothing_left(scratch_home)

    result = run_cli("up", home=scratch_home, port=port)

    assert_french_error(result, "hôte A", "n'a pas démarré", log.splitlines()[-1])
    assert_nothing_left(scratch_home)


def test_a_registry_folder_that_is_a_file_stops_up_cleanly(scratch_home: Path) -> None:
    (scratch_home / "registry").write_text("un fichier là où le registry veut un dossier\n")
    port = free_port()

    with pytest.raises(RegistryStartError) as caught:
        Lab(scratch_home, port).start()

    assert "Impossible de préparer le dossier du registry" in caught.value.message
    assert "un fichier porte déjà ce nom" in caught.value.message
    assert "reset --yes" in caught.value.hint
    assert_nothing_left(scratch_home)

    result = run_cli("up", home=scratch_home, port=port)

    assert_french_error(result, "dossier du registry", "un fichier porte déjà ce nom")
    assert_nothing_left(scratch_home)


# -- a state folder the lab cannot use ---------------------------------------------------------
@pytest.fixture
def home_under_a_file() -> Iterator[Path]:
    handle, name = tempfile.mkstemp(prefix="rl-", dir="/tmp")
    os.close(handle)
    yield Path(name) / "lab"
    os.unlink(name)


def test_a_state_folder_under_a_file(home_under_a_file: Path) -> None:
    home = home_under_a_file

    with pytest.raises(StateDirError) as caught:
        Lab(home, free_port()).start()

    assert f"Le dossier d'état {home} n'est pas accessible en écriture" in caught.value.message
    assert "REGISTRY_LAB_HOME" in caught.value.hint
    assert "--home" in caught.value.hint

    result = run_cli("up", home=home, port=free_port())

    assert_french_error(result, "dossier d'état", "accessible en écriture")
    assert "--home" in hint_line(result)
    assert_nothing_left(home)


def test_a_state_folder_too_deep_for_unix_sockets(scratch_home: Path) -> None:
    home = scratch_home / ("profond-" * 10)

    with pytest.raises(StateDirError) as caught:
        Lab(home, free_port()).start()

    assert "trop profond" in caught.value.message
    assert f"{MAX_SOCKET_PATH} octets" in caught.value.message
    assert "chemin plus court" in caught.value.hint
    assert not home.exists()

    result = run_cli("up", home=home, port=free_port())

    assert_french_error(result, "trop profond", "sockets unix")
    assert "REGISTRY_LAB_HOME" in hint_line(result)
    assert not home.exists()
    assert_nothing_left(scratch_home)


def test_status_of_a_lab_never_started(scratch_home: Path) -> None:
    home = scratch_home / "jamais"

    result = run_cli("status", home=home, port=free_port())

    assert result.returncode == 3, result.output
    assert result.stdout.count("arrêté") == 3
    assert "à (re)démarrer" in result.stdout
    assert not home.exists()
