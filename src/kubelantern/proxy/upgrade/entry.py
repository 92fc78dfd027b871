"""The upgrade tunnel (SPDY/3.1 for kubectl exec, attach, cp and port-forward): upstream
first, then the client's 101, then raw bytes both ways (`splice.py`).

As in the WebSocket bridge, the client is switched only once the upstream said 101: a
refusal (401/403/404/...) reaches the client as an ordinary response with the upstream's
status and body, and the 101 the client gets carries the upstream's choice
(`X-Stream-Protocol-Version`). The credential, path prefix, TLS and the profile's Origin
and User-Agent rule are the WebSocket bridge's (`ws/connect.py`'s strategy walk, its one
refresh after a 401).

The client's socket is taken from aiohttp's HTTP parser as soon as the request is
planned: a client that sends bytes before the 101 (no real one does: client-go waits for
it) gets a 400 and they go nowhere; a client that leaves during the dial cancels it.

With `--record-sessions`, a pod's exec/attach is spliced with a tap (`record.py`): the
bytes pass as they are, and a pure SPDY observer reads them into the session's recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from kubelantern.clusters.cluster import Cluster
from kubelantern.proxy.auth import upstream_auth
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.handshake import UpstreamHandshake
from kubelantern.proxy.plan import UpstreamPlan
from kubelantern.proxy.upgrade.dial import SwitchedUpstream, open_upstream_tunnel
from kubelantern.proxy.upgrade.record import RecordingTap
from kubelantern.proxy.upgrade.rules import switch_headers
from kubelantern.proxy.upgrade.splice import Splice
from kubelantern.proxy.ws.connect import UpstreamFailure, connect_upstream_with
from kubelantern.status import KubelanternError, error_response, status_response

log = logging.getLogger(__name__)

EARLY_DATA = "the client sent data before the upgrade was answered (it must wait for the 101)"


class _ClientFeed:
    """The client socket's reader from the moment the upgrade is planned until the splice
    takes the socket."""

    def __init__(self) -> None:
        self.switching = False  # the 101 is being written: keep what follows it
        self.held = bytearray()
        self.early = False
        self.lost = False
        self.changed = asyncio.Event()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.switching:
            self.held += data
        elif data:
            self.early = True
            self.changed.set()
        return False, b""

    def feed_eof(self) -> None:
        self.lost = True
        self.changed.set()


class _Collect:
    """Takes the upstream bytes aiohttp read past the 101 (before the splice owns it)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.data += data
        return False, b""

    def feed_eof(self) -> None:
        pass


class _SwitchResponse(web.StreamResponse):
    """The client's 101; after it the socket is the splice's, so aiohttp writes no end."""

    async def write_eof(self, data: bytes = b"") -> None:
        self._eof_sent = True


def _take_socket(request: web.Request) -> _ClientFeed | None:
    """Install our reader on the client's connection (None: it is not ours to take)."""
    proto: Any = request.protocol
    if proto is None or request.transport is None or proto._payload_parser is not None:
        return None
    feed = _ClientFeed()
    proto.set_parser(feed)
    proto.keep_alive(False)  # the connection is the tunnel's, never another request's
    if getattr(proto, "_messages", None):
        feed.early = True  # bytes behind the request were parsed as another request
    return feed


async def tunnel_upgrade(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan
) -> web.StreamResponse:
    """Tunnel the client's non-WebSocket upgrade to `cluster` as `plan` says."""
    feed = _take_socket(request)
    if feed is None:
        return status_response(400, f"cluster {cluster.name!r}: this connection cannot be upgraded")
    response = await _tunnel(request, deps, cluster, plan, feed)
    if response.status != 101:
        # The socket is no longer aiohttp's to read: the answer is the connection's last.
        response.force_close()
    return response


async def _tunnel(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan, feed: _ClientFeed
) -> web.StreamResponse:
    assert plan.upgrade is not None
    upgrade = plan.upgrade
    name = cluster.name
    metrics = deps.metrics
    if feed.early:
        return status_response(400, f"cluster {name!r}: {EARLY_DATA}")
    try:
        found = await upstream_auth(cluster, plan.user, metrics)
    except KubelanternError as e:
        return error_response(e)
    started = time.monotonic()

    async def opener(handshake: UpstreamHandshake) -> SwitchedUpstream:
        return await open_upstream_tunnel(
            cluster,
            request.method,
            plan.url,
            upgrade,
            handshake,
            passthrough=plan.headers,
            tls=found.tls,
        )

    dial = asyncio.ensure_future(
        connect_upstream_with(
            cluster,
            deps.settings,
            plan.url,
            found.headers,
            found.source,
            opener,
            metrics=metrics,
            client=plan.client,
            passthrough=plan.headers,
            tls=found.tls,
        )
    )
    watch = asyncio.ensure_future(feed.changed.wait())
    try:
        await asyncio.wait((dial, watch), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not dial.done():
            dial.cancel()
        await asyncio.gather(dial, watch, return_exceptions=True)
    if feed.early or feed.lost:
        if dial.done() and not dial.cancelled() and dial.exception() is None:
            dial.result()[0].close()
        why = EARLY_DATA if feed.early else "the client went away during the upgrade"
        log.info("cluster=%s upgrade abandoned: %s", name, why)
        return status_response(400, f"cluster {name!r}: {why}")
    try:
        upstream, strategy = dial.result()
    except UpstreamFailure as failure:
        return failure.response()

    response = _SwitchResponse(
        status=101,
        reason="Switching Protocols",
        headers=CIMultiDict(switch_headers(upgrade, upstream.response.headers)),
    )
    response.force_close()
    feed.switching = True
    try:
        await response.prepare(request)
    except (ConnectionError, web.HTTPException) as e:
        log.info("cluster=%s client went away during the upgrade: %s", name, e)
        upstream.close()
        raise
    if feed.lost or request.transport is None or upstream.protocol.transport is None:
        log.info("cluster=%s a side of the tunnel closed during the upgrade", name)
        upstream.close()
        if request.transport is not None:
            request.transport.close()
        return response
    tap = _recording_tap(request, deps, cluster, plan)
    splice = Splice(name, tap)
    collect = _Collect()
    upstream.protocol.set_parser(collect, None)  # hands over what came after its 101
    held, feed.held = bytes(feed.held), bytearray()
    feed.switching = False
    splice.attach(
        request.transport,
        request.protocol,
        upstream.protocol.transport,
        upstream.protocol,
        client_held=held,
        upstream_held=bytes(collect.data),
    )
    log.debug(
        "cluster=%s strategy=%s upgrade=%s tunnelled in %.0f ms",
        name,
        strategy.name,
        upgrade.protocol,
        (time.monotonic() - started) * 1000,
    )
    try:
        async with deps.streams.track(name, "tunnel", splice.shutdown):
            await splice.run()
    finally:
        if not splice.finished:
            with contextlib.suppress(BaseException):
                await asyncio.shield(splice.shutdown())
        upstream.close()
        metrics.tunnel_bytes(name, splice.up, splice.down)
        if tap is not None:
            tap.close()
    return response


def _recording_tap(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan
) -> RecordingTap | None:
    """With `--record-sessions`, an exec/attach tunnel is watched and recorded; anything
    else (port-forward, recording off) is the plain splice."""
    target = plan.exec
    if target is None or not deps.recorder.enabled:
        return None
    recording = deps.recorder.open(
        target.recording(cluster.name, plan.user_label, request.remote or "")
    )
    return None if recording is None else RecordingTap(recording)
