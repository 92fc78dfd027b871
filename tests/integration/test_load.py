"""Load through one `kubelantern serve` process (its own pid: RSS and descriptors read from
/proc): many concurrent WebSocket streams, a reader that stops reading, idle sessions'
memory, a burst of list requests. The big counts run under `make soak` (-m soak) and print
their figures; the default run keeps smaller, bounded versions."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import SimCluster
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.proxy import EXEC_OFFER, exec_path, find_pod, run_stream
from tests.harness.served import Served, raise_fd_limit, serve
from tests.integration.faultkit import LOG_PROTOCOLS, eventually_async, metric, stamp_of

NAME = "load"


@pytest.fixture
def served(tmp_path: Path, sim_factory: Callable[..., SimCluster]) -> Iterator[Served]:
    raise_fd_limit()  # the server inherits it: thousands of sockets on both sides
    sim = sim_factory("kubernetes")
    ctx = Context(NAME, sim.base_url, ca_pem=sim.context.ca_pem, token=sim.context.token)
    with serve(write_kubeconfig(tmp_path / "config", [ctx]), tmp_path) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0)  # one socket per stream, as browsers do
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as s:
        yield s


def _base(served: Served) -> str:
    return f"{served.url}/clusters/{NAME}"


async def _streams(served: Served, http: aiohttp.ClientSession, count: int) -> float:
    """`count` concurrent WebSocket streams, half exec (`seq`), half log follows; each must
    deliver exactly what it should, in order. Returns the seconds taken."""
    base = _base(served)
    ws_base = base.replace("http://", "ws://", 1)
    ns, pod, container = await find_pod(http, base)
    seq_url = ws_base + exec_path(ns, pod, container, ["seq", "1", "300"])
    expected_seq = "".join(f"{i}\n" for i in range(1, 301)).encode()
    # The log's truth, asked once in one piece; every follow starts 30 lines from its end.
    q = {"container": container, "timestamps": "true"}
    async with http.get(f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?{urlencode(q)}") as r:
        truth = (await r.text()).splitlines()[-30:]
    follow_q = urlencode({**q, "follow": "true", "sinceTime": stamp_of(truth[0])[2]})
    log_url = ws_base + f"/api/v1/namespaces/{ns}/pods/{pod}/log?{follow_q}"

    async def one_exec() -> None:
        async with http.ws_connect(seq_url, protocols=EXEC_OFFER) as ws:
            got = await run_stream(ws, limit=300)
        assert got.stdout == expected_seq and got.close_code == 1000, got

    async def one_log() -> None:
        buf = b""
        async with http.ws_connect(log_url, protocols=LOG_PROTOCOLS) as ws:
            while buf.count(b"\n") < len(truth):
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.BINARY, msg
                buf += msg.data if ws.protocol == "binary.k8s.io" else base64.b64decode(msg.data)
        lines = buf.decode().splitlines()[: len(truth)]
        assert lines == truth

    start = time.monotonic()
    async with asyncio.timeout(600):
        await asyncio.gather(*(one_exec() if i % 2 else one_log() for i in range(count)))
    return time.monotonic() - start


async def test_concurrent_streams_complete_and_in_order(
    served: Served, http: aiohttp.ClientSession
) -> None:
    took = await _streams(served, http, 100)
    print(f"\n100 concurrent WebSocket streams in {took:.1f} s")


@pytest.mark.soak
@pytest.mark.timeout(900)
async def test_1000_concurrent_streams_complete_and_in_order(
    served: Served, http: aiohttp.ClientSession
) -> None:
    rss_before = served.rss_kib()
    took = await _streams(served, http, 1000)
    print(
        f"\n1000 concurrent WebSocket streams (500 exec seq 1..300, 500 log follows of 30 "
        f"lines) in {took:.1f} s; server RSS {rss_before // 1024} → "
        f"{served.rss_kib() // 1024} MiB"
    )


async def _slow_reader(served: Served, path: str) -> asyncio.StreamWriter:
    """A WebSocket client on a bare socket that upgrades and then never reads again."""
    host, port = served.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {EXEC_OFFER[0]}\r\n\r\n"
        ).encode()
    )
    async with asyncio.timeout(20):
        assert b" 101 " in await reader.readline()
    return writer


async def test_a_reader_that_stops_reading_does_not_hold_up_the_others(
    served: Served, http: aiohttp.ClientSession
) -> None:
    ns, pod, container = await find_pod(http, _base(served))
    path = f"/clusters/{NAME}" + exec_path(ns, pod, container, ["yes", "x" * 200])
    stuck = [await _slow_reader(served, path) for _ in range(3)]
    try:
        await asyncio.sleep(1.0)  # their buffers fill; backpressure stops the upstreams
        rss_stuck = served.rss_kib()
        took = await _streams(served, http, 60)
        await asyncio.sleep(1.0)
        grew = served.rss_kib() - rss_stuck
        print(f"\n60 streams beside 3 stopped readers of `yes`: {took:.1f} s; RSS +{grew} KiB")
        # A proxy that buffered for the stopped readers would grow by the megabytes `yes`
        # makes per second; backpressure keeps it flat (generous: allocator noise).
        assert grew < 64 * 1024, grew
        assert await metric(http, served, "kubelantern_active_streams") >= 3
    finally:
        for w in stuck:
            w.transport.abort()


async def _idle_sessions(served: Served, http: aiohttp.ClientSession, count: int) -> float:
    """KiB of server RSS per idle exec WebSocket (a `sh` waiting for input), `count` open."""
    ns, pod, container = await find_pod(http, _base(served))
    url = _base(served).replace("http://", "ws://", 1) + exec_path(
        ns, pod, container, ["sh"], stdin=True
    )
    # Warm up (allocator arenas, first TLS session, code paths), then measure from there.
    warm = [await http.ws_connect(url, protocols=EXEC_OFFER) for _ in range(20)]
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1.0)
    before = served.rss_kib()
    opened: list[aiohttp.ClientWebSocketResponse] = []
    sem = asyncio.Semaphore(100)

    async def one() -> None:
        async with sem:
            opened.append(await http.ws_connect(url, protocols=EXEC_OFFER, heartbeat=None))

    try:
        async with asyncio.timeout(600):
            await asyncio.gather(*(one() for _ in range(count)))
        await eventually_async(
            lambda: _at_least(http, served, count), limit=60, what=f"{count} streams open"
        )
        await asyncio.sleep(2.0)  # settle
        after = served.rss_kib()
        per = (after - before) / count
        print(
            f"\n{count} idle exec WebSockets: server RSS {before} → {after} KiB, "
            f"{per:.1f} KiB each ({served.fds()} descriptors)"
        )
        return per
    finally:
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)


async def _at_least(http: aiohttp.ClientSession, served: Served, n: int) -> bool:
    return await metric(http, served, "kubelantern_active_streams") >= n


@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.xfail(
    strict=True,
    reason="open: an idle exec WebSocket costs ~66 KiB of server RSS (goal ≤ 30 KiB); about "
    "half is Python objects of the two aiohttp connections (parsers, SSL protocol, tasks), "
    "the rest OpenSSL's per-connection state of the upstream TLS leg",
)
async def test_rss_per_idle_websocket_with_5000_sessions(
    served: Served, http: aiohttp.ClientSession
) -> None:
    per = await _idle_sessions(served, http, 5000)
    assert per <= 30, f"{per:.1f} KiB per idle WebSocket (goal ≤ 30 KiB)"


async def test_1000_concurrent_list_requests_without_an_error(
    served: Served, http: aiohttp.ClientSession
) -> None:
    url = _base(served) + "/api/v1/namespaces/default/configmaps"

    async def one() -> int:
        async with http.get(url) as resp:
            body = await resp.json()
            assert body["kind"] == "ConfigMapList", body
            return resp.status

    start = time.monotonic()
    async with asyncio.timeout(300):
        statuses = await asyncio.gather(*(one() for _ in range(1000)))
    took = time.monotonic() - start
    print(f"\n1000 concurrent list requests in {took:.1f} s")
    assert statuses == [200] * 1000
