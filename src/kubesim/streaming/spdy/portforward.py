"""Port-forward over SPDY/3.1 (`portforward.k8s.io`), as the kubelet serves it — on the raw
upgraded connection (kubectl < 1.31, and the fallback) or inside the 1.31+ WebSocket
tunnel (`SPDY/3.1+portforward.k8s.io`).

Per local connection the client opens an error stream (which it half-closes at once) and a
data stream, both with `port` and `requestID` headers. Once both are there, the bytes on
the data stream go to the simulated pod socket and its answers come back; a refused port
is a message on the error stream and both streams reset. The session lives until the
client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web

from ..podsockets import PodServer, refused_message
from .connection import SpdyConnection, SpdyStream, log
from .handshake import (
    PORTFORWARD_PROTOCOLS,
    PROTOCOL_HEADER,
    Refusal,
    missing_upgrade_headers,
    negotiate,
)
from .remotecommand import plain_refusal
from .session import StreamClosedError
from .upgrade import WebSocketPipe, upgrade_spdy

STREAM_CREATION_TIMEOUT = 30.0
TUNNEL_PREFIX = "SPDY/3.1+"


@dataclass(frozen=True)
class PodTarget:
    """Who the forwarded connections reach: the pod's name/uid and its socket servers."""

    pod: str
    uid: str
    servers: Callable[[int], PodServer | None]

    def server(self, port: int) -> PodServer | None:
        return self.servers(port)

    def refused(self, port: int) -> str:
        return refused_message(self.pod, self.uid, port)


def stream_problem(port: str, stream_type: str) -> str | None:
    """The kubelet's checks on a new stream's headers (it resets a stream that fails)."""
    if not port:
        return '"port" header is required'
    try:
        value = int(port, 10)
    except ValueError:
        return f'unable to parse "{port}" as a port'
    if not 0 <= value <= 65535:
        return f'unable to parse "{port}" as a port: value out of range'
    if value < 1:
        return f'port "{port}" must be > 0'
    if not stream_type:
        return '"streamType" header is required'
    if stream_type not in ("error", "data"):
        return f'invalid stream type "{stream_type}"'
    return None


def request_id(stream: SpdyStream) -> str:
    """`requestID`, or (very old clients) derived from the stream id like the kubelet."""
    rid = stream.header("requestid")
    if rid:
        return rid
    if stream.header("streamtype") == "error":
        return str(stream.stream_id)
    return str(stream.stream_id - 2)


@dataclass
class _Pair:
    request_id: str
    error: SpdyStream | None = None
    data: SpdyStream | None = None
    complete: asyncio.Event = field(default_factory=asyncio.Event)


class SpdyPortForward:
    def __init__(self, conn: SpdyConnection, target: PodTarget) -> None:
        self.conn = conn
        self.target = target
        self._pairs: dict[str, _Pair] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        try:
            while (stream := await self.conn.accept()) is not None:
                problem = stream_problem(stream.header("port"), stream.header("streamtype"))
                if problem is not None:
                    log.info("spdy portforward: stream rejected: %s", problem)
                    await stream.reset()
                    continue
                await stream.reply()
                await self._add(stream)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.conn.close()

    async def _add(self, stream: SpdyStream) -> None:
        rid = request_id(stream)
        pair = self._pairs.get(rid)
        if pair is None:
            pair = self._pairs[rid] = _Pair(rid)
            self._spawn(self._monitor(pair))
        kind = stream.header("streamtype")
        if (pair.error if kind == "error" else pair.data) is not None:
            message = f"error processing stream for request {rid}: {kind} stream already assigned"
            log.info("spdy portforward: %s", message)
            await self._print_error(pair, message)
            return
        if kind == "error":
            pair.error = stream
        else:
            pair.data = stream
        if pair.error is not None and pair.data is not None:
            pair.complete.set()
            self._spawn(self._forward(pair.error, pair.data))

    async def _monitor(self, pair: _Pair) -> None:
        try:
            await asyncio.wait_for(pair.complete.wait(), STREAM_CREATION_TIMEOUT)
        except TimeoutError:
            await self._print_error(
                pair, f"timed out waiting for streams of request {pair.request_id}"
            )
        finally:
            self._pairs.pop(pair.request_id, None)

    async def _print_error(self, pair: _Pair, message: str) -> None:
        if pair.error is not None:
            with contextlib.suppress(StreamClosedError):
                await pair.error.write(message.encode())

    async def _forward(self, error: SpdyStream, data: SpdyStream) -> None:
        port = int(data.header("port"))
        server = self.target.server(port)
        try:
            if server is None:
                await error.write(self.target.refused(port).encode())
                await data.reset()
                await error.reset()
                return
            while chunk := await data.read():
                reply, closed = server.receive(chunk)
                if reply:
                    await data.write(reply)
                if closed:
                    break
            await data.close()
            await error.close()
        except StreamClosedError:
            pass  # the client reset the stream or left


async def serve_portforward(conn: SpdyConnection, target: PodTarget) -> None:
    await SpdyPortForward(conn, target).run()


async def handle_spdy_portforward(request: web.Request, target: PodTarget) -> web.StreamResponse:
    """Plain SPDY: negotiate `portforward.k8s.io`, 101, then the session."""
    chosen = negotiate(
        request.headers.getall(PROTOCOL_HEADER, []), PORTFORWARD_PROTOCOLS, len(request.headers)
    )
    if isinstance(chosen, Refusal):
        return plain_refusal(chosen.status, chosen.text, chosen.accepted)
    if missing_upgrade_headers(
        request.headers.get(hdrs.CONNECTION, ""), request.headers.get(hdrs.UPGRADE, "")
    ):
        return plain_refusal(400, "unable to upgrade: missing upgrade headers in request")
    conn, response = await upgrade_spdy(request, chosen)
    await serve_portforward(conn, target)
    return response


def tunnel_protocol(offered: list[str]) -> str | Refusal:
    """The `SPDY/3.1+<p>` to upgrade with (the apiserver asks the kubelet for <p>)."""
    inner = [o[len(TUNNEL_PREFIX) :] for o in offered if o.startswith(TUNNEL_PREFIX)]
    if not inner:
        return Refusal(400, "unable to upgrade: no tunneling spdy protocols provided")
    for proto in inner:
        if proto in PORTFORWARD_PROTOCOLS:
            return TUNNEL_PREFIX + proto
    return Refusal(
        403,
        f"unable to upgrade: unable to negotiate protocol: client supports [{' '.join(inner)}], "
        f"server accepts [{' '.join(PORTFORWARD_PROTOCOLS)}]",
        PORTFORWARD_PROTOCOLS,
    )


async def handle_tunnel(
    request: web.Request, offered: list[str], target: PodTarget
) -> web.StreamResponse:
    """The apiserver's tunnel (1.31+): a WebSocket carrying the SPDY bytes to the kubelet."""
    chosen = tunnel_protocol(offered)
    if isinstance(chosen, Refusal):
        return plain_refusal(chosen.status, chosen.text, chosen.accepted)
    ws = web.WebSocketResponse(protocols=(chosen,), compress=False, autoping=True, max_msg_size=0)
    await ws.prepare(request)
    pipe = WebSocketPipe(ws)
    conn = SpdyConnection(pipe)
    pump = asyncio.ensure_future(pipe.pump(conn))
    try:
        await serve_portforward(conn, target)
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        await pipe.close()
    return ws
