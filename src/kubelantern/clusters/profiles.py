"""Distribution profiles and WebSocket connection strategies, as data.

A strategy says how the upstream WebSocket handshake presents itself: where the token
goes, which Origin is sent, which User-Agent. A profile orders the strategies to try for
a distribution. Behaviour follows from these values; nothing else checks "is this Rancher".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class TokenPlacement(enum.Enum):
    HEADER = "header"  # Authorization: Bearer
    SUBPROTOCOL = "subprotocol"  # base64url.bearer.authorization.k8s.io.<token>
    BOTH = "both"


class OriginPolicy(enum.Enum):
    NONE = "none"
    UPSTREAM = "upstream"  # the upstream's own scheme://host[:port]
    CLIENT = "client"  # whatever the browser sent


class UserAgentPolicy(enum.Enum):
    OURS = "ours"  # kubelantern/<version>
    CLIENT = "client"


@dataclass(frozen=True)
class Strategy:
    name: str
    token: TokenPlacement
    origin: OriginPolicy
    user_agent: UserAgentPolicy


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    strategies: tuple[Strategy, ...]  # first is the default; auto mode walks the rest

    @property
    def default(self) -> Strategy:
        return self.strategies[0]


# Header token + the upstream's own Origin + our User-Agent is accepted by kube-apiserver
# (its WebSocket watch wants an Origin) and by Rancher (Origin host == Host, no browser UA).
HEADER_UPSTREAM_ORIGIN = Strategy(
    "header", TokenPlacement.HEADER, OriginPolicy.UPSTREAM, UserAgentPolicy.OURS
)
HEADER_NO_ORIGIN = Strategy(
    "header-no-origin", TokenPlacement.HEADER, OriginPolicy.NONE, UserAgentPolicy.OURS
)
SUBPROTOCOL = Strategy(
    "subprotocol", TokenPlacement.SUBPROTOCOL, OriginPolicy.UPSTREAM, UserAgentPolicy.OURS
)
BOTH = Strategy("both", TokenPlacement.BOTH, OriginPolicy.UPSTREAM, UserAgentPolicy.OURS)
# What a browser talking directly would do; kept last, for completeness and for doctor.
PASSTHROUGH = Strategy(
    "passthrough", TokenPlacement.SUBPROTOCOL, OriginPolicy.CLIENT, UserAgentPolicy.CLIENT
)

STRATEGIES: dict[str, Strategy] = {
    s.name: s for s in (HEADER_UPSTREAM_ORIGIN, HEADER_NO_ORIGIN, SUBPROTOCOL, BOTH, PASSTHROUGH)
}

KUBERNETES = Profile(
    "kubernetes",
    "kube-apiserver: token in header or bearer subprotocol",
    (HEADER_UPSTREAM_ORIGIN, SUBPROTOCOL, HEADER_NO_ORIGIN, BOTH, PASSTHROUGH),
)
RANCHER = Profile(
    "rancher",
    "Rancher /k8s/clusters/<id> proxy: header/Basic/cookie auth only, browser UA needs same Origin",
    (HEADER_UPSTREAM_ORIGIN, HEADER_NO_ORIGIN, BOTH),
)
OPENSHIFT = Profile(
    "openshift",
    "OpenShift: upstream kube-apiserver behaviour",
    (HEADER_UPSTREAM_ORIGIN, SUBPROTOCOL, HEADER_NO_ORIGIN, BOTH),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (KUBERNETES, RANCHER, OPENSHIFT)}


# --- detection (pure) -------------------------------------------------------------------

RANCHER_PATH_MARKERS = ("/k8s/clusters/", "/k8s/proxy/")
RANCHER_HEADERS = ("x-api-cattle-auth",)
OPENSHIFT_GROUPS = frozenset({"route.openshift.io", "project.openshift.io", "config.openshift.io"})


def detect_profile(
    server_url: str,
    headers: Mapping[str, str] | None = None,
    api_groups: Iterable[str] | None = None,
) -> tuple[Profile, str]:
    """Guess the distribution from what is cheap to know; returns (profile, reason).

    Evidence, strongest first: Rancher's proxy path in the server URL, Rancher's
    `X-Api-Cattle-Auth` response header, OpenShift API groups in discovery.
    """
    path = urlsplit(server_url).path
    for marker in RANCHER_PATH_MARKERS:
        if marker in path + "/":
            return RANCHER, f"server URL path contains {marker.rstrip('/')}"
    for name in (headers or {}).keys():
        if name.lower() in RANCHER_HEADERS:
            return RANCHER, "API responses carry the X-Api-Cattle-Auth header"
    groups = sorted(OPENSHIFT_GROUPS.intersection(api_groups or ()))
    if groups:
        return OPENSHIFT, f"discovery lists {groups[0]}"
    return KUBERNETES, "no distribution-specific signs (plain kube-apiserver)"
