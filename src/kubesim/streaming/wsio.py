"""aiohttp edges shared by the streaming handlers: refusals before the upgrade, the upgrade,
channel frames out and in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiohttp import WSMessage, WSMsgType, hdrs, web

from ..status import status_response
from . import protocol as p
from .protocol import RAW_FORBIDDEN

log = logging.getLogger("kubesim.streaming")

MAX_CLIENT_MESSAGE = 16 * 1024 * 1024
# After our Close frame, how long to wait for the client's Close before dropping TCP
# (x/net does not wait at all; waiting a little lets clients see a clean 1000).
CLOSE_TIMEOUT = 3.0


class RawReply(web.StreamResponse):
    """Bytes written as-is on the transport, then the connection is closed.

    x/net's websocket server refuses an unknown subprotocol with exactly
    `HTTP/1.1 403 Forbidden\\r\\n\\r\\n` (no headers at all); aiohttp would add some.
    """

    def __init__(self, raw: bytes, status: int) -> None:
        super().__init__(status=status)
        self._raw = raw

    async def prepare(self, request: web.BaseRequest) -> None:
        if self._eof_sent:
            return None
        transport = request.transport
        if transport is not None and not transport.is_closing():
            transport.write(self._raw)
            transport.close()
        self._eof_sent = True
        return None


def raw_forbidden() -> RawReply:
    return RawReply(RAW_FORBIDDEN, 403)


def raw_http(status: int, reason: str, body: str, extra: str = "") -> RawReply:
    """An x/net-style handshake error: status line, optional header, plain body."""
    data = body.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return RawReply(head.encode() + data, status)


def bad_request(message: str) -> web.Response:
    return status_response(400, message, "BadRequest")


def is_websocket(request: web.Request) -> bool:
    """wsstream.IsWebSocketRequest: `Upgrade: websocket` and `Connection` has `upgrade`."""
    upgrade = request.headers.get(hdrs.UPGRADE, "").lower()
    connection = request.headers.get(hdrs.CONNECTION, "").lower()
    return upgrade == "websocket" and "upgrade" in [c.strip() for c in connection.split(",")]


def is_spdy(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower().startswith("spdy/")


def handshake_error(request: web.Request) -> web.StreamResponse | None:
    """x/net's raw refusals for a malformed WebSocket handshake (reference 1.3)."""
    if request.method != "GET":
        return raw_http(405, "Method Not Allowed", "bad method")
    if not request.headers.get(hdrs.SEC_WEBSOCKET_KEY):
        return raw_http(400, "Bad Request", "mismatch challenge/response")
    if request.headers.get(hdrs.SEC_WEBSOCKET_VERSION) != "13":
        return raw_http(
            400, "Bad Request", "missing or bad WebSocket Version", "Sec-WebSocket-Version: 13\r\n"
        )
    return None


def negotiate(request: web.Request, supported: Iterable[str]) -> str | web.StreamResponse:
    """The subprotocol to upgrade with, or x/net's raw refusal: a malformed handshake, or no
    protocol in common (the client's first `Sec-WebSocket-Protocol` line, in its order)."""
    refused = handshake_error(request)
    if refused is not None:
        return refused
    offered = p.offered_protocols(request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL))
    proto = p.choose_protocol(offered, supported)
    return raw_forbidden() if proto is None else proto


async def upgrade(request: web.Request, protocol: str) -> web.WebSocketResponse:
    """101 echoing `protocol` (none for ""), no permessage-deflate, pings answered."""
    ws = web.WebSocketResponse(
        protocols=(protocol,) if protocol else (),
        compress=False,
        autoping=True,
        autoclose=True,
        max_msg_size=MAX_CLIENT_MESSAGE,
        timeout=CLOSE_TIMEOUT,
    )
    await ws.prepare(request)
    return ws


async def send_frame(ws: web.WebSocketResponse, proto: str, channel: int, payload: bytes) -> None:
    """One channel message, as a text frame for the base64 protocols and binary otherwise."""
    frame = p.encode_frame(proto, channel, payload)
    if frame.text:
        await ws.send_str(frame.as_str())
    else:
        await ws.send_bytes(frame.data)
    # Give the loop a turn: to a dead TLS client a send neither fails nor blocks, and
    # only the loop can deliver connection_lost (an endless `yes` would spin forever).
    await asyncio.sleep(0)


def client_frame(proto: str, msg: WSMessage, who: str) -> tuple[int, bytes] | None:
    """(channel, payload) of a client data message; None for anything to skip.

    Skipped: non-data messages, empty ones, and undecodable ones (logged for `who`): a bad
    message from the client is dropped, not a reason to end the stream.
    """
    if msg.type == WSMsgType.BINARY:
        data: bytes = msg.data
    elif msg.type == WSMsgType.TEXT:
        data = msg.data.encode()
    else:
        return None
    try:
        return p.decode_frame(proto, data)
    except p.FrameError as exc:
        log.info("%s: dropping a client message: %s", who, exc)
        return None
