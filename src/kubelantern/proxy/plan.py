"""What to do with one proxied request, decided without IO: `plan(view, cluster, settings)`
→ an `UpstreamPlan` (URL, headers, whose credential, the WebSocket offer or the upgrade
to tunnel) or a `Refusal`
(status and message for the client). Every refusal of a proxied request that does not
need the cluster's answer is decided here; `http.py`, `ws/` and `upgrade/` only execute
the plan.

Unit-tested with plain data in and the decision out (tests/unit/test_plan.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from kubelantern import USER_AGENT
from kubelantern.clusters.cluster import Cluster
from kubelantern.proxy.execsession import ExecTarget, exec_target, owner_of
from kubelantern.proxy.handshake import ClientIdentity
from kubelantern.proxy.headers import (
    CredentialSource,
    UserCredential,
    is_launch_token,
    is_websocket_upgrade,
    upstream_request_headers,
    upstream_user_agent,
    user_credential,
)
from kubelantern.proxy.subprotocols import Offer, SubprotocolError, parse_offer
from kubelantern.proxy.upgrade.rules import (
    UnsupportedUpgrade,
    UpgradeRequest,
    tunnel_request_headers,
    upgrade_request,
)
from kubelantern.settings import Settings

BODY_BUFFER_LIMIT = 1 << 20  # bodies up to 1 MiB are kept for a retry after a 401


@dataclass(frozen=True)
class RequestView:
    """What the plan may know of the client's request: plain data, no socket."""

    method: str
    api_path: str  # raw, validated, starts with `/`
    raw_query: str
    headers: Mapping[str, str] | CIMultiDictProxy[str]
    cookies: Mapping[str, str]
    content_length: int | None = None
    valid_upgrade: bool = True  # aiohttp accepts the WebSocket handshake (when it is one)
    # Team mode, filled in by the web layer (identity/): opens this cluster's sealed login
    # cookie (None: no login cookies), the signed-in user's token, and the name an
    # identity-aware proxy vouched for (--auth-header; Impersonate-User is already set).
    open_login: Callable[[str | None], str | None] | None = None
    session_bearer: str | None = None
    trusted_user: str | None = None
    # Team mode: the signed-in user's stable id (OIDC `sub`) and the name recordings show.
    signed_in: str | None = None
    signed_in_name: str | None = None


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


@dataclass(frozen=True)
class UpstreamPlan:
    url: URL
    headers: CIMultiDict[str]  # the client's headers that travel upstream (no credentials)
    user: UserCredential | None  # the user's own credential; None: the kubeconfig's
    websocket: bool
    offer: Offer | None = None  # WebSocket: the client's subprotocols, bearer entry out
    # WebSocket and tunnel: what CLIENT Origin/User-Agent policies pass on
    client: ClientIdentity = field(default_factory=ClientIdentity)
    buffer_body: bool = True  # HTTP: keep the body for one retry after a 401
    upgrade: UpgradeRequest | None = None  # an upgrade to tunnel as bytes (SPDY/3.1)
    # A pod's exec/attach (WebSocket or SPDY): what it runs (recordings; WebSocket sessions
    # that survive a drop), who may reattach (a digest, WebSocket), the user a recording names.
    exec: ExecTarget | None = None
    owner: str = ""
    user_label: str = "local"

    @property
    def tunnel(self) -> bool:
        return self.upgrade is not None


def uses_user_identity(settings: Settings, cluster: Cluster) -> bool:
    """Whether a signed-in user's own token goes to `cluster`: the in-cluster one, or a
    kubeconfig entry that brings no credentials of its own."""
    spec = cluster.spec
    if spec.user_identity:
        return True
    return spec.auth.is_empty and not (spec.tls.client_cert_data or spec.tls.client_cert_file)


def plan(view: RequestView, cluster: Cluster, settings: Settings) -> UpstreamPlan | Refusal:
    """The decision for one request to `cluster` (DESIGN §4: whose credential, first match
    wins: the client's Authorization → the bearer subprotocol → the login cookie → in team
    mode the signed-in user's token (user-identity clusters only) → the kubeconfig)."""
    name = cluster.name
    websocket = is_websocket_upgrade(view.headers)
    upgrade: UpgradeRequest | None = None
    if not websocket:
        try:
            upgrade = upgrade_request(view.headers)
        except UnsupportedUpgrade as e:
            return Refusal(400, f"cluster {name!r}: {e.message}")
        if upgrade is not None and view.content_length:
            # Bytes after the request would be spliced as the protocol's own: no client
            # sends a body with an upgrade, so one is refused rather than forwarded.
            return Refusal(400, f"cluster {name!r}: an upgrade request must not have a body")
    offer: Offer | None = None
    if websocket:
        values = (
            view.headers.getall("Sec-WebSocket-Protocol", [])
            if isinstance(view.headers, CIMultiDictProxy | CIMultiDict)
            else [v for k, v in view.headers.items() if k.lower() == "sec-websocket-protocol"]
        )
        try:
            offer = parse_offer(values)
        except SubprotocolError as e:
            return Refusal(e.status, f"cluster {name!r}: {e.message}")
        if not view.valid_upgrade:
            return Refusal(400, "not a valid WebSocket upgrade request")
    if cluster.load_error is not None:
        return Refusal(503, f"cluster {name!r} cannot be used: {cluster.load_error}")
    user = user_credential(
        view.headers,
        view.cookies,
        name,
        launch_token=settings.launch_token,
        open_login=view.open_login,
    )
    if offer is not None and is_launch_token(offer.token, settings.launch_token):
        # The launch token proves the client may use kubelantern; it is never a cluster
        # credential (issue 10, defect 2): drop it, the next credential in line is used.
        offer = replace(offer, token=None)
    if (
        offer is not None
        and offer.token
        and (user is None or user.source is not CredentialSource.CLIENT)
    ):
        user = UserCredential(f"Bearer {offer.token}", CredentialSource.CLIENT)
    if user is None and view.session_bearer and uses_user_identity(settings, cluster):
        user = UserCredential(f"Bearer {view.session_bearer}", CredentialSource.SESSION)
    if user is None and cluster.spec.user_identity and view.trusted_user is None:
        # The in-cluster cluster: kubelantern acts only as the user (or as the one an
        # identity-aware proxy vouched for, by impersonation); it never lends its service
        # account to whoever reaches it.
        return Refusal(
            401,
            f"log in to cluster {name!r} first: kubelantern runs in-cluster and acts only "
            "with your own token (POST /api/clusters/<name>/login or send Authorization: Bearer)",
        )
    url = cluster.upstream_url(view.api_path, view.raw_query)
    user_label = view.signed_in_name or view.signed_in or view.trusted_user or "local"
    if upgrade is not None or websocket:
        # Only the upgrade paths' strategies read it: plain requests skip building it.
        client = ClientIdentity(view.headers.get("User-Agent"), view.headers.get("Origin"))
    if upgrade is not None:
        return UpstreamPlan(
            url,
            tunnel_request_headers(view.headers),
            user,
            websocket=False,
            client=client,
            buffer_body=False,
            upgrade=upgrade,
            exec=exec_target(view.api_path, view.raw_query),  # recorded over SPDY too
            user_label=user_label,
        )
    if websocket:
        session_user = user is not None and user.source is CredentialSource.SESSION
        return UpstreamPlan(
            url,
            upstream_request_headers(view.headers, websocket=True),
            user,
            websocket=True,
            offer=offer,
            client=client,
            exec=exec_target(view.api_path, view.raw_query),
            owner=owner_of(
                signed_in=view.signed_in,
                trusted_user=view.trusted_user,
                # The signed-in user's token changes on refresh; `signed_in` stands for it.
                credential=None if user is None or session_user else user.authorization,
                launch_token=settings.launch_token,
            ),
            user_label=user_label,
        )
    headers = upstream_request_headers(view.headers)
    headers["User-Agent"] = upstream_user_agent(view.headers.get("User-Agent"), USER_AGENT)
    length = view.content_length
    return UpstreamPlan(
        url,
        headers,
        user,
        websocket=False,
        buffer_body=length is not None and length <= BODY_BUFFER_LIMIT,
    )
