"""Replicas proven: two `kubelantern serve` processes with one session secret behind a
round-robin TCP balancer on loopback. A user signed in through one is served by the other
(HTTP and WebSocket exec); SIGTERM to one closes its streams with 1001 while the other keeps
serving. The sign-in itself crosses replicas: the login and the callback land on different
processes (the pending sign-in travels in a sealed cookie)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.harness.balancer import Balancer
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.oidc_provider import OidcProvider, browser_sign_in, sim_trust, start_provider
from tests.harness.pki import Pki
from tests.harness.proxy import EXEC_OFFER, exec_path, find_pod
from tests.harness.replicas import replicas
from tests.harness.stack import SimCluster


@dataclass
class Pair:
    idp: OidcProvider
    sim: SimCluster
    balancer: Balancer
    procs: list[subprocess.Popen[bytes]]
    ports: list[int]


@pytest.fixture
def pair(pki: Pki, sim_factory: Callable[..., SimCluster], tmp_path: Path) -> Iterator[Pair]:
    idp, idp_server = start_provider(pki.server_context(), auto_user="alice")
    sim = sim_factory("kubernetes", oidc=sim_trust(idp))
    config = write_kubeconfig(
        tmp_path / "config", [Context("team", sim.base_url, ca_pem=pki.ca_pem)]
    )
    try:
        with replicas(idp, pki, config, tmp_path) as started:
            yield Pair(idp, sim, started.balancer, started.procs, started.ports)
    finally:
        idp_server.stop()


async def read_until(ws: aiohttp.ClientWebSocketResponse, text: bytes, limit: float = 10) -> bytes:
    out = b""
    async with asyncio.timeout(limit):
        while text not in out:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.BINARY, msg
            if msg.data[:1] == b"\x01":
                out += msg.data[1:]
    return out


async def test_two_replicas_share_sessions_and_stop_cleanly(pair: Pair, pki: Pki) -> None:
    url = pair.balancer.url
    # A new TCP connection per request, so the balancer alternates between the replicas.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector
    ) as http:
        picks_before = len(pair.balancer.picks)
        await browser_sign_in(http, url, pki.client_context(), "/c/team")
        login_pick, callback_pick = pair.balancer.picks[picks_before], pair.balancer.picks[-1]
        assert login_pick != callback_pick  # the sign-in crossed replicas

        served_by = set()
        for _ in range(4):
            before = len(pair.balancer.picks)
            async with http.get(f"{url}/clusters/team/api/v1/namespaces") as resp:
                assert resp.status == 200, await resp.text()
            served_by.add(pair.balancer.picks[before])
        assert served_by == {0, 1}
        assert {r.user for r in pair.sim.state.requests if r.path.endswith("/namespaces")} == {
            "oidc:alice@example.com"
        }

        # One interactive shell on each replica.
        ns, pod, container = await find_pod(http, f"{url}/clusters/team")
        path = exec_path(ns, pod, container, ["sh"], stdin=True, tty=True)
        shells = []
        for _ in range(2):
            before = len(pair.balancer.picks)
            ws = await http.ws_connect(
                f"{url}/clusters/team{path}", protocols=EXEC_OFFER, headers={"Origin": url}
            )
            shells.append((pair.balancer.picks[before], ws))
            await ws.send_bytes(b"\x00echo ready\n")
            assert b"ready" in await read_until(ws, b"ready")
        assert {pick for pick, _ in shells} == {0, 1}
        by_replica = dict(shells)

        # SIGTERM replica 0: its shell gets 1001 "going away"; replica 1's shell lives on.
        pair.procs[0].send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            while True:
                msg = await by_replica[0].receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001, msg
        assert pair.procs[0].wait(timeout=15) == 0
        await by_replica[1].send_bytes(b"\x00echo still-here\n")
        assert b"still-here" in await read_until(by_replica[1], b"still-here")
        await by_replica[1].close()

        # New requests all reach the surviving replica, the session still good.
        for _ in range(3):
            async with http.get(f"{url}/clusters/team/api/v1/namespaces") as resp:
                assert resp.status == 200
        async with http.get(f"{url}/api/me") as resp:
            assert (await resp.json())["name"] == "Alice Example"
