"""Faults between kubelantern and a cluster, over real sockets: a TCP fault proxy
(tests/harness/faultproxy.py) sits between a `kubelantern serve` process and the simulator
and cuts, stalls or resets the connections, or stops listening (an upstream restart)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import SimCluster
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.proxy import EXEC_OFFER, exec_path, find_pod
from tests.integration.faultkit import (
    FAULTY,
    LOG_PROTOCOLS,
    STEADY,
    LogFollower,
    Watcher,
    eventually_async,
    latency_p50,
    metric,
    rig,
    stamp_of,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as s:
        yield s


async def restart_upstream(proxy: Any, down: float = 1.0) -> None:
    """The cluster goes away (every connection cut, the port refusing) and comes back."""
    await asyncio.to_thread(proxy.stop)
    await asyncio.sleep(down)
    await asyncio.to_thread(proxy.start)


async def test_log_follow_resumes_after_upstream_restart_without_loss_or_repeats(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    with rig(tmp_path, sim_factory, log_lines_per_second=20.0) as r:
        ns, pod, container = await find_pod(http, r.base())
        url = r.ws_base() + f"/api/v1/namespaces/{ns}/pods/{pod}/log"
        follower = LogFollower(http, url, container)
        before = 25
        task = asyncio.ensure_future(follower.follow(lambda: len(follower.lines) >= before + 40))
        while len(follower.lines) < before:
            assert not task.done(), task
            await asyncio.sleep(0.05)
        await restart_upstream(r.proxy)
        await task
        assert follower.drops, "the restart did not break the stream"

        # The truth: the whole log since the first line seen, asked in one piece afterwards.
        first = stamp_of(follower.lines[0])[2]
        q = urlencode({"container": container, "timestamps": "true", "sinceTime": first})
        got = follower.lines
        truth: list[str] = []
        # A non-follow read ends at "now": ask until it reaches the last line followed.
        while not truth or stamp_of(truth[-1])[:2] < stamp_of(got[-1])[:2]:
            await asyncio.sleep(0.2)
            async with http.get(r.base() + f"/api/v1/namespaces/{ns}/pods/{pod}/log?{q}") as resp:
                assert resp.status == 200
                truth = (await resp.text()).splitlines()
        truth = [t for t in truth if stamp_of(t)[:2] >= stamp_of(got[0])[:2]]
        assert len(got) >= before + 40
        assert got == truth[: len(got)], (follower.drops, _first_difference(got, truth))


def _first_difference(got: list[str], truth: list[str]) -> str:
    for i, (a, b) in enumerate(zip(got, truth, strict=False)):
        if a != b:
            return f"line {i}: got {a!r}, expected {b!r}"
    return f"lengths {len(got)} vs {len(truth)}"


def _direct(sim: SimCluster) -> tuple[str, dict[str, str], ssl.SSLContext]:
    """The simulator's own URL, token and TLS context: changes made behind kubelantern."""
    ctx = ssl.create_default_context(cadata=sim.context.ca_pem.decode())  # type: ignore[union-attr]
    return sim.base_url, {"Authorization": f"Bearer {sim.context.token}"}, ctx


async def _make_configmaps(sim: SimCluster, names: list[str]) -> None:
    base, headers, ctx = _direct(sim)
    connector = aiohttp.TCPConnector(ssl=ctx, limit=8)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as s:

        async def one(name: str) -> None:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            async with s.post(f"{base}/api/v1/namespaces/default/configmaps", json=body) as r:
                assert r.status == 201, await r.text()

        await asyncio.gather(*(one(n) for n in names))


async def _configmap_names(sim: SimCluster) -> set[str]:
    base, headers, ctx = _direct(sim)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), headers=headers) as s:
        async with s.get(f"{base}/api/v1/namespaces/default/configmaps") as r:
            return {o["metadata"]["name"] for o in (await r.json())["items"]}


async def test_watch_resumes_from_its_resource_version_and_relists_on_410(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    with rig(tmp_path, sim_factory, watch_history=100) as r:
        watcher = Watcher(http, r.base() + "/api/v1/namespaces/default/configmaps")
        stop = asyncio.Event()
        task = asyncio.ensure_future(watcher.run(stop))
        try:
            await eventually_async(lambda: watcher.relists == 1, what="the first list")
            await _make_configmaps(r.sim, [f"before-{i}" for i in range(3)])
            await eventually_async(
                lambda: {f"before-{i}" for i in range(3)} <= set(watcher.objects)
            )

            # A short outage: changes made meanwhile come with the resumed watch, no relist.
            await asyncio.to_thread(r.proxy.stop)
            await asyncio.sleep(0.5)
            await _make_configmaps(r.sim, [f"during-{i}" for i in range(3)])
            await asyncio.to_thread(r.proxy.start)
            truth = await _configmap_names(r.sim)
            await eventually_async(lambda: set(watcher.objects) == truth, what="resumed watch")
            assert watcher.relists == 1, watcher.ends
            assert len(watcher.added) == len(set(watcher.added)), "an ADDED event came twice"
            assert watcher.ends, "the outage did not end the watch"

            # A long one: more changes than the server keeps; resuming gets 410, then a relist.
            await asyncio.to_thread(r.proxy.stop)
            await _make_configmaps(r.sim, [f"long-{i}" for i in range(150)])
            await asyncio.to_thread(r.proxy.start)
            truth = await _configmap_names(r.sim)
            await eventually_async(lambda: set(watcher.objects) == truth, what="relisted watch")
            assert watcher.relists == 2, watcher.ends
            assert "ERROR 410" in watcher.ends
        finally:
            stop.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _open_exec(
    http: aiohttp.ClientSession, base: str, command: list[str]
) -> aiohttp.ClientWebSocketResponse:
    ns, pod, container = await find_pod(http, base)
    path = exec_path(ns, pod, container, command, stdin=True)
    return await http.ws_connect(base.replace("http://", "ws://", 1) + path, protocols=EXEC_OFFER)


async def _shell_ready(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Send a command to an exec'd `sh` and wait for its answer: the session is live."""
    await ws.send_bytes(b"\x00echo ready-42\n")
    out = b""
    async with asyncio.timeout(20):
        while b"ready-42" not in out:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.BINARY, msg
            if msg.data[:1] == b"\x01":
                out += msg.data[1:]


@pytest.mark.parametrize("fault", ["cut", "reset", "restart"])
@pytest.mark.parametrize("path", ["fast", "relay"])
async def test_exec_cut_mid_session_closes_the_client_cleanly(
    tmp_path: Path,
    sim_factory: Callable[..., SimCluster],
    http: aiohttp.ClientSession,
    fault: str,
    path: str,
) -> None:
    env = {"KUBELANTERN_WS_FASTPATH": "1" if path == "fast" else "0"}
    with rig(tmp_path, sim_factory, env=env) as r:
        ws = await _open_exec(http, r.base(), ["sh"])
        await _shell_ready(ws)
        if fault == "restart":
            await restart_upstream(r.proxy, down=0.5)
        else:
            await asyncio.to_thread(getattr(r.proxy, fault))
        seen = []
        async with asyncio.timeout(30):  # never a hang
            while True:
                msg = await ws.receive()
                seen.append(msg.type)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR):  # fmt: skip
                    break
        # A Close frame with a code saying the far side failed, and why — not 1000 (that
        # would read as "the command finished") and not a dropped TCP connection (1006).
        assert msg.type is aiohttp.WSMsgType.CLOSE, seen
        assert msg.data in (1011, 1001, 1014), (msg.data, msg.extra)
        assert msg.extra, "the Close frame gives no reason"
        await ws.close()


async def test_sigterm_closes_every_stream_with_1001_and_exits_within_the_drain_time(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    with rig(tmp_path, sim_factory) as r:
        execs = [await _open_exec(http, r.base(), ["sh"]) for _ in range(4)]
        for ws in execs:
            await _shell_ready(ws)
        ns, pod, container = await find_pod(http, r.base())
        q = urlencode({"container": container, "follow": "true"})
        logs = [
            await http.ws_connect(
                r.ws_base() + f"/api/v1/namespaces/{ns}/pods/{pod}/log?{q}",
                protocols=LOG_PROTOCOLS,
            )
            for _ in range(4)
        ]
        watch = await http.get(r.base() + "/api/v1/pods?watch=1")
        assert watch.status == 200
        await eventually_async(lambda: _streams_at_least(http, r, 9), what="9 streams open")
        took = await asyncio.to_thread(r.served.terminate, 30)
        codes = []
        for ws in execs + logs:
            async with asyncio.timeout(10):
                while True:
                    msg = await ws.receive()
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                    aiohttp.WSMsgType.ERROR):  # fmt: skip
                        codes.append(msg.data if msg.type is aiohttp.WSMsgType.CLOSE else msg.type)
                        break
        assert codes == [1001] * 8, codes
        async with asyncio.timeout(10):
            with contextlib.suppress(aiohttp.ClientPayloadError):
                await watch.read()  # ends (cleanly or not), never hangs
        # aiohttp's shutdown_timeout (5 s) plus the streams' own close bound (5 s).
        assert took < 10.0 + 2.0, took
        assert r.served.proc.returncode == 0, r.served.output()


async def _streams_at_least(http: aiohttp.ClientSession, r: Any, n: int) -> bool:
    return await metric(http, r.served, "kubelantern_active_streams") >= n


async def _raw_stream(url: str, path: str, *, upgrade: bool) -> asyncio.StreamWriter:
    """A client on a bare socket that opens a stream (HTTP follow or WebSocket) and waits
    for the answer's head; the caller then makes it vanish."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if upgrade:
        key = base64.b64encode(os.urandom(16)).decode()
        head += (
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {EXEC_OFFER[0]}\r\n"
        )
    writer.write((head + "\r\n").encode())
    async with asyncio.timeout(20):
        status = await reader.readline()
        assert status.split()[1] in (b"101", b"200"), status
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
    return writer


def _vanish(writer: asyncio.StreamWriter) -> None:
    """Gone without a goodbye: RST, no Close frame, no FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_a_vanished_client_frees_its_upstream_and_descriptors(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    with rig(tmp_path, sim_factory) as r:
        ns, pod, container = await find_pod(http, r.base())
        prefix = f"/clusters/{FAULTY}/api/v1/namespaces/{ns}/pods/{pod}"
        follow = f"{prefix}/log?" + urlencode({"container": container, "follow": "true"})
        shell = prefix + exec_path(ns, pod, container, ["sh"], stdin=True).split(pod, 1)[1]
        await asyncio.sleep(0.5)  # the start-up probe's connections settle
        fds_before, upstream_before = r.served.fds(), r.proxy.live
        count = 30
        clients = [
            await _raw_stream(r.served.url, follow if i % 2 else shell, upgrade=not i % 2)
            for i in range(count)
        ]
        await eventually_async(
            lambda: r.proxy.live >= count,  # idle pooled connections get reused
            what=f"{count} upstream streams (live {r.proxy.live}, before {upstream_before})",
        )
        # each: a client and an upstream socket (idle pooled ones get reused)
        assert r.served.fds() >= fds_before + 2 * count - upstream_before
        for w in clients:
            _vanish(w)
        # Within seconds every upstream stream is closed, and nothing is left behind.
        await eventually_async(
            lambda: r.proxy.live <= upstream_before, limit=15, what="upstream streams closed"
        )
        await eventually_async(
            lambda: _streams_at_most(http, r, 0), limit=15, what="no stream left in /metrics"
        )
        # Our own /metrics requests may leave one keep-alive connection open.
        await eventually_async(
            lambda: r.served.fds() <= fds_before + 2, limit=15, what="descriptors back"
        )


async def _streams_at_most(http: aiohttp.ClientSession, r: Any, n: int) -> bool:
    return await metric(http, r.served, "kubelantern_active_streams") <= n


async def _clusters_state(http: aiohttp.ClientSession, r: Any) -> dict[str, Any]:
    async with http.get(f"{r.served.url}/api/clusters") as resp:
        return {c["name"]: c for c in await resp.json()}


async def test_a_cluster_that_accepts_tcp_and_never_answers_is_bounded_and_isolated(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    # The fault proxy accepts every connection and never forwards a byte: TLS never
    # completes. kubelantern's own probe and every proxied request must give up in bounded
    # time, and the other cluster must not notice.
    with rig(tmp_path, sim_factory, steady=True, stalled=True) as r:
        steady_url = r.base(STEADY) + "/api/v1/namespaces/default/configmaps"
        before = await latency_p50(http, steady_url)

        async def hung() -> tuple[int, str, float]:
            start = time.monotonic()
            async with http.get(r.base() + "/api/v1/namespaces") as resp:
                return resp.status, await resp.text(), time.monotonic() - start

        started = time.monotonic()
        waiting = [asyncio.ensure_future(hung()) for _ in range(50)]
        await asyncio.sleep(0.5)
        during = await latency_p50(http, steady_url)
        states = {}

        async def unreachable() -> bool:
            states.update(await _clusters_state(http, r))
            return states[FAULTY]["state"] == "unreachable"

        await eventually_async(unreachable, limit=20, what="faulty marked unreachable")
        assert states[STEADY]["state"] == "ok", states[STEADY]
        assert "did not answer" in (states[FAULTY]["error"] or ""), states[FAULTY]
        async with asyncio.timeout(60):
            answers = await asyncio.gather(*waiting)
        took = time.monotonic() - started
        print(
            f"\nunresponsive upstream: steady p50 {before * 1000:.1f} ms before, "
            f"{during * 1000:.1f} ms with 50 requests hung on the other cluster; "
            f"the hung ones answered in {took:.1f} s"
        )
        for status, text, _ in answers:
            assert status == 504, (status, text)
            assert FAULTY in text and "TCP/TLS connect" in text, text
        # Generous (a loaded 2-core box): a blocked event loop would show seconds.
        assert during < before * 5 + 0.1, (before, during)
        assert r.proxy.accepted >= 50  # they really did reach the hung cluster


@pytest.mark.soak
@pytest.mark.timeout(300)
async def test_a_cluster_that_stops_answering_after_the_handshake_is_bounded(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    # Connections already open (TLS done) stop carrying bytes: the first-byte bound holds.
    with rig(tmp_path, sim_factory, steady=True) as r:
        steady_url = r.base(STEADY) + "/api/v1/namespaces/default/configmaps"
        url = r.base() + "/api/v1/namespaces"
        # Open several pooled connections to the cluster, then freeze them.
        async with asyncio.timeout(30):
            await asyncio.gather(*(http.get(url) for _ in range(8)))
        before = await latency_p50(http, steady_url)
        await asyncio.to_thread(r.proxy.stall)

        async def hung() -> tuple[int, str]:
            async with http.get(url) as resp:
                return resp.status, await resp.text()

        started = time.monotonic()
        waiting = [asyncio.ensure_future(hung()) for _ in range(20)]
        await asyncio.sleep(0.5)
        during = await latency_p50(http, steady_url)
        async with asyncio.timeout(120):
            answers = await asyncio.gather(*waiting)
        took = time.monotonic() - started
        print(
            f"\nupstream silent after TLS: steady p50 {before * 1000:.1f} ms before, "
            f"{during * 1000:.1f} ms during; 20 hung requests answered in {took:.1f} s"
        )
        for status, text in answers:
            assert status == 504, (status, text)
            assert FAULTY in text, text
        assert during < before * 5 + 0.1, (before, during)


async def test_kubeconfig_changed_on_disk_reloads_and_leaves_live_streams_alone(
    tmp_path: Path, sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    with rig(tmp_path, sim_factory, steady=True) as r:
        assert r.steady is not None
        ws = await _open_exec(http, r.base(), ["sh"])
        await _shell_ready(ws)
        ns, pod, container = await find_pod(http, r.base())
        follower = LogFollower(
            http, r.ws_base() + f"/api/v1/namespaces/{ns}/pods/{pod}/log", container
        )
        following = asyncio.ensure_future(follower.run_once(lambda: False))
        await eventually_async(lambda: len(follower.lines) >= 3, what="log lines")
        assert set(await _clusters_state(http, r)) == {FAULTY, STEADY}

        # Same first context, the second one renamed: written as editors do (new file, rename).
        faulty = Context(
            FAULTY, r.proxy.url, ca_pem=r.sim.context.ca_pem, token=r.sim.context.token
        )
        renamed = Context("renamed", r.steady.base_url, ca_pem=r.steady.context.ca_pem,
                          token=r.steady.context.token)  # fmt: skip
        write_kubeconfig(tmp_path / "config.new", [faulty, renamed])
        os.replace(tmp_path / "config.new", tmp_path / "config")

        async def reloaded() -> bool:
            return set(await _clusters_state(http, r)) == {FAULTY, "renamed"}

        await eventually_async(reloaded, limit=30, what="the new kubeconfig served")
        async with http.get(r.base("renamed") + "/api/v1/namespaces") as resp:
            assert resp.status == 200
        async with http.get(r.base(STEADY) + "/api/v1/namespaces") as resp:
            assert resp.status == 404
        # The streams opened before the reload still run: the shell answers, lines flow.
        await _shell_ready(ws)
        seen = len(follower.lines)
        await eventually_async(lambda: len(follower.lines) > seen + 2, what="log still live")
        assert not following.done() and not follower.drops, follower.drops
        assert "kubeconfig changed" in r.served.output()
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await ws.close()
