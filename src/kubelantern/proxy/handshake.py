"""The upstream WebSocket handshake, pure: what to send for a strategy, and what to do
when the upstream refuses.

The bridge and `kubelantern doctor` both build their upstream handshakes here, so what
doctor reports is what the bridge does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kubelantern import USER_AGENT
from kubelantern.clusters.profiles import (
    OriginPolicy,
    Strategy,
    TokenPlacement,
    UserAgentPolicy,
)
from kubelantern.proxy.headers import bearer_of
from kubelantern.proxy.subprotocols import Offer, upstream_protocols

# Auto mode tries at most this many different strategies per connection (the learned or
# default one, then the next): a wrong guess costs one extra round trip, never a loop.
MAX_STRATEGIES_PER_CONNECTION = 2
# Statuses at the upstream handshake that a different presentation may fix.
RETRYABLE_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class ClientIdentity:
    """What the downstream client said about itself (used only by CLIENT policies)."""

    user_agent: str | None = None
    origin: str | None = None


@dataclass(frozen=True)
class UpstreamHandshake:
    strategy: Strategy
    headers: dict[str, str]  # besides Upgrade/Connection/Sec-WebSocket-Key/-Version
    protocols: tuple[str, ...]
    token_placement: str  # effective placement for logs: header|subprotocol|both|none


def upstream_origin(upstream_url: str) -> str:
    """`scheme://host[:port]` of the upstream as a browser would send it (wss→https)."""
    parts = urlsplit(upstream_url)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc.rpartition('@')[2]}"


def build_handshake(
    strategy: Strategy,
    *,
    upstream_url: str,
    offer: Offer,
    auth_headers: Mapping[str, str],
    client: ClientIdentity = ClientIdentity(),
    user_agent: str = USER_AGENT,
) -> UpstreamHandshake:
    """Headers and protocols for one upstream attempt.

    `auth_headers` are the credentials already chosen (user token or kubeconfig's), as
    `Authorization` plus impersonation headers. A subprotocol placement needs a bearer
    token and another protocol beside it; otherwise the header carries the credentials
    (Basic auth and client certificates have no subprotocol form).
    """
    headers: dict[str, str] = {}
    auth_value: str | None = None
    for name, value in auth_headers.items():
        if name.lower() == "authorization":
            auth_value = value
        else:
            headers[name] = value
    token = bearer_of(auth_value)
    wants_sub = strategy.token in (TokenPlacement.SUBPROTOCOL, TokenPlacement.BOTH)
    wants_header = strategy.token in (TokenPlacement.HEADER, TokenPlacement.BOTH)
    protocols = upstream_protocols(offer, token if wants_sub else None)
    in_sub = len(protocols) > len(offer.protocols)
    in_header = auth_value is not None and (wants_header or not in_sub)
    if in_header and auth_value is not None:
        headers["Authorization"] = auth_value
    placement = (
        "both"
        if in_sub and in_header
        else "subprotocol"
        if in_sub
        else "header"
        if in_header
        else "none"
    )

    if strategy.origin is OriginPolicy.UPSTREAM:
        headers["Origin"] = upstream_origin(upstream_url)
    elif strategy.origin is OriginPolicy.CLIENT and client.origin:
        headers["Origin"] = client.origin

    if strategy.user_agent is UserAgentPolicy.CLIENT and client.user_agent:
        headers["User-Agent"] = client.user_agent
    else:
        headers["User-Agent"] = user_agent
    return UpstreamHandshake(strategy, headers, protocols, placement)


class Decision(enum.Enum):
    PASS_THROUGH = "pass-through"  # give the client the upstream's answer
    NEXT_STRATEGY = "next-strategy"
    REFRESH_AND_RETRY = "refresh-and-retry"  # same strategy, fresh kubeconfig credentials


@dataclass
class AttemptLog:
    """What one connection tried so far: (strategy name, status) in order."""

    attempts: list[tuple[str, int]] = field(default_factory=list)
    refreshed: bool = False

    def tried(self) -> set[str]:
        return {name for name, _ in self.attempts}

    def describe(self) -> str:
        """`header→both` for logs."""
        return "→".join(name for name, _ in self.attempts)


@dataclass(frozen=True)
class Plan:
    decision: Decision
    strategy: Strategy | None = None


def on_refusal(
    status: int,
    *,
    order: Sequence[Strategy],
    log: AttemptLog,
    auto: bool,
    kubeconfig_credentials: bool,
) -> Plan:
    """After the upstream answered `status` instead of 101 to the last attempt in `log`.

    401/403 in auto mode move on to the next untried strategy of `order` (bounded by
    MAX_STRATEGIES_PER_CONNECTION). A 401 with kubeconfig credentials then gets one retry
    after a credential refresh (an exec plugin's token may have expired). Everything else
    goes back to the client as the upstream said it.
    """
    if status not in RETRYABLE_STATUSES:
        return Plan(Decision.PASS_THROUGH)
    tried = log.tried()
    if auto and len(tried) < MAX_STRATEGIES_PER_CONNECTION:
        for strategy in order:
            if strategy.name not in tried:
                return Plan(Decision.NEXT_STRATEGY, strategy)
    if status == 401 and kubeconfig_credentials and not log.refreshed and log.attempts:
        last = log.attempts[-1][0]
        for strategy in order:
            if strategy.name == last:
                return Plan(Decision.REFRESH_AND_RETRY, strategy)
    return Plan(Decision.PASS_THROUGH)


def refusal_explanation(status: int, body: bytes, protocols: Sequence[str]) -> str | None:
    """A human sentence for an upstream refusal that came without a body, else None."""
    if body.strip():
        return None
    if status == 403 and protocols:
        return (
            "upstream refused the WebSocket handshake with a bare 403: it supports none of "
            f"the offered subprotocols ({', '.join(protocols)})"
        )
    if status == 403:
        return "upstream refused the WebSocket handshake with a bare 403 (forbidden)"
    return f"upstream refused the WebSocket handshake with status {status} and no body"
