"""The package's public surface: one flat, sorted ``__all__`` that lists every public name.

Like httpx's ``tests/test_exported_members.py``: a name imported into ``registry_lab`` without
being exported (or exported without being defined) fails here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import registry_lab

INIT = Path(registry_lab.__file__)
INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def names_bound_in_init() -> set[str]:
    """Every name ``registry_lab/__init__.py`` imports or assigns at module level."""
    names: set[str] = set()
    for node in ast.parse(INIT.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    names.discard("__all__")
    return names


def test_all_is_sorted() -> None:
    assert registry_lab.__all__ == sorted(registry_lab.__all__)
    assert len(set(registry_lab.__all__)) == len(registry_lab.__all__)


def test_all_imports_are_exported() -> None:
    public = {
        name
        for name in names_bound_in_init()
        if not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS
    }
    assert sorted(public) == registry_lab.__all__


def test_every_public_attribute_is_exported() -> None:
    """What ``vars(registry_lab)`` shows, submodules and ``annotations`` aside."""
    public = sorted(
        name
        for name, value in vars(registry_lab).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not isinstance(value, ModuleType)
        and name != "annotations"
    )
    assert public == registry_lab.__all__


def test_exported_names_exist() -> None:
    for name in registry_lab.__all__:
        assert getattr(registry_lab, name) is not None, name


MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(registry_lab.__path__, "registry_lab.")
    if info.name != "registry_lab.__main__"
)


@pytest.mark.parametrize("module_name", MODULES)
def test_each_module_declares_what_it_exports(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} n'a pas de __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
