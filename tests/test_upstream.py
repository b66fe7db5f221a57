"""The simulated Hub (nginx + Distribution) and the pull-through cache, on the real programs.

Past its limit the Hub answers HTTP 429 with the registry's ``TOOMANYREQUESTS`` body; a second
pull through the cache costs the Hub nothing (counted in nginx's own access log); the cache
keeps serving while the Hub refuses; start/stop are idempotent and ``down`` leaves nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_nothing_left, discard_lab, new_home

from registry_lab import Lab
from registry_lab.examples import build_example
from registry_lab.ports import free_port
from registry_lab.processes import is_alive
from registry_lab.transfers import pull, push
from registry_lab.upstream import classroom

pytestmark = pytest.mark.integration

IMAGE = "cours/bonjour:1.0"


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    home = new_home()
    lab = Lab.up(home, free_port())
    try:
        build_example(lab.host_a, "bonjour")
        push(lab.host_a, lab.registry, IMAGE)
        yield lab
    finally:
        discard_lab(home, lab.registry.port)


def exhaust(lab: Lab) -> tuple[int, dict[str, str], bytes]:
    """GET the manifest until the Hub refuses; the refusal."""
    hub = lab.hub()
    url = f"{hub.url}/v2/cours/bonjour/manifests/1.0"
    for _ in range(hub.limit * 3):
        status, headers, body = get(url)
        if status == 429:
            return status, headers, body
        assert status == 200, body
    raise AssertionError("le Hub n'a jamais refusé")


def test_hub_and_cache_start_only_when_asked_and_idempotently(lab: Lab) -> None:
    hub = lab.hub()
    assert hub.address.startswith("127.0.0.1:")
    pids = (hub.nginx_pid, hub.backend_pid)
    assert None not in pids
    cache = lab.cache()
    cache_pid = cache.pid
    assert cache_pid is not None
    assert cache.ping()
    again = lab.cache()
    assert (lab.hub().nginx_pid, lab.hub().backend_pid) == pids
    assert again.pid == cache_pid
    assert hub.publish(lab.registry, IMAGE).startswith("sha256:")
    assert "cours/bonjour" in hub.repositories()


def test_cache_second_pull_costs_the_hub_nothing_and_survives_429(lab: Lab) -> None:
    hub = lab.hub()
    hub.publish(lab.registry, IMAGE)
    cache = lab.cache()
    digest = lab.registry.client.head_manifest("cours/bonjour", "1.0").digest
    reference = f"cours/bonjour@{digest}"
    lab.host_b.docker("image", "rm", "-f", f"{cache.address}/{reference}", check=False)
    start = hub.log_size()
    first = pull(lab.host_b, cache, reference)
    assert first.digest == digest
    middle = hub.log_size()
    assert hub.requests(start), "le premier pull passe par le Hub"
    lab.host_b.docker("image", "rm", "-f", f"{cache.address}/{reference}")
    second = pull(lab.host_b, cache, reference)
    assert second.digest == digest
    assert hub.requests(middle) == [], "le second pull n'a rien demandé au Hub"

    status, _, _ = exhaust(lab)
    assert status == 429
    lab.host_b.docker("image", "rm", "-f", f"{cache.address}/{reference}")
    third = pull(lab.host_b, cache, reference)
    assert third.digest == digest


def test_hub_answers_429_with_the_registry_error_body(lab: Lab) -> None:
    status, headers, body = exhaust(lab)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert status == 429
    assert json.loads(body)["errors"][0]["code"] == "TOOMANYREQUESTS"
    hub = lab.hub()
    assert lowered["ratelimit-limit"] == f"{hub.limit};w={hub.window}"
    assert lowered["ratelimit-remaining"] == f"0;w={hub.window}"
    refused = [r for r in hub.pulls() if r.status == 429]
    assert refused


def test_classroom_calculator(lab: Lab) -> None:
    hub = lab.hub()
    estimate = classroom(30, 2, hub, cached_pulls=2)
    assert estimate.without_cache == 60
    assert estimate.refused_without_cache == 60 - hub.limit
    assert estimate.with_cache == 2
    assert estimate.refused_with_cache == 0
    assert "sans cache" in str(estimate)


def test_down_stops_hub_and_cache_and_leaves_nothing() -> None:
    home: Path = new_home()
    try:
        lab = Lab.up(home, free_port())
        cache = lab.cache()
        hub = lab.hub()
        pids = [hub.nginx_pid, hub.backend_pid, cache.pid]
        lab.down()
        assert not any(is_alive(pid) for pid in pids)
        lab.down()
        assert_nothing_left(home)
        assert Lab(home, lab.registry.port).hub().healthy
        Lab(home, lab.registry.port).down()
        assert_nothing_left(home)
    finally:
        discard_lab(home)
