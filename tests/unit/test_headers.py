"""Pure header decisions: what goes upstream, whose credential wins, what comes back."""

from __future__ import annotations

from collections.abc import Callable

from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.identity.logins import open_login, seal_login
from kubelantern.identity.sessions import Sealer, split_cookie
from kubelantern.proxy.headers import (
    CredentialSource,
    bearer_of,
    choose_credentials,
    connection_tokens,
    is_launch_token_bearer,
    is_websocket_upgrade,
    launch_cookie_name,
    login_cookie_name,
    redact_path,
    response_headers,
    upstream_request_headers,
    upstream_user_agent,
    user_credential,
)

SEALER = Sealer("unit-test-secret-0123456789-abcdefghijk")
NOW = 1_800_000_000.0


def login_cookies(cluster: str, token: str) -> dict[str, str]:
    """The cookies `POST /api/clusters/<cluster>/login` sets: the token sealed for it."""
    return dict(split_cookie(login_cookie_name(cluster), seal_login(SEALER, cluster, token, NOW)))


def opener(cluster: str, now: float = NOW) -> Callable[[str | None], str | None]:
    return lambda raw: open_login(SEALER, cluster, raw, now)


def proxy(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(pairs))


def test_request_headers_drop_hop_by_hop_and_session_headers() -> None:
    client = proxy(
        ("Host", "127.0.0.1:4477"),
        ("Connection", "keep-alive, X-Private"),
        ("Keep-Alive", "timeout=5"),
        ("X-Private", "named in Connection"),
        ("Proxy-Authorization", "Basic Zm9v"),
        ("TE", "trailers"),
        ("Trailer", "Expires"),
        ("Transfer-Encoding", "chunked"),
        ("Upgrade", "h2c"),
        ("Cookie", "kl-launch-abc=secret"),
        ("X-Kubelantern-Token", "secret"),
        ("Origin", "http://127.0.0.1:4477"),
        ("Referer", "http://127.0.0.1:4477/?token=secret"),
        ("Authorization", "Bearer user-token"),
        ("Content-Length", "12"),
        ("User-Agent", "kubectl/v1.32.4"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip"),
        ("Content-Type", "application/merge-patch+json"),
        ("Impersonate-User", "alice"),
        ("Impersonate-Group", "a"),
        ("Impersonate-Group", "b"),
        ("Kubectl-Command", "kubectl get"),
    )
    out = upstream_request_headers(client)
    assert set(k.lower() for k in out) == {
        "accept",
        "accept-encoding",
        "content-type",
        "impersonate-user",
        "impersonate-group",
        "kubectl-command",
    }
    assert out.getall("Impersonate-Group") == ["a", "b"]
    assert out["Accept-Encoding"] == "gzip"


def test_websocket_request_headers_also_drop_handshake_fields() -> None:
    client = proxy(
        ("Sec-WebSocket-Key", "abc"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Protocol", "v5.channel.k8s.io"),
        ("Sec-WebSocket-Extensions", "permessage-deflate"),
        ("Accept", "*/*"),
    )
    assert list(upstream_request_headers(client, websocket=True)) == ["Accept"]
    assert "Sec-WebSocket-Protocol" in upstream_request_headers(client)


def test_response_headers_keep_encoding_and_drop_cookies() -> None:
    upstream = proxy(
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", "42"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "close, X-Hop"),
        ("X-Hop", "1"),
        ("Set-Cookie", "R_SESS=token-abc; Path=/"),
        ("Strict-Transport-Security", "max-age=31536000"),
        ("Www-Authenticate", 'Basic realm="kubernetes-master"'),
        ("Audit-Id", "1234"),
    )
    out = response_headers(upstream)
    assert set(k.lower() for k in out) == {
        "content-type",
        "content-encoding",
        "content-length",
        "www-authenticate",
        "audit-id",
    }


def test_headers_named_in_connection_go_whatever_holds_them() -> None:
    """The no-Connection shortcut (a lookup, not a scan) must see every spelling and split,
    and a plain mapping (case-sensitive keys) is always scanned."""
    shapes: list[dict[str, str] | CIMultiDict[str] | CIMultiDictProxy[str]] = [
        proxy(("connection", "x-private"), ("X-Private", "1"), ("Accept", "*/*")),
        CIMultiDict(
            [("CONNECTION", "keep-alive"), ("Connection", "X-Private"), ("x-private", "1")],
            Accept="*/*",
        ),
        {"connection": "X-Private", "X-Private": "1", "Accept": "*/*"},
    ]
    for headers in shapes:
        assert list(upstream_request_headers(headers)) == ["Accept"], headers
        assert list(response_headers(headers)) == ["Accept"], headers
    assert connection_tokens(shapes[1]) == {"keep-alive", "x-private"}
    assert connection_tokens(proxy(("Accept", "*/*"))) == frozenset()
    assert list(upstream_request_headers(proxy(("Accept", "*/*")))) == ["Accept"]


def test_user_agent_choice() -> None:
    ours = "kubelantern/0.1.0"
    kubectl = "kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef0"
    assert upstream_user_agent(kubectl, ours) == kubectl
    assert upstream_user_agent("Mozilla/5.0 (X11; Linux) Chrome/130", ours) == ours
    assert upstream_user_agent(None, ours) == ours
    assert upstream_user_agent("", ours) == ours


def test_upgrade_detection() -> None:
    ws = proxy(("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket"))
    spdy = proxy(("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"))
    assert is_websocket_upgrade(ws) and not is_websocket_upgrade(spdy)
    # Upgrade without Connection: upgrade is not an upgrade request.
    assert not is_websocket_upgrade(proxy(("Upgrade", "websocket")))
    assert not is_websocket_upgrade({"connection": "upgrade", "upgrade": "h2c"})
    assert is_websocket_upgrade({"connection": "Upgrade", "upgrade": "WebSocket"})


def test_client_authorization_wins_over_login_cookie() -> None:
    cookies = login_cookies("prod", "cookie-token")
    cred = user_credential(
        {"Authorization": "Bearer header-token"}, cookies, "prod", open_login=opener("prod")
    )
    assert cred is not None
    assert cred.source is CredentialSource.CLIENT
    assert cred.authorization == "Bearer header-token"
    assert "header-token" not in repr(cred)


def test_basic_authorization_is_a_user_credential() -> None:
    cred = user_credential({"Authorization": "Basic dTpw"}, {}, "prod")
    assert cred is not None and cred.authorization == "Basic dTpw"


def test_login_cookie_used_for_its_own_cluster_only() -> None:
    name = "rancher/down:c-m-abc12"
    cookies = login_cookies(name, "tok:en/=")
    cred = user_credential({}, cookies, name, open_login=opener(name))
    assert cred is not None
    assert cred.source is CredentialSource.LOGIN
    assert cred.authorization == "Bearer tok:en/="
    assert user_credential({}, cookies, "other", open_login=opener("other")) is None
    # Copied under the other cluster's cookie name, the seal (bound to the name) refuses it.
    moved = {login_cookie_name("other"): cookies[login_cookie_name(name)]}
    assert user_credential({}, moved, "other", open_login=opener("other")) is None
    # Expired logins open no more.
    late = opener(name, now=NOW + 13 * 3600)
    assert user_credential({}, cookies, name, open_login=late) is None


def test_launch_token_bearer_is_not_a_cluster_credential() -> None:
    cookies = login_cookies("prod", "cookie-token")
    cred = user_credential(
        {"Authorization": "Bearer LAUNCH"},
        cookies,
        "prod",
        launch_token="LAUNCH",
        open_login=opener("prod"),
    )
    assert cred is not None and cred.source is CredentialSource.LOGIN
    assert (
        user_credential({"Authorization": "Bearer LAUNCH"}, {}, "p", launch_token="LAUNCH") is None
    )


def test_unknown_auth_schemes_and_garbage_cookies_are_ignored() -> None:
    assert user_credential({"Authorization": "Negotiate abc"}, {}, "p") is None
    assert user_credential({"Authorization": "Bearer "}, {}, "p") is None
    assert user_credential({}, {login_cookie_name("p"): "%%%"}, "p", open_login=opener("p")) is None
    assert (
        user_credential({}, {login_cookie_name("p"): "1~v1.AAAA"}, "p", open_login=opener("p"))
        is None
    )


def test_choose_credentials_user_replaces_kubeconfig_entirely() -> None:
    kubeconfig: CIMultiDict[str] = CIMultiDict(
        [("Authorization", "Bearer kc"), ("Impersonate-User", "admin")]
    )
    cred = user_credential({"Authorization": "Bearer mine"}, {}, "p")
    headers, source = choose_credentials(cred, kubeconfig)
    assert dict(headers) == {"Authorization": "Bearer mine"}
    assert source is CredentialSource.CLIENT
    headers, source = choose_credentials(None, kubeconfig)
    assert headers["Impersonate-User"] == "admin" and source is CredentialSource.KUBECONFIG
    headers, source = choose_credentials(None, CIMultiDict())
    assert not headers and source is CredentialSource.NONE


def test_cookie_names_and_values() -> None:
    name = login_cookie_name("rancher/down:c-m-abc12")
    assert name.startswith("kl-auth-") and len(name) == len("kl-auth-") + 16
    assert name.replace("-", "").isalnum()
    assert name == login_cookie_name("rancher/down:c-m-abc12") != login_cookie_name("x")
    assert launch_cookie_name("a") != launch_cookie_name("b")
    for token in ("plain", "token-x7k2p:l0ngsecret", "sha256~abc_DEF-12", "a=b+c/d"):
        ((_, value),) = login_cookies("c", token).items()
        assert all(c.isalnum() or c in "-_.~" for c in value)
        assert token not in value
        assert opener("c")(value[2:]) == token


def test_bearer_parsing_and_launch_token_match() -> None:
    assert bearer_of("Bearer abc") == "abc"
    assert bearer_of("bearer  abc ") == "abc"
    assert bearer_of("Basic abc") is None
    assert bearer_of(None) is None
    assert is_launch_token_bearer("Bearer LT", "LT")
    assert not is_launch_token_bearer("Bearer LT2", "LT")
    assert not is_launch_token_bearer("Bearer LT", None)


def test_redact_path() -> None:
    assert redact_path("/?token=abc") == "/?token=REDACTED"
    assert redact_path("/x?a=1&token=abc&b=2") == "/x?a=1&token=REDACTED&b=2"
    assert redact_path("/x?access_token=abc") == "/x?access_token=REDACTED"
    assert redact_path("/clusters/a/api/v1/pods?watch=1") == "/clusters/a/api/v1/pods?watch=1"
    # A parameter that merely ends in "token" is not touched by accident.
    assert redact_path("/x?mytoken=1") == "/x?mytoken=1"
