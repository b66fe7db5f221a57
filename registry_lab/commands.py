"""Running a real ``docker …`` command against one lab host, and showing what it printed."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .errors import DockerCommandError
from .processes import find_binary

__all__ = ["CommandOutput", "run_docker"]


def _quote(word: str) -> str:
    """Quote a word as a person would: ``"Bonjour depuis l'hôte A"`` rather than shlex's."""
    quoted = shlex.quote(word)
    if quoted != word and "'" in word and not any(char in word for char in '"$`\\!'):
        return f'"{word}"'
    return quoted


@dataclass(frozen=True)
class CommandOutput:
    """What one ``docker`` command printed; a notebook cell ending with it shows a terminal."""

    host: str
    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def command(self) -> str:
        """The command as a learner would type it."""
        return " ".join(_quote(word) for word in ("docker", *self.args))

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()

    def __str__(self) -> str:
        return self.output

    def __repr__(self) -> str:
        return f"[{self.host}] $ {self.command}\n{self.output}".rstrip()

    def _repr_html_(self) -> str:
        color = "#2c3e50" if self.ok else "#7b241c"
        return (
            f'<div style="font-family:monospace;background:{color};color:#ecf0f1;'
            'padding:6px 10px;border-radius:4px;white-space:pre-wrap">'
            f'<span style="color:#f1c40f">[{escape(self.host)}] $ {escape(self.command)}</span>\n'
            f"{escape(self.output.rstrip())}</div>"
        )


def run_docker(
    host_label: str,
    socket: Path,
    config_dir: Path,
    args: tuple[str, ...],
    *,
    check: bool = True,
    timeout: float = 300.0,
    stdin: str | None = None,
) -> CommandOutput:
    """Run ``docker *args`` against the daemon listening on ``socket``.

    ``stdin`` is written to the command's standard input (``docker login --password-stdin``):
    a secret given that way never appears in the command line nor in its output.
    """
    env = dict(os.environ)
    env.update(
        DOCKER_HOST=f"unix://{socket}",
        DOCKER_CONFIG=str(config_dir),
        DOCKER_CLI_HINTS="false",
        DOCKER_BUILDKIT="0",
    )
    env.pop("DOCKER_CONTEXT", None)
    completed = subprocess.run(
        [find_binary("docker"), *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    result = CommandOutput(host_label, tuple(args), completed.returncode, completed.stdout)
    if check and not result.ok:
        raise DockerCommandError(
            f"La commande « {result.command} » a échoué sur {host_label} "
            f"(code {result.returncode}) :\n{result.output.rstrip()}",
            "lisez le message de docker ci-dessus ; « python -m registry_lab status » "
            "montre l'état du labo.",
            returncode=result.returncode,
            output=result.output,
        )
    return result
