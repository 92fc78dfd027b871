"""The lean upstream client (proxy/upstream/) over real sockets, against a scripted raw
HTTP/1.1 upstream: hostile bytes are a clear 502 Status and the server goes on, streams pass
chunk by chunk, a client that leaves closes the upstream, a stale kept-alive connection is
retried for idempotent requests only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.servers import ServerThread

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"

HOSTILE = {
    "/bad-status": b"HTTP/1.1 abc nope\r\n\r\n",
    "/not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "/huge-head": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    "/bad-chunk": CHUNKED_HEAD + b"zz\r\nhello\r\n0\r\n\r\n",
    "/two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
}


BIG = 64 * 1024 * 1024
PIECE = b"x" * 65536


class Upstream:
    """A raw HTTP/1.1 server acting out each request path's script."""

    def __init__(self) -> None:
        self.release = asyncio.Event()  # /stream's second chunk waits for it
        self.dropped = 0  # requests answered by closing the connection
        self.stream_closed = asyncio.Event()  # /stream's connection was closed by the proxy
        self.connections = 0
        self.big_sent = 0  # /big's body bytes written so far
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> Upstream:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        drop_next = False
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                path = head.split(b" ", 2)[1].decode()
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":")[1]))
                if drop_next:  # a kept-alive connection that the server had closed meanwhile
                    self.dropped += 1
                    return
                if path in HOSTILE:
                    writer.write(HOSTILE[path])
                    await writer.drain()
                    return
                if path == "/once-then-drop":
                    drop_next = True
                elif path == "/until-close":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
                    return
                elif path == "/big":
                    await self._big(writer)
                    return
                elif path == "/stream":
                    await self._stream(reader, writer)
                    return
                writer.write(OK)
                await writer.drain()
        finally:
            writer.close()

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"6\r\nfirst\n\r\n")
        await writer.drain()
        await self.release.wait()
        writer.write(b"3\r\nsec\r\n4\r\nond\n\r\n")  # one event in two chunks
        await writer.drain()
        await reader.read()  # until the proxy closes its side
        self.stream_closed.set()

    async def _big(self, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD)
        for i in range(BIG // len(PIECE)):
            writer.write(b"%x\r\n%s\r\n" % (len(PIECE), bytes([i % 251]) * len(PIECE)))
            await writer.drain()
            self.big_sent += len(PIECE)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


def lantern(
    factory: Callable[..., ServerThread], upstream: Upstream, tmp: Path, client: str = "lean"
) -> str:
    kc = write_kubeconfig(
        tmp / "config", [Context(name="raw", server=f"http://127.0.0.1:{upstream.port}")]
    )
    server = factory(Settings(kubeconfigs=(kc,), launch_token=None, upstream_client=client))
    return f"{server.url}/clusters/raw"


@pytest.mark.parametrize("path", sorted(HOSTILE))
async def test_hostile_answers_are_a_502_status_and_the_server_goes_on(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    path: str,
) -> None:
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + path) as r:
        assert r.status == 502
        body = await r.json()
    assert body["kind"] == "Status" and body["code"] == 502
    assert "cluster 'raw'" in body["message"] and "not HTTP/1.1" in body["message"], body
    async with http.get(base + "/ok") as r:
        assert r.status == 200 and await r.read() == b"{}"


async def test_a_stream_passes_chunk_by_chunk_and_a_client_leaving_closes_the_upstream(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + "/stream") as r:
        assert r.status == 200
        # The second chunk is only sent once the first reached us: no buffering delay.
        assert await asyncio.wait_for(r.content.readany(), 5) == b"first\n"
        upstream.release.set()
        assert await asyncio.wait_for(r.content.readany(), 5) == b"second\n"
        r.close()  # the client leaves mid-stream
    await asyncio.wait_for(upstream.stream_closed.wait(), 5)


@pytest.mark.parametrize("version", ["1.1", "1.0"])
async def test_a_chunked_stream_reaches_a_raw_client_framed_for_its_http_version(
    lantern_factory: Callable[..., ServerThread], upstream: Upstream, tmp_path: Path, version: str
) -> None:
    """HTTP/1.1: the cluster's chunked framing passes through as sent (no de-chunking and
    chunking again); HTTP/1.0 knows no chunks: the bytes alone, until the close."""
    base = lantern(lantern_factory, upstream, tmp_path)
    host, port = base.removeprefix("http://").split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET /clusters/raw/stream HTTP/{version}\r\nHost: {host}:{port}\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"), head
        chunked = version == "1.1"
        assert (b"transfer-encoding: chunked" in head.lower()) == chunked, head
        first, second = (
            (b"6\r\nfirst\n\r\n", b"3\r\nsec\r\n4\r\nond\n\r\n")
            if chunked
            else (b"first\n", b"second\n")
        )
        assert await asyncio.wait_for(reader.readexactly(len(first)), 5) == first
        upstream.release.set()
        assert await asyncio.wait_for(reader.readexactly(len(second)), 5) == second
    finally:
        writer.close()
    await asyncio.wait_for(upstream.stream_closed.wait(), 5)


async def _stops_growing(read: Callable[[], int], *, still_for: float, within: float = 20) -> int:
    """The value once it stayed the same for `still_for` seconds (fails after `within`)."""
    deadline = time.monotonic() + within
    last = read()
    while time.monotonic() < deadline:
        await asyncio.sleep(still_for)
        now = read()
        if now == last:
            return now
        last = now
    raise AssertionError(f"still growing after {within:g}s: {last}")


async def test_a_slow_client_pauses_the_upstream_and_gets_every_byte(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Flow control from the client's connection back to the cluster's: while the client
    reads nothing, the proxy stops reading (the cluster's writes block), then all of it
    arrives in order."""
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + "/big") as r:
        assert r.status == 200
        stalled = await _stops_growing(lambda: upstream.big_sent, still_for=0.5)
        assert stalled < BIG // 2, stalled
        got = 0
        async for data in r.content.iter_any():
            for k in range(0, len(data), 4096):  # spot checks of the order
                i = (got + k) // len(PIECE)
                assert data[k] == i % 251
            got += len(data)
    assert got == BIG


async def test_a_body_until_close_arrives_whole(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + "/until-close") as r:
        assert r.status == 200 and await r.read() == b"all of it"


async def test_a_stale_kept_alive_connection_is_retried_for_idempotent_requests_only(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + "/once-then-drop") as r:
        assert r.status == 200
    async with http.get(base + "/ok") as r:  # reuses the connection the upstream drops
        assert r.status == 200 and await r.read() == b"{}"
    assert upstream.dropped == 1 and upstream.connections == 2
    async with http.get(base + "/once-then-drop") as r:
        assert r.status == 200
    async with http.post(base + "/ok", data=b"{}") as r:  # not idempotent: never resent
        assert r.status == 502
        body = await r.json()
    assert upstream.dropped == 2
    assert "cluster 'raw' closed the connection before answering" in body["message"], body


async def test_connection_refused_names_the_cluster_and_address(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    await upstream.close()
    base = lantern(lantern_factory, upstream, tmp_path)
    async with http.get(base + "/ok") as r:
        assert r.status == 502
        body = await r.json()
    assert f"cannot reach 127.0.0.1:{upstream.port}" in body["message"], body
    assert "cluster 'raw' unreachable" in body["message"]


async def test_the_aiohttp_client_setting_still_proxies(
    lantern_factory: Callable[..., ServerThread],
    upstream: Upstream,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    base = lantern(lantern_factory, upstream, tmp_path, client="aiohttp")
    async with http.get(base + "/ok") as r:
        assert r.status == 200 and await r.read() == b"{}"
    async with http.get(base + "/bad-status") as r:
        assert r.status == 502
