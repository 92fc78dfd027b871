"""The strategy walk: open the upstream WebSocket with the cluster's strategies in order,
falling back on 401/403 in auto mode, refreshing kubeconfig credentials once on a 401,
remembering what worked. A failure is an `UpstreamFailure` whose response is what the
client gets (the upstream's own refusal where it said one)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from kubelantern.clusters import strategies
from kubelantern.clusters.bodies import error_message
from kubelantern.clusters.cluster import CONNECT_TIMEOUT as SESSION_CONNECT_TIMEOUT
from kubelantern.clusters.cluster import Cluster, Transport
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.failures import describe_client_error
from kubelantern.clusters.profiles import Strategy
from kubelantern.observe.metrics import Metrics
from kubelantern.proxy import headers as hdr
from kubelantern.proxy.auth import refreshed
from kubelantern.proxy.handshake import (
    AttemptLog,
    ClientIdentity,
    Decision,
    UpstreamHandshake,
    build_handshake,
    on_refusal,
    refusal_explanation,
)
from kubelantern.proxy.subprotocols import Offer, redact
from kubelantern.proxy.ws.dial import (
    HANDSHAKE_TIMEOUT,
    RawUpstream,
    UpstreamRefused,
    open_upstream,
    open_upstream_raw,
)
from kubelantern.settings import Settings
from kubelantern.status import status_response

log = logging.getLogger(__name__)


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


Opener = Callable[[UpstreamHandshake], Awaitable[Any]]


async def connect_upstream_with(
    cluster: Cluster,
    settings: Settings,
    url: URL,
    auth: CIMultiDict[str],
    source: hdr.CredentialSource,
    opener: Opener,
    **kwargs: Any,
) -> tuple[Any, Strategy]:
    """The same walk for another kind of upgrade (the SPDY tunnel): `opener` sends one
    attempt's handshake (credential, Origin, User-Agent) and returns the open upstream or
    raises UpstreamRefused. No subprotocols: the credential travels in the header."""
    return await _connect_upstream(
        cluster, settings, url, Offer(()), auth, source, opener=opener, what="upgrade", **kwargs
    )


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
    tls: Transport | None = None,
    raw: bool = False,
    opener: Opener | None = None,
    what: str = "WebSocket",
) -> tuple[Any, Strategy]:
    """Open the upstream WebSocket (or `opener`'s upgrade), walking the cluster's
    strategies as auto mode allows.

    Returns (upstream, the strategy that worked) and remembers it; raises UpstreamFailure.
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
            upstream: Any
            if opener is not None:
                upstream = await opener(handshake)
            elif raw:
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
                    fresh = await refreshed(cluster, auth)
                    if fresh is not None:
                        auth, source = fresh
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
                f"cluster {name!r}: upstream refused the {what} ({refused.status}"
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
