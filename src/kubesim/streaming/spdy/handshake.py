"""The SPDY upgrade handshake decisions, as apimachinery's `httpstream.Handshake` and the
kubelet's upgrader make them (pure: headers in, a protocol or a refusal out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# What a kubelet's SPDY handler speaks (remotecommand SupportedStreamingProtocols): v5 is
# only ever spoken by the apiserver's WebSocket translator, never over SPDY.
EXEC_PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
PORTFORWARD_PROTOCOLS = ("portforward.k8s.io",)
PROTOCOL_HEADER = "X-Stream-Protocol-Version"
ACCEPTED_HEADER = "X-Accepted-Stream-Protocol-Versions"


@dataclass(frozen=True)
class Refusal:
    """Go's `http.Error`: plain text with a newline; 403 lists what the server accepts."""

    status: int
    text: str
    accepted: tuple[str, ...] = ()


def split_protocols(lines: Sequence[str]) -> list[str]:
    """Every header line split on "," and trimmed; empty entries dropped."""
    return [p.strip() for line in lines for p in line.split(",") if p.strip()]


def negotiate(lines: Sequence[str], supported: Sequence[str], header_count: int) -> str | Refusal:
    """The first client protocol the server supports, in the client's order."""
    if not lines:
        return Refusal(
            400,
            f"unable to upgrade: header {PROTOCOL_HEADER} does not exist in request with "
            f"{header_count} headers",
        )
    offered = split_protocols(lines)
    if not offered:
        return Refusal(
            400,
            f"unable to upgrade: header {PROTOCOL_HEADER} contains {_go_list(lines)}, "
            "but no valid protocols",
        )
    for proto in offered:
        if proto in supported:
            return proto
    return Refusal(
        403,
        "unable to upgrade: unable to negotiate protocol: client supports "
        f"{_go_list(offered)}, server accepts {_go_list(supported)}",
        tuple(supported),
    )


def _go_list(items: Sequence[str]) -> str:
    return "[" + " ".join(items) + "]"


def missing_upgrade_headers(connection: str, upgrade: str) -> bool:
    """The kubelet's upgrader wants `upgrade` in Connection and `spdy/3.1` in Upgrade."""
    return "upgrade" not in connection.lower() or "spdy/3.1" not in upgrade.lower()
