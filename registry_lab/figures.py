"""The facts behind the course's figures, gathered live on a private, fresh lab.

``python -m registry_lab figures`` (or `registry_lab.graph.write_figures`) calls
`gather_facts`: it starts a lab of its own (a new state folder under /tmp, a free port),
builds the reproducible examples ``cours/bonjour`` and ``cours/au-revoir`` on hôte A, runs two
containers, pushes both images, pulls them on hôte B, reads every layer — then erases that
lab. Only reproducible facts reach the figures (diffIDs of ``COPY`` layers dated 1970,
sizes, instructions, names): no image id, no date, no port. Regenerating gives the same bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .examples import EXAMPLES, build_example
from .graph import LayerMove
from .images import BASE_IMAGE
from .layers import ContainerLayer, ImageLayers, container_layer, image_layers, registry_layers
from .ports import free_port

if TYPE_CHECKING:
    from .lab import Lab

__all__ = ["FIGURE_CONTAINERS", "FigureFacts", "gather_facts", "record_facts"]

#: The two containers of the layer figure: name → the shell command each one runs.
FIGURE_CONTAINERS = {
    "bonjour-1": "echo 'visite de bonjour-1' > /srv/bonjour/visites.txt",
    "bonjour-2": "rm /srv/bonjour/LISEZMOI.txt && echo 'modifié par bonjour-2' >> "
    "/srv/bonjour/message.txt",
}


@dataclass(frozen=True)
class FigureFacts:
    """What the course's layer figures show, read on a lab."""

    stack: ImageLayers
    containers: tuple[ContainerLayer, ...]
    images: tuple[ImageLayers, ...]
    holdings: dict[str, tuple[ImageLayers, ...]]
    pull: tuple[LayerMove, ...]
    pulled: str


def _run_containers(lab: Lab, image: str) -> tuple[ContainerLayer, ...]:
    client = lab.host_a.client
    layers = []
    for name, command in FIGURE_CONTAINERS.items():
        for old in client.containers.list(all=True, filters={"name": f"^{name}$"}):
            old.remove(force=True)
        client.containers.run(image, ["sh", "-c", command], name=name, network_mode="none")
        layers.append(container_layer(lab.host_a, name))
    return tuple(layers)


def _held(lab: Lab, host_key: str, names: list[str]) -> tuple[ImageLayers, ...]:
    """The images of one host, named without the registry's address (no port in a figure)."""
    host = lab.host_a if host_key == "a" else lab.host_b
    prefix = f"{lab.registry.address}/"
    return tuple(
        replace(image_layers(host, name), image=name.removeprefix(prefix)) for name in names
    )


def record_facts(lab: Lab) -> FigureFacts:
    """Build, run, push and pull the examples on ``lab`` (expected fresh) and read the layers."""
    bonjour, au_revoir = EXAMPLES["bonjour"], EXAMPLES["au-revoir"]
    for example in (bonjour, au_revoir):
        build_example(lab.host_a, example.folder)
    containers = _run_containers(lab, bonjour.tag)
    on_a = _held(lab, "a", [BASE_IMAGE, bonjour.tag, au_revoir.tag])
    address = lab.registry.address
    for example in (bonjour, au_revoir):
        remote = f"{address}/{example.tag}"
        lab.host_a.docker("tag", example.tag, remote)
        lab.host_a.docker("push", "--quiet", remote)
    lab.host_b.docker("pull", "--quiet", f"{address}/{bonjour.tag}")
    on_b = _held(lab, "b", [f"{address}/{bonjour.tag}"])
    in_registry = tuple(
        registry_layers(lab.registry.client, example.repository, example.version)
        for example in (bonjour, au_revoir)
    )
    # The pull of cours/au-revoir on hôte B: which layers it already has.
    present = {diff_id for image in on_b for diff_id in image.diff_ids}
    lab.host_b.docker("pull", "--quiet", f"{address}/{au_revoir.tag}")
    pulled = _held(lab, "b", [f"{address}/{au_revoir.tag}"])[0]
    moves = tuple(
        LayerMove(
            step.diff_id,
            "present" if step.diff_id in present else "moved",
            step.size,
            step.instruction,
        )
        for step in pulled.layers
    )
    return FigureFacts(
        stack=on_a[1],
        containers=containers,
        images=on_a,
        holdings={"hôte A": on_a, "registry": in_registry, "hôte B": on_b},
        pull=moves,
        pulled=au_revoir.tag,
    )


def gather_facts() -> FigureFacts:
    """`record_facts` on a private lab started for the purpose, then erased."""
    from .lab import Lab

    home = Path(tempfile.mkdtemp(prefix="rl-fig-", dir="/tmp"))
    lab = Lab(home, free_port())
    try:
        lab.start()
        return record_facts(lab)
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)
