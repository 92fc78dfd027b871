"""The proxy plan, without sockets: a request view, a cluster and settings in, the decision out."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.spec import AuthSpec, ClusterSpec
from kubelantern.proxy.headers import CredentialSource, encode_cookie_token, login_cookie_name
from kubelantern.proxy.plan import BODY_BUFFER_LIMIT, Refusal, RequestView, UpstreamPlan, plan
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


def test_the_clients_authorization_wins_over_the_login_cookie() -> None:
    cookie = {login_cookie_name("dev"): encode_cookie_token("from-cookie")}
    p = decided(view({"Authorization": "Bearer mine"}, cookies=cookie))
    assert p.user is not None and p.user.source is CredentialSource.CLIENT
    assert p.user.authorization == "Bearer mine"
    p = decided(view(cookies=cookie))
    assert p.user is not None and p.user.source is CredentialSource.LOGIN


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


def test_refusals() -> None:
    spdy = plan(view({"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}), cluster(), Settings())
    assert isinstance(spdy, Refusal) and spdy.status == 400 and "SPDY" in spdy.message
    bad = plan(view({**WS, "Sec-WebSocket-Protocol": "a,,b"}), cluster(), Settings())
    assert isinstance(bad, Refusal) and bad.status == 400 and "'dev'" in bad.message
    invalid = plan(view(WS, valid_upgrade=False), cluster(), Settings())
    assert isinstance(invalid, Refusal) and invalid.status == 400
    broken = Cluster(ClusterSpec(name="dev", server="https://k"), load_error="no such file")
    down = plan(view(), broken, Settings())
    assert isinstance(down, Refusal) and down.status == 503 and "no such file" in down.message


def test_in_cluster_needs_the_users_own_token() -> None:
    refused = plan(view(), cluster(), Settings(in_cluster=True))
    assert isinstance(refused, Refusal) and refused.status == 401
    assert "log in" in refused.message
    p = decided(view({"Authorization": "Bearer mine"}), s=Settings(in_cluster=True))
    assert p.user is not None
