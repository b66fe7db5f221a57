"""environment.yml follows pyproject.toml, and the README stays true to the repo.

- conda and pip list the same packages with the same minimum versions (explicit name map);
- the README starts with ``make lab`` and ``make test``, links every notebook on disk, and
  every ``python -m registry_lab …`` / ``make …`` command it shows exists.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from registry_lab.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
NOTEBOOKS = ROOT / "notebooks"

#: PyPI name (normalised) → conda-forge name. A package missing here fails the test on purpose:
#: add it with its conda-forge name.
PYPI_TO_CONDA = {
    "docker": "docker-py",
    "graphviz": "python-graphviz",
    "httpx": "httpx",
    "ipykernel": "ipykernel",
    "ipywidgets": "ipywidgets",
    "jupyterlab": "jupyterlab",
    "bcrypt": "bcrypt",
    "cryptography": "cryptography",
    "hypothesis": "hypothesis",
    "mypy": "mypy",
    "nbval": "nbval",
    "playwright": "playwright",
    "pyjwt": "pyjwt",
    "pytest": "pytest",
    "pytest-timeout": "pytest-timeout",
    "ruff": "ruff",
}

#: Section comments of environment.yml's ``dependencies`` that mirror pyproject.toml.
RUNTIME_MARK = "[project].dependencies"
DEV_MARK = "[project.optional-dependencies].dev"

#: conda packages with no PyPI counterpart: ``python`` (checked against requires-python),
#: Graphviz's ``dot`` program, and ``pip`` (to install registry_lab itself).
CONDA_ONLY = {"python", "graphviz", "pip"}

_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:>=\s*(?P<version>[0-9][\w.]*))?$")


def normalise(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``name>=1.2`` → ``("name", "1.2")``; ``name`` → ``("name", None)``; anything else fails."""
    match = _SPEC.match(spec.strip())
    assert match, f"spécification non gérée par ce test (seul « nom>=version » l'est) : {spec!r}"
    return normalise(match["name"]), match["version"]


def pin_map(specs: list[str], rename: dict[str, str] | None = None) -> dict[str, str | None]:
    pins: dict[str, str | None] = {}
    for spec in specs:
        name, version = parse_spec(spec)
        if rename is not None:
            assert name in rename, f"{name} : ajoutez son nom conda-forge à PYPI_TO_CONDA"
            name = rename[name]
        assert name not in pins, f"{name} apparaît deux fois"
        pins[name] = version
    return pins


# -- a tiny parser for environment.yml's simple YAML ------------------------------------------


@dataclass
class CondaEnvironment:
    name: str = ""
    channels: list[str] = field(default_factory=list)
    #: section comment (the last ``# …`` line above the item) → the specs under it
    sections: dict[str, list[str]] = field(default_factory=dict)
    pip: list[str] = field(default_factory=list)

    @property
    def dependencies(self) -> list[str]:
        return [spec for specs in self.sections.values() for spec in specs]


def parse_environment(text: str) -> CondaEnvironment:
    """Parse the subset of YAML environment.yml uses: top-level keys, lists, one ``pip:`` list."""
    env = CondaEnvironment()
    key = ""
    section = ""
    in_pip, pip_indent = False, 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped:
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if stripped.startswith("#"):
            if key == "dependencies" and indent > 0:
                section, in_pip = stripped.lstrip("#").strip(), False
            continue
        value = re.sub(r"\s+#.*$", "", stripped)
        if indent == 0:
            assert ":" in value, f"ligne {number} : « clé: valeur » attendu, lu {raw!r}"
            key, _, rest = value.partition(":")
            key, rest = key.strip(), rest.strip()
            if key == "name":
                env.name = rest
            else:
                assert not rest, f"ligne {number} : liste attendue sous {key!r}"
            continue
        assert value.startswith("- "), f"ligne {number} : élément de liste attendu, lu {raw!r}"
        item = value[2:].strip()
        if key == "channels":
            env.channels.append(item)
        elif key == "dependencies" and in_pip and indent > pip_indent:
            env.pip.append(item)
        elif key == "dependencies" and item == "pip:":
            in_pip, pip_indent = True, indent
        elif key == "dependencies":
            in_pip = False
            env.sections.setdefault(section, []).append(item)
        else:
            raise AssertionError(f"ligne {number} : clé inattendue {key!r}")
    return env


def test_parser_reads_the_subset_we_use() -> None:
    env = parse_environment(
        "name: x\nchannels:\n  - conda-forge\ndependencies:\n  # A\n  - a>=1\n"
        "  # B\n  - b  # commentaire\n  - pip\n  - pip:\n      - -e .\n"
    )
    assert env.name == "x"
    assert env.channels == ["conda-forge"]
    assert env.sections == {"A": ["a>=1"], "B": ["b", "pip"]}
    assert env.pip == ["-e ."]


# -- environment.yml ↔ pyproject.toml ---------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return data


@pytest.fixture(scope="module")
def conda() -> CondaEnvironment:
    return parse_environment(ENVIRONMENT.read_text(encoding="utf-8"))


def _section(conda: CondaEnvironment, mark: str) -> list[str]:
    found = [specs for title, specs in conda.sections.items() if mark in title]
    assert len(found) == 1, f"environment.yml : il faut une section « # … {mark} »"
    return found[0]


def test_conda_forge_only(conda: CondaEnvironment) -> None:
    assert conda.name == "registry-lab"
    assert conda.channels == ["conda-forge"]


def test_runtime_dependencies_match(project: dict[str, Any], conda: CondaEnvironment) -> None:
    expected = pin_map(project["dependencies"], PYPI_TO_CONDA)
    assert pin_map(_section(conda, RUNTIME_MARK)) == expected


def test_dev_dependencies_match(project: dict[str, Any], conda: CondaEnvironment) -> None:
    extras: dict[str, list[str]] = project["optional-dependencies"]
    expected = pin_map(extras["dev"], PYPI_TO_CONDA)
    assert pin_map(_section(conda, DEV_MARK)) == expected


def test_every_conda_package_is_accounted_for(
    project: dict[str, Any], conda: CondaEnvironment
) -> None:
    pins = pin_map(conda.dependencies)
    mirrored = set(pin_map(_section(conda, RUNTIME_MARK)) | pin_map(_section(conda, DEV_MARK)))
    assert set(pins) - mirrored == CONDA_ONLY
    python = f"{project['requires-python']}".removeprefix(">=")
    assert pins["python"] == python, "python>=… doit suivre requires-python"
    assert pins["graphviz"] is None and pins["pip"] is None


def test_pip_installs_only_the_package_itself(conda: CondaEnvironment) -> None:
    assert conda.pip == ["-e ."], "les dépendances viennent de conda-forge, pas de pip"


def test_name_map_covers_no_stale_package(project: dict[str, Any]) -> None:
    extras: dict[str, list[str]] = project["optional-dependencies"]
    declared = {parse_spec(spec)[0] for spec in [*project["dependencies"], *extras["dev"]]}
    assert set(PYPI_TO_CONDA) == declared


# -- README -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def _table_notebooks(readme: str) -> dict[str, str]:
    """Notebook file names in the README's tables → the table row that names them."""
    rows = {}
    for line in readme.splitlines():
        if line.startswith("|"):
            for name in re.findall(r"\b(\d\d_\w+\.ipynb)\b", line):
                rows[name] = line
    return rows


def test_readme_starts_with_the_two_commands(readme: str) -> None:
    head = "\n".join(readme.splitlines()[:30])
    assert "make lab" in head
    assert "make test" in head
    assert head.index("make lab") < head.index("make test")


def test_readme_lists_the_whole_course(readme: str) -> None:
    assert len(_table_notebooks(readme)) >= 9


def test_existing_notebooks_are_linked(readme: str) -> None:
    for name, row in _table_notebooks(readme).items():
        if (NOTEBOOKS / name).exists():
            assert f"](notebooks/{name})" in row, f"{name} existe : le README doit le lier"
            assert "à venir" not in row, f"{name} existe : il n'est plus « à venir »"


def test_every_notebook_on_disk_is_in_the_readme(readme: str) -> None:
    listed = _table_notebooks(readme)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert path.name in listed, f"{path.name} manque au tableau du cours du README"


def test_readme_figures_exist(readme: str) -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert "imgs/topologie-du-labo.svg" in images
    for image in images:
        assert (ROOT / image).is_file(), image


def _code(readme: str) -> list[str]:
    """Every line of fenced code blocks, and every one-line inline code span."""
    lines: list[str] = []
    fenced = False
    for line in readme.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            lines.append(line)
        else:
            lines.extend(re.findall(r"`([^`]+)`", line))
    return lines


def test_readme_cli_commands_parse(readme: str) -> None:
    commands = []
    for line in _code(readme):
        for match in re.finditer(r"python -m registry_lab\b([^#]*)", line):
            args = match[1].rstrip(" \\")
            if "…" in args or "|" in args:
                continue
            commands.append(shlex.split(args))
    assert len(commands) >= 6
    for args in commands:
        try:
            build_parser().parse_args(args)
        except SystemExit:
            pytest.fail(f"le README montre une commande invalide : python -m registry_lab {args}")


def test_readme_make_targets_exist(readme: str) -> None:
    targets: set[str] = set()
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z][\w .-]*):(?!=)", line)
        if match:
            targets.update(match[1].split())
    used = {m for line in _code(readme) for m in re.findall(r"\bmake ([a-z][\w-]*)", line)}
    assert {"lab", "test"} <= used
    assert used <= targets, f"cibles absentes du Makefile : {sorted(used - targets)}"
