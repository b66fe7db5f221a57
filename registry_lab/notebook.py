"""In a notebook, a lab error shows its French message and hint, not a Python traceback."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from .errors import RegistryLabError

__all__ = ["install_error_display"]


def _show_lab_error(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    lines = [f"{etype.__name__} : {value}"]
    if isinstance(value, RegistryLabError):
        lines = [f"\x1b[31mErreur\x1b[0m : {value.message}"]
        if value.hint:
            lines.append(f"\x1b[32mPiste\x1b[0m : {value.hint}")
    shell._showtraceback(etype, value, lines)
    return lines


def install_error_display() -> bool:
    """In IPython/Jupyter, show `RegistryLabError`s as two French lines; True if installed."""
    if "IPython" not in sys.modules:  # not in IPython: nothing to install, nothing to import
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((RegistryLabError,), _show_lab_error)
    return True
