"""The client's side of a bridged WebSocket upgrade (message mode): a response that echoes
exactly the protocol the upstream chose, with kubelantern's ping, size and compression rules."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import WSCloseCode, web

from kubelantern.proxy.ws.dial import MAX_MESSAGE_BYTES
from kubelantern.settings import Settings

log = logging.getLogger(__name__)


def client_websocket(protocol: str | None, settings: Settings) -> web.WebSocketResponse:
    return web.WebSocketResponse(
        protocols=(protocol,) if protocol else (),
        autoping=True,
        heartbeat=settings.ws_ping_interval or None,
        max_msg_size=MAX_MESSAGE_BYTES,
        compress=False,
    )


async def accept_client(
    request: web.Request,
    upstream: aiohttp.ClientWebSocketResponse,
    settings: Settings,
    cluster: str,
) -> web.WebSocketResponse:
    """Upgrade the client once the upstream is open; a client gone meanwhile closes it."""
    client_ws = client_websocket(upstream.protocol, settings)
    try:
        await client_ws.prepare(request)
    except (ConnectionError, web.HTTPException) as e:
        log.info("cluster=%s client went away during the upgrade: %s", cluster, e)
        await upstream.close(code=WSCloseCode.GOING_AWAY, message=b"client went away")
        raise
    return client_ws
