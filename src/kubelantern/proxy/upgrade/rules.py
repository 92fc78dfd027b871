"""Pure decisions for the upgrade tunnel (SPDY/3.1 and nothing else that is not a
WebSocket): which `Upgrade` values are tunnelled, which headers go upstream with the
upgrade request, which of the upstream's 101 headers come back, and whether a 101 answers
what was asked. No IO; unit-tested in tests/unit/test_upgrade_rules.py.

Why an allow-list: a tunnel splices bytes kubelantern cannot read. Only protocols the
Kubernetes API actually upgrades to are passed (kube-apiserver's UpgradeAwareHandler
serves SPDY/3.1 for exec, attach and port-forward); `h2c`, `tcp` or anything unknown is
a clear 400 instead of an opaque pipe to the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.proxy.headers import (
    HOP_BY_HOP,
    connection_tokens,
    upstream_request_headers,
)

# The upgrade tokens tunnelled, lower-case (client-go sends exactly "SPDY/3.1").
TUNNELLED: frozenset[str] = frozenset({"spdy/3.1"})
STREAM_PROTOCOL_HEADER = "X-Stream-Protocol-Version"

Headers = Mapping[str, str] | CIMultiDictProxy[str] | CIMultiDict[str]

# 101 headers that stay with the upstream (its cookies and pins are not ours).
_NOT_BACK: frozenset[str] = frozenset(
    {"set-cookie", "set-cookie2", "strict-transport-security", "alt-svc", "content-length"}
)


def _values(headers: Headers, name: str) -> list[str]:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return list(headers.getall(name, []))
    return [v for k, v in headers.items() if k.lower() == name.lower()]


def upgrade_tokens(headers: Headers) -> list[str]:
    """The `Upgrade` tokens of a request that asks to upgrade (`Connection: upgrade`),
    as sent (case kept); [] for an ordinary request."""
    if "upgrade" not in connection_tokens(headers):
        return []
    return [t.strip() for v in _values(headers, "Upgrade") for t in v.split(",") if t.strip()]


@dataclass(frozen=True)
class UpgradeRequest:
    """What the client asked to upgrade to, as the plan records it."""

    protocol: str  # the `Upgrade` token as the client sent it (e.g. "SPDY/3.1")
    stream_protocols: tuple[str, ...]  # X-Stream-Protocol-Version, in the client's order


class UnsupportedUpgrade(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def upgrade_request(headers: Headers) -> UpgradeRequest | None:
    """The tunnel a request asks for, None for a request that is not an upgrade, or
    UnsupportedUpgrade (a 400) for an upgrade kubelantern does not pass on.

    WebSocket upgrades are the bridge's (call `is_websocket_upgrade` first)."""
    tokens = upgrade_tokens(headers)
    if not tokens:
        return None
    if len(tokens) != 1 or tokens[0].lower() not in TUNNELLED:
        offered = ", ".join(tokens)
        raise UnsupportedUpgrade(
            f"unsupported Upgrade {offered[:100]!r}: kubelantern passes on WebSocket and "
            "SPDY/3.1 upgrades only (what kubectl and client-go use)"
        )
    offered_protocols = tuple(
        t.strip()
        for v in _values(headers, STREAM_PROTOCOL_HEADER)
        for t in v.split(",")
        if t.strip()
    )
    return UpgradeRequest(tokens[0], offered_protocols)


def tunnel_request_headers(client: Headers) -> CIMultiDict[str]:
    """The client's headers that travel with the upstream upgrade request: the same as
    for any proxied request (no credentials, cookies, hop-by-hop or forwarding headers),
    every `X-Stream-Protocol-Version` kept in order. `Upgrade`/`Connection` and the
    credential are the dial's to add; User-Agent and Origin the strategy's."""
    return upstream_request_headers(client)


def upgrade_headers(upgrade: UpgradeRequest) -> CIMultiDict[str]:
    """The hop-by-hop pair that makes the upstream request an upgrade."""
    return CIMultiDict({"Connection": "Upgrade", "Upgrade": upgrade.protocol})


class BadSwitch(Exception):
    """The upstream's 101 does not answer the upgrade that was asked for."""


def check_switch(upgrade: UpgradeRequest, response: Headers) -> None:
    """A 101 must name the protocol asked for; a chosen stream protocol must be one the
    client offered (client-go checks this too, but kubelantern must not splice a
    connection that switched to something else)."""
    got = [t.strip().lower() for v in _values(response, "Upgrade") for t in v.split(",")]
    if upgrade.protocol.lower() not in got:
        raise BadSwitch(
            f"upstream switched to {', '.join(got) or 'nothing'!r}, "
            f"not the {upgrade.protocol!r} asked for"
        )
    chosen = [v.strip() for v in _values(response, STREAM_PROTOCOL_HEADER) if v.strip()]
    if len(chosen) > 1 or (chosen and chosen[0] not in upgrade.stream_protocols):
        raise BadSwitch(
            f"upstream chose stream protocol {', '.join(chosen)!r}, which the client did "
            f"not offer ({', '.join(upgrade.stream_protocols) or 'none'})"
        )


def switch_headers(upgrade: UpgradeRequest, response: Headers) -> list[tuple[str, str]]:
    """The headers of the 101 kubelantern sends the client: `Connection: Upgrade`, the
    upgrade token, then the upstream's own headers (the chosen stream protocol, ...) minus
    hop-by-hop ones and those that belong to the upstream's origin."""
    drop = HOP_BY_HOP | _NOT_BACK | connection_tokens(response)
    out = [("Connection", "Upgrade"), ("Upgrade", upgrade.protocol)]
    out.extend((k, v) for k, v in _items(response) if k.lower() not in drop)
    return out


def _items(headers: Headers) -> Iterable[tuple[str, str]]:
    return headers.items()
