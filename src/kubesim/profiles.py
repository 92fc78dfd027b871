"""What each simulated distribution does differently, as data (no `if profile == ...`)."""

from __future__ import annotations

from dataclasses import dataclass

OPENSHIFT_GROUPS = (
    "route.openshift.io",
    "project.openshift.io",
    "apps.openshift.io",
    "config.openshift.io",
)


@dataclass(frozen=True)
class SimProfile:
    name: str
    default_version: str
    # Rancher serves the cluster under `/k8s/clusters/<id>`; "" means the API is at the root.
    path_prefix_template: str = ""
    # Auth sources this front door reads.
    bearer_header: bool = True
    basic_header: bool = True
    basic_is_token_pair: bool = False  # Rancher: Basic carries the token's `name:secret`
    subprotocol_token: bool = True  # base64url.bearer.authorization.k8s.io.<token>
    session_cookie: str | None = None  # Rancher: R_SESS, read only without Authorization
    # Paths anyone may read (kube-apiserver's system:public-info-viewer with anonymous auth).
    public_paths: tuple[str, ...] = ("/version", "/healthz", "/livez", "/readyz")
    # Rancher's global WebSocket middleware: browser UA + foreign Origin -> 403.
    browser_origin_check: bool = False
    rancher_errors: bool = False  # norman-style JSON error bodies at the front door
    cattle_auth_header: bool = False  # X-Api-Cattle-Auth on every response
    aggregated_discovery: bool = True  # apidiscovery.k8s.io/v2 (1.30+)
    supports_v5: bool = True  # v5.channel.k8s.io exec/attach translator (1.30+)
    # SPDY/3.1+portforward.k8s.io WebSocket tunnel (PortForwardWebsockets: beta, on in 1.31+).
    supports_portforward_tunnel: bool = True
    extra_groups: tuple[str, ...] = ()  # API groups beyond the vanilla ones
    # Add-on API groups this distribution does not run: metrics.k8s.io is there only where
    # metrics-server (or OpenShift's adapter, RKE2's bundled one) is installed.
    absent_groups: tuple[str, ...] = ()
    git_commit: str = "ecd2fca3c3a8ef0ab78ea9c5f50f6ec3e9e55b5c"
    platform: str = "linux/amd64"

    def prefix(self, cluster_id: str) -> str:
        return self.path_prefix_template.format(cluster_id=cluster_id)


KUBERNETES = SimProfile(name="kubernetes", default_version="v1.32.4")
RANCHER = SimProfile(
    name="rancher",
    default_version="v1.32.4",
    path_prefix_template="/k8s/clusters/{cluster_id}",
    basic_is_token_pair=True,
    subprotocol_token=False,
    session_cookie="R_SESS",
    public_paths=(),
    browser_origin_check=True,
    rancher_errors=True,
    cattle_auth_header=True,
)
LEGACY = SimProfile(
    name="legacy",
    default_version="v1.27.16",
    aggregated_discovery=False,
    supports_v5=False,
    supports_portforward_tunnel=False,
    git_commit="cbb86e0d7f4a049666fac0551e8b02ef3d6c3d9a",
    # A kubeadm-built cluster of that age without add-ons: `kubectl top` says
    # "Metrics API not available", and a UI must cope with usage not being served.
    absent_groups=("metrics.k8s.io",),
)
OPENSHIFT = SimProfile(
    name="openshift",
    default_version="v1.30.7+rhcos",
    extra_groups=OPENSHIFT_GROUPS,
    supports_portforward_tunnel=False,  # 1.30: the gate is alpha, off
    git_commit="c7e62a3cbc6d0bb4e6b1ba4e5a69f2e8d8fd7bbd",
)

SIM_PROFILES: dict[str, SimProfile] = {p.name: p for p in (KUBERNETES, RANCHER, LEGACY, OPENSHIFT)}


def get_profile(name: str) -> SimProfile:
    try:
        return SIM_PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(SIM_PROFILES))
        raise ValueError(f"unknown simulator profile {name!r}; choose one of: {known}") from None
