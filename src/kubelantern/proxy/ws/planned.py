"""The plan's upstream WebSocket in one step: the credential the plan chose
(`auth.upstream_auth`), then the strategy walk (`connect.py`), each failure turned into
the response the client gets. The bridge and the exec sessions both open upstreams so;
written once so that they cannot drift apart on what a failure looks like."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.profiles import Strategy
from kubelantern.proxy.auth import upstream_auth
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.plan import UpstreamPlan
from kubelantern.proxy.ws.connect import UpstreamFailure, connect_upstream, connect_upstream_raw
from kubelantern.proxy.ws.dial import RawUpstream
from kubelantern.status import KubelanternError, error_response

T = TypeVar("T")


async def _open(
    cluster: Cluster,
    deps: ProxyDeps,
    plan: UpstreamPlan,
    connect: Callable[..., Awaitable[tuple[T, Strategy]]],
) -> tuple[T, Strategy] | web.Response:
    assert plan.offer is not None
    try:
        found = await upstream_auth(cluster, plan.user, deps.metrics)
    except KubelanternError as e:
        return error_response(e)
    kwargs: dict[str, Any] = {
        "metrics": deps.metrics,
        "client": plan.client,
        "passthrough": plan.headers,
        "tls": found.tls,
    }
    try:
        return await connect(
            cluster, deps.settings, plan.url, plan.offer, found.headers, found.source, **kwargs
        )
    except UpstreamFailure as failure:
        return failure.response()


async def open_planned(
    cluster: Cluster, deps: ProxyDeps, plan: UpstreamPlan
) -> tuple[aiohttp.ClientWebSocketResponse, Strategy] | web.Response:
    """The upstream WebSocket in message mode, or the response that says why not."""
    return await _open(cluster, deps, plan, connect_upstream)


async def open_planned_raw(
    cluster: Cluster, deps: ProxyDeps, plan: UpstreamPlan
) -> tuple[RawUpstream, Strategy] | web.Response:
    """The upstream WebSocket as a raw socket (the fast path), or the response that says
    why not."""
    return await _open(cluster, deps, plan, connect_upstream_raw)
