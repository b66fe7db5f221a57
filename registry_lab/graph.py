"""Graphviz drawings of the lab and of layers (deterministic: same input, same DOT text).

Every function takes data (a lab status, layers read by `registry_lab.layers`, a list of
layer moves) and returns a `graphviz.Digraph`, shown inline by Jupyter; nodes are named after
digests or names, never after random ids, and drawn in sorted order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import graphviz

from .french import format_size, plural
from .manifests import short_digest
from .status import ComponentStatus, LabStatus

if TYPE_CHECKING:
    from .figures import FigureFacts
    from .layers import ContainerLayer, ImageLayers, LayerStep
    from .storage import StorageTree, SweepPlan

__all__ = [
    "FIGURES",
    "LayerMove",
    "image_stack",
    "lab_layers",
    "layer_dag",
    "mark_and_sweep",
    "render_svg",
    "secure_network",
    "topology",
    "transfer",
    "write_figures",
]

_FONT = "Helvetica"
_MAX_ITEMS = 6
_COLORS = {"hôte A": "#d6eaf8", "registry": "#fdebd0", "hôte B": "#d5f5e3"}


def _items(component: ComponentStatus) -> str:
    if not component.running:
        return f"({component.state})"
    items = component.contents[:_MAX_ITEMS] or ["(vide)"]
    more = len(component.contents) - _MAX_ITEMS
    if more > 0:
        items.append(f"… et {more} autre(s)")
    return "\n".join(items)


def _label(component: ComponentStatus | None, name: str, role: str, address: str) -> str:
    if component is None:
        return f"{name}\n{role}\n{address}"
    return f"{name}\n{role}\n{component.address}\n─────\n{_items(component)}"


def topology(status: LabStatus | None = None) -> graphviz.Digraph:
    """hôte A → registry → hôte B; with a status, each node lists what it holds."""
    graph = graphviz.Digraph("labo", graph_attr={"rankdir": "LR", "fontname": _FONT})
    graph.attr("node", fontname=_FONT, style="filled", fontsize="11")
    graph.attr("edge", fontname=_FONT, fontsize="10")
    parts = {
        "host_a": ("hôte A", "dockerd (data-root à lui)", "unix://…/hote-a/docker.sock", "box3d"),
        "registry": (
            "registry",
            "Distribution (docker-registry)",
            "http://127.0.0.1:5000",
            "cylinder",
        ),
        "host_b": ("hôte B", "dockerd (data-root à lui)", "unix://…/hote-b/docker.sock", "box3d"),
    }
    for node, (name, role, address, shape) in parts.items():
        component = status[name] if status is not None else None
        graph.node(
            node,
            _label(component, name, role, address),
            shape=shape,
            fillcolor=_COLORS[name],
            color="#7b241c" if component is not None and not component.running else "#34495e",
        )
    graph.edge("host_a", "registry", "docker push\n(HTTP API v2)")
    graph.edge("registry", "host_b", "docker pull\n(HTTP API v2)")
    return graph


@dataclass(frozen=True)
class HostAccess:
    """What one host has for the secured registry: the CA in certs.d, an account."""

    label: str
    trusts: bool
    account: str | None


_MODE_LABELS = {
    "http": "HTTP en clair",
    "tls": "HTTPS (autorité du labo)",
    "htpasswd": "HTTPS + comptes htpasswd",
    "token": "HTTPS + jetons signés",
}


def secure_network(
    namespace: str,
    veth: tuple[str, str],
    addresses: tuple[str, str],
    mode: str,
    hosts: Sequence[HostAccess],
) -> graphviz.Digraph:
    """The secured registry in its network namespace, the veth pair, and what each host has."""
    graph = _new_graph("registry_securise", f"Registry sécurisé : {_MODE_LABELS[mode]}", "LR")
    with graph.subgraph(name="cluster_machine") as machine:
        machine.attr(label="machine (espace de noms réseau principal)", style="dashed")
        for index, host in enumerate(hosts):
            trust = "certs.d : autorité du labo ✔" if host.trusts else "certs.d : rien ✘"
            account = f"docker login : {host.account}" if host.account else "docker login : non"
            machine.node(
                f"host{index}",
                f"{host.label}\n{trust}\n{account}",
                shape="box3d",
                fillcolor=_COLORS.get(host.label, "#eaeded"),
            )
        machine.node("veth0", f"{veth[0]}\n{addresses[0]}", shape="cds", fillcolor="#eaeded")
    with graph.subgraph(name="cluster_netns") as inside:
        inside.attr(label=f"espace de noms « {namespace} »", style="rounded", bgcolor="#fbfcfc")
        inside.node("veth1", f"{veth[1]}\n{addresses[1]}", shape="cds", fillcolor="#eaeded")
        inside.node(
            "registry",
            f"registry (Distribution)\n{addresses[1]}:5000\n{_MODE_LABELS[mode]}",
            shape="cylinder",
            fillcolor=_COLORS["registry"],
        )
        inside.edge("veth1", "registry")
        if mode == "token":
            inside.node(
                "tokens",
                f"service de jetons\n{addresses[1]}:5001\n(signe des jetons RS256)",
                shape="note",
                fillcolor="#fcf3cf",
            )
            inside.edge("veth1", "tokens")
            inside.edge("tokens", "registry", "confiance : rootcertbundle", style="dotted")
    for index in range(len(hosts)):
        graph.edge(f"host{index}", "veth0", "https" if mode != "http" else "http")
    graph.edge("veth0", "veth1", "paire veth", dir="both", penwidth="2")
    return graph


def render_svg(graph: graphviz.Digraph) -> str:
    """SVG text of a graph, without Graphviz's version comment (stable across machines)."""
    svg = graph.pipe(format="svg", encoding="utf-8")
    return re.sub(r"<!-- Generated by graphviz version [^>]*-->\n", "", svg)


# -- layers ------------------------------------------------------------------------------------
_READ_ONLY = "#d6eaf8"
_SHARED = "#85c1e9"
_WRITABLE = "#fcf3cf"
_IMAGE = "#e8daef"
_MOVED = "#1e8449"
_PRESENT = "#7f8c8d"
_PALETTE = (
    "#aed6f1", "#a9dfbf", "#f9e79f", "#f5cba7", "#d7bde2",
    "#a3e4d7", "#fadbd8", "#d5dbdb", "#abebc6", "#f6ddcc",
)  # fmt: skip


def _digest_id(prefix: str, digest: str) -> str:
    """A node name from a digest: deterministic, short enough, no random part."""
    return f"{prefix}_{digest.partition(':')[2][:24] or digest}"


def _safe_id(prefix: str, text: str) -> str:
    return f"{prefix}_{re.sub(r'[^0-9A-Za-z]', '_', text)}"


def _size(size: int | None) -> str:
    return format_size(size) if size is not None else "taille inconnue"


def _layer_label(step: LayerStep, *extra: str) -> str:
    lines = [f"couche {step.position} · {short_digest(step.diff_id)} · {_size(step.size)}"]
    lines.append(step.instruction)
    lines.extend(line for line in extra if line)
    return "\n".join(lines)


def _new_graph(name: str, title: str, rankdir: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(
        name,
        graph_attr={
            "rankdir": rankdir,
            "fontname": _FONT,
            "fontsize": "13",
            "label": title,
            "labelloc": "t",
            "nodesep": "0.25",
            "ranksep": "0.3",
        },
    )
    graph.attr("node", fontname=_FONT, fontsize="10", style="filled", shape="box")
    graph.attr("edge", fontname=_FONT, fontsize="9")
    return graph


def image_stack(image: ImageLayers, containers: Sequence[ContainerLayer] = ()) -> graphviz.Digraph:
    """One image's read-only layers, bottom up, with each container's thin writable layer on top.

    Our drawing of Docker's « docker-filesystems-multilayer » figure, from live data.
    """
    empty = len(image.steps) - len(image.layers)
    graph = _new_graph(
        "pile",
        f"{image.image} : {plural(len(image.layers), 'couche')} en lecture seule, "
        f"{plural(len(containers), 'conteneur')}",
        "BT",
    )
    note = f"\n(+ {plural(empty, 'étape')} sans couche : métadonnées)" if empty else ""
    with graph.subgraph(name="cluster_image") as cluster:
        cluster.attr(
            label=f"image {image.image} — couches en lecture seule{note}",
            style="rounded,filled",
            fillcolor="#f4f6f7",
            color="#5d6d7e",
            labelloc="t",
        )
        previous = ""
        for step in image.layers:
            node = f"couche_{step.position}"
            cluster.node(node, _layer_label(step), fillcolor=_READ_ONLY, color="#2e86c1")
            if previous:
                cluster.edge(previous, node, style="invis")
            previous = node
    for container in sorted(containers, key=lambda item: item.name):
        node = _safe_id("conteneur", container.name)
        changes = ", ".join(
            part
            for part in (
                plural(len(container.added), "ajout"),
                plural(len(container.changed), "modification"),
                plural(len(container.removed), "suppression"),
            )
        )
        graph.node(
            node,
            f"conteneur {container.name}\ncouche inscriptible · {format_size(container.size)}"
            f"\n{changes}",
            fillcolor=_WRITABLE,
            color="#b7950b",
            shape="box",
            style="filled,bold",
        )
        if previous:
            graph.edge(previous, node, arrowhead="none", style="dashed", color="#b7950b")
    return graph


def layer_dag(images: Sequence[ImageLayers]) -> graphviz.Digraph:
    """Several images as one graph: a layer they share (same base, same order) is drawn once."""
    chains: dict[str, LayerStep] = {}
    users: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    tops: dict[str, str] = {}
    for image in sorted(images, key=lambda item: item.image):
        previous = ""
        for chain, step in zip(image.chain_ids, image.layers, strict=True):
            chains.setdefault(chain, step)
            users.setdefault(chain, set()).add(image.image)
            if previous:
                parents[chain] = previous
            previous = chain
        tops[image.image] = previous
    shared = sum(len(names) > 1 for names in users.values())
    graph = _new_graph(
        "couches",
        f"{plural(len(tops), 'image')}, {plural(len(chains), 'couche')} distinctes "
        f"dont {shared} partagée{'s' if shared > 1 else ''}",
        "BT",
    )
    order = sorted(chains, key=lambda chain: (chains[chain].position or 0, chain))
    for chain in order:
        count = len(users[chain])
        graph.node(
            _digest_id("c", chain),
            _layer_label(chains[chain], f"partagée par {count} images" if count > 1 else ""),
            fillcolor=_SHARED if count > 1 else _READ_ONLY,
            color="#1b4f72" if count > 1 else "#2e86c1",
            style="filled,bold" if count > 1 else "filled",
        )
    for chain in order:
        if chain in parents:
            graph.edge(_digest_id("c", parents[chain]), _digest_id("c", chain), arrowhead="none")
    for name, top in sorted(tops.items()):
        node = _safe_id("image", name)
        graph.node(node, name, shape="tab", fillcolor=_IMAGE, color="#6c3483")
        if top:
            graph.edge(_digest_id("c", top), node, style="dashed", color="#6c3483")
    return graph


def _place_shape(place: str) -> str:
    return "cylinder" if "registry" in place else "box3d"


def _html(text: str) -> str:
    return escape(text, quote=True)


def lab_layers(holdings: Mapping[str, Sequence[ImageLayers]]) -> graphviz.Digraph:
    """The lab's places (hôte A, registry, hôte B) and the layers each one holds.

    A layer has the same colour everywhere it is: the same diffID, the same content.
    """
    colours: dict[str, str] = {}
    for place in holdings:
        for image in sorted(holdings[place], key=lambda item: item.image):
            for diff_id in image.diff_ids:
                colours.setdefault(diff_id, _PALETTE[len(colours) % len(_PALETTE)])
    graph = _new_graph("labo_couches", "Les couches présentes à chaque endroit du labo", "LR")
    graph.attr("node", shape="plaintext", style="")
    for place, images in holdings.items():
        layers: dict[str, tuple[LayerStep, list[str]]] = {}
        for image in sorted(images, key=lambda item: item.image):
            for step in image.layers:
                layers.setdefault(step.diff_id, (step, []))[1].append(image.image)
        rows = []
        for diff_id, (step, names) in layers.items():
            size = (
                format_size(step.size)
                if step.size is not None
                else f"{_size(step.compressed_size)} compressée"
            )
            rows.append(
                f'<TR><TD BGCOLOR="{colours[diff_id]}" ALIGN="LEFT">'
                f"{_html(short_digest(diff_id))}</TD>"
                f'<TD ALIGN="RIGHT">{_html(size)}</TD>'
                f'<TD ALIGN="LEFT">{_html(", ".join(names))}</TD></TR>'
            )
        if not rows:
            rows.append('<TR><TD COLSPAN="3">(aucune couche)</TD></TR>')
        fill = _COLORS.get(place, "#eaeded")
        label = (
            '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" '
            f'BGCOLOR="{fill}" COLOR="#34495e">'
            f'<TR><TD COLSPAN="3"><B>{_html(place)}</B> — '
            f"{_html(plural(len(layers), 'couche'))}</TD></TR>"
            '<TR><TD ALIGN="LEFT"><I>diffID</I></TD><TD ALIGN="RIGHT"><I>taille</I></TD>'
            '<TD ALIGN="LEFT"><I>images</I></TD></TR>' + "".join(rows) + "</TABLE>>"
        )
        graph.node(_safe_id("lieu", place), label)
    places = list(holdings)
    for left, right in itertools.pairwise(places):
        verb = "docker pull" if "registry" in left else "docker push"
        graph.edge(_safe_id("lieu", left), _safe_id("lieu", right), verb)
    return graph


# -- transfers -----------------------------------------------------------------------------------
_STATUS_LABELS = {
    "moved": "transférée",
    "present": "déjà présente",
    "mounted": "montée depuis un autre dépôt",
}


@dataclass(frozen=True)
class LayerMove:
    """One layer of a push or a pull: whether it moved or was already at the destination.

    ``status`` is ``"moved"`` (sent), ``"present"`` (already there) or ``"mounted"`` (the
    registry linked it from another repository: nothing sent).
    """

    digest: str
    status: str
    size: int | None = None
    instruction: str = ""

    @classmethod
    def from_docker(
        cls, digest: str, docker_status: str, size: int | None = None, instruction: str = ""
    ) -> LayerMove:
        """From the status Docker prints for a layer (``Pushed``, ``Layer already exists``…)."""
        text = docker_status.lower()
        if "exists" in text:
            status = "present"
        elif text.startswith("mounted"):
            status = "mounted"
        else:
            status = "moved"
        return cls(digest, status, size, instruction)

    @property
    def moved(self) -> bool:
        return self.status == "moved"

    @property
    def label(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)


def transfer(
    moves: Sequence[LayerMove],
    *,
    source: str,
    destination: str,
    image: str,
    command: str = "",
) -> graphviz.Digraph:
    """A push or a pull: the layers that moved, and those the destination already had."""
    moved = [move for move in moves if move.moved]
    sizes = [move.size for move in moved]
    bytes_moved = (
        f" ({format_size(sum(s or 0 for s in sizes))})" if moved and None not in sizes else ""
    )
    counts = [f"{plural(len(moved), 'couche')} transférée{'s' if len(moved) > 1 else ''}"]
    counts[0] += bytes_moved
    for status in ("present", "mounted"):
        count = sum(move.status == status for move in moves)
        if count:
            label = _STATUS_LABELS[status].split(" ", 1)
            label[-1 if status == "present" else 0] += "s" if count > 1 else ""
            counts.append(f"{count} {' '.join(label)}")
    title = f"{command or 'transfert'} {image} : {', '.join(counts)}"
    graph = _new_graph("transfert", title, "LR")
    for node, place in (("source", source), ("destination", destination)):
        graph.node(
            node,
            place,
            shape=_place_shape(place),
            fillcolor=_COLORS.get(place, "#eaeded"),
            color="#34495e",
            fontsize="12",
        )
    for number, move in enumerate(moves, 1):
        node = f"couche_{number}"
        lines = [f"{short_digest(move.digest)} · {_size(move.size)}"]
        if move.instruction:
            lines.append(move.instruction)
        lines.append(move.label)
        colour = _MOVED if move.moved else _PRESENT
        graph.node(
            node,
            "\n".join(lines),
            fillcolor="#d5f5e3" if move.moved else "#eaeded",
            color=colour,
            style="filled,bold" if move.moved else "filled,dashed",
        )
        if move.moved:
            graph.edge("source", node, color=colour, penwidth="2")
            graph.edge(node, "destination", color=colour, penwidth="2")
        else:
            graph.edge("source", node, style="invis")
            graph.edge(node, "destination", color=colour, style="dashed", arrowhead="none")
    return graph


# -- the course's figures (imgs/) ----------------------------------------------------------------
def _stack_figure(facts: FigureFacts) -> graphviz.Digraph:
    return image_stack(facts.stack, facts.containers)


def _dag_figure(facts: FigureFacts) -> graphviz.Digraph:
    return layer_dag(facts.images)


def _lab_figure(facts: FigureFacts) -> graphviz.Digraph:
    return lab_layers(facts.holdings)


def _pull_figure(facts: FigureFacts) -> graphviz.Digraph:
    return transfer(
        facts.pull,
        source="registry",
        destination="hôte B",
        image=facts.pulled,
        command="docker pull",
    )


#: The figures of ``imgs/``: file name → the function that draws it from the course's facts
#: (`registry_lab.figures.FigureFacts`, gathered on a private lab; the topology needs none).
FIGURES: dict[str, Callable[[FigureFacts], graphviz.Digraph]] = {
    "topologie-du-labo.svg": lambda facts: topology(),
    "couches-image-et-conteneurs.svg": _stack_figure,
    "couches-partagees.svg": _dag_figure,
    "couches-dans-le-labo.svg": _lab_figure,
    "couches-pull.svg": _pull_figure,
}


def write_figures(folder: Path, facts: FigureFacts | None = None) -> list[Path]:
    """(Re)generate every figure of the course in ``folder``; return the files written.

    Without ``facts``, they are gathered on a private lab started for the purpose (its own
    state folder under /tmp, a free port) and erased afterwards: the learner's lab is never
    touched, and the same example images always give the same bytes.
    """
    if facts is None:
        from .figures import gather_facts

        facts = gather_facts()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in sorted(FIGURES.items()):
        path = folder / name
        path.write_text(render_svg(draw(facts)))
        written.append(path)
    return written


_KEPT = "#a9dfbf"
_SWEPT = "#f5b7b1"


def _dot(text: str) -> str:
    """A DOT string: quoted, with its quotes and backslashes escaped, newlines as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_line(node: str, target: str | None = None, **attrs: str) -> str:
    """One DOT statement (a node, or an edge with ``target``), written directly: with thousands
    of nodes, this is much faster than the graphviz package's quoting."""
    head = f"{node} -> {target}" if target else node
    if not attrs:
        return f"\t{head}\n"
    body = " ".join(f"{key}={_dot(value)}" for key, value in attrs.items())
    return f"\t{head} [{body}]\n"


def mark_and_sweep(
    tree: StorageTree, plan: SweepPlan, repositories: Sequence[str] | None = None
) -> graphviz.Digraph:
    """Tags → manifests → blobs across repositories, each blob marked kept or swept.

    Drawn from the storage tree and `registry_lab.storage.plan_sweep`'s prediction, before the
    garbage collector runs: green is marked (kept), red is what the sweep will free; a deleted
    manifest (its revision folder without link) is dashed. With ``repositories``, only those
    repositories and their blobs are drawn.
    """
    wanted = None if repositories is None else set(repositories)
    graph = _new_graph(
        "marquage_et_balayage",
        "Marquage et balayage : vert = gardé, rouge = libéré par le ramasse-miettes",
        "LR",
    )
    lines: list[str] = []
    edges: list[str] = []
    blobs: set[str] = set()
    for repo in tree.repositories:
        if wanted is not None and repo.name not in wanted:
            continue
        lines.append(f"\tsubgraph {_safe_id('cluster', repo.name)} {{\n")
        lines.append(f'\t\tlabel={_dot("dépôt " + repo.name)} style=rounded color="#7f8c8d"\n')
        untagged = set(repo.untagged)
        for tag, digest in sorted(repo.tags.items()):
            node = _safe_id("tag", f"{repo.name}:{tag}")
            lines.append(
                _dot_line(node, label=f"{repo.name}:{tag}", shape="cds", fillcolor="#d6eaf8")
            )
            edges.append(_dot_line(node, _digest_id("m", digest)))
        for digest in repo.revisions:
            label = f"manifeste\n{short_digest(digest)}" + ("\n(sans tag)" * (digest in untagged))
            color = _KEPT if digest in plan.marked else _SWEPT
            node = _digest_id("m", digest)
            lines.append(_dot_line(node, label=label, shape="note", fillcolor=color))
            for ref in tree.references(digest):
                blobs.add(ref)
                edges.append(_dot_line(node, _digest_id("b", ref)))
        for digest in repo.deleted:
            node = _digest_id("m", digest)
            label = f"manifeste supprimé\n{short_digest(digest)}"
            lines.append(
                _dot_line(node, label=label, shape="note", style="dashed", color="#c0392b")
            )
            edges.append(_dot_line(node, _digest_id("b", digest), style="dotted"))
            blobs.add(digest)
        blobs.update(repo.layers)
        lines.append("\t}\n")
    for digest in sorted(blobs):
        size = tree.blobs.get(digest)
        if size is None:
            continue
        kept = digest in plan.marked
        fate = "gardé" if kept else "libéré"
        lines.append(
            _dot_line(
                _digest_id("b", digest),
                label=f"blob {short_digest(digest)}\n{_size(size)}\n{fate}",
                shape="box3d" if kept else "box",
                fillcolor=_KEPT if kept else _SWEPT,
            )
        )
    graph.body.extend(lines)
    graph.body.extend(edges)
    return graph
