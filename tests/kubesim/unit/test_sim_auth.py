"""Authentication and front-door decisions per simulator profile (no sockets)."""

from __future__ import annotations

import base64

import pytest

from kubesim.auth import (
    BEARER_PROTOCOL_PREFIX,
    authenticate,
    browser_origin_denied,
    decode_raw_url_b64,
    is_denied,
    subprotocol_token,
)
from kubesim.config import SimConfig
from kubesim.profiles import KUBERNETES, LEGACY, OPENSHIFT, RANCHER, get_profile

KUBE_TOKEN = "sim-admin-token"
RANCHER_TOKEN = "token-x7k2p:l0ngsecretvalue0123456789"
WS = [("Upgrade", "websocket"), ("Connection", "Upgrade")]


def proto_token(token: str) -> str:
    return BEARER_PROTOCOL_PREFIX + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def test_profiles_are_data() -> None:
    assert get_profile("legacy").supports_v5 is False
    assert get_profile("legacy").aggregated_discovery is False
    assert RANCHER.prefix("c-m-x") == "/k8s/clusters/c-m-x"
    assert KUBERNETES.prefix("c-m-x") == ""
    assert "route.openshift.io" in OPENSHIFT.extra_groups
    assert LEGACY.default_version == "v1.27.16"
    with pytest.raises(ValueError, match="unknown simulator profile 'eks'"):
        get_profile("eks")


@pytest.mark.parametrize("profile", [KUBERNETES, RANCHER])
def test_bearer_header(profile: object) -> None:
    cfg = SimConfig()
    token = RANCHER_TOKEN if profile is RANCHER else KUBE_TOKEN
    result = authenticate(profile, cfg, [("Authorization", f"Bearer {token}")])  # type: ignore[arg-type]
    assert result.ok and result.user == "admin" and result.via == "bearer"
    bad = authenticate(profile, cfg, [("Authorization", "Bearer nope")])  # type: ignore[arg-type]
    assert not bad.ok


def test_kubernetes_basic_uses_user_password() -> None:
    good = base64.b64encode(b"admin:sim-password").decode()
    assert (
        authenticate(KUBERNETES, SimConfig(), [("Authorization", f"Basic {good}")]).user == "admin"
    )
    wrong = base64.b64encode(b"admin:nope").decode()
    assert not authenticate(KUBERNETES, SimConfig(), [("Authorization", f"Basic {wrong}")]).ok


def test_rancher_basic_is_the_token_pair_in_url_safe_base64() -> None:
    value = base64.urlsafe_b64encode(RANCHER_TOKEN.encode()).decode()
    result = authenticate(RANCHER, SimConfig(), [("Authorization", f"Basic {value}")])
    assert result.user == "admin" and result.via == "basic"
    # user:password Basic means nothing to Rancher.
    plain = base64.urlsafe_b64encode(b"admin:sim-password").decode()
    assert not authenticate(RANCHER, SimConfig(), [("Authorization", f"Basic {plain}")]).ok


def test_rancher_basic_rejects_standard_alphabet() -> None:
    cfg = SimConfig(tokens={"token-a:s?>?": "bob"})
    std = base64.b64encode(b"token-a:s?>?").decode()
    assert "/" in std or "+" in std
    assert not authenticate(RANCHER, cfg, [("Authorization", f"Basic {std}")]).ok
    url = base64.urlsafe_b64encode(b"token-a:s?>?").decode()
    assert authenticate(RANCHER, cfg, [("Authorization", f"Basic {url}")]).user == "bob"


def test_rancher_cookie_only_without_authorization() -> None:
    cookie = [("Cookie", f"CSRF=abc; R_SESS={RANCHER_TOKEN}")]
    assert authenticate(RANCHER, SimConfig(), cookie).via == "cookie"
    with_bad_header = [*cookie, ("Authorization", "Bearer nope")]
    assert not authenticate(RANCHER, SimConfig(), with_bad_header).ok
    assert not authenticate(KUBERNETES, SimConfig(), [("Cookie", f"R_SESS={KUBE_TOKEN}")]).ok


def test_kubernetes_subprotocol_token_is_accepted_and_removed() -> None:
    headers = [*WS, ("Sec-WebSocket-Protocol", f"v5.channel.k8s.io, {proto_token(KUBE_TOKEN)}")]
    result = authenticate(KUBERNETES, SimConfig(), headers)
    assert result.user == "admin" and result.via == "subprotocol"
    assert result.protocols == ("v5.channel.k8s.io",)


def test_subprotocol_only_on_websocket_upgrades() -> None:
    headers = [("Sec-WebSocket-Protocol", f"v5.channel.k8s.io,{proto_token(KUBE_TOKEN)}")]
    assert not authenticate(KUBERNETES, SimConfig(), headers).ok


def test_rancher_ignores_subprotocol_token() -> None:
    token = proto_token(RANCHER_TOKEN)
    headers = [*WS, ("Sec-WebSocket-Protocol", f"base64.binary.k8s.io,{token}")]
    assert not authenticate(RANCHER, SimConfig(), headers).ok


@pytest.mark.parametrize(
    ("protocols", "error"),
    [
        ([proto_token("a"), proto_token("b"), "v5.channel.k8s.io"], "multiple"),
        ([BEARER_PROTOCOL_PREFIX + "c2ltLWFkbWluLXRva2Vu==", "x"], "encoding"),
        ([BEARER_PROTOCOL_PREFIX + "a+b/", "x"], "encoding"),
        ([proto_token(KUBE_TOKEN)], "missing additional subprotocol"),
    ],
)
def test_subprotocol_token_failures(protocols: list[str], error: str) -> None:
    token, _, message = subprotocol_token(protocols)
    assert token is None and error in message
    headers = [*WS, ("Sec-WebSocket-Protocol", ",".join(protocols))]
    assert not authenticate(KUBERNETES, SimConfig(), headers).ok


def test_header_bearer_wins_and_keeps_protocols() -> None:
    headers = [
        *WS,
        ("Authorization", f"Bearer {KUBE_TOKEN}"),
        ("Sec-WebSocket-Protocol", f"v5.channel.k8s.io,{proto_token('other')}"),
    ]
    result = authenticate(KUBERNETES, SimConfig(), headers)
    assert result.via == "bearer" and result.protocols is None


def test_raw_url_decoding_is_strict() -> None:
    assert decode_raw_url_b64("c2ltLWFkbWluLXRva2Vu") == b"sim-admin-token"
    assert decode_raw_url_b64("c2ltLWFkbWluLXRva2Vu=") is None
    assert decode_raw_url_b64("a") is None


def test_anonymous_only_when_allowed_and_no_credentials() -> None:
    assert not authenticate(KUBERNETES, SimConfig(), []).ok
    cfg = SimConfig(allow_anonymous=True)
    assert authenticate(KUBERNETES, cfg, []).user == "system:anonymous"
    assert not authenticate(KUBERNETES, cfg, [("Authorization", "Bearer wrong")]).ok


@pytest.mark.parametrize(
    ("headers", "denied"),
    [
        (
            [
                ("Connection", "Upgrade"),
                ("User-Agent", "Mozilla/5.0"),
                ("Host", "r.example:443"),
                ("Origin", "https://evil.example"),
            ],
            True,
        ),
        (
            [
                ("Connection", "Upgrade"),
                ("User-Agent", "Mozilla/5.0"),
                ("Host", "r.example:443"),
                ("Origin", "https://r.example:443"),
            ],
            False,
        ),
        # Port is part of the comparison.
        (
            [
                ("Connection", "Upgrade"),
                ("User-Agent", "mozilla/5.0"),
                ("Host", "r.example:443"),
                ("Origin", "https://r.example"),
            ],
            True,
        ),
        (
            [
                ("Connection", "Upgrade"),
                ("User-Agent", "kubectl/v1.32.4"),
                ("Host", "r.example"),
                ("Origin", "https://evil.example"),
            ],
            False,
        ),
        ([("User-Agent", "Mozilla/5.0"), ("Host", "r.example"), ("Origin", "https://evil")], False),
        ([("Connection", "Upgrade"), ("User-Agent", "Mozilla/5.0"), ("Host", "r.example")], False),
    ],
)
def test_rancher_browser_origin_rule(headers: list[tuple[str, str]], denied: bool) -> None:
    assert browser_origin_denied(headers) is denied


def test_denied_rules() -> None:
    rules = ("create pods/exec", "delete")
    assert is_denied(rules, "create", "pods/exec")
    assert not is_denied(rules, "get", "pods/exec")
    assert is_denied(rules, "delete", "configmaps")
    assert not is_denied(rules, "create", "pods")
    assert is_denied(("* secrets",), "list", "secrets")
