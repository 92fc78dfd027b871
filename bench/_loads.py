"""The loads: each runs against one stack and returns plain records (dicts) for the JSON.

Throughput loads (`THROUGHPUT`) run in rounds: one discarded warm-up round, then rounds whose
order rotates so that the machine's noise hits every path alike; each transfer records the
proxy's CPU (all threads), minor page faults, wall time and the other processes' CPU.

SPDY/3.1 (kubectl ≤ 1.29, and any kubectl against an older server) goes through
kubelantern's upgrade tunnel: `spdy_exec` (exec stdout) and `spdy_forward` (a port-forward
echo, SIZE each way) speak it with `_spdy.py`'s light client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import selectors
import socket
import ssl
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from bench import _clients as c
from bench import _spdy
from bench._procs import measure, rss
from bench._stack import Stack
from bench._stats import percentile, spread

Record = dict[str, Any]

EXEC = "v5.channel.k8s.io"
LOG_WS = "binary.k8s.io"


def rotate(items: Sequence[c.Endpoint], k: int) -> list[c.Endpoint]:
    k %= len(items)
    return [*items[k:], *items[:k]]


# -- throughput ------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    name: str
    what: str
    # (stack, endpoint, size in bytes) -> payload bytes received; raises when wrong.
    run: Callable[[Stack, c.Endpoint, int], int]
    prepare: Callable[[Stack, int], None] = lambda stack, size: None


def _http_log(stack: Stack, ep: c.Endpoint, size: int) -> int:
    status, got = c.get(ep, "/api/v1/namespaces/bench/pods/bulk/log?container=firehose")
    if status != 200 or got != size:
        raise RuntimeError(f"{ep.label}: HTTP log: status {status}, {got} of {size} bytes")
    return got


def _ws_logs(stack: Stack, ep: c.Endpoint, size: int) -> int:
    path = "/api/v1/namespaces/bench/pods/bulk/log?container=firehose"
    out = c.websocket(ep, path, LOG_WS, channels=False)
    if out.status != 101 or out.payload != size:
        raise RuntimeError(f"{ep.label}: WS log: status {out.status}, {out.payload} of {size}")
    return out.payload


def _ws_exec(stack: Stack, ep: c.Endpoint, size: int) -> int:
    ns, pod, _ = stack.shell
    query = urlencode(
        [("command", "firehose"), ("command", str(size)), ("command", "32K"), ("stdout", "1")]
    )
    out = c.websocket(ep, f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}", EXEC, channels=True)
    got = out.by_channel.get(1, 0)
    if out.status != 101 or got != size:
        raise RuntimeError(f"{ep.label}: exec: status {out.status}, {got} of {size} bytes")
    return got


def _spdy_exec(stack: Stack, ep: c.Endpoint, size: int) -> int:
    return _spdy.exec_stdout(ep, stack.shell, size)


def _spdy_forward(stack: Stack, ep: c.Endpoint, size: int) -> int:
    return _spdy.forward_echo(ep, _spdy.echo_target(stack.api), size)


THROUGHPUT = [
    Throughput("http_log", "HTTP log body (chunked, firehose)", _http_log, Stack.set_firehose),
    Throughput("ws_exec", "WebSocket exec stdout, 32 KiB frames (v5)", _ws_exec),
    Throughput("ws_logs", "logs over WebSocket, 2 KiB messages", _ws_logs, Stack.set_firehose),
    Throughput("spdy_exec", "SPDY/3.1 exec stdout, 32 KiB writes (v4)", _spdy_exec),
    Throughput("spdy_forward", "SPDY/3.1 port-forward echo (SIZE each way)", _spdy_forward),
]


def throughput(
    stack: Stack, stack_id: int, load: Throughput, size: int, rounds: int
) -> list[Record]:
    """One warm-up round (discarded), then `rounds` rounds in rotated order."""
    load.prepare(stack, size)
    records: list[Record] = []
    for rnd in range(-1, rounds):
        for ep in rotate(stack.targets, max(rnd, 0)):
            with measure(ep.pid, stack.pids) as u:
                moved = load.run(stack, ep, size)
            if rnd < 0:
                continue
            gb = moved / 1e9
            records.append(
                {
                    "stack": stack_id,
                    "round": rnd,
                    "target": ep.label,
                    "bytes": moved,
                    "wall_s": round(u.wall_s, 4),
                    "mb_s": round(moved / 1e6 / u.wall_s, 1),
                    "cpu_s": round(u.cpu_s, 4) if ep.pid else None,
                    "cpu_s_per_gb": round(u.cpu_s / gb, 4) if ep.pid else None,
                    "minflt_per_gb": round(u.minflt / gb) if ep.pid else None,
                    "others_cores": round(u.others_cores, 3),
                    "irq_cores": round(u.irq_cores, 3),
                    "steal_cores": round(u.steal_cores, 3),
                    "noisy": u.noisy,
                }
            )
    return records


# -- logs -f line latency ----------------------------------------------------------------

TIMESTAMP = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ")


def _ts(raw: bytes) -> float:
    text = raw.decode()
    whole, _, frac = text[:-1].partition(".")
    base = dt.datetime.fromisoformat(whole + "+00:00").timestamp()
    return base + (float("0." + frac) if frac else 0.0)


def follow_latency(stack: Stack, seconds: float) -> dict[str, Any]:
    """All paths follow the same container at once (`logs -f`, timestamps on); a line's
    latency is its arrival here minus its timestamp. The simulator writes 2 lines/s."""
    ns, pod, container = stack.shell
    path = (
        f"/api/v1/namespaces/{ns}/pods/{pod}/log?"
        + urlencode({"container": container, "follow": "true", "timestamps": "true",
                     "tailLines": "0"})
    )  # fmt: skip
    sel = selectors.DefaultSelector()
    arrivals: dict[str, dict[bytes, float]] = {}
    pending: dict[str, bytes] = {}
    socks: list[socket.socket] = []
    try:
        for ep in stack.targets:
            sock = c.connect(ep)
            socks.append(sock)
            sock.sendall(c.request_head(ep, "GET", path, {"Connection": "close"}))
            r = c.Reader(sock)
            status, _ = c.read_head(r)
            if status != 200:
                raise RuntimeError(f"{ep.label}: logs -f answered {status}")
            pending[ep.label] = bytes(r.buf[r.start : r.end])
            arrivals[ep.label] = {}
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, ep.label)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                conn, label = key.fileobj, key.data
                assert isinstance(conn, socket.socket)
                data = b""
                try:
                    while True:
                        chunk = conn.recv(65536)
                        if not chunk:
                            sel.unregister(conn)
                            break
                        data += chunk
                        if not (isinstance(conn, ssl.SSLSocket) and conn.pending()):
                            break
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                now = time.time()
                buf = pending[label] + data
                end = 0
                for m in TIMESTAMP.finditer(buf):
                    arrivals[label].setdefault(m.group(1), now)
                    end = m.end()
                pending[label] = buf[end:]
    finally:
        sel.close()
        for sock in socks:
            sock.close()
    out: dict[str, Any] = {"seconds": seconds, "targets": {}}
    direct = arrivals.get("direct", {})
    for label, seen in arrivals.items():
        lat = [(t - _ts(ts)) * 1000 for ts, t in seen.items()]
        added = [(t - direct[ts]) * 1000 for ts, t in seen.items() if ts in direct]
        out["targets"][label] = {
            "lines": len(lat),
            "latency_ms": spread(lat) | {"p90": percentile(lat, 90) if lat else None},
            "added_over_direct_ms": spread(added) if label != "direct" else None,
        }
    return out


# -- many streams at once ----------------------------------------------------------------


async def _ws_open(ep: c.Endpoint, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(ep.host, ep.port, ssl=ep.tls)
    writer.write(c.upgrade_request(ep, path, EXEC))
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        status = head.split(b"\r\n")[0]
        raise RuntimeError(f"{ep.label}: upgrade refused: {status!r}")
    return reader, writer


async def _ws_read_all(reader: asyncio.StreamReader) -> dict[int, bytearray]:
    """Every message of a server's stream until its close frame, by channel."""
    channels: dict[int, bytearray] = {}
    channel = -1
    while True:
        try:
            b0, b1 = await reader.readexactly(2)
        except asyncio.IncompleteReadError:
            return channels
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(await reader.readexactly(2))
        elif n == 127:
            n = int.from_bytes(await reader.readexactly(8))
        payload = await reader.readexactly(n)
        opcode = b0 & 0x0F
        if opcode == 8:
            return channels
        if opcode >= 8:
            continue
        if opcode != 0 and payload:
            channel, payload = payload[0], payload[1:]
        channels.setdefault(channel, bytearray()).extend(payload)


async def _one_seq(ep: c.Endpoint, path: str, expected: bytes) -> bool:
    reader, writer = await _ws_open(ep, path)
    try:
        got = await _ws_read_all(reader)
    finally:
        writer.close()
    return bytes(got.get(1, b"")) == expected


async def _concurrent(stack: Stack, ep: c.Endpoint, n: int, lines: int) -> Record:
    ns, pod, _ = stack.shell
    query = urlencode(
        [("command", "seq"), ("command", "1"), ("command", str(lines)), ("stdout", "1")]
    )
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}"
    expected = "".join(f"{i}\n" for i in range(1, lines + 1)).encode()
    peak = 0

    async def watch_rss() -> None:
        nonlocal peak
        while ep.pid:
            peak = max(peak, rss(ep.pid))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch_rss())
    with measure(ep.pid, stack.pids) as u:
        results = await asyncio.gather(
            *(_one_seq(ep, path, expected) for _ in range(n)), return_exceptions=True
        )
    watcher.cancel()
    errors = [r for r in results if isinstance(r, BaseException)]
    return {
        "streams": n,
        "bytes_each": len(expected),
        "complete_in_order": sum(1 for r in results if r is True),
        "errors": len(errors),
        "first_error": repr(errors[0]) if errors else None,
        "wall_s": round(u.wall_s, 3),
        "cpu_s": round(u.cpu_s, 3) if ep.pid else None,
        "peak_rss_mb": round(peak / 2**20, 1) if ep.pid else None,
        "others_cores": round(u.others_cores, 3),
        "irq_cores": round(u.irq_cores, 3),
        "steal_cores": round(u.steal_cores, 3),
        "noisy": u.noisy,
    }


def concurrent_streams(stack: Stack, n: int, lines: int) -> dict[str, Record]:
    """n exec streams (`seq 1 lines`) at once per path; each must arrive whole and in order."""
    return {ep.label: _guarded(n, partial(_run, _concurrent(stack, ep, n, lines)))
            for ep in stack.targets}  # fmt: skip


# -- idle WebSockets ---------------------------------------------------------------------


async def _hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An idle session as a browser holds one: nothing to say, but each ping answered with
    its pong (kubelantern closes a session whose client stays silent for 40 s). Returns when
    the server closes the session."""
    while True:
        try:
            b0, b1 = await reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await reader.readexactly(2))
            elif n == 127:
                n = int.from_bytes(await reader.readexactly(8))
            payload = await reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        opcode = b0 & 0x0F
        if opcode == 8:
            return
        if opcode == 9:
            writer.write(c.masked_frame(10, payload))


async def _idle(stack: Stack, ep: c.Endpoint, n: int, settle: float, after_s: float) -> Record:
    assert ep.pid is not None
    ns, pod, container = stack.shell
    query = urlencode(
        [("command", "cat"), ("stdin", "1"), ("stdout", "1"), ("container", container)]
    )
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}"
    holding: list[asyncio.Task[None]] = []

    async def open_batch(count: int) -> list[asyncio.StreamWriter]:
        opened = await asyncio.gather(*(_ws_open(ep, path) for _ in range(count)))
        holding.extend(asyncio.create_task(_hold(r, w)) for r, w in opened)
        return [w for _, w in opened]

    async def close_all(writers: list[asyncio.StreamWriter]) -> None:
        for w in writers:
            w.write(c.masked_frame(8, (1000).to_bytes(2)))
            w.close()
        await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
        for t in holding:
            t.cancel()
        holding.clear()

    await close_all(await open_batch(min(n, 20)))  # first sessions' one-off allocations
    await asyncio.sleep(settle)
    base = rss(ep.pid)
    writers: list[asyncio.StreamWriter] = []
    started = time.perf_counter()
    while len(writers) < n:
        writers += await open_batch(min(100, n - len(writers)))
    open_s = time.perf_counter() - started
    await asyncio.sleep(settle)
    opened = rss(ep.pid)
    # Sessions the server has not closed (a session it closed would hold nothing: the
    # figure per session would be too low).
    alive = sum(1 for t in holding if not t.done())
    await close_all(writers)
    await asyncio.sleep(after_s)  # kubelantern gives free heap back every 10 s
    after = rss(ep.pid)
    if alive < n:
        raise RuntimeError(f"{ep.label}: only {alive} of {n} idle sessions were still open")
    return {
        "sessions": n,
        "alive_when_measured": alive,
        "open_s": round(open_s, 2),
        "baseline_mb": round(base / 2**20, 1),
        "open_mb": round(opened / 2**20, 1),
        "after_close_mb": round(after / 2**20, 1),
        "kib_per_session": round((opened - base) / n / 1024, 1),
        "after_close_over_baseline_mb": round((after - base) / 2**20, 1),
        # "near baseline": at most a tenth of what the sessions had taken is still held.
        "back_near_baseline": (after - base) <= max(0.1 * (opened - base), 8 * 2**20),
    }


def idle_websockets(stack: Stack, n: int, settle: float, after_s: float) -> dict[str, Record]:
    """RSS per idle proxied exec session (`cat`, stdin open), then after they all close."""
    return {ep.label: _guarded(n, partial(_run, _idle(stack, ep, n, settle, after_s)))
            for ep in stack.targets if ep.pid}  # fmt: skip


def _run(coro: Coroutine[Any, Any, Record]) -> Record:
    return asyncio.run(coro)


def _guarded(n: int, fn: Callable[[], Record]) -> Record:
    """One path's result, or its error (the other paths are still measured)."""
    try:
        return fn()
    except Exception as exc:
        return {"sessions": n, "streams": n, "error": repr(exc)}
