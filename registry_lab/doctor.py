"""``doctor``: every prerequisite of the lab checked, with the command that fixes each."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .errors import MissingBinaryError, RegistryLabError
from .images import static_busybox
from .ports import port_holder, port_is_free
from .processes import BINARY_PACKAGES, find_binary
from .services import RegistryService
from .state import prepare_home
from .tables import html_table, text_table

__all__ = ["MIN_FREE_BYTES", "Check", "DoctorReport", "diagnose"]

#: Free disk space the lab wants in its state folder's file system.
MIN_FREE_BYTES = 2 * 1024**3

_HEADERS = ("", "vérification", "résultat", "pour corriger")


@dataclass(frozen=True)
class Check:
    """One prerequisite: its name, whether it holds, what was seen, and the fix."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def row(self) -> list[str]:
        return ["✔" if self.ok else "✘", self.name, self.detail, "" if self.ok else self.fix]


@dataclass(frozen=True)
class DoctorReport:
    """Every check; a notebook cell ending with it shows a table."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def summary(self) -> str:
        if self.ok:
            return "Tout est prêt : python -m registry_lab up démarre le labo."
        return f"{len(self.failures)} problème(s) à corriger avant de démarrer le labo."

    def __str__(self) -> str:
        return f"{text_table(_HEADERS, [c.row() for c in self.checks])}\n\n{self.summary}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = html_table(_HEADERS, [c.row() for c in self.checks], caption="Diagnostic du labo")
        return f"{table}<p>{escape(self.summary)}</p>"


def _check_root() -> Check:
    if os.geteuid() == 0:
        return Check("droits root", True, "root (uid 0)")
    return Check(
        "droits root", False, f"uid {os.geteuid()} : dockerd ne peut pas démarrer", "sudo -i"
    )


def _check_binary(name: str) -> Check:
    try:
        path = find_binary(name)
        if name == "busybox":
            path = f"{static_busybox()} (statique)"
    except MissingBinaryError as exc:
        return Check(f"programme {name}", False, exc.message, exc.hint)
    return Check(f"programme {name}", True, path)


def _check_overlay() -> Check:
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError:
        filesystems = ""
    if "\toverlay\n" in filesystems:
        return Check("noyau : overlayfs", True, "overlay disponible (pilote overlay2)")
    return Check(
        "noyau : overlayfs",
        False,
        "le noyau ne déclare pas le système de fichiers overlay",
        "modprobe overlay",
    )


def _check_port(port: int, own_pid: int | None) -> Check:
    name = f"port {port} (registry)"
    if own_pid is not None:
        return Check(name, True, f"déjà utilisé par le registry du labo (pid {own_pid})")
    if port_is_free(port):
        return Check(name, True, "libre sur 127.0.0.1")
    holder = port_holder(port)
    who = f"« {holder[1]} » (pid {holder[0]})" if holder else "un autre programme"
    return Check(name, False, f"pris par {who}", f"python -m registry_lab up --port {port + 1}")


def _check_home(home: Path) -> Check:
    try:
        prepare_home(home, create=False)
    except RegistryLabError as exc:
        return Check("dossier d'état", False, exc.message, exc.hint)
    return Check("dossier d'état", True, f"{home} (accessible en écriture)")


def _check_disk(home: Path) -> Check:
    existing = home
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    detail = f"{free / 1024**3:.1f} Gio libres".replace(".", ",")
    if free >= MIN_FREE_BYTES:
        return Check("espace disque", True, detail)
    return Check(
        "espace disque",
        False,
        f"{detail}, il en faut au moins {MIN_FREE_BYTES / 1024**3:.0f}",
        "libérez de la place, ou export REGISTRY_LAB_HOME=/un/disque/plus/grand",
    )


def diagnose(home: Path, registry: RegistryService) -> DoctorReport:
    """Run every check for a lab whose state folder is ``home``."""
    checks = [_check_root()]
    checks += [_check_binary(name) for name in BINARY_PACKAGES]
    checks += [
        _check_overlay(),
        _check_home(home),
        _check_disk(home),
        _check_port(registry.port, registry.pid),
    ]
    return DoctorReport(tuple(checks))
