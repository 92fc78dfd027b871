"""Issue 10 defects 9 and 10: an upstream that dies or hangs mid-stream is never passed off
as a clean end. HTTP log follow: the client's stream is aborted (an error, not a clean
chunked EOF). WebSocket (fast path and message relay; exec and log follow): the client gets
a Close frame 1011 with a reason, and a hung upstream is noticed by its missing pongs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.conftest import SimCluster
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.proxy import V5, cluster_base, exec_path, find_pod
from tests.harness.servers import ServerThread
from tests.harness.tcpcut import TcpCut


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sim(sim_factory: Callable[..., SimCluster]) -> Iterator[SimCluster]:
    yield sim_factory("kubernetes")


@pytest.fixture
async def cutter(sim: SimCluster) -> AsyncIterator[TcpCut]:
    relay = await TcpCut(sim.server.host, sim.server.port).start()
    yield relay
    await relay.close()


def lantern_via(
    factory: Callable[..., ServerThread], sim: SimCluster, relay: TcpCut, tmp: Path, **settings
) -> ServerThread:
    ctx = replace(sim.context, name="cut", server=f"https://127.0.0.1:{relay.port}")
    config = write_kubeconfig(tmp / "config", [ctx])
    return factory(Settings(kubeconfigs=(config,), launch_token=None, **settings))


async def test_http_log_follow_cut_by_an_upstream_crash_is_an_error(
    lantern_factory: Callable[..., ServerThread],
    sim: SimCluster,
    cutter: TcpCut,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    server = lantern_via(lantern_factory, sim, cutter, tmp_path)
    base = cluster_base(server, "cut")
    ns, pod, container = await find_pod(http, base)
    url = f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?container={container}&follow=true"
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=30)) as r:
        assert r.status == 200
        first = await r.content.readany()
        assert first
        cutter.cut()
        with pytest.raises(aiohttp.ClientPayloadError):
            while await r.content.readany():
                pass


async def _close_of(ws: aiohttp.ClientWebSocketResponse, limit: float = 30) -> aiohttp.WSMessage:
    import asyncio

    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return msg
            if msg.type is aiohttp.WSMsgType.ERROR:
                return msg


@pytest.mark.parametrize("fast_path", [True, False], ids=["tunnel", "relay"])
@pytest.mark.parametrize("stream", ["exec", "logs"])
@pytest.mark.parametrize("fault", ["crash", "hang"])
async def test_websocket_upstream_failure_reaches_the_client_as_1011(
    lantern_factory: Callable[..., ServerThread],
    sim: SimCluster,
    cutter: TcpCut,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    fast_path: bool,
    stream: str,
    fault: str,
) -> None:
    server = lantern_via(
        lantern_factory, sim, cutter, tmp_path, ws_fast_path=fast_path, ws_ping_interval=0.5
    )
    base = cluster_base(server, "cut")
    ns, pod, container = await find_pod(http, base)
    if stream == "exec":
        url = base + exec_path(ns, pod, container, ["sh"], stdin=True, tty=False)
        protocols: tuple[str, ...] = (V5,)
    else:
        url = f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?container={container}&follow=true"
        protocols = ("binary.k8s.io",)
    # autoping off and no heartbeat: the client itself never notices the upstream
    async with http.ws_connect(url, protocols=protocols, autoping=True, heartbeat=None) as ws:
        first = await ws.receive()
        assert first.type is aiohttp.WSMsgType.BINARY
        if fault == "crash":
            cutter.cut()
        else:
            cutter.freeze()
        msg = await _close_of(ws)
    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
    assert msg.data == 1011, msg
    assert msg.extra and "upstream" in msg.extra, msg
