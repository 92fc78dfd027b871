"""Shared pieces of the fault and load suites: a simulator behind a fault proxy, kubelantern
serving it (and a healthy second cluster) as its own process, and clients that behave like
the UI's (log resume with sinceTime, list+watch with resourceVersion and relist on 410)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from tests.conftest import SimCluster
from tests.harness.faultproxy import FaultProxy
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.served import Served, serve

FAULTY = "faulty"  # the cluster behind the fault proxy
STEADY = "steady"  # a healthy cluster beside it
LOG_PROTOCOLS = ("binary.k8s.io", "base64.binary.k8s.io")  # the UI's (logstream.ts)


@dataclass
class Rig:
    served: Served
    proxy: FaultProxy
    sim: SimCluster  # behind the proxy
    steady: SimCluster | None

    def base(self, cluster: str = FAULTY) -> str:
        return f"{self.served.url}/clusters/{quote(cluster, safe='')}"

    def ws_base(self, cluster: str = FAULTY) -> str:
        return self.base(cluster).replace("http://", "ws://", 1)


@contextlib.contextmanager
def rig(
    tmp: Path,
    sim_factory: Callable[..., SimCluster],
    *,
    steady: bool = False,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    stalled: bool = False,  # the proxy holds connections from the start (a hung cluster)
    **sim_config: Any,
) -> Iterator[Rig]:
    sim = sim_factory("kubernetes", **sim_config)
    with FaultProxy("127.0.0.1", sim.server.port) as proxy:
        contexts = [Context(FAULTY, proxy.url, ca_pem=sim.context.ca_pem, token=sim.context.token)]
        other = sim_factory("kubernetes") if steady else None
        if other is not None:
            contexts.append(
                Context(
                    STEADY, other.base_url, ca_pem=other.context.ca_pem, token=other.context.token
                )
            )
        config = write_kubeconfig(tmp / "config", contexts)
        if stalled:
            proxy.stall()
        with serve(config, tmp, extra, env=env) as served:
            yield Rig(served, proxy, sim, other)


async def eventually_async(check: Callable[[], Any], limit: float = 20, what: str = "") -> None:
    """Poll `check` (sync or async) until truthy; fail saying `what` after `limit` s."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {limit}s: {what}")
        await asyncio.sleep(0.1)


async def latency_p50(http: aiohttp.ClientSession, url: str, n: int = 40) -> float:
    """Median seconds of `n` sequential GETs of `url` (each must answer 200)."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with http.get(url) as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def metric(http: aiohttp.ClientSession, served: Served, name: str) -> float:
    """Sum of a Prometheus family's samples in kubelantern's /metrics."""
    async with http.get(f"{served.url}/metrics") as resp:
        text = await resp.text()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head = line.split(" ")[0]
            if head == name or head.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
    return total


# --- logs, resumed the way the UI does (frontend/src/streams/logtext.ts ResumePoint) -------


def stamp_of(line: str) -> tuple[dt.datetime, int, str]:
    """(time, nanoseconds, raw stamp) of a `timestamps=true` log line."""
    raw = line.split(" ", 1)[0]
    base, _, frac = raw.rstrip("Z").partition(".")
    when = dt.datetime.fromisoformat(base).replace(tzinfo=dt.UTC)
    nanos = int((frac + "000000000")[:9]) if frac else 0
    return when, nanos, raw


@dataclass
class LogFollower:
    """Follows one container's log over WebSocket through kubelantern, resuming after a
    drop with sinceTime = the last stamp seen and dropping the repeats the way the UI does."""

    http: aiohttp.ClientSession
    url: str  # .../pods/<pod>/log (no query)
    container: str
    lines: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)  # how each connection ended
    _last: tuple[dt.datetime, int] | None = None
    _last_stamp: str = ""
    _at_last: list[str] = field(default_factory=list)

    def _query(self) -> str:
        q = {"container": self.container, "follow": "true", "timestamps": "true"}
        if self._last_stamp:
            q["sinceTime"] = self._last_stamp
        else:
            q["tailLines"] = "3"
        return urlencode(q)

    def _accept(self, text: str, skipping: dict[str, int] | None) -> dict[str, int] | None:
        when, nanos, raw = stamp_of(text)
        key = (when, nanos)
        if skipping is not None and self._last is not None:
            if key < self._last:
                return skipping
            if key == self._last and skipping.get(text, 0) > 0:
                skipping[text] -= 1
                return skipping
            if key > self._last:
                skipping = None
        if self._last is None or key > self._last:
            self._last, self._last_stamp, self._at_last = key, raw, []
        self._at_last.append(text)
        self.lines.append(text)
        return skipping

    async def run_once(self, until: Callable[[], bool]) -> None:
        """One connection: read until it drops or `until()` holds."""
        skipping: dict[str, int] | None = None
        if self._last is not None:
            skipping = {}
            for t in self._at_last:
                skipping[t] = skipping.get(t, 0) + 1
        buf = b""
        async with self.http.ws_connect(
            f"{self.url}?{self._query()}", protocols=LOG_PROTOCOLS, autoping=True
        ) as ws:
            while not until():
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                    if ws.protocol == "base64.binary.k8s.io":
                        import base64

                        data = base64.b64decode(data)
                    buf += data
                    *whole, buf = buf.split(b"\n")
                    for raw in whole:
                        skipping = self._accept(raw.decode(), skipping)
                    continue
                self.drops.append(f"{msg.type.name} {msg.data!r} {msg.extra!r}")
                if msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1000:
                    # The UI takes 1000 as "the container stopped" and does not resume.
                    raise AssertionError("log stream ended with 1000 after an upstream cut")
                return

    async def follow(self, until: Callable[[], bool], limit: float = 60) -> None:
        """Follow with reconnects (backoff like the UI's, short) until `until()`."""
        async with asyncio.timeout(limit):
            while not until():
                try:
                    await self.run_once(until)
                except aiohttp.WSServerHandshakeError as e:
                    self.drops.append(f"handshake {e.status}")
                    await asyncio.sleep(0.3)


# --- list + watch, as the UI's watchList does (frontend/src/api/client.ts) -----------------


@dataclass
class Watcher:
    http: aiohttp.ClientSession
    url: str  # a collection URL through kubelantern
    objects: dict[str, str] = field(default_factory=dict)  # name -> resourceVersion
    added: list[str] = field(default_factory=list)  # ADDED names after the list, in order
    relists: int = 0
    rv: str = ""
    ends: list[str] = field(default_factory=list)

    async def list(self) -> None:
        async with self.http.get(self.url) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        self.rv = body["metadata"]["resourceVersion"]
        self.objects = {
            o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in body["items"]
        }
        self.relists += 1

    async def watch_once(self, stop: asyncio.Event) -> str:
        """One watch request: 'relist' on an ERROR event, 'again' when the stream ends."""
        q = urlencode({"watch": "1", "resourceVersion": self.rv, "allowWatchBookmarks": "true"})
        try:
            async with self.http.get(f"{self.url}?{q}") as resp:
                if resp.status == 410:
                    return "relist"
                if resp.status != 200:
                    self.ends.append(f"status {resp.status}")
                    return "again"
                async for raw in resp.content:
                    if stop.is_set():
                        return "stop"
                    line = raw.strip()
                    if not line:
                        continue
                    ev = json.loads(line)
                    if ev["type"] == "ERROR":
                        self.ends.append(f"ERROR {ev['object'].get('code')}")
                        return "relist"
                    meta = ev["object"]["metadata"]
                    self.rv = meta["resourceVersion"]
                    if ev["type"] == "ADDED":
                        self.added.append(meta["name"])
                        self.objects[meta["name"]] = meta["resourceVersion"]
                    elif ev["type"] == "MODIFIED":
                        self.objects[meta["name"]] = meta["resourceVersion"]
                    elif ev["type"] == "DELETED":
                        self.objects.pop(meta["name"], None)
                self.ends.append("eof")
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as e:
            self.ends.append(type(e).__name__)
        return "again"

    async def run(self, stop: asyncio.Event) -> None:
        await self.list()
        while not stop.is_set():
            outcome = await self.watch_once(stop)
            if outcome == "relist":
                while not stop.is_set():
                    try:
                        await self.list()
                        break
                    except (AssertionError, aiohttp.ClientError):
                        await asyncio.sleep(0.3)
            elif outcome == "again":
                await asyncio.sleep(0.2)
