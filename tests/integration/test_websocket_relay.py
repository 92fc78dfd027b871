"""Relay behaviour: auto strategy recovery, pings, backpressure, close codes, big frames.

Close codes and oversized frames use a tiny recording WebSocket upstream (a real HTTPS
server on loopback) so the test can see what the upstream received.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kubelantern.clusters import strategies
from kubelantern.proxy.subprotocols import encode_bearer
from kubelantern.settings import Settings
from kubelantern.web import keys
from tests.harness.certs import cert_upstream, cert_user
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.proxy import (
    V5,
    cluster_base,
    eventually,
    exec_path,
    exec_session,
    find_pod,
    upgrade_headers,
)
from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES


@pytest.fixture(autouse=True, params=["bytes", "messages"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every relay test runs on both paths: the fast byte tunnel and the message relay."""
    fast = request.param == "bytes"
    # Settings made in the test read the switch (Settings.ws_fast_path) from the environment;
    # the shared server's settings are switched in place.
    monkeypatch.setenv("KUBELANTERN_WS_FASTPATH", "1" if fast else "0")
    if "lantern" in request.fixturenames:
        shared: ServerThread = request.getfixturevalue("lantern")
        monkeypatch.setattr(shared.app[keys.SETTINGS], "ws_fast_path", fast)
    return str(request.param)


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


# --- auto mode -------------------------------------------------------------------------


async def test_auto_mode_recovers_from_a_wrong_starting_strategy(
    lantern_factory: Any, kubeconfig: Path, http: aiohttp.ClientSession
) -> None:
    name = CONTEXT_NAMES["rancher"]
    server: ServerThread = lantern_factory(
        Settings(
            kubeconfigs=(kubeconfig,),
            launch_token=None,
            strategy_overrides={name: "subprotocol"},
        )
    )
    base = cluster_base(server, "rancher")
    ns, pod, container = await find_pod(http, base)
    got = await exec_session(http, base + exec_path(ns, pod, container, ["echo", "recovered"]))
    assert got.stdout == b"recovered\n" and got.close_code == 1000

    assert server.app is not None
    cluster = server.app[keys.REGISTRY].get(name)
    settings = server.app[keys.SETTINGS]
    assert strategies.current(cluster, settings) == ("header", "learned")
    async with http.get(f"{server.url}/api/clusters?wait=0") as resp:
        listed = {c["name"]: c for c in await resp.json()}
    assert listed[name]["strategy"] == "header"
    assert listed[name]["strategySource"] == "learned"
    async with http.get(f"{server.url}/metrics") as resp:
        metrics = await resp.text()
    assert any(
        line.startswith("kubelantern_websocket_strategy_fallbacks_total")
        and name in line
        and line.endswith(" 1")
        for line in metrics.splitlines()
    ), metrics
    # The second session starts with the learned strategy: no further fallback.
    got = await exec_session(http, base + exec_path(ns, pod, container, ["echo", "again"]))
    assert got.stdout == b"again\n"
    async with http.get(f"{server.url}/metrics") as resp:
        assert f'fallbacks_total{{cluster="{name}"}} 1' in await resp.text()


async def test_auto_off_with_a_wrong_strategy_passes_the_401_through(
    lantern_factory: Any, kubeconfig: Path, http: aiohttp.ClientSession
) -> None:
    name = CONTEXT_NAMES["rancher"]
    server: ServerThread = lantern_factory(
        Settings(
            kubeconfigs=(kubeconfig,),
            launch_token=None,
            auto_strategy=False,
            strategy_overrides={name: "subprotocol"},
        )
    )
    url = cluster_base(server, "rancher") + exec_path("default", "p", "c", ["true"])
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, protocols=(V5,))
    assert err.value.status == 401


# --- pings -----------------------------------------------------------------------------


async def test_pings_keep_an_idle_session_alive(
    lantern_factory: Any, kubeconfig: Path, http: aiohttp.ClientSession
) -> None:
    """client-go's rule scaled down: ping every 0.1 s, give up 1.2 s without a pong."""
    server: ServerThread = lantern_factory(
        Settings(kubeconfigs=(kubeconfig,), launch_token=None, ws_ping_interval=0.5)
    )
    base = cluster_base(server, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["sleep", "30"])
    deadline_s, ping_every, run_for = 1.2, 0.1, 3.0
    async with http.ws_connect(url, protocols=(V5,), autoping=False) as ws:
        loop = asyncio.get_running_loop()
        last_pong = loop.time()
        pings_from_us = 0
        pongs = 0
        start = loop.time()

        async def pinger() -> None:
            while True:
                await ws.ping(b"client-go")
                await asyncio.sleep(ping_every)

        task = asyncio.create_task(pinger())
        try:
            while loop.time() - start < run_for:
                remaining = deadline_s - (loop.time() - last_pong)
                assert remaining > 0, "no pong within the read deadline"
                try:
                    msg = await ws.receive(timeout=remaining)
                except TimeoutError:
                    pytest.fail("read deadline passed without a pong")
                if msg.type is aiohttp.WSMsgType.PONG:
                    pongs += 1
                    last_pong = loop.time()
                elif msg.type is aiohttp.WSMsgType.PING:
                    pings_from_us += 1
                    await ws.pong(msg.data)
                else:
                    assert msg.type is aiohttp.WSMsgType.BINARY, msg  # session still open
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert pongs >= run_for / ping_every / 2
        # A quiet client: kubelantern's own keepalive pings arrive (aiohttp only pings a
        # leg that has been silent for the interval).
        async with asyncio.timeout(5):
            while pings_from_us < 3:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.PING:
                    pings_from_us += 1
                    await ws.pong(msg.data)
                else:
                    assert msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.PONG), msg


# --- backpressure ----------------------------------------------------------------------


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def test_slow_reader_keeps_memory_bounded(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["firehose", "400M"])
    before = _rss()
    async with http.ws_connect(url, protocols=(V5,), max_msg_size=0) as ws:
        await ws.receive(timeout=10)  # connected
        await asyncio.sleep(3)  # do not read: a fast source meets a stalled reader
        grown = _rss() - before
        # Unbounded buffering would hold most of the 400 MB by now.
        assert grown < 96 * 1024 * 1024, f"RSS grew by {grown / 2**20:.0f} MiB"
        got = 0
        async with asyncio.timeout(20):
            while got < 8 * 1024 * 1024:
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.BINARY
                got += len(msg.data)
        await ws.close()


# --- close codes and big frames, against a recording upstream --------------------------


SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io"


class Recorder:
    def __init__(self) -> None:
        self.closes: list[tuple[int | None, str]] = []
        self.sizes: list[int] = []


def _upstream_app(rec: Recorder) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=(V5, SPDY_TUNNEL), max_msg_size=64 * 1024 * 1024)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                rec.sizes.append(len(msg.data))
                if msg.data == b"close-me":
                    await ws.close(code=4001, message=b"upstream says bye")
                elif msg.data == b"big-please":
                    await ws.send_bytes(b"x" * (17 * 1024 * 1024))
                else:
                    await ws.send_bytes(msg.data)
        rec.closes.append((ws.close_code, ""))
        return ws

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


@pytest.fixture
def recording(pki: Pki, tmp_path: Path, lantern_factory: Any) -> Iterator[tuple[str, Recorder]]:
    rec = Recorder()
    upstream = ServerThread(lambda: _upstream_app(rec), ssl_context=pki.server_context()).start()
    config = write_kubeconfig(tmp_path / "config", [Context("rec", upstream.url, pki.ca_pem, "t")])
    server = lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))
    yield f"{server.url}/clusters/rec/api/v1/namespaces/d/pods/p/exec?command=x&stdout=1", rec
    upstream.stop()


async def test_close_codes_pass_both_ways(
    recording: tuple[str, Recorder], http: aiohttp.ClientSession
) -> None:
    url, rec = recording
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        await ws.send_bytes(b"close-me")
        msg = await ws.receive(timeout=10)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert (msg.data, msg.extra) == (4001, "upstream says bye")
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        await ws.send_bytes(b"\x00echo")
        assert (await ws.receive(timeout=10)).data == b"\x00echo"
        await ws.close(code=4002, message=b"client says bye")
    await eventually(lambda: (4002, "") in rec.closes)


async def test_oversized_frames_close_with_1009(
    recording: tuple[str, Recorder], http: aiohttp.ClientSession
) -> None:
    url, rec = recording
    # Client → upstream: 17 MiB exceeds the bridge's 16 MiB bound.
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        # The bridge closes (1009) while the client is still writing, so the write may
        # fail with a reset before the client can read the Close frame.
        with contextlib.suppress(ConnectionError):
            await ws.send_bytes(b"y" * (17 * 1024 * 1024))
        msg = await ws.receive(timeout=20)
        assert msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        )
        if msg.type is aiohttp.WSMsgType.CLOSE:
            assert msg.data == 1009
    assert 17 * 1024 * 1024 not in rec.sizes
    # Upstream → client.
    async with http.ws_connect(url, protocols=(V5,), max_msg_size=0) as ws:
        await ws.send_bytes(b"big-please")
        msg = await ws.receive(timeout=20)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1009
    # Still serving.
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        await ws.send_bytes(b"\x00fine")
        assert (await ws.receive(timeout=10)).data == b"\x00fine"


async def test_shutdown_closes_bridged_sockets_with_1001(
    pki: Pki, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    from tests.harness.stack import start_kubelantern

    rec = Recorder()
    upstream = ServerThread(lambda: _upstream_app(rec), ssl_context=pki.server_context()).start()
    config = write_kubeconfig(tmp_path / "config", [Context("rec", upstream.url, pki.ca_pem, "t")])
    server = start_kubelantern(Settings(kubeconfigs=(config,), launch_token=None))
    try:
        url = f"{server.url}/clusters/rec/api/v1/namespaces/d/pods/p/exec?command=x&stdout=1"
        async with http.ws_connect(url, protocols=(V5,)) as ws:
            await ws.send_bytes(b"\x00hi")
            assert (await ws.receive(timeout=10)).data == b"\x00hi"
            await asyncio.to_thread(server.stop)
            msg = await ws.receive(timeout=10)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
        await eventually(lambda: bool(rec.closes))
        assert rec.closes[0][0] == 1001
    finally:
        upstream.stop()


# --- upstream refusals and credential refresh ------------------------------------------


async def test_rancher_origin_refusal_stays_a_readable_403(
    lantern_factory: Any, kubeconfig: Path, http: aiohttp.ClientSession
) -> None:
    """`passthrough` presents the browser as is: Rancher's 403 reaches the client intact."""
    name = CONTEXT_NAMES["rancher"]
    server: ServerThread = lantern_factory(
        Settings(
            kubeconfigs=(kubeconfig,),
            launch_token=None,
            auto_strategy=False,
            strategy_overrides={name: "passthrough"},
        )
    )
    url = cluster_base(server, "rancher") + exec_path("default", "p", "c", ["true"])
    upgrade = upgrade_headers(
        V5,
        {
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "Origin": server.url,
        },
    )
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == 403
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert body["Message"] == "origin not allowed"


async def test_expired_plugin_token_is_refreshed_once(
    lantern_factory: Any, sims: dict[str, Any], tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    import sys

    counter = tmp_path / "runs"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "token = 'stale-token' if n == 1 else 'sim-admin-token'\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1',"
        " 'kind': 'ExecCredential', 'status': {'token': token}}))\n"
    )
    ctx = sims["kubernetes"].context
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin)],
            "interactiveMode": "Never",
        }
    }
    config = write_kubeconfig(
        tmp_path / "config", [Context("plugged", ctx.server, ctx.ca_pem, None, user=user)]
    )
    server: ServerThread = lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))
    base = f"{server.url}/clusters/plugged"
    ns, pod, container = await find_pod(http, base)  # HTTP path: refreshes on its own 401
    counter.write_text("0")  # the next run hands out a stale token again
    assert server.app is not None
    cluster = server.app[keys.REGISTRY].get("plugged")
    await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(cluster.credentials.refresh(), server.loop)
    )
    assert counter.read_text() == "1"
    got = await exec_session(http, base + exec_path(ns, pod, container, ["echo", "fresh"]))
    assert got.stdout == b"fresh\n"
    assert int(counter.read_text()) == 2  # exactly one more plugin run, for the WebSocket


async def test_unreachable_cluster_gets_a_502_naming_it(
    lantern_factory: Any, pki: Pki, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    config = write_kubeconfig(
        tmp_path / "config", [Context("gone", "https://127.0.0.1:1", pki.ca_pem, "t")]
    )
    server: ServerThread = lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))
    url = f"{server.url}/clusters/gone/api/v1/namespaces/d/pods/p/exec?command=x&stdout=1"
    upgrade = upgrade_headers(V5)
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == 502
        body = await resp.json()
    assert "'gone'" in body["message"] and "cannot reach" in body["message"]


async def test_cluster_that_did_not_load_gets_a_503_naming_why(
    lantern_factory: Any, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    bad_ca = {"certificate-authority-data": "bm90IGEgY2VydA=="}  # "not a cert"
    config = write_kubeconfig(
        tmp_path / "config", [Context("bad-ca", "https://127.0.0.1:1", token="t", cluster=bad_ca)]
    )
    server: ServerThread = lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))
    url = f"{server.url}/clusters/bad-ca/api/v1/namespaces/d/pods/p/exec?command=x&stdout=1"
    upgrade = upgrade_headers(f"{V5}, {encode_bearer('user-token')}")
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == 503  # even with the user's own token: never half-configured
        body = await resp.json()
    assert "'bad-ca' cannot be used" in body["message"]
    assert "certificate-authority-data" in body["message"]


async def test_user_token_is_not_shadowed_by_a_kubeconfig_client_cert(
    pki: Pki, tmp_path: Path, lantern_factory: Any, http: aiohttp.ClientSession
) -> None:
    """As on the HTTP path: kube-apiserver authenticates a client certificate before a
    token, so the user's own token must travel on a connection without the kubeconfig's."""
    seen: list[dict[str, str | None]] = []
    upstream = cert_upstream(pki, seen)
    try:
        config = write_kubeconfig(
            tmp_path / "config",
            [Context("certs", upstream.url, ca_pem=pki.ca_pem, user=cert_user(pki))],
        )
        server: ServerThread = lantern_factory(Settings(kubeconfigs=(config,), launch_token=None))
        url = f"{server.url}/clusters/certs/api/v1/namespaces/d/pods/p/exec?command=x&who=1"
        async with http.ws_connect(url, protocols=(V5,)) as ws:
            await ws.receive()
        assert seen[-1]["cn"] is not None and seen[-1]["auth"] is None  # the kubeconfig's
        user = {"Authorization": "Bearer users-own"}
        async with http.ws_connect(url, protocols=(V5,), headers=user) as ws:
            await ws.receive()
        assert seen[-1] == {"cn": None, "auth": "Bearer users-own"}
    finally:
        upstream.stop()


async def test_spdy_tunnel_passes_as_opaque_binary(
    recording: tuple[str, Recorder], http: aiohttp.ClientSession
) -> None:
    url, _ = recording
    spdy_ping = bytes.fromhex("80030006000000040000000a")  # a SPDY/3 PING control frame
    async with http.ws_connect(url, protocols=(SPDY_TUNNEL,)) as ws:
        assert ws.protocol == SPDY_TUNNEL
        await ws.send_bytes(spdy_ping)
        msg = await ws.receive(timeout=10)
        assert msg.type is aiohttp.WSMsgType.BINARY and msg.data == spdy_ping
