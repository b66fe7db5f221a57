"""Unit tests: no daemon, no registry. Tables, French numbers, errors, ports,
processes, the state folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

import registry_lab.errors as errors
from registry_lab import (
    Check,
    ComponentStatus,
    DoctorReport,
    LabStatus,
    MissingBinaryError,
    RegistryLabError,
    StateDirError,
)
from registry_lab.french import format_number, plural
from registry_lab.ports import free_port, port_holder, port_is_free
from registry_lab.processes import (
    find_binary,
    is_alive,
    log_tail,
    pids_mentioning,
    read_pid,
    stop_pid,
)
from registry_lab.state import (
    MAX_SOCKET_PATH,
    load_settings,
    mounts_under,
    prepare_home,
    save_settings,
)
from registry_lab.tables import html_table, text_table


# -- tables ------------------------------------------------------------------------------------
def test_text_table_aligns_accented_cells() -> None:
    decomposed = unicodedata.normalize("NFD", "arrêté anormalement")  # e + U+0302, …
    rows = [
        ["hôte A", "en marche", "lab/busybox:latest"],
        ["registry", decomposed, "—"],
        ["hôte B", "arrêté", "(vide)"],
    ]
    table = text_table(("composant", "état", "contenu"), rows)
    lines = table.splitlines()
    assert len(lines) == 5
    assert decomposed in table  # the cell is kept as given, combining accents included
    shown = [unicodedata.normalize("NFC", line) for line in lines]  # as a terminal shows it
    cells = [("composant", "état", "contenu"), *rows]
    for line, row in zip([shown[0], *shown[2:]], cells, strict=True):
        starts = [line.index(unicodedata.normalize("NFC", cell)) for cell in row]
        assert starts == [0, 11, 32], table
    assert shown[1] == "─" * 9 + "  " + "─" * 19 + "  " + "─" * 18


def test_text_table_multiline_cells_and_no_trailing_spaces() -> None:
    table = text_table(("a", "b", "c"), [["x", "un\ndeux\ntrois", ""], ["é", "", "fin"]])
    lines = table.splitlines()
    assert lines == [
        "a  b      c",
        "─  ─────  ───",
        "x  un",
        "   deux",
        "   trois",
        "é         fin",
    ]
    assert all(line == line.rstrip() for line in lines)


def test_html_table_escapes_and_keeps_line_breaks() -> None:
    html = html_table(("nom",), [["<a>\nb"]], caption="É & co")
    assert "&lt;a&gt;<br>b" in html
    assert "É &amp; co" in html
    assert "<a>" not in html


def test_numbers_and_plurals_in_french() -> None:
    assert format_number(10_000) == "10\u202f000"
    assert format_number(1234.5, 1) == "1\u202f234,5"
    assert [plural(n, "couche") for n in (0, 1, 2)] == ["0 couche", "1 couche", "2 couches"]


def test_system_errors_are_described_in_french() -> None:
    assert errors.describe_os_error(NotADirectoryError(20, "Not a directory")) == (
        "un élément du chemin n'est pas un dossier"
    )
    assert errors.describe_os_error(OSError(5, "Input/output error")) == "Input/output error"


# -- errors ------------------------------------------------------------------------------------
ERROR_CLASSES = [
    member for name in errors.__all__ if isinstance(member := getattr(errors, name), type)
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_prints_its_message_and_hint(cls: type[RegistryLabError]) -> None:
    assert issubclass(cls, RegistryLabError)
    error = cls("Le registry ne répond pas.", "démarrez le labo : python -m registry_lab up")
    assert str(error) == (
        "Le registry ne répond pas.\nPiste : démarrez le labo : python -m registry_lab up"
    )
    assert error.message == "Le registry ne répond pas."
    assert str(cls("Sans piste.")) == "Sans piste."
    assert "Piste" not in str(cls("Sans piste."))
    html = cls("a < b", "c & d")._repr_html_()
    assert "a &lt; b" in html
    assert "<b>Piste :</b> c &amp; d" in html
    assert cls.__name__ in html


def test_every_error_class_is_listed() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, RegistryLabError)
    }
    assert defined == {name for name in errors.__all__ if name[0].isupper()}


def test_error_families() -> None:
    assert issubclass(errors.PortBusyError, errors.LabError)
    assert issubclass(errors.DaemonStartError, errors.DaemonError)
    assert issubclass(errors.RegistryStartError, errors.RegistryError)
    busy = errors.PortBusyError("pris", "autre port", port=5001, holder="nc -l")
    assert (busy.port, busy.holder) == (5001, "nc -l")


def my_command_line() -> str:
    return Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


# -- ports -------------------------------------------------------------------------------------
def test_port_holder_finds_a_socket_this_process_opened() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not port_is_free(port)
        holder = port_holder(port)
        assert holder is not None
        assert holder == (os.getpid(), my_command_line())
    assert port_is_free(port)
    assert port_holder(port) is None


def test_a_bound_but_not_listening_socket_has_no_holder() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        assert not port_is_free(port)
        assert port_holder(port) is None


def test_free_port_is_free() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    assert port_is_free(port)


# -- processes ---------------------------------------------------------------------------------
def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_is_alive_for_live_and_dead_pids() -> None:
    assert is_alive(os.getpid())
    assert is_alive(os.getpid(), my_command_line().split()[0])
    assert not is_alive(os.getpid(), "ce-marqueur-n-existe-pas")
    assert not is_alive(None)
    assert not is_alive(0)
    assert not is_alive(-1)
    child = subprocess.Popen(["true"])
    child.wait()
    assert not is_alive(child.pid)


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def test_is_alive_is_false_for_a_zombie_it_cannot_reap() -> None:
    """A zombie whose parent is not this process: it stays in /proc, and is not alive."""
    parent = subprocess.Popen(["sh", "-c", "sleep 0 & exec sleep 60"])
    try:
        zombie = 0
        while not zombie:
            for child in children_of(parent.pid):
                if process_state(child) == "Z":
                    zombie = child
            time.sleep(0.01)
        assert not is_alive(zombie)
        assert process_state(zombie) == "Z"  # still there: is_alive did not just miss it
        assert is_alive(parent.pid, "sleep 60")
        assert parent.pid in pids_mentioning("sleep 60")
    finally:
        parent.kill()
        parent.wait()


def test_a_child_killed_is_not_alive_even_before_it_is_waited_for() -> None:
    child = subprocess.Popen(["sleep", "60"])
    child.kill()
    while Path(f"/proc/{child.pid}").exists() and process_state(child.pid) != "Z":
        time.sleep(0.01)
    assert not is_alive(child.pid)


def test_stop_pid_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    marker = f"{tmp_path}/tetu"
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('prêt', flush=True); time.sleep(60)"
    )
    stubborn = subprocess.Popen(
        [sys.executable, "-c", code, marker], stdout=subprocess.PIPE, text=True
    )
    try:
        assert stubborn.stdout is not None
        assert stubborn.stdout.readline().strip() == "prêt"
        assert pids_mentioning(marker) == [stubborn.pid]
        stop_pid(stubborn.pid, timeout=0.2)
        assert not is_alive(stubborn.pid)
        assert pids_mentioning(marker) == []
    finally:
        stubborn.kill()
        stubborn.wait()


def test_read_pid_and_log_tail(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    assert read_pid(pidfile) is None
    pidfile.write_text("1234\n")
    assert read_pid(pidfile) == 1234
    pidfile.write_text("pas un pid")
    assert read_pid(pidfile) is None
    assert read_pid(pidfile / "sous-un-fichier") is None
    log = tmp_path / "journal.log"
    assert log_tail(log) == ""
    log.write_text("".join(f"ligne {n}\n" for n in range(30)))
    assert log_tail(log, lines=3) == "ligne 27\nligne 28\nligne 29"


def test_find_binary_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("registry_lab.processes.STANDARD_BIN_DIRS", (str(tmp_path),))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinaryError) as caught:
        find_binary("dockerd")
    error = caught.value
    assert (error.binary, error.package) == ("dockerd", "docker.io")
    assert "Le programme « dockerd » est introuvable" in error.message
    assert "« docker.io »" in error.message
    assert error.hint.startswith("installez-le : apt-get install -y docker.io")
    assert "Piste : installez-le : apt-get install" in str(error)
    with pytest.raises(MissingBinaryError) as registry:
        find_binary("docker-registry")
    assert "apt-get install -y docker-registry" in registry.value.hint


def test_find_binary_off_path_points_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "outil-du-labo"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setattr("registry_lab.processes.STANDARD_BIN_DIRS", (str(tmp_path),))
    monkeypatch.setenv("PATH", "/nulle-part")
    with pytest.raises(MissingBinaryError) as caught:
        find_binary("outil-du-labo")
    assert "absent du PATH" in caught.value.message
    assert f'export PATH="$PATH:{tmp_path}"' in caught.value.hint
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_binary("outil-du-labo") == str(program)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path (pytest's tmp_path is too deep for the lab's sockets)."""
    folder = Path(tempfile.mkdtemp(prefix="rl-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder)


# -- the state folder --------------------------------------------------------------------------
def test_prepare_home_creates_a_writable_folder(short_dir: Path) -> None:
    home = short_dir / "a" / "b"
    prepare_home(home)
    assert home.is_dir()
    assert list(home.iterdir()) == []  # the write probe is gone


def test_prepare_home_refuses_a_folder_under_a_file(short_dir: Path) -> None:
    (short_dir / "fichier").write_text("")
    home = short_dir / "fichier" / "labo"
    with pytest.raises(StateDirError) as caught:
        prepare_home(home)
    assert "n'est pas accessible en écriture" in caught.value.message
    assert "un élément du chemin n'est pas un dossier" in caught.value.message
    assert "--home" in caught.value.hint
    assert "Piste : " in str(caught.value)


def test_prepare_home_refuses_socket_paths_that_are_too_long(short_dir: Path) -> None:
    deepest = "/hote-a/exec/containerd/containerd.sock.ttrpc"
    longest = short_dir / ("x" * (MAX_SOCKET_PATH - len(deepest) - len(str(short_dir)) - 1))
    assert len(f"{longest}{deepest}") == MAX_SOCKET_PATH == 107
    too_long = Path(f"{longest}y")
    with pytest.raises(StateDirError) as caught:
        prepare_home(too_long)
    assert "trop profond" in caught.value.message
    assert str(too_long) in caught.value.message
    assert not too_long.exists()
    prepare_home(longest)  # one byte shorter: accepted
    assert longest.is_dir()


def test_settings_round_trip_and_garbage(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == {}
    save_settings(tmp_path, {"port": 5123})
    assert load_settings(tmp_path) == {"port": 5123}
    (tmp_path / "lab.json").write_text("{pas du json")
    assert load_settings(tmp_path) == {}
    assert load_settings(tmp_path / "absent") == {}


def test_mounts_under() -> None:
    assert mounts_under(Path("/proc"))[-1] == "/proc"
    assert mounts_under(Path("/un/dossier/sans/montage")) == []


# -- what status and doctor print --------------------------------------------------------------
def component(name: str, state: str) -> ComponentStatus:
    return ComponentStatus(name, f"adresse-{name}", 42, state, "v1", ["x:1", "y:2"])


def test_lab_status_table_and_summary() -> None:
    status = LabStatus(
        "/tmp/labo",
        (
            component("hôte A", "en marche"),
            component("registry", "arrêté anormalement"),
            component("hôte B", "arrêté"),
        ),
    )
    assert not status.running
    assert status["registry"].state == "arrêté anormalement"
    with pytest.raises(KeyError):
        status["hôte C"]
    assert status.summary == (
        "Le labo n'est pas entièrement en marche : registry, hôte B à (re)démarrer."
    )
    text = str(status)
    assert "x:1" in text and "y:2" in text
    assert text.endswith("Dossier d'état : /tmp/labo")
    assert status["hôte B"].row()[-1] == "—"
    running = LabStatus("/tmp/labo", (component("hôte A", "en marche"),))
    assert running.running
    assert running.summary == "Le labo est en marche."


def test_doctor_report() -> None:
    good = Check("droits root", True, "root (uid 0)", "sudo -i")
    bad = Check("port 5000 (registry)", False, "pris", "python -m registry_lab up --port 5001")
    assert good.row() == ["✔", "droits root", "root (uid 0)", ""]
    assert bad.row()[0] == "✘"
    report = DoctorReport((good, bad))
    assert not report.ok
    assert report.failures == [bad]
    assert "1 problème(s)" in report.summary
    assert "--port 5001" in str(report)
    assert DoctorReport((good,)).ok
