"""The WebSocket bridge for a pod's exec/attach when kubelantern must see the messages: the
client offered `kubelantern.session.<id>` (a terminal that survives a dropped connection)
or `--record-sessions` is on. Everything else takes `bridge.py`'s byte tunnel.

A request whose (cluster, exec URL, session id) names a live session is a reattach: the
same identity gets 101 with the session's protocol and no new upstream exec; another
identity gets 403. Otherwise the upstream is opened as `bridge.py` does (strategy walk,
refusals passed through) and a new session starts.
"""

from __future__ import annotations

import logging

from aiohttp import web

from kubelantern.clusters.cluster import Cluster
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.plan import UpstreamPlan
from kubelantern.proxy.ws.accept import accept_client, client_websocket
from kubelantern.proxy.ws.handover import decide
from kubelantern.proxy.ws.planned import open_planned
from kubelantern.proxy.ws.sessions import ExecSession, SessionKey
from kubelantern.status import status_response

log = logging.getLogger(__name__)


def wants_session(deps: ProxyDeps, plan: UpstreamPlan) -> bool:
    """Whether this WebSocket goes through the session path rather than the byte tunnel."""
    if plan.exec is None or plan.offer is None:
        return False
    return plan.offer.session is not None or deps.recorder.enabled


async def exec_bridge(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan
) -> web.StreamResponse:
    assert plan.offer is not None and plan.exec is not None
    target = plan.exec
    name = cluster.name
    key: SessionKey | None = None
    if plan.offer.session is not None:
        key = (name, request.rel_url.raw_path_qs, plan.offer.session)
        found = deps.sessions.find(key)
        if found is not None:
            if found.owner != plan.owner:
                log.warning("cluster=%s reattach to a session of another identity refused", name)
                return status_response(
                    403,
                    f"cluster {name!r}: this terminal session belongs to another user; "
                    "open a new one (a new kubelantern.session id)",
                )
            reattach = _reattach(request, deps, found)
            del plan, target  # the reattached session may idle for hours with this frame
            return await reattach

    opened = await open_planned(cluster, deps, plan)
    if isinstance(opened, web.StreamResponse):
        return opened
    upstream, _strategy = opened
    client_ws = await accept_client(request, upstream, deps.settings, name)
    recording = deps.recorder.open(target.recording(name, plan.user_label, request.remote or ""))
    session = ExecSession(
        cluster=name,
        upstream=upstream,
        protocol=upstream.protocol,
        owner=plan.owner,
        key=key,
        grace=deps.settings.session_grace,
        registry=deps.sessions,
        recording=recording,
        # client-go < 1.34 would drop output sent before it made its streams (handover.py)
        hold=decide(request.headers.get("User-Agent"), upstream.protocol, sees_pong=False).settle,
    )
    deps.sessions.start(session, deps.streams)
    # The session may idle for hours with this frame waiting on it: let the plan go.
    del plan, target
    await session.attach(client_ws)
    return client_ws


async def _reattach(
    request: web.Request, deps: ProxyDeps, session: ExecSession
) -> web.StreamResponse:
    client_ws = client_websocket(session.protocol, deps.settings)
    await client_ws.prepare(request)
    deps.metrics.sessions_resumed += 1
    log.info("cluster=%s session reattached (%d bytes queued)", session.cluster, session.queued)
    await session.attach(client_ws)
    return client_ws
