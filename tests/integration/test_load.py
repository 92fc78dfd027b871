"""Load through one `kubelantern serve` process (its own pid: RSS and descriptors read from
/proc): many concurrent WebSocket streams, a reader that stops reading, idle sessions'
memory, a burst of list requests. The big counts run under `make soak` (-m soak) and print
their figures; the default run keeps smaller, bounded versions."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import SimCluster
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.proxy import EXEC_OFFER, V5, exec_path, find_pod, run_stream
from tests.harness.served import Served, raise_fd_limit, serve
from tests.integration.faultkit import LOG_PROTOCOLS, eventually_async, metric, stamp_of

NAME = "load"
ROOT = Path(__file__).resolve().parents[2]
# kubelantern's URL → its simulator's URL, token and CA, for the prober's direct baseline.
DIRECT: dict[str, tuple[str, str, Path]] = {}
# Stream handshakes in flight at once in the held-streams test: users open streams over
# time, not 1,500 in one instant (that would time this test process's own event loop).
OPENING_AT_ONCE = 32


@pytest.fixture
def served(tmp_path: Path, sim_factory: Callable[..., SimCluster]) -> Iterator[Served]:
    raise_fd_limit()  # the server inherits it: thousands of sockets on both sides
    sim = sim_factory("kubernetes")
    ctx = Context(NAME, sim.base_url, ca_pem=sim.context.ca_pem, token=sim.context.token)
    with serve(write_kubeconfig(tmp_path / "config", [ctx]), tmp_path) as s:
        yield s


@pytest.fixture
def served_apart(tmp_path: Path, pki: Pki) -> Iterator[Served]:
    """`served`, with the simulator in a process of its own: with a thousand streams, one
    process holding both the clients and the simulator starves the simulator (TLS accepts
    late by 10 s and more), which is not what is under test."""
    raise_fd_limit()
    out = tmp_path / "kubesim.log"  # a file: a pipe nobody reads would stall it once full
    with out.open("wb") as f:
        sim = subprocess.Popen(
            [sys.executable, "-m", "kubesim", "--port", "0", "--tls-cert",
             str(pki.folder / "server.crt"), "--tls-key", str(pki.folder / "server.key")],
            stdout=f,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r" serving (\S+)\ntoken: (\S+)\n", out.read_text())):
            assert sim.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        url, token = found.groups()
        ctx = Context(NAME, url, ca_pem=pki.ca_pem, token=token)
        with serve(write_kubeconfig(tmp_path / "config", [ctx]), tmp_path) as s:
            DIRECT[s.url] = (url, token, pki.ca_file)
            yield s
    finally:
        sim.kill()
        sim.wait(10)


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


# -- issue 10 defect 1: streams do not starve the cluster's plain requests --------------


@dataclass
class Probes:
    """Plain requests on the streams' cluster, timed by a process of its own
    (tests/harness/latencyprobe.py): while the streams open, while all are held, while
    they finish."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    all_open_at: float = float("inf")  # time.monotonic(), the same clock as the prober's
    released_at: float = float("inf")
    rss_peak_kib: int = 0

    def gets(self, phase: str, what: str = "get") -> list[float]:
        lo, hi = {
            "opening": (0.0, self.all_open_at),
            "held": (self.all_open_at, self.released_at),
            "finishing": (self.released_at, float("inf")),
        }[phase]
        return [x["seconds"] for x in self.lines if x["what"] == what and lo <= x["start"] < hi]

    @property
    def states(self) -> list[str]:
        return [
            x.get("state") or f"status {x['status']}" for x in self.lines if x["what"] == "clusters"
        ]

    @staticmethod
    def summary(times: list[float]) -> str:
        if not times:
            return "none"
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return (
            f"n={len(times)} p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
        )


async def _read_channels(ws: aiohttp.ClientWebSocketResponse) -> tuple[bytes, int | None]:
    """stdout of a channel-protocol session until the server's Close, and its code."""
    out = b""
    while True:
        msg = await ws.receive()
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return out, msg.data
        assert msg.type is aiohttp.WSMsgType.BINARY, msg
        if msg.data[:1] == b"\x01":
            out += msg.data[1:]


@contextlib.asynccontextmanager
async def _prober(served: Served, probes: Probes) -> AsyncIterator[None]:
    """The latency prober as a process (GETs of a list on the cluster, `/api/clusters`
    with a fresh probe of it every fifth), and the server's RSS sampled meanwhile."""
    path = "/api/v1/namespaces/default/configmaps"
    env = dict(os.environ)
    direct: list[str] = []
    if served.url in DIRECT:
        sim_url, env["LATENCYPROBE_TOKEN"], ca = DIRECT[served.url]
        env["LATENCYPROBE_CA"] = str(ca)
        direct = [sim_url + path]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.harness.latencyprobe",
        _base(served) + path,
        f"{served.url}/api/clusters?recheck={NAME}",
        NAME,
        *direct,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None

    async def collect() -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            probes.lines.append(json.loads(line))

    async def sample_rss() -> None:
        while True:
            probes.rss_peak_kib = max(probes.rss_peak_kib, served.rss_kib())
            await asyncio.sleep(0.5)

    reading = asyncio.create_task(collect())
    sampling = asyncio.create_task(sample_rss())
    try:
        yield
    finally:
        sampling.cancel()
        proc.stdin.close()
        async with asyncio.timeout(150):
            await reading
            await proc.wait()


async def _held_streams(
    served: Served,
    http: aiohttp.ClientSession,
    execs: int,
    logs: int,
    held_gets: int = 60,
    limit: float = 600,
) -> tuple[float, Probes]:
    """`execs` exec sessions (`cat`) and `logs` log follows on one cluster, all open at the
    same time; while they open and while all are held, plain GETs on the same cluster are
    timed. Then each exec gets 300 numbered lines on stdin and must echo them exactly,
    each follow must have read its 30 lines exactly. Returns (seconds, probes)."""
    base = _base(served)
    ws_base = base.replace("http://", "ws://", 1)
    ns, pod, container = await find_pod(http, base)
    cat_url = ws_base + exec_path(ns, pod, container, ["cat"], stdin=True)
    payload = "".join(f"{i}\n" for i in range(1, 301)).encode()
    q = {"container": container, "timestamps": "true"}
    async with http.get(f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?{urlencode(q)}") as r:
        truth = (await r.text()).splitlines()[-30:]
    follow_q = urlencode({**q, "follow": "true", "sinceTime": stamp_of(truth[0])[2]})
    log_url = ws_base + f"/api/v1/namespaces/{ns}/pods/{pod}/log?{follow_q}"
    total = execs + logs
    opened = 0
    all_open, release = asyncio.Event(), asyncio.Event()

    def one_more_open() -> None:
        nonlocal opened
        opened += 1
        if opened == total:
            all_open.set()

    handshakes = asyncio.Semaphore(OPENING_AT_ONCE)

    async def connect(url: str, protocols: tuple[str, ...]) -> aiohttp.ClientWebSocketResponse:
        async with handshakes:
            return await http.ws_connect(url, protocols=protocols, heartbeat=None)

    async def one_exec() -> None:
        async with await connect(cat_url, EXEC_OFFER) as ws:
            assert ws.protocol == V5, ws.protocol  # v5: stdin can be closed
            # Read all along: the proxy's pings are answered only by a reading client.
            reading = asyncio.create_task(_read_channels(ws))
            one_more_open()
            await release.wait()
            await ws.send_bytes(b"\x00" + payload)
            await ws.send_bytes(b"\xff\x00")  # close stdin: cat ends
            out, code = await reading
        assert out == payload and code == 1000, (out[-100:], code)

    async def one_log() -> None:
        buf = b""
        async with await connect(log_url, LOG_PROTOCOLS) as ws:
            while buf.count(b"\n") < len(truth):
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.BINARY, msg
                buf += msg.data if ws.protocol == "binary.k8s.io" else base64.b64decode(msg.data)
            one_more_open()
            while not release.is_set():  # go on reading (pings) until released
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        msg = await ws.receive()
                        assert msg.type is aiohttp.WSMsgType.BINARY, msg
        assert buf.decode().splitlines()[: len(truth)] == truth

    probes = Probes()
    start = time.monotonic()
    streams: list[asyncio.Task[None]] = []
    try:
        async with _prober(served, probes), asyncio.timeout(limit):
            await eventually_async(lambda: len(probes.lines) >= 3, limit=60, what="prober")
            streams = [
                asyncio.create_task(one_exec() if i < execs else one_log()) for i in range(total)
            ]
            waiting = asyncio.create_task(all_open.wait())
            # Every stream open, or one ended before the release (that is its failure).
            await asyncio.wait([waiting, *streams], return_when=asyncio.FIRST_COMPLETED)
            early = [t.exception() for t in streams if t.done()]
            assert not early, [
                (type(e).__name__, getattr(e, "status", None), getattr(e, "message", str(e)))
                for e in early[:3]
            ] + [line for line in served.output().splitlines() if "status=5" in line][:5]
            probes.all_open_at = time.monotonic()
            await eventually_async(
                lambda: _at_least(http, served, total), limit=60, what=f"{total} streams open"
            )
            await eventually_async(lambda: len(probes.gets("held")) >= held_gets, limit=300)
            probes.released_at = time.monotonic()
            release.set()
            await asyncio.gather(*streams)
            await eventually_async(lambda: len(probes.gets("finishing")) >= 5, limit=60)
    except TimeoutError:
        ended = sum(t.done() for t in streams)
        raise AssertionError(
            f"not done within {limit} s: {opened}/{total} streams opened, {ended} ended, "
            f"all open: {all_open.is_set()}, released: {release.is_set()}; "
            f"{len(probes.lines)} probes"
        ) from None
    finally:
        release.set()
        for t in streams:
            t.cancel()
    return time.monotonic() - start, probes


async def _defect1(
    served: Served, http: aiohttp.ClientSession, execs: int, logs: int, limit: float
) -> None:
    rss_before = served.rss_kib()
    took, probes = await _held_streams(served, http, execs, logs, limit=limit)
    phases = "".join(
        f"\n  {p}: {Probes.summary(probes.gets(p))}; direct to the simulator: "
        f"{Probes.summary(probes.gets(p, 'direct'))}"
        for p in ("opening", "held", "finishing")
    )
    print(
        f"\n{execs} exec sessions + {logs} log follows held open on one cluster, then "
        f"completed in order: {took:.1f} s; server RSS {rss_before // 1024} → peak "
        f"{probes.rss_peak_kib // 1024} MiB; GET of a list on the same cluster:{phases}"
        f"\n  /api/clusters state: {sorted(set(probes.states))} ({len(probes.states)} probes)"
    )
    failed = [x for x in probes.lines if x["status"] != 200]
    assert not failed, failed[:3]
    # Before the fix the 65th stream took the cluster's last pooled connection: every GET
    # then waited for one until the connect timeout and got a 504, and the probe called the
    # cluster unreachable. With every stream open the GETs answer within generous bounds
    # (milliseconds on an idle box); while 1,500 handshakes are under way on a loaded
    # 2-core box a GET may take seconds, never the timeout.
    held = probes.gets("held")
    # A simulator that itself stalls for seconds on a loaded box is not kubelantern's doing:
    # the bound grows with the slowest direct answer of the same phase.
    bound = max(5.0, 2 * max(probes.gets("held", "direct"), default=0.0) + 1.0)
    assert statistics.median(held) < 1.0 and max(held) < bound, (Probes.summary(held), bound)
    times = [x["seconds"] for x in probes.lines if x["what"] == "get"]
    assert max(times) < 20.0, Probes.summary(times)
    # "unknown": the probe was still under way when /api/clusters stopped waiting (3 s).
    assert "ok" in probes.states and set(probes.states) <= {"ok", "unknown"}, probes.states


@pytest.mark.timeout(300)
async def test_300_streams_on_one_cluster_leave_its_plain_requests_fast(
    served_apart: Served, http: aiohttp.ClientSession
) -> None:
    await _defect1(served_apart, http, execs=200, logs=100, limit=240)


@pytest.mark.soak
@pytest.mark.timeout(900)
async def test_1000_execs_and_500_log_follows_on_one_cluster_leave_its_requests_fast(
    served_apart: Served, http: aiohttp.ClientSession
) -> None:
    await _defect1(served_apart, http, execs=1000, logs=500, limit=800)


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
    holding: list[asyncio.Task[None]] = []
    sem = asyncio.Semaphore(100)

    async def hold(ws: aiohttp.ClientWebSocketResponse) -> None:
        # Idle as a browser is: reading, so that kubelantern's pings get their pongs
        # (it closes a session whose client stays silent for 40 s; opening thousands on
        # a loaded box takes longer than that).
        async for _ in ws:
            pass

    async def one() -> None:
        async with sem:
            ws = await http.ws_connect(url, protocols=EXEC_OFFER, heartbeat=None)
            opened.append(ws)
            holding.append(asyncio.create_task(hold(ws)))

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
        for t in holding:
            t.cancel()


async def _at_least(http: aiohttp.ClientSession, served: Served, n: int) -> bool:
    return await metric(http, served, "kubelantern_active_streams") >= n


@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.xfail(
    strict=True,
    reason="open: an idle exec WebSocket costs ~50-52 KiB of server RSS with 5,000 open "
    "(this test, 3 rounds alternated: 50.0 [49.8-50.2] against 51.4 [51.0-51.5] before the "
    "waiting frames let the plan and request view go; 59.0 earlier; goal <= 30 KiB; kubectl "
    "proxy ~89). Bounded by OpenSSL's state of the upstream TLS leg (~24 KiB; ~10 of it kept after "
    "the server's TLS 1.3 session ticket, which only the server can skip) and Python objects "
    "(tracemalloc): the request handler chain aiohttp keeps for the session's life (2 tasks, "
    "10 coroutine frames, the Request and its headers; ending it while the tunnel keeps the "
    "socket is not done yet), both transports, the SSL protocol and object; the rest is "
    "allocator overhead",
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
