"""The layer drawings: deterministic DOT, French labels, shared layers drawn once."""

from __future__ import annotations

import hashlib
import re

import pytest

from registry_lab.graph import (
    LayerMove,
    image_stack,
    lab_layers,
    layer_dag,
    render_svg,
    transfer,
)
from registry_lab.layers import (
    ContainerChange,
    ContainerLayer,
    ImageLayers,
    LayerStep,
    chain_ids,
)


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def image(name: str, *layers: str, sizes: tuple[int, ...] = ()) -> ImageLayers:
    """An image whose layers are named by their content: ``image("a:1", "base", "app")``."""
    steps = [
        LayerStep(
            step=number,
            instruction=f"COPY {content} /",
            created_by=f"/bin/sh -c #(nop) COPY {content} /",
            position=number,
            diff_id=digest(content),
            size=sizes[number - 1] if sizes else 100 * number,
        )
        for number, content in enumerate(layers, 1)
    ]
    steps.append(LayerStep(len(steps) + 1, 'CMD ["sh"]', '/bin/sh -c #(nop)  CMD ["sh"]'))
    return ImageLayers(name, "hôte A", digest(name), tuple(steps))


BASE = image("lab/busybox:latest", "busybox")
BONJOUR = image("cours/bonjour:1.0", "busybox", "bonjour")
AU_REVOIR = image("cours/au-revoir:1.0", "busybox", "au-revoir")


def node_definitions(source: str, node: str) -> int:
    return len(re.findall(rf"^\s*{re.escape(node)} \[", source, flags=re.MULTILINE))


def test_layer_dag_draws_a_shared_layer_once() -> None:
    source = layer_dag([BONJOUR, AU_REVOIR, BASE]).source
    base = "c_" + digest("busybox").split(":")[1][:24]
    assert node_definitions(source, base) == 1
    assert "partagée par 3 images" in source
    assert "3 images, 3 couches distinctes dont 1 partagée" in source
    for name in ("cours/bonjour:1.0", "cours/au-revoir:1.0", "lab/busybox:latest"):
        assert f'label="{name}"' in source


def test_layer_dag_is_deterministic_and_ignores_input_order() -> None:
    first = layer_dag([BONJOUR, AU_REVOIR, BASE]).source
    assert first == layer_dag([BONJOUR, AU_REVOIR, BASE]).source
    assert first == layer_dag([BASE, AU_REVOIR, BONJOUR]).source
    assert "0x" not in first


def test_the_same_diff_id_above_another_base_is_another_layer() -> None:
    """Layers are shared by chain (same base, same order), not by diffID alone."""
    other = image("autre:1", "autre-base", "bonjour")
    source = layer_dag([BONJOUR, other]).source
    assert len(set(chain_ids(BONJOUR.diff_ids)) | set(chain_ids(other.diff_ids))) == 4
    assert source.count("COPY bonjour /") == 2
    assert "dont 0 partagée" in source


def container(name: str, size: int, *changes: tuple[str, str]) -> ContainerLayer:
    return ContainerLayer(
        name=name,
        image="cours/bonjour:1.0",
        host="hôte A",
        state="arrêté",
        changes=tuple(ContainerChange(kind, path) for kind, path in changes),
        size=size,
        virtual_size=size + 300,
    )


def test_image_stack_puts_each_containers_writable_layer_on_top() -> None:
    containers = [
        container("bonjour-2", 20, ("C", "/srv"), ("A", "/srv/visites.txt")),
        container("bonjour-1", 0),
    ]
    graph = image_stack(BONJOUR, containers)
    source = graph.source
    assert "rankdir=BT" in source
    assert "couches en lecture seule" in source
    assert "(+ 1 étape sans couche : métadonnées)" in source
    assert "couche inscriptible · 20 o" in source
    assert "1 ajout, 1 modification, 0 suppression" in source
    # The top layer of the image carries both containers.
    assert "couche_2 -> conteneur_bonjour_1" in source
    assert "couche_2 -> conteneur_bonjour_2" in source
    assert source.index("conteneur_bonjour_1 [") < source.index("conteneur_bonjour_2 [")
    assert source == image_stack(BONJOUR, list(reversed(containers))).source


def test_lab_layers_gives_a_layer_the_same_colour_everywhere() -> None:
    graph = lab_layers({"hôte A": (BONJOUR, AU_REVOIR), "registry": (BONJOUR,), "hôte B": ()})
    source = graph.source
    busybox = digest("busybox")[:19]
    colours = re.findall(rf'BGCOLOR="(#[0-9a-f]+)" ALIGN="LEFT">{re.escape(busybox)}', source)
    assert len(colours) == 2 and len(set(colours)) == 1
    assert "(aucune couche)" in source
    assert "docker push" in source and "docker pull" in source
    assert "hôte A</B> — 3 couches" in source
    assert "cours/au-revoir:1.0, cours/bonjour:1.0" in source  # sorted, a shared layer once


@pytest.mark.parametrize(
    ("docker_status", "status"),
    [
        ("Pushed", "moved"),
        ("Pull complete", "moved"),
        ("Download complete", "moved"),
        ("Layer already exists", "present"),
        ("Already exists", "present"),
        ("Mounted from cours/bonjour", "mounted"),
    ],
)
def test_layer_move_reads_dockers_words(docker_status: str, status: str) -> None:
    assert LayerMove.from_docker("sha256:ab", docker_status).status == status


def test_transfer_shows_what_moved_and_what_was_there() -> None:
    moves = [
        LayerMove(digest("busybox"), "present", 2_000_000, "COPY busybox /"),
        LayerMove(digest("au-revoir"), "moved", 80, "COPY au-revoir /"),
    ]
    graph = transfer(
        moves, source="registry", destination="hôte B", image="cours/au-revoir:1.0",
        command="docker pull",
    )  # fmt: skip
    source = graph.source
    assert "docker pull cours/au-revoir:1.0 : 1 couche transférée (80 o), 1 déjà présente" in source
    assert "source -> couche_2" in source and "couche_2 -> destination" in source
    assert "source -> couche_1 [style=invis]" in source
    assert "shape=cylinder" in source and "shape=box3d" in source
    many = transfer(
        [*moves, LayerMove("sha256:cc", "mounted"), LayerMove("sha256:dd", "present")],
        source="hôte A", destination="registry", image="x", command="docker push",
    )  # fmt: skip
    assert "2 déjà présentes, 1 montée depuis un autre dépôt" in many.source
    assert "taille inconnue" in many.source


def test_layer_svgs_are_stable() -> None:
    for graph in (
        layer_dag([BONJOUR, AU_REVOIR, BASE]),
        image_stack(BONJOUR, [container("bonjour-1", 0)]),
        lab_layers({"hôte A": (BONJOUR,), "registry": (BONJOUR,)}),
    ):
        svg = render_svg(graph)
        assert svg == render_svg(graph)
        assert "Generated by graphviz" not in svg
