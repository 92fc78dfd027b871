"""Upstream handshake per strategy, and what to do after a refusal (pure)."""

from __future__ import annotations

from kubelantern import USER_AGENT
from kubelantern.clusters.profiles import (
    BOTH,
    HEADER_NO_ORIGIN,
    HEADER_UPSTREAM_ORIGIN,
    KUBERNETES,
    PASSTHROUGH,
    RANCHER,
    SUBPROTOCOL,
)
from kubelantern.proxy.handshake import (
    AttemptLog,
    ClientIdentity,
    Decision,
    build_handshake,
    on_refusal,
    refusal_explanation,
    upstream_origin,
)
from kubelantern.proxy.subprotocols import Offer, encode_bearer

URL = "https://rancher.example:8443/k8s/clusters/c-m-abc12/api/v1/namespaces/d/pods/p/exec"
AUTH = {"Authorization": "Bearer tok", "Impersonate-User": "jane"}
OFFER = Offer(("v5.channel.k8s.io",))
BROWSER = ClientIdentity("Mozilla/5.0 (X11; Linux x86_64)", "http://127.0.0.1:4477")


def test_upstream_origin_is_scheme_host_port() -> None:
    assert upstream_origin(URL) == "https://rancher.example:8443"
    assert upstream_origin("wss://u:p@k8s.test/x") == "https://k8s.test"


def test_header_strategy_sends_authorization_upstream_origin_and_our_agent() -> None:
    hs = build_handshake(
        HEADER_UPSTREAM_ORIGIN, upstream_url=URL, offer=OFFER, auth_headers=AUTH, client=BROWSER
    )
    assert hs.headers == {
        "Impersonate-User": "jane",
        "Authorization": "Bearer tok",
        "Origin": "https://rancher.example:8443",
        "User-Agent": USER_AGENT,
    }
    assert hs.protocols == ("v5.channel.k8s.io",)
    assert hs.token_placement == "header"


def test_header_no_origin_sends_no_origin() -> None:
    hs = build_handshake(HEADER_NO_ORIGIN, upstream_url=URL, offer=OFFER, auth_headers=AUTH)
    assert "Origin" not in hs.headers


def test_subprotocol_strategy_moves_the_token_out_of_the_header() -> None:
    hs = build_handshake(SUBPROTOCOL, upstream_url=URL, offer=OFFER, auth_headers=AUTH)
    assert "Authorization" not in hs.headers
    assert hs.protocols == ("v5.channel.k8s.io", encode_bearer("tok"))
    assert hs.token_placement == "subprotocol"


def test_subprotocol_strategy_falls_back_to_header_when_it_cannot_place_the_token() -> None:
    # No other protocol offered (logs with no subprotocol): the header carries it.
    hs = build_handshake(SUBPROTOCOL, upstream_url=URL, offer=Offer(()), auth_headers=AUTH)
    assert hs.headers["Authorization"] == "Bearer tok" and hs.protocols == ()
    # Basic credentials have no subprotocol form.
    basic = {"Authorization": "Basic YTpi"}
    hs = build_handshake(SUBPROTOCOL, upstream_url=URL, offer=OFFER, auth_headers=basic)
    assert hs.headers["Authorization"] == "Basic YTpi" and hs.protocols == OFFER.protocols


def test_both_places_the_token_twice() -> None:
    hs = build_handshake(BOTH, upstream_url=URL, offer=OFFER, auth_headers=AUTH)
    assert hs.headers["Authorization"] == "Bearer tok"
    assert encode_bearer("tok") in hs.protocols
    assert hs.token_placement == "both"


def test_passthrough_presents_the_browser() -> None:
    hs = build_handshake(
        PASSTHROUGH, upstream_url=URL, offer=OFFER, auth_headers=AUTH, client=BROWSER
    )
    assert hs.headers["Origin"] == BROWSER.origin
    assert hs.headers["User-Agent"] == BROWSER.user_agent


def test_no_credentials_means_no_authorization() -> None:
    hs = build_handshake(HEADER_UPSTREAM_ORIGIN, upstream_url=URL, offer=OFFER, auth_headers={})
    assert "Authorization" not in hs.headers and hs.token_placement == "none"


def _log(*attempts: tuple[str, int], refreshed: bool = False) -> AttemptLog:
    return AttemptLog(list(attempts), refreshed)


def test_auto_mode_tries_the_next_strategy_once() -> None:
    order = (SUBPROTOCOL, *RANCHER.strategies)
    plan = on_refusal(
        401, order=order, log=_log(("subprotocol", 401)), auto=True, kubeconfig_credentials=False
    )
    assert plan.decision is Decision.NEXT_STRATEGY and plan.strategy == HEADER_UPSTREAM_ORIGIN
    # Two strategies tried: bounded, the refusal goes to the client.
    plan = on_refusal(
        403,
        order=order,
        log=_log(("subprotocol", 401), ("header", 403)),
        auto=True,
        kubeconfig_credentials=False,
    )
    assert plan.decision is Decision.PASS_THROUGH


def test_no_fallback_without_auto_or_for_other_statuses() -> None:
    order = KUBERNETES.strategies
    log = _log(("header", 403))
    assert (
        on_refusal(403, order=order, log=log, auto=False, kubeconfig_credentials=True).decision
        is Decision.PASS_THROUGH
    )
    for status in (400, 404, 500, 503):
        assert (
            on_refusal(
                status, order=order, log=log, auto=True, kubeconfig_credentials=True
            ).decision
            is Decision.PASS_THROUGH
        )


def test_401_with_kubeconfig_credentials_refreshes_once() -> None:
    order = (HEADER_UPSTREAM_ORIGIN,)
    plan = on_refusal(
        401, order=order, log=_log(("header", 401)), auto=False, kubeconfig_credentials=True
    )
    assert plan.decision is Decision.REFRESH_AND_RETRY and plan.strategy == HEADER_UPSTREAM_ORIGIN
    plan = on_refusal(
        401,
        order=order,
        log=_log(("header", 401), ("header", 401), refreshed=True),
        auto=False,
        kubeconfig_credentials=True,
    )
    assert plan.decision is Decision.PASS_THROUGH
    # A user's own token is not ours to refresh.
    plan = on_refusal(
        401, order=order, log=_log(("header", 401)), auto=False, kubeconfig_credentials=False
    )
    assert plan.decision is Decision.PASS_THROUGH


def test_explanation_only_for_empty_bodies() -> None:
    assert refusal_explanation(401, b'{"message":"x"}', ()) is None
    text = refusal_explanation(403, b"", ("v9.channel.k8s.io",))
    assert text is not None and "none of the offered subprotocols" in text
    assert "v9.channel.k8s.io" in text
