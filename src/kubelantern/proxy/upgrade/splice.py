"""Raw bytes both ways between the client's and the upstream's sockets, after both 101s.

Each socket's transport is handed to a `_Side` protocol (`transport.set_protocol`), so a
read is written to the other socket in the same callback: no task, no queue, no copy,
nothing of aiohttp's HTTP machinery in the way. aiohttp's own protocol is still told when
its connection is lost (its server and connector keep their books).

- Backpressure: when one socket's write buffer passes its high-water mark the other one
  stops reading until it drains (TCP then throttles the sender): memory per tunnel stays
  at the transports' buffers, whatever the speeds.
- Half-close: a FIN from a plain-TCP peer becomes `write_eof` on the other socket while
  the reverse direction keeps flowing. TLS has no half-close in asyncio: a TLS peer's
  close closes the other socket once what is buffered was written. (SPDY half-closes
  per stream inside the bytes, which pass untouched.)
- End: once one socket is gone the other is closed after its buffer is flushed, and
  aborted if it has not closed within `LINGER` seconds (a peer that stopped reading).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

LINGER = 5.0  # seconds a closing socket may take to flush before it is aborted


class _Side(asyncio.Protocol):
    """One socket of the tunnel; what it reads goes to the other side's socket."""

    def __init__(self, splice: Splice, transport: Any, aiohttp_protocol: Any) -> None:
        self.splice = splice
        self.transport = transport
        self.previous = aiohttp_protocol
        self.peer: _Side | None = None
        self.bytes_in = 0
        self.eof = False  # the peer of this socket half-closed (FIN) or it is gone
        self.lost = False
        self.tls = transport.get_extra_info("sslcontext") is not None

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        assert peer is not None
        self.bytes_in += len(data)
        if not peer.lost:
            peer.transport.write(data)

    def eof_received(self) -> bool:
        """Keep this socket open for the other direction when both can half-close."""
        self.eof = True
        peer = self.peer
        assert peer is not None
        if not self.tls and not peer.lost and peer.transport.can_write_eof():
            peer.transport.write_eof()
            if peer.eof:
                self.splice.close_both()
            return True
        return False  # the transport closes itself: connection_lost follows

    def pause_writing(self) -> None:
        peer = self.peer
        if peer is not None and not peer.lost:
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer
        if peer is not None and not peer.lost and not peer.transport.is_closing():
            peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = self.eof = True
        with contextlib.suppress(Exception):
            self.previous.connection_lost(exc)  # aiohttp's books (server, connector)
        self.splice.side_lost(self)


class _TappedSide(_Side):
    """A side whose reads are also shown to an observer, after they were forwarded (the
    recording of an exec over SPDY). An observer that fails is dropped, never the tunnel."""

    def __init__(
        self, splice: Splice, transport: Any, aiohttp_protocol: Any, see: Callable[[bytes], None]
    ) -> None:
        super().__init__(splice, transport, aiohttp_protocol)
        self.see: Callable[[bytes], None] | None = see

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.see is not None:
            try:
                self.see(data)
            except Exception:
                log.exception(
                    "tunnel %s: its observer failed; the tunnel goes on", self.splice.name
                )
                self.see = None


class Tap(Protocol):
    """What sees the tunnel's bytes (`upgrade/record.py`); None: the plain splice."""

    def from_client(self, data: bytes) -> None: ...

    def from_upstream(self, data: bytes) -> None: ...


class Splice:
    """Both sockets of one tunnel; `up` counts client → upstream, `down` the way back.
    With a `tap`, each side's reads are also handed to it (a subclass of the side, so
    the untapped path has not even a test per read)."""

    def __init__(self, name: str, tap: Tap | None = None) -> None:
        self.name = name
        self.tap = tap
        self.finished = False
        self.client: _Side | None = None
        self.upstream: _Side | None = None
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._linger: asyncio.TimerHandle | None = None

    @property
    def up(self) -> int:
        return self.client.bytes_in if self.client else 0

    @property
    def down(self) -> int:
        return self.upstream.bytes_in if self.upstream else 0

    def attach(
        self,
        client_transport: Any,
        client_protocol: Any,
        upstream_transport: Any,
        upstream_protocol: Any,
        *,
        client_held: bytes = b"",
        upstream_held: bytes = b"",
    ) -> None:
        """Take both sockets; `*_held` are bytes each side sent after its 101 that reached
        aiohttp before the splice did."""
        client: _Side
        upstream: _Side
        if self.tap is None:
            client = _Side(self, client_transport, client_protocol)
            upstream = _Side(self, upstream_transport, upstream_protocol)
        else:
            tap = self.tap
            client = _TappedSide(self, client_transport, client_protocol, tap.from_client)
            upstream = _TappedSide(self, upstream_transport, upstream_protocol, tap.from_upstream)
        client.peer, upstream.peer = upstream, client
        self.client, self.upstream = client, upstream
        for side in (client, upstream):
            side.transport.set_protocol(side)
            if getattr(side.previous, "writing_paused", False):
                side.pause_writing()  # the high-water mark was passed before the switch
        if upstream_held:
            upstream.data_received(upstream_held)
        if client_held:
            client.data_received(client_held)
        for side in (client, upstream):
            if side.transport.is_closing():
                side.connection_lost(None)
            else:
                side.transport.resume_reading()

    async def run(self) -> None:
        """Until both sockets are closed."""
        try:
            await self._done
        finally:
            if self._linger is not None:
                self._linger.cancel()

    def side_lost(self, side: _Side) -> None:
        peer = side.peer
        if peer is not None and not peer.lost:
            peer.transport.close()  # writes what is buffered first
            if self._linger is None:
                self._linger = asyncio.get_running_loop().call_later(LINGER, self.abort)
        if all(s is None or s.lost for s in (self.client, self.upstream)):
            self._finish()

    def close_both(self) -> None:
        for side in (self.client, self.upstream):
            if side is not None and not side.lost:
                side.transport.close()
        if self._linger is None and not self.finished:
            self._linger = asyncio.get_running_loop().call_later(LINGER, self.abort)

    def abort(self) -> None:
        for side in (self.client, self.upstream):
            if side is not None and not side.lost:
                side.transport.abort()
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        if not self._done.done():
            self._done.set_result(None)

    async def shutdown(self) -> None:
        """Server shutdown: close both sockets (buffers flushed), abort what lingers."""
        if self.finished:
            return
        self.close_both()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LINGER + 1):
                await asyncio.shield(self._done)
        self.abort()
