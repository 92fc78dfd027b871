"""Whether to hold the upstream's first bytes back after the client's 101, and how (pure).

client-go before 1.34 (kubectl 1.29-1.33, and Go programs built on it) starts the
goroutine that reads an exec/attach WebSocket before it has made its streams
(`tools/remotecommand/websocket.go`: `go creator.readDemuxLoop(...)` then
`streamer.stream(creator)`; fixed for 1.34 by client-go 2f016580e, kubernetes/kubernetes
#131203 "make sure all streams are created before start demux websocket", issue #131189).
A data frame read in that window is dropped ("Unknown stream id 1, discarding message");
when the whole exec fits in the window its status and Close go too and kubectl says
"error: closed all streams". An API server rarely hits the window: it dials the kubelet
only after its own 101. kubelantern does not: the upstream already answered, and its
output is forwarded right behind the 101 (measured before this module: 21 of 4,000
one-shot execs lost with kubectl 1.30-1.33, 4 at a time; `tests/harness/execrace.py`).

So for such a client the first upstream bytes wait until the client shows its reader runs:
the byte tunnel pings it right after the 101 and forwards once the pong (or any frame
from the client) arrived plus a margin for the other goroutine to make its streams:
`AFTER_PONG`, or `RTT_FACTOR` times the pong's delay when the client was slow to answer
(a starved kubectl process, a loaded box: with a flat 20 ms, 1 of 4,000 execs still lost
its output at load average 12-17), and never past `MAX_HOLD`. Paths that cannot see the
pong (the message relay, exec sessions; aiohttp answers pings there) wait `FIXED_HOLD`
instead. Everyone else gets no delay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

FIXED_VERSION = (1, 34)  # the first client-go minor with the fix
AFTER_PONG = 0.020  # seconds after the client's pong: time for it to make its streams
RTT_FACTOR = 3.0  # ... or this many times the pong's delay, if longer
MAX_HOLD = 2.0  # seconds: never hold longer (a client that does not answer pings)
FIXED_HOLD = 0.100  # seconds, where the pong cannot be seen
MAX_HELD_BYTES = 1 << 20  # held output beyond this pauses reading the upstream

# The protocols client-go's WebSocket executor negotiates (`remotecommand` v1-v5, binary).
# Port-forward's SPDY tunnel and logs are other code without the race.
CHANNEL_PROTOCOLS = frozenset(
    {
        "v5.channel.k8s.io",
        "v4.channel.k8s.io",
        "v3.channel.k8s.io",
        "v2.channel.k8s.io",
        "channel.k8s.io",
    }
)

# client-go's default User-Agent (`rest.DefaultKubernetesUserAgent`):
# "<basename argv0>/<gitVersion without -suffix> (<os>/<arch>) kubernetes/<commit[:7]>",
# e.g. "kubectl/v1.31.2 (linux/amd64) kubernetes/abc1234" or, for the versioned binaries
# beside gcloud's dispatcher, "kubectl.1.31/v1.31.9 (linux/amd64) kubernetes/8f38003".
_CLIENT_GO_UA = re.compile(
    r"^(?P<product>[^/\s]+)/(?P<version>\S+) \([^)/]+/[^)]+\) kubernetes/\S+$", re.ASCII
)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", re.ASCII)
# A version in the program's name ("kubectl.1.31", "kubectl1.31.2"): used only when the
# User-Agent's own version is unknown.
_NAMED_VERSION = re.compile(r"^kubectl[.-]?v?(\d+)\.(\d+)(?:\.(\d+))?", re.ASCII | re.I)


class HoldMode(Enum):
    NONE = "none"
    UNTIL_PONG = "until-pong"  # ping after the 101, forward at pong + settle
    FIXED = "fixed"  # forward after `settle` seconds


@dataclass(frozen=True)
class Handover:
    """What to do with upstream→client bytes right after the client's 101."""

    mode: HoldMode
    settle: float = 0.0  # UNTIL_PONG: seconds after the pong; FIXED: the whole hold
    max_hold: float = 0.0  # seconds from the 101, whatever happens
    max_bytes: int = MAX_HELD_BYTES
    rtt_factor: float = 0.0  # UNTIL_PONG: the margin is at least this times the pong delay
    reason: str = ""

    @property
    def holds(self) -> bool:
        return self.mode is not HoldMode.NONE

    def release_after(self, answered: float) -> float:
        """UNTIL_PONG: seconds to wait more once the client answered `answered` seconds
        after the 101 (never past `max_hold` in all)."""
        margin = max(self.settle, self.rtt_factor * answered)
        return max(0.0, min(margin, self.max_hold - answered))


NO_HOLD = Handover(HoldMode.NONE, reason="client not affected")


@dataclass(frozen=True)
class ClientGo:
    """A User-Agent in client-go's default form; `version` None when it does not say."""

    product: str
    version: tuple[int, int, int] | None


def _triple(match: re.Match[str]) -> tuple[int, int, int]:
    return int(match[1]), int(match[2]), int(match[3] or 0)


def parse_client_go(user_agent: str | None) -> ClientGo | None:
    """The program and client-go version of a client-go default User-Agent, else None.

    Programs built on client-go without Kubernetes' ldflags report "v0.0.0" (or
    "unknown"): that says nothing about the client-go inside, so the version is None.
    """
    if not user_agent:
        return None
    match = _CLIENT_GO_UA.match(user_agent.strip())
    if match is None:
        return None
    product = match["product"]
    found = _VERSION.match(match["version"])
    version = _triple(found) if found is not None else None
    if version is None or version[:2] == (0, 0):
        named = _NAMED_VERSION.match(product)
        version = _triple(named) if named is not None else None
    return ClientGo(product, version)


def decide(user_agent: str | None, protocol: str | None, *, sees_pong: bool) -> Handover:
    """The handover for a client (its User-Agent) on a negotiated subprotocol.

    `sees_pong`: the path can ping the client and notice its answer (the byte tunnel).
    A client-go User-Agent of unknown version is held too: the hold costs it one round
    trip plus `AFTER_PONG`, a lost output costs the user a rerun.
    """
    if protocol not in CHANNEL_PROTOCOLS:
        return NO_HOLD
    client = parse_client_go(user_agent)
    if client is None:
        return NO_HOLD
    if client.version is not None and client.version[:2] >= FIXED_VERSION:
        return NO_HOLD
    said = "v{}.{}.{}".format(*client.version) if client.version else "unknown version"
    reason = f"client-go {said} ({client.product}) reads before it has streams"
    if sees_pong:
        return Handover(
            HoldMode.UNTIL_PONG, AFTER_PONG, MAX_HOLD, rtt_factor=RTT_FACTOR, reason=reason
        )
    return Handover(HoldMode.FIXED, FIXED_HOLD, FIXED_HOLD, reason=reason)
