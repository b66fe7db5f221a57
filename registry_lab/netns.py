"""The lab's own little network: a network namespace joined to the machine by a veth pair.

Docker treats every registry on 127.0.0.0/8 as « insecure » and never checks its TLS there, so
the secured registry listens at an address of its own, inside a network namespace that the lab
creates (and `remove` deletes):

```
 machine (hôte A, hôte B)                 namespace « registry-lab-xxxxxx »
 rlabxxxxxx  198.18.N.1/30  ── veth ──    rlabxxxxxxr  198.18.N.2/30  (registry, jetons)
```

The addresses come from 198.18.0.0/15, a block reserved for network tests (RFC 2544) that is
never routed on the Internet; the lab picks a /30 that nothing on the machine uses yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .errors import NetworkSetupError
from .processes import find_binary, is_alive

__all__ = ["LAB_RANGE", "LabNetwork", "lab_namespaces", "network_leftovers"]

#: Where the lab takes its addresses: RFC 2544's benchmarking block, never routed outside.
LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
#: Every namespace and veth the lab creates starts with these (``down`` and tests look for them).
NAMESPACE_PREFIX = "registry-lab-"
VETH_PREFIX = "rlab"
#: Where ``ip netns add`` keeps its namespaces, and where the kernel lists interfaces.
NETNS_DIR = Path("/run/netns")
SYS_NET = Path("/sys/class/net")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [find_binary("ip"), *args], capture_output=True, text=True, check=False, timeout=30
    )
    if check and done.returncode != 0:
        raise NetworkSetupError(
            f"La commande « ip {' '.join(args)} » a échoué : {done.stderr.strip()}",
            "le labo crée son réseau en root (CAP_NET_ADMIN) ; « python -m registry_lab down » "
            "efface un réseau à moitié créé, puis relancez.",
        )
    return done


def _addresses_in_use() -> set[ipaddress.IPv4Network]:
    """The IPv4 networks of every interface of this machine (``ip -4 -o addr``)."""
    used = set()
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        words = line.split()
        if "inet" in words:
            used.add(ipaddress.IPv4Interface(words[words.index("inet") + 1]).network)
    return used


def _key(home: Path) -> str:
    return hashlib.sha256(str(home).encode()).hexdigest()[:6]


def network_leftovers(home: Path) -> list[str]:
    """What remains of the network of the lab in ``home``: its namespace, its veth (if any)."""
    key = _key(home)
    left = [name for name in lab_namespaces() if name == f"{NAMESPACE_PREFIX}{key}"]
    if (SYS_NET / f"{VETH_PREFIX}{key}").exists():
        left.append(f"{VETH_PREFIX}{key}")
    return left


def lab_namespaces() -> list[str]:
    """The network namespaces of every lab on this machine (all homes)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(NAMESPACE_PREFIX))


@dataclass(frozen=True)
class LabNetwork:
    """One lab's namespace, its veth pair and its /30 (two usable addresses)."""

    name: str
    host_side: str
    registry_side: str
    subnet: ipaddress.IPv4Network

    @classmethod
    def for_home(cls, home: Path) -> LabNetwork:
        """The network of the lab in ``home``: chosen once, then kept in ``reseau.json``."""
        saved = home / "reseau.json"
        key = _key(home)
        if saved.exists():
            with contextlib.suppress(ValueError, KeyError, OSError):
                return cls._named(
                    key, ipaddress.IPv4Network(json.loads(saved.read_text())["subnet"])
                )
        blocks = LAB_RANGE.num_addresses // 4
        start = int(key, 16) % blocks
        used = _addresses_in_use()
        for step in range(blocks):
            subnet = ipaddress.IPv4Network(
                (int(LAB_RANGE.network_address) + 4 * ((start + step) % blocks), 30)
            )
            if not any(subnet.overlaps(other) for other in used):
                break
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"subnet": str(subnet)}) + "\n")
        return cls._named(key, subnet)

    @classmethod
    def _named(cls, key: str, subnet: ipaddress.IPv4Network) -> LabNetwork:
        return cls(
            f"{NAMESPACE_PREFIX}{key}", f"{VETH_PREFIX}{key}", f"{VETH_PREFIX}{key}r", subnet
        )

    @property
    def gateway(self) -> str:
        """The machine's end of the veth pair (where the hosts' packets leave from)."""
        return str(self.subnet.network_address + 1)

    @property
    def address(self) -> str:
        """The namespace's end: the address the secured registry listens on."""
        return str(self.subnet.network_address + 2)

    # -- state -------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """True when the namespace and the machine's end of the veth both exist."""
        return (NETNS_DIR / self.name).exists() and self._link_exists()

    def _link_exists(self) -> bool:
        return (SYS_NET / self.host_side).exists()

    def pids(self) -> list[int]:
        """The processes running inside the namespace."""
        if not (NETNS_DIR / self.name).exists():
            return []
        out = _ip("netns", "pids", self.name, check=False).stdout
        return [int(word) for word in out.split() if word.isdigit()]

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self) -> None:
        """Create the namespace and the veth pair, with their addresses (idempotent)."""
        if os.geteuid() != 0:
            raise NetworkSetupError(
                "Créer un espace de noms réseau demande d'être root.",
                "relancez en root : sudo -E python -m registry_lab up.",
            )
        if self.exists:
            return
        self.remove()  # a half-made network from a crash
        prefix = self.subnet.prefixlen
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_side, "type", "veth", "peer", "name", self.registry_side)
        _ip("link", "set", self.registry_side, "netns", self.name)
        _ip("addr", "add", f"{self.gateway}/{prefix}", "dev", self.host_side)
        _ip("link", "set", self.host_side, "up")
        inside = ("netns", "exec", self.name, find_binary("ip"))
        _ip(*inside, "addr", "add", f"{self.address}/{prefix}", "dev", self.registry_side)
        _ip(*inside, "link", "set", self.registry_side, "up")
        _ip(*inside, "link", "set", "lo", "up")

    def remove(self, timeout: float = 10.0) -> None:
        """Stop what still runs inside, then delete the namespace and the veth pair."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while any(is_alive(pid) for pid in self.pids()) and time.monotonic() < deadline:
            time.sleep(0.02)
        if (NETNS_DIR / self.name).exists():
            _ip("netns", "delete", self.name)
        if self._link_exists():
            _ip("link", "delete", self.host_side, check=False)  # gone with the namespace

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace (``ip netns exec NAME …``)."""
        return [find_binary("ip"), "netns", "exec", self.name, *argv]

    # -- display -----------------------------------------------------------------------------
    def __str__(self) -> str:
        return (
            f"Espace de noms réseau « {self.name} » ({'présent' if self.exists else 'absent'})\n"
            f"  côté machine : {self.host_side} {self.gateway}/{self.subnet.prefixlen}\n"
            f"  côté registry : {self.registry_side} {self.address}/{self.subnet.prefixlen}"
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cells = "<tr><th style='text-align:left'>{}</th><td><code>{}</code></td></tr>"
        rows = "".join(
            cells.format(escape(k), escape(v))
            for k, v in (
                ("espace de noms", f"{self.name} ({'présent' if self.exists else 'absent'})"),
                ("côté machine (hôtes A et B)", f"{self.host_side} {self.gateway}"),
                ("côté registry", f"{self.registry_side} {self.address}"),
                ("réseau", f"{self.subnet} (bloc 198.18.0.0/15, réservé aux tests)"),
            )
        )
        return f"<table>{rows}</table>"
