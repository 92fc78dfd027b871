"""The message relay: one task per direction, each awaiting the send (aiohttp drains past
its write limit) before reading the next message; aiohttp answers pings on both legs
(autoping) and sends our own (heartbeat). Used when the byte tunnel cannot be (an
extension was negotiated, `KUBELANTERN_WS_FASTPATH=0`) and by the port-forward manager."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from kubelantern.proxy.ws.dial import CLOSE_TIMEOUT

log = logging.getLogger(__name__)


# Close codes that are only ever *reported*, never sent (RFC 6455 §7.4.1).
_UNSENDABLE = frozenset({1005, 1006, 1015})


@dataclass(eq=False)
class Active:
    """One live bridge: both legs, so shutdown can close it with 1001."""

    client: web.WebSocketResponse
    upstream: aiohttp.ClientWebSocketResponse

    async def going_away(self) -> None:
        await _close_both(self, WSCloseCode.GOING_AWAY, "kubelantern is shutting down")


def _sendable(code: int | None, reason: str, who: str = "peer") -> tuple[int, bytes]:
    """A close code/reason we may send for what we received (1005/1006 are report-only)."""
    if code is None or code == 1005:
        return WSCloseCode.OK, reason.encode()[:123]
    if code in _UNSENDABLE:
        return WSCloseCode.INTERNAL_ERROR, f"{who} connection lost".encode()
    return code, reason.encode()[:123]


async def _pump(
    src: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    dst: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    who: str = "peer",
    hold: float = 0.0,
) -> tuple[int, bytes]:
    """Copy messages src → dst until src closes; returns the close to pass on. `hold`:
    seconds to wait first (src's messages queue up meanwhile; see handover.py)."""
    if hold > 0:
        await asyncio.sleep(hold)
    while True:
        msg = await src.receive()
        kind = msg.type
        try:
            if kind is WSMsgType.BINARY:
                await dst.send_bytes(msg.data)
                continue
            if kind is WSMsgType.TEXT:
                await dst.send_str(msg.data)
                continue
        except (ConnectionError, RuntimeError):
            # dst is gone; its own pump reports how.
            return WSCloseCode.GOING_AWAY, b"peer went away"
        if kind is WSMsgType.CLOSE:
            return _sendable(msg.data, msg.extra or "", who)
        if kind is WSMsgType.ERROR:
            code = getattr(msg.data, "code", None)
            if code == WSCloseCode.MESSAGE_TOO_BIG:
                return WSCloseCode.MESSAGE_TOO_BIG, b"message too big"
            if isinstance(msg.data, TimeoutError | aiohttp.ServerTimeoutError):
                # aiohttp's heartbeat: our ping went unanswered (a hung peer)
                return WSCloseCode.INTERNAL_ERROR, f"{who} did not answer pings".encode()
            return WSCloseCode.INTERNAL_ERROR, f"{who} connection error".encode()
        if kind in (WSMsgType.CLOSING, WSMsgType.CLOSED):
            return _sendable(src.close_code, "", who)
        # PING/PONG are answered by aiohttp (autoping) and never surface here.


async def relay(
    client: web.WebSocketResponse,
    upstream: aiohttp.ClientWebSocketResponse,
    name: str,
    *,
    hold: float = 0.0,
) -> None:
    """Both directions until one side closes; `hold`: seconds before the upstream's
    first message goes to the client (handover.py: a client that would drop it)."""
    down = asyncio.create_task(_pump(upstream, client, "upstream", hold), name=f"ws-down:{name}")
    up = asyncio.create_task(_pump(client, upstream, "client"), name=f"ws-up:{name}")
    try:
        done, _ = await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
        first = down if down in done else up
        other = up if first is down else down
        code: int
        reason: bytes
        if first.exception() is not None:
            code, reason = WSCloseCode.INTERNAL_ERROR, b"relay failed"
            log.warning("cluster=%s relay failed: %r", name, first.exception())
        else:
            code, reason = first.result()
        # Pass the close on to the side that did not close. aiohttp's close() breaks the
        # other pump's pending receive() itself, which then ends on its own.
        target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse = (
            client if first is down else upstream
        )
        closer = "upstream" if first is down else "client"
        log.debug("cluster=%s %s closed: %s %r", name, closer, code, reason)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await target.close(code=code, message=reason)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.wait({other})
    finally:
        for task in (down, up):
            if not task.done():
                task.cancel()
        await asyncio.gather(down, up, return_exceptions=True)


async def _close_both(active: Active, code: int, reason: str) -> None:
    message = reason.encode()
    for ws in (active.client, active.upstream):
        if not ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await ws.close(code=code, message=message)
