"""The proxy plan, without sockets: a request view, a cluster and settings in, the decision out."""

from __future__ import annotations

import dataclasses

from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.spec import AuthSpec, ClusterSpec
from kubelantern.identity.sessions import split_cookie
from kubelantern.proxy.headers import CredentialSource, login_cookie_name
from kubelantern.proxy.plan import (
    BODY_BUFFER_LIMIT,
    Refusal,
    RequestView,
    UpstreamPlan,
    plan,
    uses_user_identity,
)
from kubelantern.proxy.subprotocols import encode_bearer
from kubelantern.settings import Settings

WS = {"Connection": "Upgrade", "Upgrade": "websocket"}


def cluster() -> Cluster:
    return Cluster(
        ClusterSpec(name="dev", server="https://k.example:6443/prefix", auth=AuthSpec(token="kc"))
    )


def view(headers: dict[str, str] | None = None, **changes: object) -> RequestView:
    base: dict[str, object] = {
        "method": "GET",
        "api_path": "/api/v1/pods",
        "raw_query": "watch=true",
        "headers": CIMultiDictProxy(CIMultiDict(headers or {})),
        "cookies": {},
    }
    base.update(changes)
    return RequestView(**base)  # type: ignore[arg-type]


def decided(v: RequestView, c: Cluster | None = None, s: Settings | None = None) -> UpstreamPlan:
    out = plan(v, c or cluster(), s or Settings())
    assert isinstance(out, UpstreamPlan), out
    return out


def test_http_goes_to_the_prefixed_url_with_the_kubeconfig_credential() -> None:
    p = decided(view({"Accept": "application/json", "Cookie": "x=1", "User-Agent": "kubectl/1"}))
    assert str(p.url) == "https://k.example:6443/prefix/api/v1/pods?watch=true"
    assert p.user is None and not p.websocket
    assert p.headers["Accept"] == "application/json" and "Cookie" not in p.headers
    assert p.headers["User-Agent"] == "kubectl/1"


def opener(raw: str | None) -> str | None:
    """Stands in for the sealer (identity/logins.py): "sealed:<token>" opens to <token>."""
    return raw.removeprefix("sealed:") if raw and raw.startswith("sealed:") else None


def test_the_clients_authorization_wins_over_the_login_cookie() -> None:
    cookie = dict(split_cookie(login_cookie_name("dev"), "sealed:from-cookie"))
    p = decided(view({"Authorization": "Bearer mine"}, cookies=cookie, open_login=opener))
    assert p.user is not None and p.user.source is CredentialSource.CLIENT
    assert p.user.authorization == "Bearer mine"
    p = decided(view(cookies=cookie, open_login=opener))
    assert p.user is not None and p.user.source is CredentialSource.LOGIN
    assert p.user.authorization == "Bearer from-cookie"
    # A cookie that does not open (forged, expired, other cluster's) is no credential.
    assert decided(view(cookies={login_cookie_name("dev"): "1~x"}, open_login=opener)).user is None
    assert decided(view(cookies=cookie)).user is None  # no opener: no login cookies at all


def test_large_or_unsized_bodies_are_not_buffered() -> None:
    assert decided(view(content_length=10)).buffer_body
    assert not decided(view(content_length=BODY_BUFFER_LIMIT + 1)).buffer_body
    assert not decided(view(content_length=None)).buffer_body


def test_websocket_offer_loses_its_bearer_entry_which_becomes_the_users_credential() -> None:
    headers = {**WS, "Sec-WebSocket-Protocol": f"v5.channel.k8s.io, {encode_bearer('tok')}"}
    p = decided(view({**headers, "Origin": "http://localhost:4477"}))
    assert p.websocket and p.offer is not None
    assert p.offer.protocols == ("v5.channel.k8s.io",)
    assert p.user is not None and p.user.authorization == "Bearer tok"
    assert p.client.origin == "http://localhost:4477"
    assert "Sec-WebSocket-Protocol" not in p.headers


SPDY = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}


def spdy_view(extra: list[tuple[str, str]], **changes: object) -> RequestView:
    headers = CIMultiDict(SPDY)
    for k, v in extra:
        headers.add(k, v)
    base: dict[str, object] = {
        "method": "POST",
        "api_path": "/api/v1/namespaces/ns/pods/p/exec",
        "raw_query": "command=sh",
        "headers": CIMultiDictProxy(headers),
        "cookies": {},
    }
    base.update(changes)
    return RequestView(**base)  # type: ignore[arg-type]


def test_spdy_is_a_tunnel_with_the_same_credential_rules_as_the_websocket() -> None:
    extra = [
        ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
        ("X-Stream-Protocol-Version", "v3.channel.k8s.io"),
        ("User-Agent", "kubectl/v1.27.0"),
        ("Cookie", "kl-launch-x=secret"),
        ("X-Kubelantern-Token", "launch"),
        ("Impersonate-User", "jane"),
    ]
    p = decided(spdy_view(extra))
    assert p.tunnel and not p.websocket and not p.buffer_body
    assert p.upgrade is not None and p.upgrade.protocol == "SPDY/3.1"
    assert p.upgrade.stream_protocols == ("v4.channel.k8s.io", "v3.channel.k8s.io")
    assert str(p.url) == "https://k.example:6443/prefix/api/v1/namespaces/ns/pods/p/exec?command=sh"
    assert p.user is None  # the kubeconfig's credential, chosen at dial time
    assert p.headers.getall("X-Stream-Protocol-Version") == [
        "v4.channel.k8s.io",
        "v3.channel.k8s.io",
    ]
    for gone in ("Connection", "Upgrade", "Cookie", "X-Kubelantern-Token", "Authorization"):
        assert gone not in p.headers
    assert p.headers["Impersonate-User"] == "jane"
    assert p.client.user_agent == "kubectl/v1.27.0"  # for the profile's CLIENT policy
    own = decided(spdy_view([("Authorization", "Bearer mine")]))
    assert own.user is not None and own.user.source is CredentialSource.CLIENT
    assert own.user.authorization == "Bearer mine" and "Authorization" not in own.headers


def test_spdy_in_cluster_needs_the_users_token_too() -> None:
    refused = plan(spdy_view([]), in_cluster(), Settings(in_cluster=True))
    assert isinstance(refused, Refusal) and refused.status == 401


def test_upgrade_refusals() -> None:
    for value in ("h2c", "tcp", "SPDY/3", "SPDY/3.1, h2c", "foo/1"):
        out = plan(view({"Connection": "Upgrade", "Upgrade": value}), cluster(), Settings())
        assert isinstance(out, Refusal) and out.status == 400, value
        assert "unsupported Upgrade" in out.message and "'dev'" in out.message
    body = plan(spdy_view([], content_length=10), cluster(), Settings())
    assert isinstance(body, Refusal) and body.status == 400 and "body" in body.message
    # Without `Connection: upgrade` an Upgrade header means nothing: plain HTTP.
    plain = decided(view({"Upgrade": "h2c"}))
    assert not plain.tunnel and not plain.websocket


def test_refusals() -> None:
    bad = plan(view({**WS, "Sec-WebSocket-Protocol": "a,,b"}), cluster(), Settings())
    assert isinstance(bad, Refusal) and bad.status == 400 and "'dev'" in bad.message
    invalid = plan(view(WS, valid_upgrade=False), cluster(), Settings())
    assert isinstance(invalid, Refusal) and invalid.status == 400
    broken = Cluster(ClusterSpec(name="dev", server="https://k"), load_error="no such file")
    down = plan(view(), broken, Settings())
    assert isinstance(down, Refusal) and down.status == 503 and "no such file" in down.message


def in_cluster() -> Cluster:
    spec = dataclasses.replace(cluster().spec, user_identity=True)
    return Cluster(spec)


def test_in_cluster_needs_the_users_own_token() -> None:
    refused = plan(view(), in_cluster(), Settings(in_cluster=True))
    assert isinstance(refused, Refusal) and refused.status == 401
    assert "log in" in refused.message
    p = decided(view({"Authorization": "Bearer mine"}), in_cluster(), Settings(in_cluster=True))
    assert p.user is not None
    # The extra clusters beside it (--in-cluster with --kubeconfig) use their own credentials.
    assert decided(view(), cluster(), Settings(in_cluster=True)).user is None


def test_the_signed_in_users_token_goes_only_to_user_identity_clusters() -> None:
    s = Settings(in_cluster=True)
    p = decided(view(session_bearer="oidc-tok"), in_cluster(), s)
    assert p.user is not None and p.user.source is CredentialSource.SESSION
    assert p.user.authorization == "Bearer oidc-tok"
    # A kubeconfig entry with credentials keeps them: the session token is not sent there.
    assert decided(view(session_bearer="oidc-tok"), cluster(), s).user is None
    bare = Cluster(ClusterSpec(name="bare", server="https://k.example:6443"))
    assert uses_user_identity(s, bare) and not uses_user_identity(s, cluster())
    p = decided(view(session_bearer="oidc-tok"), bare, s)
    assert p.user is not None and p.user.source is CredentialSource.SESSION
    # The client's own token and a login cookie still come first.
    p = decided(view({"Authorization": "Bearer mine"}, session_bearer="oidc-tok"), in_cluster(), s)
    assert p.user is not None and p.user.authorization == "Bearer mine"


def test_a_user_vouched_for_by_the_identity_aware_proxy_is_not_refused_in_cluster() -> None:
    p = decided(view(trusted_user="alice"), in_cluster(), Settings(in_cluster=True))
    assert p.user is None  # kubelantern's credential, with Impersonate-User: alice
