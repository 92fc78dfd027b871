"""The aiohttp edges of SPDY: the `101 Switching Protocols` and the pipe behind it, and the
pipe inside a WebSocket (`SPDY/3.1+portforward.k8s.io`, the 1.31+ port-forward tunnel).

aiohttp only hands raw bytes over for WebSocket upgrades; for `Upgrade: SPDY/3.1` we
install our own payload parser on the request's protocol before answering, so every
byte after the request line's headers reaches the SPDY session (as the kubelet's hijack
with its buffered reader does).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import WSMsgType, hdrs, web

from .connection import SpdyConnection, log
from .handshake import PROTOCOL_HEADER

SPDY_31 = "SPDY/3.1"


class _Feeder:
    """What aiohttp's protocol calls with the bytes after the upgrade."""

    def __init__(self, conn: SpdyConnection) -> None:
        self._conn = conn

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._conn.feed(data)
        return False, b""

    def feed_eof(self) -> None:
        self._conn.feed_eof()


class UpgradedResponse(web.StreamResponse):
    """The 101; after it the connection is ours, so aiohttp must not write an end."""

    async def write_eof(self, data: bytes = b"") -> None:
        self._eof_sent = True


class RawPipe:
    def __init__(self, request: web.Request, response: UpgradedResponse) -> None:
        self._request = request
        self._response = response

    async def write(self, data: bytes) -> None:
        transport = self._request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client connection is closed")
        await self._response.write(data)
        # Always give the loop a turn: a write to a dead TLS connection neither fails nor
        # blocks, and only the loop can deliver connection_lost (a `yes` would spin).
        await asyncio.sleep(0)

    def pause_reading(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.pause_reading()

    def resume_reading(self) -> None:
        transport = self._request.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()

    async def close(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.close()


async def upgrade_spdy(
    request: web.Request, protocol: str
) -> tuple[SpdyConnection, web.StreamResponse]:
    """Answer 101 like the kubelet (`Connection: Upgrade`, `Upgrade: SPDY/3.1`, the chosen
    `X-Stream-Protocol-Version`) and return the server session on the raw connection."""
    headers: dict[str, str] = {hdrs.CONNECTION: "Upgrade", hdrs.UPGRADE: SPDY_31}
    if protocol:
        headers[PROTOCOL_HEADER] = protocol
    response = UpgradedResponse(status=101, reason="Switching Protocols", headers=headers)
    response.force_close()
    conn = SpdyConnection(RawPipe(request, response))
    proto: Any = request.protocol
    proto.set_parser(_Feeder(conn))
    proto.keep_alive(False)
    await response.prepare(request)
    return conn, response


class WebSocketPipe:
    """SPDY bytes in binary WebSocket messages (boundaries mean nothing)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._resumed = asyncio.Event()
        self._resumed.set()

    async def write(self, data: bytes) -> None:
        if self._ws.closed:
            raise ConnectionResetError("the WebSocket is closed")
        await self._ws.send_bytes(data)

    def pause_reading(self) -> None:
        self._resumed.clear()

    def resume_reading(self) -> None:
        self._resumed.set()

    async def close(self) -> None:
        if not self._ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(code=1000), 5)

    async def pump(self, conn: SpdyConnection) -> None:
        """Feed the session until the WebSocket ends; a text message breaks the tunnel."""
        try:
            while not conn.closed.is_set():
                await self._resumed.wait()
                msg = await self._ws.receive()
                if msg.type == WSMsgType.BINARY:
                    conn.feed(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    log.info("spdy tunnel: a text message is not SPDY; closing")
                    break
                else:
                    break  # close, error
        finally:
            conn.feed_eof()
