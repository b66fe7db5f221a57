"""Shared helpers and fixtures: each lab gets its own short state folder and a free port.

The labs of these tests never use port 5000 nor the default state folder, so they run beside
a learner's lab (or ``make test``'s) without touching it. Every lab is reset at teardown, and
the teardown proves that nothing of it is left: no process, no mount.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry_lab import Lab
from registry_lab.netns import network_leftovers
from registry_lab.ports import free_port
from registry_lab.processes import pids_mentioning
from registry_lab.state import mounts_under


def new_home() -> Path:
    """A fresh, short state folder (unix socket paths stay far below 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix="rl-", dir="/tmp"))


def leftovers(home: Path) -> tuple[list[int], list[str]]:
    """Live processes whose command line names ``home`` (zombies excluded), and its mounts."""
    return pids_mentioning(str(home)), mounts_under(home)


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return f"(pid {pid} terminé)"


def assert_nothing_left(home: Path) -> None:
    pids, mounts = leftovers(home)
    assert pids == [], f"processus du labo encore en vie : {[command(pid) for pid in pids]}"
    assert mounts == [], f"montages restés sous {home} : {mounts}"
    network = network_leftovers(home)
    assert network == [], f"réseau du labo resté (espace de noms, veth) : {network}"


def discard_lab(home: Path, port: int | None = None) -> None:
    """Reset the lab of ``home``, check nothing of it survived, and remove the folder."""
    try:
        Lab(home, port or free_port()).reset()
        assert_nothing_left(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def own_lab() -> Iterator[Lab]:
    """A running lab of its own (fresh state folder, free port), discarded and checked after."""
    home = new_home()
    lab = Lab.up(home, free_port())
    try:
        yield lab
    finally:
        discard_lab(home, lab.registry.port)


def start_time(pid: int) -> int:
    """Field 22 of ``/proc/<pid>/stat``: when the process started (clock ticks since boot)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[19])


def lab_pids(lab: Lab) -> dict[str, int | None]:
    return {"hôte A": lab.host_a.pid, "hôte B": lab.host_b.pid, "registry": lab.registry.pid}


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: never the learner's REGISTRY_LAB_HOME/PORT."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_LAB_")}
    env.update(extra)
    return env


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    *args: str,
    home: Path | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    stdin: int | None = subprocess.DEVNULL,
    timeout: float = 120,
) -> CliResult:
    """``python -m registry_lab [--home H] [--port P] ARGS`` in a child process."""
    argv = [*prefix, sys.executable, "-m", "registry_lab"]
    if home is not None:
        argv += ["--home", str(home)]
    if port is not None:
        argv += ["--port", str(port)]
    completed = subprocess.run(
        [*argv, *args],
        env=env if env is not None else cli_env(),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/tmp",
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def assert_french_error(result: CliResult, *words: str) -> None:
    """The CLI failed the way a person can read: exit 2, « Erreur : » and « Piste : »."""
    assert "Traceback" not in result.output, result.output
    assert result.returncode == 2, result.output
    assert "Erreur : " in result.stderr, result.stderr
    assert "Piste : " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, f"« {word} » absent de :\n{result.stderr}"


@pytest.fixture(scope="session")
def shared_lab() -> Iterator[Lab]:
    """One running lab for the whole session (a start costs about a second)."""
    home = new_home()
    lab = Lab.up(home, free_port())
    try:
        yield lab
    finally:
        discard_lab(home, lab.registry.port)
        assert not home.exists()


@pytest.fixture
def scratch_home() -> Iterator[Path]:
    """A fresh state folder for a test of its own, cleaned (and checked) afterwards."""
    home = new_home()
    yield home
    discard_lab(home)
