"""The bridge's fast path: after both handshakes, WebSocket frames pass through as bytes.

Valid when no extension was negotiated (DESIGN §4): server frames are unmasked on both
legs and a client's masked frame stays valid towards the upstream, so each direction's
bytes are written to the other socket unchanged. A tiny frame-header tracker follows the
frame boundaries (O(1) work per frame, never per byte) so that kubelantern can still:

- inject its own keepalive pings at a boundary (the peer's pong then travels on as an
  unsolicited pong, which RFC 6455 §5.5.3 allows and the other end ignores);
- refuse a frame larger than the bound (Close 1009 to both sides);
- say goodbye with Close 1001 at shutdown;
- hold the upstream's first bytes after the 101 for a client that would drop them
  (client-go < 1.34: `handover.py` decides, `hold.py` holds).

Pings from either end, pongs and the close handshake pass end to end, so client-go's
5 s ping / 61 s pong deadline is answered by the API server itself.

Backpressure: when the destination's write buffer passes its high-water mark the source
socket stops reading until it drains (TCP then throttles the sender); memory per tunnel
stays at the transports' buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, web

from kubelantern.clusters.profiles import Strategy
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy.ws.dial import MAX_MESSAGE_BYTES, RawUpstream
from kubelantern.proxy.ws.frames import (
    OP_CLOSE,
    OP_PING,
    FrameTracker,
    close_payload,
    control_frame,
)
from kubelantern.proxy.ws.handover import decide
from kubelantern.proxy.ws.hold import HeldDown
from kubelantern.settings import Settings

log = logging.getLogger(__name__)

# --- IO -------------------------------------------------------------------------------


class _Leg:
    """One direction: bytes arriving on `src` (an aiohttp protocol) are written to `dst`.

    Installed as the aiohttp protocol's payload parser (`feed_data` / `feed_eof`).
    """

    # Two per idle WebSocket: slots instead of an instance dict each (issue 12).
    __slots__ = (
        "_draining",
        "dst",
        "dst_masked",
        "eof",
        "last_seen",
        "pending",
        "src",
        "tracker",
        "tunnel",
    )

    def __init__(
        self, tunnel: RawTunnel, src: Any, dst: Any, *, dst_masked: bool, max_payload: int
    ) -> None:
        self.tunnel = tunnel
        self.src = src
        self.dst = dst
        self.dst_masked = dst_masked  # frames we inject towards dst must be masked
        self.tracker = FrameTracker(max_payload)
        self.pending: list[bytes] = []  # injected frames waiting for a boundary
        self.eof = False
        self.last_seen = time.monotonic()  # bytes from src (any frame: our pong, data)
        self._draining = False

    # aiohttp parser interface ------------------------------------------------------
    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.tunnel.finished or self.tracker.oversized:
            return False, b""
        self.last_seen = time.monotonic()
        bounds = self.tracker.feed(data)
        transport = self.dst.transport
        if transport is None:
            return False, b""
        if self.tracker.oversized:
            # Forward the complete frames before the oversized header, then say 1009.
            transport.write(data[: bounds[-1] if bounds else 0])
            self.tunnel.too_big()
            return False, b""
        if self.pending and bounds:
            cut = bounds[0]
            transport.write(data[:cut])
            for frame in self.pending:
                transport.write(frame)
            self.pending.clear()
            transport.write(data[cut:])
        else:
            transport.write(data)
        if self.tracker.answered and self.tunnel.held is not None:
            self.tunnel.held.client_answered()
        if self.dst.writing_paused and not self._draining:
            self._draining = True
            self.src.pause_reading()
            self.tunnel.spawn(self._resume_when_drained())
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True
        self.tunnel.leg_closed(self)

    # ---------------------------------------------------------------------------------
    def inject(self, frame: bytes) -> None:
        transport = self.dst.transport
        if transport is None:
            return
        if self.tracker.at_boundary:
            transport.write(frame)
        else:
            self.pending.append(frame)

    async def _resume_when_drained(self) -> None:
        try:
            await self.dst._drain_helper()
        except ConnectionError:
            return
        finally:
            self._draining = False
        if self.src.transport is not None:
            self.src.resume_reading(resume_parser=False)


class RawTunnel:
    """Both directions of one bridged WebSocket, as bytes."""

    __slots__ = (
        "_done",
        "_ping_timer",
        "_tasks",
        "client",
        "close_code",
        "down",
        "finished",
        "held",
        "name",
        "ping_interval",
        "up",
        "upstream",
    )

    def __init__(
        self,
        client_protocol: Any,
        upstream_protocol: Any,
        *,
        name: str,
        ping_interval: float | None,
        max_payload: int,
    ) -> None:
        self.name = name
        self.client = client_protocol
        self.upstream = upstream_protocol
        # Towards the client we speak as a server (unmasked); towards upstream as a client.
        self.up = _Leg(
            self, client_protocol, upstream_protocol, dst_masked=True, max_payload=max_payload
        )
        self.down = _Leg(
            self, upstream_protocol, client_protocol, dst_masked=False, max_payload=max_payload
        )
        self.ping_interval = ping_interval
        self.finished = False
        self.close_code: int | None = None  # what kubelantern itself sent, if anything
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] | None = None  # made by the first spawn
        self._ping_timer: asyncio.TimerHandle | None = None
        self.held: HeldDown | None = None  # upstream bytes kept back after the 101

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Until both sockets are closed."""
        if self.ping_interval:
            self._ping_timer = asyncio.get_running_loop().call_later(
                self.ping_interval, self._keepalive, self.ping_interval
            )
        try:
            await self._done
        finally:
            if self._ping_timer is not None:
                self._ping_timer.cancel()
            if self.held is not None:
                self.held.cancel()
            for task in list(self._tasks or ()):
                task.cancel()

    def _keepalive(self, interval: float) -> None:
        # A timer, not a task: an idle tunnel keeps one TimerHandle instead of a task, its
        # coroutine and a sleeping future (issue 12: memory per idle WebSocket).
        # Our pings go to both ends; a peer that sends nothing at all (not even the pong)
        # for two intervals (5 s at least) is hung: both legs get Close 1011 with a reason.
        self._ping_timer = None
        if self.finished:
            return
        deadline = max(2 * interval, 5.0)
        now = time.monotonic()
        for leg, who in ((self.down, "upstream"), (self.up, "client")):
            if now - leg.last_seen > deadline:
                log.warning("cluster=%s %s did not answer pings: closing", self.name, who)
                self.say_goodbye(1011, f"{who} did not answer pings for {deadline:.0f} s")
                return
        self.down.inject(control_frame(OP_PING, b"kubelantern", masked=False))
        self.up.inject(control_frame(OP_PING, b"kubelantern", masked=True))
        self._ping_timer = asyncio.get_running_loop().call_later(
            interval, self._keepalive, interval
        )

    def leg_closed(self, leg: _Leg) -> None:
        """One socket reached EOF: flush and close the other one too. A peer gone without
        its Close frame is said on the other leg (1011 from upstream, 1001 from client)."""
        other = leg.dst.transport
        if other is not None and not other.is_closing():
            if not leg.tracker.close_seen and self.close_code is None and leg.tracker.at_boundary:
                lost = (
                    (1011, "upstream connection lost")
                    if leg is self.down
                    else (1001, "client went away")
                )
                other.write(control_frame(OP_CLOSE, close_payload(*lost), masked=leg.dst_masked))
            other.close()  # writes what is buffered first
        if (self.up.eof and self.down.eof) or (
            self.client.transport is None and self.upstream.transport is None
        ):
            self._finish()
        else:
            # The other side's EOF follows from the close above; do not wait forever.
            self.spawn(self._finish_soon())

    async def _finish_soon(self) -> None:
        await asyncio.sleep(5)
        self._abort()

    def _finish(self) -> None:
        self.finished = True
        if not self._done.done():
            self._done.set_result(None)

    def _abort(self) -> None:
        for proto in (self.client, self.upstream):
            transport = proto.transport
            if transport is not None:
                transport.abort()
        self._finish()

    def too_big(self) -> None:
        log.info("cluster=%s frame over the size bound: closing with 1009", self.name)
        self.say_goodbye(1009, "message too big")

    def say_goodbye(self, code: int, reason: str) -> None:
        """Close both legs ourselves (shutdown 1001, oversized 1009)."""
        if self.finished or self.close_code is not None:
            return
        self.close_code = code
        if self.held is not None:
            self.held.release()  # what the upstream said so far goes before our Close
        payload = close_payload(code, reason)
        for leg in (self.down, self.up):
            transport = leg.dst.transport
            if transport is None:
                continue
            frame = control_frame(OP_CLOSE, payload, masked=leg.dst_masked)
            if leg.tracker.at_boundary or leg.tracker.oversized:
                # An oversized frame's header was not forwarded: the boundary is intact.
                transport.write(frame)
            else:
                leg.pending.append(frame)
        self.spawn(self._close_after_grace())

    async def _close_after_grace(self) -> None:
        # Let the Close frames go out (and the peers answer), then hang up.
        await asyncio.sleep(0.5)
        for proto in (self.client, self.upstream):
            transport = proto.transport
            if transport is not None and not transport.is_closing():
                transport.close()
        await asyncio.sleep(2)
        self._abort()

    async def shutdown(self) -> None:
        self.say_goodbye(1001, "kubelantern is shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.shield(self._done)


# The fast path (frames as bytes, this module; `Settings.ws_fast_path`) leans on
# aiohttp internals (`_post_start`, `set_parser`, `_drain_helper`): if a future aiohttp
# lacks them, the message relay takes over.
TUNNEL_SUPPORTED = (
    hasattr(web.WebSocketResponse, "_post_start")
    and hasattr(aiohttp.client_proto.ResponseHandler, "set_parser")
    and hasattr(aiohttp.base_protocol.BaseProtocol, "_drain_helper")
)


class _TunnelResponse(web.WebSocketResponse):
    """The client's 101, after which its socket feeds the tunnel instead of a parser."""

    tunnel: RawTunnel | None = None

    def _post_start(self, request: Any, protocol: str | None, writer: Any) -> None:
        assert self.tunnel is not None
        self._ws_protocol = protocol
        self._writer = writer
        request.protocol.set_parser(self.tunnel.up)
        request.protocol.keep_alive(False)

    async def write_eof(self, data: bytes = b"") -> None:  # the tunnel owns the socket
        return None

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        if self.tunnel is not None:
            await self.tunnel.shutdown()
        return True


async def tunnel(
    request: web.Request,
    raw: RawUpstream,
    name: str,
    settings: Settings,
    streams: ActiveStreams,
    strategy: Strategy,
    started: float,
) -> web.StreamResponse:
    """The fast path: upgrade the client, then pass frames through as bytes."""
    response = _TunnelResponse(
        protocols=(raw.chosen,) if raw.chosen else (), autoping=False, compress=False
    )
    tunnel = RawTunnel(
        request.protocol,
        raw.protocol,
        name=name,
        ping_interval=settings.ws_ping_interval or None,
        max_payload=MAX_MESSAGE_BYTES,
    )
    response.tunnel = tunnel
    try:
        await response.prepare(request)
    except (ConnectionError, web.HTTPException) as e:
        log.info("cluster=%s client went away during the upgrade: %s", name, e)
        raw.close()
        raise
    handover = decide(request.headers.get("User-Agent"), raw.chosen, sees_pong=True)
    if handover.holds:
        # client-go < 1.34 would drop output sent before it made its streams (handover.py)
        tunnel.held = HeldDown(tunnel.down, raw.protocol, handover, name)
        tunnel.held.start()
    else:
        raw.protocol.set_parser(tunnel.down, None)  # replays what arrived after the 101
    # Both legs' HTTP parsers are done with (the tunnel follows frames itself), but each
    # keeps the last message's headers: let them go with the parsers (aiohttp guards every
    # use of `_parser` with a None check; its own connection_lost sets it to None).
    request.protocol._parser = None
    raw.protocol._parser = None
    log.debug(
        "cluster=%s strategy=%s protocol=%s bridged (bytes) in %.0f ms%s",
        name,
        strategy.name,
        raw.chosen or "-",
        (time.monotonic() - started) * 1000,
        f"; holding output: {handover.reason}" if handover.holds else "",
    )
    try:
        async with streams.track(name, "websocket", tunnel.shutdown):
            await tunnel.run()
    finally:
        if not tunnel.finished:
            with contextlib.suppress(BaseException):
                await asyncio.shield(tunnel.shutdown())
        raw.close()
    return response
