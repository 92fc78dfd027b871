"""Start-up with a kubeconfig of 100 contexts (issue 11): nothing is probed until asked.

Someone with a hundred contexts opens one cluster; the others must see no connection and
their exec plugins (SSO logins, cloud CLIs) must not run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.servers import ServerThread
from tests.harness.stack import SimCluster

CONTEXTS = 100
OTHER_SIMS = 4
# A start-up warm-up would have probed several clusters well within this time (it did:
# the first batch of probes connects in milliseconds); waiting longer only slows the test.
QUIET_PERIOD = 2.0


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _plugin_runs(path: Path) -> int:
    return path.read_text().count("run") if path.exists() else 0


async def test_hundred_contexts_only_the_asked_cluster_is_contacted(
    sim_factory: Callable[..., SimCluster],
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    target = sim_factory("kubernetes")
    others = [sim_factory("kubernetes") for _ in range(OTHER_SIMS)]
    runs = tmp_path / "plugin-runs"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_TOKEN": "sso", "FAKE_PLUGIN_COUNT_FILE": str(runs)},
        interactiveMode="Never",
    )
    contexts = [
        Context("wanted", target.base_url, ca_pem=target.context.ca_pem, token="sim-admin-token")
    ]
    for i in range(1, CONTEXTS):
        sim = others[i % OTHER_SIMS]
        # Every third context logs in through the exec plugin, the others with a token.
        user = {"exec": exec_cfg} if i % 3 == 0 else {}
        token = None if user else sim.context.token
        ctx = Context(
            f"ctx-{i:03d}", sim.base_url, ca_pem=sim.context.ca_pem, token=token, user=user
        )
        contexts.append(ctx)
    kc = write_kubeconfig(tmp_path / "config", contexts)

    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    async with http.get(f"{server.url}/clusters/wanted/api/v1/namespaces?limit=1") as resp:
        assert resp.status == 200, await resp.text()
    await asyncio.sleep(QUIET_PERIOD)

    assert any(r.path == "/api/v1/namespaces" for r in list(target.state.requests))
    assert _plugin_runs(runs) == 0, "an exec plugin ran for a cluster nobody asked for"
    contacted = {i: s.state.recorded for i, s in enumerate(others) if s.state.recorded}
    assert contacted == {}, f"simulators nobody asked for saw requests: {contacted}"
