"""The WebSocket bridge: upstream handshake first (per strategy), then the client's, then
frames both ways until one side closes.

Order matters: the client is only upgraded once the upstream said 101, so an upstream
refusal reaches the client as an ordinary HTTP response with the upstream's status and
body (Rancher's 401 JSON stays readable), and the subprotocol we echo is exactly the one
the upstream chose.

Two relays:
- the fast path (default, `proxy/ws/tunnel.py`): with no extension negotiated, frames pass
  through as bytes; a frame-header tracker lets us inject our keepalive pings and Close
  1001/1009 at frame boundaries; client pings/pongs and the close handshake go end to end;
- message relay (`proxy/ws/relay.py`; `KUBELANTERN_WS_FASTPATH=0`, and the port-forward
  manager): one task per direction, each awaiting the send before reading the next
  message; aiohttp answers pings on both legs (autoping) and sends our own (heartbeat).
Either way a slow reader throttles the other side through TCP instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import web

from kubelantern.clusters.cluster import Cluster
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.plan import UpstreamPlan
from kubelantern.proxy.ws.accept import accept_client
from kubelantern.proxy.ws.execbridge import exec_bridge, wants_session
from kubelantern.proxy.ws.handover import decide
from kubelantern.proxy.ws.planned import open_planned, open_planned_raw
from kubelantern.proxy.ws.relay import Active, relay
from kubelantern.proxy.ws.tunnel import TUNNEL_SUPPORTED, tunnel

log = logging.getLogger(__name__)


async def bridge(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan
) -> web.StreamResponse:
    """Bridge the client's WebSocket upgrade to `cluster` as `plan` says."""
    settings = deps.settings
    name = cluster.name
    assert plan.offer is not None
    if wants_session(deps, plan):
        session = exec_bridge(request, deps, cluster, plan)
        del plan  # only the callee keeps it (and drops it before the long wait)
        return await session

    started = time.monotonic()
    streams = deps.streams
    if settings.ws_fast_path and TUNNEL_SUPPORTED:
        opened_raw = await open_planned_raw(cluster, deps, plan)
        if isinstance(opened_raw, web.StreamResponse):
            return opened_raw
        raw, strategy = opened_raw
        if not raw.extensions:
            # The tunnel may idle for hours with this frame waiting on it: the plan (URL,
            # headers, offer) is done with (issue 12: memory per idle WebSocket).
            del plan
            return await tunnel(request, raw, name, settings, streams, strategy, started)
        # An extension we never offered: frames cannot pass as bytes. Reconnect in
        # message mode (rare enough not to optimise).
        log.warning("cluster=%s upstream negotiated %r unasked", name, raw.extensions)
        raw.close()
    opened = await open_planned(cluster, deps, plan)
    if isinstance(opened, web.StreamResponse):
        return opened
    upstream, strategy = opened
    del plan  # as above: the relay may idle for hours

    # Upstream is open: now upgrade the client, echoing exactly what the upstream chose.
    chosen = upstream.protocol
    client_ws = await accept_client(request, upstream, settings, name)
    active = Active(client_ws, upstream)
    log.debug(
        "cluster=%s strategy=%s protocol=%s bridged (messages) in %.0f ms",
        name,
        strategy.name,
        chosen or "-",
        (time.monotonic() - started) * 1000,
    )
    handover = decide(request.headers.get("User-Agent"), chosen, sees_pong=False)
    try:
        async with streams.track(name, "websocket", active.going_away):
            await relay(client_ws, upstream, name, hold=handover.settle)
    finally:
        if not upstream.closed or not client_ws.closed:
            # Cancelled (server cleanup): still say goodbye on both legs.
            with contextlib.suppress(BaseException):
                await asyncio.shield(active.going_away())
    return client_ws
