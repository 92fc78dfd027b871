"""Opening one upstream WebSocket: the upgrade request, its refusal kept readable (status
and body), and the raw variant that keeps the socket for the byte tunnel. Shared with
`kubelantern doctor`, so what doctor reports is what the bridge does."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from kubelantern.clusters.bodies import read_bounded
from kubelantern.clusters.cluster import Cluster, Transport
from kubelantern.proxy.handshake import (
    UpstreamHandshake,
)

log = logging.getLogger(__name__)


MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # per message, both legs; larger closes with 1009
HANDSHAKE_TIMEOUT = 30.0  # seconds for the upstream to answer the upgrade
CLOSE_TIMEOUT = 5.0  # seconds to wait for the peer's Close reply
MAX_ERROR_BODY = 64 * 1024  # bytes of an upstream refusal body passed to the client


class UpstreamRefused(Exception):
    """The upstream answered the upgrade with something other than 101."""

    def __init__(self, status: int, content_type: str | None, body: bytes) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.content_type = content_type
        self.body = body


class _HandshakeResponse(aiohttp.ClientResponse):
    """Reads the body of a refused upgrade before aiohttp throws the response away.

    aiohttp's `ws_connect` raises `WSServerHandshakeError` with the status but drops the
    body; the body is what tells the user why (Rancher's JSON, a Status from the apiserver).
    """

    async def start(self, connection: Any) -> aiohttp.ClientResponse:
        await super().start(connection)
        if self.status != 101:
            body = b""
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with asyncio.timeout(5):
                    body = await read_bounded(self.content, MAX_ERROR_BODY, truncate=True)
            raise UpstreamRefused(self.status, self.headers.get("Content-Type"), body)
        return self


@contextlib.asynccontextmanager
async def _ws_session(base: aiohttp.ClientSession) -> AsyncIterator[aiohttp.ClientSession]:
    """A session on the cluster's connection pool, with the body-keeping response class.

    One per handshake: closing it only detaches it from the shared connector, while the
    upgraded connection lives on in the response it returned.
    """
    session = aiohttp.ClientSession(
        connector=base.connector,
        connector_owner=False,
        response_class=_HandshakeResponse,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        timeout=base.timeout,
        trust_env=base.trust_env,
    )
    try:
        yield session
    finally:
        await session.close()


def _handshake_headers(
    passthrough: Mapping[str, str] | None, handshake: UpstreamHandshake
) -> CIMultiDict[str]:
    """The client's headers allowed upstream, overridden by the handshake's own."""
    headers: CIMultiDict[str] = CIMultiDict(passthrough or {})
    for name, value in handshake.headers.items():
        headers.popall(name, None)
        headers[name] = value
    return headers


@dataclass
class RawUpstream:
    """An upstream that answered 101, kept as a socket for the fast path (ws/tunnel.py).

    Only the pool's connection is kept, not the ClientResponse: the response holds the 101's
    headers, its request and the handshake's ClientSession, a few KiB per idle tunnel
    (issue 12) that nothing reads once the tunnel runs.
    """

    connection: Any  # aiohttp's Connection: the connector's slot for this socket
    protocol: Any  # aiohttp's ResponseHandler (transport + flow control)
    chosen: str | None  # the subprotocol the upstream selected
    extensions: str | None  # Sec-WebSocket-Extensions of the 101 (we never offer any)

    def close(self) -> None:
        """Close the socket and give its slot back to the cluster's connector."""
        self.connection.close()


def _detach(resp: aiohttp.ClientResponse) -> Any:
    """The upgraded connection, taken from its response, which is closed without it (a
    response left unclosed would put the socket back in the pool when collected)."""
    connection = resp.connection
    resp._connection = None  # private, but the only way to keep the socket and not `resp`
    resp.close()
    return connection


async def open_upstream_raw(
    cluster: Cluster,
    url: URL,
    handshake: UpstreamHandshake,
    *,
    passthrough: Mapping[str, str] | None = None,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    tls: Transport | None = None,
) -> RawUpstream:
    """The upgrade request done by hand, so the socket can carry frames untouched."""
    headers = _handshake_headers(passthrough, handshake)
    key = base64.b64encode(os.urandom(16)).decode()
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Version"] = "13"
    headers["Sec-WebSocket-Key"] = key
    if handshake.protocols:
        headers["Sec-WebSocket-Protocol"] = ", ".join(handshake.protocols)
    async with _ws_session(await cluster.session()) as session, asyncio.timeout(handshake_timeout):
        resp = await session.request(
            "GET", url, headers=headers, read_until_eof=False, **(tls or cluster.request_kwargs())
        )
    expected = base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()
    if (
        resp.headers.get("Upgrade", "").lower() != "websocket"
        or "upgrade" not in resp.headers.get("Connection", "").lower()
        or resp.headers.get("Sec-WebSocket-Accept") != expected
        or resp.connection is None
    ):
        resp.close()
        raise aiohttp.ClientError("upstream sent an invalid WebSocket 101 response")
    chosen = resp.headers.get("Sec-WebSocket-Protocol", "").strip() or None
    if chosen is not None and chosen not in handshake.protocols:
        resp.close()
        raise aiohttp.ClientError(f"upstream chose a subprotocol nobody offered: {chosen!r}")
    extensions = resp.headers.get("Sec-WebSocket-Extensions")
    connection = _detach(resp)
    return RawUpstream(connection, connection.protocol, chosen, extensions)


_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def open_upstream(
    cluster: Cluster,
    url: URL,
    handshake: UpstreamHandshake,
    *,
    passthrough: Mapping[str, str] | None = None,
    heartbeat: float | None = None,
    max_msg_size: int = MAX_MESSAGE_BYTES,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    tls: Transport | None = None,
) -> aiohttp.ClientWebSocketResponse:
    """Open the upstream WebSocket for one strategy attempt.

    Raises UpstreamRefused (non-101, with body), aiohttp.ClientError (connect/TLS) or
    TimeoutError. `passthrough` are client headers allowed upstream (Impersonate-*, ...);
    the handshake's own headers win over them. `tls` replaces `cluster.request_kwargs()`
    (a user's own credential travels without the kubeconfig's client certificate).
    """
    headers = _handshake_headers(passthrough, handshake)
    async with _ws_session(await cluster.session()) as session, asyncio.timeout(handshake_timeout):
        ws: aiohttp.ClientWebSocketResponse = await session.ws_connect(
            url,
            protocols=handshake.protocols,
            headers=headers,
            autoping=True,
            autoclose=True,
            heartbeat=heartbeat,
            compress=0,
            max_msg_size=max_msg_size,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT),
            **(tls or cluster.request_kwargs()),
        )
    return ws
