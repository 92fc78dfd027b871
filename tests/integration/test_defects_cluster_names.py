"""Issue 10 defect 8 over real sockets: overlapping cluster names route by the documented
rule (encoded exact match first; a decoded path only when unambiguous, else 409)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from kubelantern.settings import Settings
from tests.conftest import SimCluster
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.servers import ServerThread


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def overlapping(
    sims: dict[str, SimCluster],
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
) -> ServerThread:
    k, o = sims["kubernetes"].context, sims["openshift"].context
    contexts = [
        replace(k, name="dev"),
        replace(o, name="dev/api"),
        replace(k, name="a/b"),
        replace(o, name="a%2Fb"),
        replace(k, name="n/x"),
        replace(o, name="n/x/api"),
    ]
    config = write_kubeconfig(tmp_path / "config", contexts)
    return lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))


def reached(sim: SimCluster, marker: str) -> bool:
    return any(marker in r.query_string for r in list(sim.state.requests))


@pytest.mark.parametrize(
    ("tail", "profile"),
    [
        ("dev/api/v1/namespaces", "kubernetes"),  # kubectl's path for `dev`
        ("dev%2Fapi/api/v1/namespaces", "openshift"),  # the SPA's for `dev/api`
        ("a%2Fb/api/v1/namespaces", "kubernetes"),  # the documented encoding of `a/b`
        ("a/b/api/v1/namespaces", "kubernetes"),
        ("a%252Fb/api/v1/namespaces", "openshift"),  # the literal `a%2Fb`, encoded
        ("n%2Fx/api/v1/namespaces", "kubernetes"),
        ("n%2Fx%2Fapi/api/v1/namespaces", "openshift"),
    ],
)
async def test_overlapping_names_route_by_the_rule(
    overlapping: ServerThread,
    sims: dict[str, SimCluster],
    http: aiohttp.ClientSession,
    tail: str,
    profile: str,
) -> None:
    marker = f"m={abs(hash((tail, profile))) % 10**9}"
    url = URL(f"{overlapping.url}/clusters/{tail}?{marker}", encoded=True)
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
    other = "openshift" if profile == "kubernetes" else "kubernetes"
    assert reached(sims[profile], marker) and not reached(sims[other], marker)


async def test_an_ambiguous_decoded_path_is_a_409_naming_the_candidates(
    overlapping: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    url = URL(f"{overlapping.url}/clusters/n/x/api/api/v1/namespaces?amb=1", encoded=True)
    async with http.get(url) as r:
        assert r.status == 409
        message = (await r.json())["message"]
    assert "'n/x'" in message and "'n/x/api'" in message and "percent-encoded" in message
    assert not any("amb=1" in q.query_string for s in sims.values() for q in s.state.requests)
