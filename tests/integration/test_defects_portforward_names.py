"""Issue 10 defect 7: `POST /api/portforwards` names cannot climb out of the cluster's path
prefix; nothing with `..` (or any name that is not a Kubernetes name) reaches the cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.conftest import SimCluster
from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES

TRICKS = [
    {"namespace": "../../../v3", "pod": "x"},
    {"namespace": "default", "pod": "../../../../v3/settings"},
    {"namespace": "..", "pod": ".."},
    {"namespace": "default", "pod": "a/../../b"},
    {"namespace": "%2e%2e", "pod": "x"},
    {"namespace": "default", "service": "../../../v3/users"},
    {"namespace": "default\r\nX-Evil: 1", "pod": "x"},
    {"namespace": "default", "pod": "x?watch=1"},
    {"namespace": "default", "pod": "x#frag"},
    {"namespace": "default", "pod": "p" * 300},
]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("profile", ["rancher", "kubernetes"])
@pytest.mark.parametrize("names", TRICKS, ids=lambda n: repr(sorted(n.items()))[:40])
async def test_portforward_names_are_validated(
    lantern_factory: Callable[..., ServerThread],
    kubeconfig: Path,
    sims: dict[str, SimCluster],
    http: aiohttp.ClientSession,
    profile: str,
    names: dict[str, Any],
) -> None:
    server = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
    sim = sims[profile]
    before = sim.state.recorded
    body = {"cluster": CONTEXT_NAMES[profile], "port": 8080, **names}
    async with http.post(f"{server.url}/api/portforwards", json=body) as r:
        text = await r.text()
        assert r.status == 400, text
        assert "name" in (await r.json())["message"]
    sent = [f"{q.path}?{q.query_string}" for q in sim.state.requests_since(before)]
    assert not [p for p in sent if "/namespaces/" in p], sent
