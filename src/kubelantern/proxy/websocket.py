"""The WebSocket bridge: upstream handshake first (per strategy), then the client's, then
frames both ways until one side closes.

Order matters: the client is only upgraded once the upstream said 101, so an upstream
refusal reaches the client as an ordinary HTTP response with the upstream's status and
body (Rancher's 401 JSON stays readable), and the subprotocol we echo is exactly the one
the upstream chose.

Two relays:
- the fast path (default, `proxy/wstunnel.py`): with no extension negotiated, frames pass
  through as bytes; a frame-header tracker lets us inject our keepalive pings and Close
  1001/1009 at frame boundaries; client pings/pongs and the close handshake go end to end;
- message relay (`KUBELANTERN_WS_FASTPATH=0`, and the port-forward manager): one task per
  direction, each awaiting the send (aiohttp drains past its write limit) before reading
  the next message; aiohttp answers pings on both legs (autoping) and sends our own
  (heartbeat).
Either way a slow reader throttles the other side through TCP instead of growing memory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web
from multidict import CIMultiDict
from yarl import URL

from kubelantern.clusters import strategies
from kubelantern.clusters.bodies import error_message, read_bounded
from kubelantern.clusters.cluster import CONNECT_TIMEOUT as SESSION_CONNECT_TIMEOUT
from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.failures import describe_client_error
from kubelantern.clusters.profiles import Strategy
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy import headers as hdr
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.handshake import (
    AttemptLog,
    ClientIdentity,
    Decision,
    UpstreamHandshake,
    build_handshake,
    on_refusal,
    refusal_explanation,
)
from kubelantern.proxy.http import upstream_auth
from kubelantern.proxy.subprotocols import Offer, SubprotocolError, parse_offer, redact
from kubelantern.proxy.wstunnel import RawTunnel
from kubelantern.settings import Settings
from kubelantern.status import status_response

log = logging.getLogger(__name__)

# The fast path (frames as bytes, proxy/wstunnel.py; `Settings.ws_fast_path`) leans on
# aiohttp internals (`_post_start`, `set_parser`, `_drain_helper`): if a future aiohttp
# lacks them, the message relay takes over.
TUNNEL_SUPPORTED = (
    hasattr(web.WebSocketResponse, "_post_start")
    and hasattr(aiohttp.client_proto.ResponseHandler, "set_parser")
    and hasattr(aiohttp.base_protocol.BaseProtocol, "_drain_helper")
)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # per message, both legs; larger closes with 1009
HANDSHAKE_TIMEOUT = 30.0  # seconds for the upstream to answer the upgrade
CLOSE_TIMEOUT = 5.0  # seconds to wait for the peer's Close reply
MAX_ERROR_BODY = 64 * 1024  # bytes of an upstream refusal body passed to the client
# Close codes that are only ever *reported*, never sent (RFC 6455 §7.4.1).
_UNSENDABLE = frozenset({1005, 1006, 1015})


# --- upstream handshake IO (shared with `kubelantern doctor`) ---------------------------


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
    """An upstream that answered 101, kept as a socket for the fast path (wstunnel)."""

    response: aiohttp.ClientResponse
    protocol: Any  # aiohttp's ResponseHandler (transport + flow control)
    chosen: str | None  # the subprotocol the upstream selected
    extensions: str | None  # Sec-WebSocket-Extensions of the 101 (we never offer any)


async def open_upstream_raw(
    cluster: Cluster,
    url: URL,
    handshake: UpstreamHandshake,
    *,
    passthrough: Mapping[str, str] | None = None,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    tls: Mapping[str, Any] | None = None,
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
    return RawUpstream(
        resp, resp.connection.protocol, chosen, resp.headers.get("Sec-WebSocket-Extensions")
    )


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
    tls: Mapping[str, Any] | None = None,
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


class UpstreamFailure(Exception):
    """The upstream WebSocket could not be opened; `response()` is what the client gets."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        refused: UpstreamRefused | None = None,
        attempts: AttemptLog | None = None,
        handshake: UpstreamHandshake | None = None,
        cluster: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.refused = refused
        self.attempts = attempts
        self.handshake = handshake
        self.cluster = cluster

    def response(self) -> web.Response:
        if self.refused is not None and self.attempts is not None and self.handshake:
            return _refusal_response(self.refused, self.cluster, self.attempts, self.handshake)
        return status_response(self.status, self.message)


async def connect_upstream(
    cluster: Cluster,
    settings: Settings,
    url: URL,
    offer: Offer,
    auth: CIMultiDict[str],
    source: hdr.CredentialSource,
    **kwargs: Any,
) -> tuple[aiohttp.ClientWebSocketResponse, Strategy]:
    """Open the upstream WebSocket (message mode), walking the cluster's strategies.

    Returns (websocket, the strategy that worked) and remembers it; raises UpstreamFailure.
    """
    upstream, strategy = await _connect_upstream(
        cluster, settings, url, offer, auth, source, raw=False, **kwargs
    )
    assert isinstance(upstream, aiohttp.ClientWebSocketResponse)
    return upstream, strategy


async def connect_upstream_raw(
    cluster: Cluster,
    settings: Settings,
    url: URL,
    offer: Offer,
    auth: CIMultiDict[str],
    source: hdr.CredentialSource,
    **kwargs: Any,
) -> tuple[RawUpstream, Strategy]:
    """Like connect_upstream, but keeps the socket raw for the fast path."""
    upstream, strategy = await _connect_upstream(
        cluster, settings, url, offer, auth, source, raw=True, **kwargs
    )
    assert isinstance(upstream, RawUpstream)
    return upstream, strategy


async def _connect_upstream(
    cluster: Cluster,
    settings: Settings,
    url: URL,
    offer: Offer,
    auth: CIMultiDict[str],
    source: hdr.CredentialSource,
    *,
    metrics: Metrics,
    client: ClientIdentity = ClientIdentity(),
    passthrough: Mapping[str, str] | None = None,
    tls: Mapping[str, Any] | None = None,
    raw: bool = False,
) -> tuple[aiohttp.ClientWebSocketResponse | RawUpstream, Strategy]:
    """Open the upstream WebSocket, walking the cluster's strategies as auto mode allows.

    Returns (websocket, the strategy that worked) and remembers it; raises UpstreamFailure.
    """
    name = cluster.name
    order = strategies.order_of(cluster, settings)
    attempts = AttemptLog()
    strategy: Strategy = order.first
    while True:
        handshake = build_handshake(
            strategy, upstream_url=str(url), offer=offer, auth_headers=auth, client=client
        )
        try:
            upstream: aiohttp.ClientWebSocketResponse | RawUpstream
            if raw:
                upstream = await open_upstream_raw(
                    cluster, url, handshake, passthrough=passthrough, tls=tls
                )
            else:
                upstream = await open_upstream(
                    cluster,
                    url,
                    handshake,
                    passthrough=passthrough,
                    heartbeat=settings.ws_ping_interval or None,
                    tls=tls,
                )
        except UpstreamRefused as refused:
            attempts.attempts.append((strategy.name, refused.status))
            log.warning(
                "cluster=%s strategy=%s status=%s token=%s protocols=%s",
                name,
                attempts.describe(),
                refused.status,
                handshake.token_placement,
                redact(handshake.protocols),
            )
            plan = on_refusal(
                refused.status,
                order=order.strategies,
                log=attempts,
                auto=order.auto,
                kubeconfig_credentials=source is hdr.CredentialSource.KUBECONFIG,
            )
            if plan.decision is Decision.NEXT_STRATEGY and plan.strategy is not None:
                metrics.strategy_fallback(name)
                strategy = plan.strategy
                continue
            if plan.decision is Decision.REFRESH_AND_RETRY and plan.strategy is not None:
                attempts.refreshed = True
                try:
                    changed = await cluster.credentials.refresh(
                        hdr.bearer_of(auth.get("Authorization"))
                    )
                    if changed:
                        auth, source = hdr.choose_credentials(None, await cluster.auth_headers())
                        strategy = plan.strategy
                        continue
                except CredentialError as e:
                    log.warning("cluster=%s credential refresh failed: %s", name, e.message)
            metrics.upstream_error(name, "handshake")
            explanation = error_message(refused.body, 200) or refusal_explanation(
                refused.status, refused.body, handshake.protocols
            )
            raise UpstreamFailure(
                refused.status,
                f"cluster {name!r}: upstream refused the WebSocket ({refused.status}"
                f"{': ' + explanation if explanation else ''})",
                refused=refused,
                attempts=attempts,
                handshake=handshake,
                cluster=name,
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            failure = describe_client_error(
                name, e, connect_timeout=SESSION_CONNECT_TIMEOUT, answer_timeout=HANDSHAKE_TIMEOUT
            )
            metrics.upstream_error(name, failure.reason)
            log.warning("cluster=%s strategy=%s %s", name, strategy.name, failure.message)
            raise UpstreamFailure(failure.status, failure.message) from None
        break
    if order.auto:
        strategies.remember(cluster, strategy)
    if attempts.attempts:
        log.info(
            "cluster=%s strategy=%s→%s status=101 (learned)",
            name,
            attempts.describe(),
            strategy.name,
        )
    return upstream, strategy


# --- the bridge -------------------------------------------------------------------------


@dataclass(eq=False)
class _Active:
    """One live bridge: both legs, so shutdown can close it with 1001."""

    client: web.WebSocketResponse
    upstream: aiohttp.ClientWebSocketResponse

    async def going_away(self) -> None:
        await _close_both(self, WSCloseCode.GOING_AWAY, "kubelantern is shutting down")


async def bridge(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, api_path: str
) -> web.StreamResponse:
    """Bridge the client's WebSocket upgrade on `api_path` to `cluster`."""
    settings = deps.settings
    metrics = deps.metrics
    name = cluster.name

    try:
        offer = parse_offer(request.headers.getall("Sec-WebSocket-Protocol", []))
    except SubprotocolError as e:
        log.info("cluster=%s refused client subprotocols: %s", name, e.message)
        return status_response(e.status, f"cluster {name!r}: {e.message}")
    if not web.WebSocketResponse(protocols=offer.protocols).can_prepare(request).ok:
        return status_response(400, "not a valid WebSocket upgrade request")

    found = await upstream_auth(
        request, deps, cluster, offered_token=offer.token, credential_error_status=502
    )
    if isinstance(found, web.Response):
        return found
    auth, source = found.headers, found.source

    url = cluster.upstream_url(api_path, request.rel_url.raw_query_string)
    started = time.monotonic()
    connect_kwargs: dict[str, Any] = {
        "metrics": metrics,
        "client": ClientIdentity(request.headers.get("User-Agent"), request.headers.get("Origin")),
        "passthrough": hdr.upstream_request_headers(request.headers, websocket=True),
        "tls": found.tls,
    }
    streams = deps.streams
    if settings.ws_fast_path and TUNNEL_SUPPORTED:
        try:
            raw, strategy = await connect_upstream_raw(
                cluster, settings, url, offer, auth, source, **connect_kwargs
            )
        except UpstreamFailure as failure:
            return failure.response()
        if not raw.extensions:
            return await _tunnel(request, raw, name, settings, streams, strategy, started)
        # An extension we never offered: frames cannot pass as bytes. Reconnect in
        # message mode (rare enough not to optimise).
        log.warning("cluster=%s upstream negotiated %r unasked", name, raw.extensions)
        raw.response.close()
    try:
        upstream, strategy = await connect_upstream(
            cluster, settings, url, offer, auth, source, **connect_kwargs
        )
    except UpstreamFailure as failure:
        return failure.response()

    # Upstream is open: now upgrade the client, echoing exactly what the upstream chose.
    chosen = upstream.protocol
    client_ws = web.WebSocketResponse(
        protocols=(chosen,) if chosen else (),
        autoping=True,
        heartbeat=settings.ws_ping_interval or None,
        max_msg_size=MAX_MESSAGE_BYTES,
        compress=False,
    )
    try:
        await client_ws.prepare(request)
    except (ConnectionError, web.HTTPException) as e:
        log.info("cluster=%s client went away during the upgrade: %s", name, e)
        await upstream.close(code=WSCloseCode.GOING_AWAY, message=b"client went away")
        raise
    active = _Active(client_ws, upstream)
    log.debug(
        "cluster=%s strategy=%s protocol=%s bridged (messages) in %.0f ms",
        name,
        strategy.name,
        chosen or "-",
        (time.monotonic() - started) * 1000,
    )
    try:
        async with streams.track(name, "websocket", active.going_away):
            await _relay(client_ws, upstream, name)
    finally:
        if not upstream.closed or not client_ws.closed:
            # Cancelled (server cleanup): still say goodbye on both legs.
            with contextlib.suppress(BaseException):
                await asyncio.shield(active.going_away())
    return client_ws


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


async def _tunnel(
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
        raw.response.close()
        raise
    raw.protocol.set_parser(tunnel.down, None)  # replays what arrived after the 101
    log.debug(
        "cluster=%s strategy=%s protocol=%s bridged (bytes) in %.0f ms",
        name,
        strategy.name,
        raw.chosen or "-",
        (time.monotonic() - started) * 1000,
    )
    try:
        async with streams.track(name, "websocket", tunnel.shutdown):
            await tunnel.run()
    finally:
        if not tunnel.finished:
            with contextlib.suppress(BaseException):
                await asyncio.shield(tunnel.shutdown())
        raw.response.close()
    return response


def _refusal_response(
    refused: UpstreamRefused, cluster: str, attempts: AttemptLog, handshake: UpstreamHandshake
) -> web.Response:
    """The upstream's refusal, as the upstream said it: same status, type and body."""
    headers = {"X-Kubelantern-Strategy": attempts.describe()}
    explanation = refusal_explanation(refused.status, refused.body, handshake.protocols)
    if explanation is None:
        return web.Response(
            status=refused.status,
            body=refused.body,
            headers={**headers, "Content-Type": refused.content_type or "text/plain"},
        )
    return status_response(
        refused.status,
        f"cluster {cluster!r}: {explanation} (strategies tried: {attempts.describe()})",
        headers=headers,
    )


def _sendable(code: int | None, reason: str) -> tuple[int, bytes]:
    """A close code/reason we may send for what we received (1005/1006 are report-only)."""
    if code is None or code == 1005:
        return WSCloseCode.OK, reason.encode()[:123]
    if code in _UNSENDABLE:
        return WSCloseCode.INTERNAL_ERROR, b"peer connection lost"
    return code, reason.encode()[:123]


async def _pump(
    src: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    dst: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> tuple[int, bytes]:
    """Copy messages src → dst until src closes; returns the close to pass on."""
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
            return _sendable(msg.data, msg.extra or "")
        if kind is WSMsgType.ERROR:
            code = getattr(msg.data, "code", None)
            if code == WSCloseCode.MESSAGE_TOO_BIG:
                return WSCloseCode.MESSAGE_TOO_BIG, b"message too big"
            return WSCloseCode.INTERNAL_ERROR, b"peer connection error"
        if kind in (WSMsgType.CLOSING, WSMsgType.CLOSED):
            return _sendable(src.close_code, "")
        # PING/PONG are answered by aiohttp (autoping) and never surface here.


async def _relay(
    client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse, name: str
) -> None:
    down = asyncio.create_task(_pump(upstream, client), name=f"ws-down:{name}")
    up = asyncio.create_task(_pump(client, upstream), name=f"ws-up:{name}")
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


async def _close_both(active: _Active, code: int, reason: str) -> None:
    message = reason.encode()
    for ws in (active.client, active.upstream):
        if not ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await ws.close(code=code, message=message)
