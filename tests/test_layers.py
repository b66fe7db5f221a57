"""Layer facts: streamed tars, files per layer, wasted space; then the same facts on a real lab.

The unit tests build layer tars in memory. The integration tests check the package against
tools it did not write: ``docker save`` + ``tar -t`` for the files of each layer, ``docker
history`` for the sizes, ``docker inspect`` for the diffIDs, ``skopeo`` for the registry's
manifest and config, ``docker diff`` and ``docker ps --size`` for a container's layer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry_lab import DaemonError, Lab
from registry_lab.examples import EXAMPLES, build_example, dockerfile
from registry_lab.exercises import (
    EXERCISE_01_CONTAINER,
    EXERCISE_02_IMAGE,
    check_01,
    check_02,
)
from registry_lab.layer_files import (
    OPAQUE,
    Change,
    LayerTar,
    compare_layers,
    efficiency,
    read_layer_tar,
)
from registry_lab.layers import (
    EMPTY_LAYER,
    chain_ids,
    container_layer,
    image_files,
    image_layers,
    layer_digests,
    registry_files,
    registry_layers,
)
from registry_lab.manifests import HistoryEntry
from registry_lab.ports import free_port
from registry_lab.streams import ChunkReader, GunzipReader, HashingReader

MIB = 1024 * 1024


# -- layer tars built in memory ------------------------------------------------------------------
def make_tar(*members: tuple[str, str, bytes | str]) -> bytes:
    """A layer tar: (name, kind, content) with kind ``f`` file, ``d`` folder, ``l`` symlink."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            if kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, str(content)
                tar.addfile(info)
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, str(content)
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else content.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def layer(*members: tuple[str, str, bytes | str]) -> LayerTar:
    entries, diff_id, size = read_layer_tar(io.BytesIO(make_tar(*members)))
    return LayerTar(diff_id, tuple(entries), size)


def test_read_layer_tar_lists_headers_and_hashes_the_whole_tar() -> None:
    raw = make_tar(
        ("bin", "d", b""),
        ("bin/busybox", "f", b"x" * 1000),
        ("bin/sh", "l", "/bin/busybox"),
        ("bin/ash", "h", "bin/busybox"),
        ("etc/.wh.motd", "f", b""),
    )
    entries, diff_id, size = read_layer_tar(ChunkReader([raw[:700], raw[700:1500], raw[1500:]]))
    assert [entry.name for entry in entries] == [
        "bin",
        "bin/busybox",
        "bin/sh",
        "bin/ash",
        "etc/.wh.motd",
    ]
    assert [entry.kind for entry in entries] == [
        "dossier",
        "fichier",
        "lien symbolique",
        "lien physique",
        "fichier",
    ]
    assert diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert size == len(raw)
    # Docker's size of a layer: file bytes, plus the length of each symlink's target.
    assert sum(entry.disk_size for entry in entries) == 1000 + len("/bin/busybox")
    assert entries[4].is_whiteout and not entries[4].is_opaque


def test_streams_gunzip_hash_and_chunks() -> None:
    data = bytes(range(256)) * 5000
    blob = gzip.compress(data[:1000]) + gzip.compress(data[1000:])  # two gzip members
    compressed = HashingReader(io.BytesIO(blob))
    plain = HashingReader(GunzipReader(compressed, block=100))
    out = io.BytesIO()
    while chunk := plain.read(4096):
        out.write(chunk)
    assert out.getvalue() == data
    assert plain.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert compressed.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert ChunkReader([b"ab", b"", b"cde"]).read() == b"abcde"


# -- changes per layer ---------------------------------------------------------------------------
def test_changes_added_changed_removed_and_whiteouts() -> None:
    layers = [
        layer(
            ("srv", "d", b""),
            ("srv/app", "d", b""),
            ("srv/app/a.txt", "f", "aaaa"),
            ("srv/app/b.txt", "f", "bb"),
            ("srv/data", "d", b""),
            ("srv/data/gros.bin", "f", b"0" * 5000),
            ("srv/data/petit", "f", "p"),
        ),
        layer(("srv", "d", b""), ("srv/app", "d", b""), ("srv/app/a.txt", "f", "AAAAAA")),
        layer(("srv", "d", b""), ("srv/.wh.data", "f", b""), ("srv/app", "d", b"")),
        layer(("srv/app", "d", b""), (f"srv/app/{OPAQUE}", "f", b""), ("srv/app/c", "f", "c")),
    ]
    files = compare_layers("test:1", "mémoire", layers)
    first, second, third, fourth = files.layers
    assert {c.path for c in first.added} == {
        "/srv",
        "/srv/app",
        "/srv/app/a.txt",
        "/srv/app/b.txt",
        "/srv/data",
        "/srv/data/gros.bin",
        "/srv/data/petit",
    }
    assert [(c.path, c.change) for c in second.changes] == [
        ("/srv", Change.CHANGED),
        ("/srv/app", Change.CHANGED),
        ("/srv/app/a.txt", Change.CHANGED),
    ]
    # A whiteout of a folder removes it with everything under it.
    (removed,) = third.removed
    assert (removed.path, removed.kind, removed.size, removed.via) == (
        "/srv/data",
        "dossier",
        5001,
        ".wh.data",
    )
    # An opaque folder hides what the layers below put in it, except what it lists itself.
    assert fourth.opaque_dirs == ("/srv/app",)
    assert sorted((c.path, c.via) for c in fourth.removed) == [
        ("/srv/app/a.txt", OPAQUE),
        ("/srv/app/b.txt", OPAQUE),
    ]
    assert [c.path for c in fourth.added] == ["/srv/app/c"]
    assert fourth.names == ["srv/app", f"srv/app/{OPAQUE}", "srv/app/c"]
    assert "suppression" in str(fourth) and "supprimé (.wh..wh..opq)" in str(fourth)


# -- dive's efficiency -----------------------------------------------------------------------------
def test_efficiency_matches_dives_own_test() -> None:
    """dive's ``TestEfficency``: a path rewritten, a folder (only implied) whited out: 0.75."""
    layers = [
        layer(("etc/nginx/nginx.conf", "f", b"x" * 2000), ("etc/nginx/public", "f", b"x" * 3000)),
        layer(("etc/nginx/nginx.conf", "f", b"x" * 5000), ("etc/athing", "f", b"x" * 10000)),
        layer(("etc/.wh.nginx", "f", b"")),
    ]
    result = efficiency(layers)
    assert result.score == 0.75
    assert [(p.path, p.layers, p.cumulative_size) for p in result.paths] == [
        ("/etc/nginx/nginx.conf", (1, 2), 7000)
    ]
    assert result.wasted == 7000


def test_efficiency_sizes_a_removed_folder_by_what_it_held() -> None:
    """As in dive, a whiteout is keyed by the folder's own path, and weighs what it held."""
    layers = [
        layer(("etc", "d", b""), ("etc/nginx", "d", b""), ("etc/nginx/public", "f", b"x" * 3000)),
        layer(("etc", "d", b""), ("etc/.wh.nginx", "f", b"")),
    ]
    # The folder's files are not paths written twice: dive sees no waste here…
    assert (efficiency(layers).score, efficiency(layers).wasted) == (1.0, 0)
    # …unless the folder itself was a leaf of an earlier layer (an empty folder).
    layers = [
        layer(("cache", "d", b"")),
        layer(("cache", "d", b""), ("cache/x", "f", b"x" * 3000)),
        layer((".wh.cache", "f", b"")),
    ]
    result = efficiency(layers)
    assert [(p.path, p.layers, p.cumulative_size) for p in result.paths] == [
        ("/cache", (1, 3), 3000)
    ]
    assert (result.score, result.wasted) == (0.5, 3000)


def test_efficiency_of_a_scratch_image_is_perfect() -> None:
    result = efficiency([layer(("nothing", "f", b""))])
    assert (result.score, result.wasted, result.paths) == (1.0, 0, ())


def test_ten_mib_added_then_deleted_is_wasted() -> None:
    layers = [
        layer(("bin", "d", b""), ("bin/sh", "f", b"s" * 100)),
        layer(("gros.bin", "f", b"\0" * (10 * MIB))),
        layer((".wh.gros.bin", "f", b"")),
    ]
    files = compare_layers("gaspi:1", "mémoire", layers)
    assert files.efficiency.wasted == 10 * MIB
    assert files.efficiency.image_size == 100 + 10 * MIB
    assert "Espace gaspillé : 10,5 Mo" in str(files.efficiency)


# -- history and chains --------------------------------------------------------------------------
def test_chain_ids_follow_the_daemons_rule() -> None:
    assert chain_ids([]) == []
    assert chain_ids(["sha256:a"]) == ["sha256:a"]
    second = "sha256:" + hashlib.sha256(b"sha256:a sha256:b").hexdigest()
    assert chain_ids(["sha256:a", "sha256:b"]) == ["sha256:a", second]


def test_history_steps_mark_empty_layers() -> None:
    from registry_lab.layers import _steps

    history = [
        HistoryEntry("", "/bin/sh -c #(nop) COPY dir:abc in / ", False),
        HistoryEntry("", "/bin/sh -c #(nop)  ENV A=1", True),
        HistoryEntry("", "/bin/sh -c rm /x", False),
    ]
    steps = _steps(history, ["sha256:1", "sha256:2", "sha256:3"], [10, 0, 7])
    assert [(s.instruction, s.position, s.diff_id, s.size) for s in steps] == [
        ("COPY dir:abc in /", 1, "sha256:1", 10),
        ("ENV A=1", None, "", 0),
        ("RUN rm /x", 2, "sha256:2", 0),
        ("(sans historique)", 3, "sha256:3", 7),
    ]
    assert steps[1].empty and not steps[2].empty


# -- the real lab ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A lab of its own with the examples built on hôte A and pushed; erased at the end."""
    home = Path(tempfile.mkdtemp(prefix="rl-ly-", dir="/tmp"))
    lab = Lab.up(home=home, port=free_port())
    try:
        for name in ("couches", "bonjour", "au-revoir"):
            tag = build_example(lab.host_a, name)
            remote = f"{lab.registry.address}/{tag}"
            lab.host_a.docker("tag", tag, remote)
            lab.host_a.docker("push", "--quiet", remote)
        yield lab
    finally:
        lab.reset()
        shutil.rmtree(home, ignore_errors=True)


def saved_layer_names(lab: Lab, image: str, folder: Path) -> list[list[str]]:
    """``docker save`` to a file, then ``tar -t`` of each layer, in the manifest's order."""
    archive = folder / "image.tar"
    lab.host_a.docker("save", "--output", str(archive), image)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(folder)], check=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    names = []
    for path in manifest[0]["Layers"]:
        listing = subprocess.run(
            ["tar", "-tf", str(folder / path)], capture_output=True, text=True, check=True
        ).stdout
        names.append([line.rstrip("/") for line in listing.splitlines() if line.strip("./")])
    return names


@pytest.mark.integration
@pytest.mark.parametrize("name", ["couches", "bonjour"])
def test_files_per_layer_match_tar_t_of_docker_save(lab: Lab, name: str, tmp_path: Path) -> None:
    tag = EXAMPLES[name].tag
    files = image_files(lab.host_a, tag)
    assert [layer.names for layer in files.layers] == saved_layer_names(lab, tag, tmp_path)


@pytest.mark.integration
def test_sizes_match_docker_history(lab: Lab) -> None:
    tag = EXAMPLES["couches"].tag
    out = lab.host_a.docker("history", "--no-trunc", "--human=false", "--format", "{{.Size}}", tag)
    sizes = [int(line) for line in reversed(out.lines)]
    layers = image_layers(lab.host_a, tag)
    assert [step.size for step in layers.steps] == sizes
    # The sizes read from the layer tars themselves are Docker's too.
    files = image_files(lab.host_a, tag)
    assert [layer.size for layer in files.layers] == [step.size for step in layers.layers]


@pytest.mark.integration
def test_layers_and_empty_steps_match_docker_inspect(lab: Lab) -> None:
    tag = EXAMPLES["couches"].tag
    inspect = json.loads(lab.host_a.docker("image", "inspect", tag).output)[0]
    layers = image_layers(lab.host_a, tag)
    assert layers.diff_ids == inspect["RootFS"]["Layers"]
    assert layers.image_id == inspect["Id"]
    assert len(layers.steps) == 9 and len(layers.layers) == 5
    empty = [step.instruction.split()[0] for step in layers.steps if step.empty]
    assert empty == ["ENV", "CMD", "ENV", "CMD"]
    rm = layers.steps[7]
    assert rm.instruction.startswith("RUN rm") and rm.size == 0 and not rm.empty


@pytest.mark.integration
def test_config_read_from_docker_save_when_the_daemons_files_are_out_of_reach(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    import registry_lab.layers as layers_module

    tag = EXAMPLES["couches"].tag
    expected = image_layers(lab.host_a, tag)
    monkeypatch.setattr(layers_module, "_config_on_disk", lambda host, image_id: None)
    assert image_layers(lab.host_a, tag) == expected


def skopeo(lab: Lab, image: str, *options: str) -> dict[str, Any]:
    target = f"docker://{lab.registry.address}/{image}"
    argv = ["skopeo", "inspect", *options, "--tls-verify=false", target]
    data: dict[str, Any] = json.loads(
        subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout
    )
    return data


@pytest.mark.integration
def test_diff_id_digest_mapping_matches_the_registrys_manifest_and_config(lab: Lab) -> None:
    example = EXAMPLES["couches"]
    manifest = skopeo(lab, example.tag, "--raw")
    config = skopeo(lab, example.tag, "--config", "--raw")
    layers = registry_layers(lab.registry.client, example.repository, example.version)
    assert layers.digests == [item["digest"] for item in manifest["layers"]]
    assert [step.compressed_size for step in layers.layers] == [
        item["size"] for item in manifest["layers"]
    ]
    assert layers.diff_ids == config["rootfs"]["diff_ids"]
    assert layers.diff_ids == image_layers(lab.host_a, example.tag).diff_ids
    assert layers.image_id == manifest["config"]["digest"]
    checked = layer_digests(lab.registry.client, example.repository, example.version)
    assert checked.ok
    assert list(checked.computed_digests) == layers.digests
    assert list(checked.computed_diff_ids) == layers.diff_ids
    assert "les deux empreintes correspondent" in str(checked)


@pytest.mark.integration
def test_registry_files_are_the_daemons(lab: Lab) -> None:
    example = EXAMPLES["couches"]
    remote = registry_files(lab.registry.client, example.repository, example.version)
    local = image_files(lab.host_a, example.tag)
    assert [layer.names for layer in remote.layers] == [layer.names for layer in local.layers]
    assert [layer.diff_id for layer in remote.layers] == [layer.diff_id for layer in local.layers]
    assert all(layer.digest.startswith("sha256:") for layer in remote.layers)
    assert remote.efficiency.wasted == local.efficiency.wasted


@pytest.mark.integration
def test_a_ten_mib_file_added_then_deleted_is_reported_wasted(lab: Lab) -> None:
    files = image_files(lab.host_a, EXAMPLES["couches"].tag)
    assert files.efficiency.wasted >= 10 * MIB
    big = "/srv/couches/gros-fichier.bin"
    assert [change.path for change in files.layer(3).added] == [big]
    (removed,) = files.layer(5).removed
    assert (removed.path, removed.via, removed.size) == (big, ".wh.gros-fichier.bin", 10 * MIB)
    assert big in {item.path for item in files.efficiency.paths}
    assert files.efficiency.image_size >= 10 * MIB
    assert "gros-fichier.bin" in dockerfile("couches")


@pytest.mark.integration
def test_opaque_folder_from_a_real_build(lab: Lab) -> None:
    text = (
        "FROM lab/busybox\n"
        "RUN mkdir -p /d/sub && echo a > /d/sub/x && echo b > /d/y\n"
        "RUN rm -rf /d && mkdir /d && echo c > /d/z\n"
    )
    lab.host_a.client.images.build(
        fileobj=io.BytesIO(text.encode()), tag="test/opaque:1", pull=False
    )
    files = image_files(lab.host_a, "test/opaque:1")
    last = files.layers[-1]
    assert last.opaque_dirs == ("/d",)
    assert {change.path for change in last.removed} == {"/d/sub", "/d/y"}
    assert [change.path for change in last.added] == ["/d/z"]


@pytest.mark.integration
def test_container_layer_matches_docker_diff_and_ps(lab: Lab) -> None:
    host = lab.host_a
    host.docker("rm", "--force", "couche-test", check=False)
    host.docker(
        "run", "--name", "couche-test", "--network", "none", EXAMPLES["bonjour"].tag,
        "sh", "-c", "echo 12345 > /srv/bonjour/n.txt && rm /srv/bonjour/LISEZMOI.txt",
    )  # fmt: skip
    layer = container_layer(host, "couche-test")
    diff = host.docker("diff", "couche-test").lines
    assert sorted(str(change) for change in layer.changes) == sorted(diff)
    size = host.docker(
        "ps", "--all", "--size", "--filter", "name=couche-test", "--format", "{{.Size}}"
    )
    assert size.output.startswith(f"{layer.size}B ")
    assert layer.size == 6
    assert {change.path for change in layer.removed} == {"/srv/bonjour/LISEZMOI.txt"}
    assert layer.state == "arrêté" and layer.image == EXAMPLES["bonjour"].tag


@pytest.mark.integration
def test_french_errors_for_what_is_not_there(lab: Lab) -> None:
    with pytest.raises(DaemonError, match="n'a pas d'image « absente:1 »"):
        image_layers(lab.host_b, "absente:1")
    with pytest.raises(DaemonError, match="pas de conteneur « absent »"):
        container_layer(lab.host_b, "absent")


# -- the exercises of notebooks 01 and 02, both ways ---------------------------------------------
@pytest.mark.integration
def test_check_01_both_ways(lab: Lab) -> None:
    host = lab.host_a
    host.docker("rm", "--force", EXERCISE_01_CONTAINER, check=False)
    verdict = check_01(lab)
    assert not verdict and "pas de conteneur nommé exercice-01" in str(verdict)

    host.docker(
        "run", "--name", EXERCISE_01_CONTAINER, "--network", "none", "cours/bonjour:1.0",
        "sh", "-c", "echo notes > /srv/bonjour/notes.txt",
    )  # fmt: skip
    verdict = check_01(lab)
    assert not verdict and "1 point à reprendre" in verdict.title
    assert "ne montre pas /srv/bonjour/LISEZMOI.txt supprimé" in str(verdict)

    host.docker("rm", "--force", EXERCISE_01_CONTAINER)
    host.docker(
        "run", "--name", EXERCISE_01_CONTAINER, "--network", "none", "cours/bonjour:1.0",
        "sh", "-c", "echo notes > /srv/bonjour/notes.txt && rm /srv/bonjour/LISEZMOI.txt",
    )  # fmt: skip
    verdict = check_01(lab)
    assert verdict, str(verdict)
    assert "contient toujours /srv/bonjour/LISEZMOI.txt" in str(verdict)


@pytest.mark.integration
def test_check_02_both_ways(lab: Lab) -> None:
    client = lab.host_a.client
    lab.host_a.docker("image", "rm", "--force", EXERCISE_02_IMAGE, check=False)
    verdict = check_02(lab)
    assert not verdict and "pas d'image exercices/sans-gaspillage:1.0" in str(verdict)

    wasteful = (
        "FROM lab/busybox\n"
        "RUN dd if=/dev/urandom of=/gros-fichier.bin bs=1M count=10\n"
        "RUN rm /gros-fichier.bin\n"
    )
    client.images.build(fileobj=io.BytesIO(wasteful.encode()), tag=EXERCISE_02_IMAGE, pull=False)
    verdict = check_02(lab)
    assert not verdict and "3 points à reprendre" in verdict.title
    assert "Espace gaspillé : 10,5 Mo" in str(verdict)

    frugal = (
        "FROM lab/busybox\n"
        "RUN dd if=/dev/urandom of=/gros-fichier.bin bs=1M count=10 && rm /gros-fichier.bin\n"
    )
    client.images.build(fileobj=io.BytesIO(frugal.encode()), tag=EXERCISE_02_IMAGE, pull=False)
    verdict = check_02(lab)
    assert verdict, str(verdict)
    # A step that changed no file made no layer: the image is lab/busybox's single layer.
    layers = image_layers(lab.host_a, EXERCISE_02_IMAGE)
    assert len(layers.layers) == 1 and EMPTY_LAYER not in layers.diff_ids
