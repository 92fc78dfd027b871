"""Pure security decisions: Host allow-list, Origin check, launch token, redirects."""

from __future__ import annotations

import pytest

from kubelantern.proxy.headers import launch_cookie_name
from kubelantern.web.security import (
    CSP,
    host_allowed,
    is_browser_navigation,
    launch_cookie_for,
    launch_cookie_value,
    launch_token_presented,
    needs_origin_check,
    origin_allowed,
    relative_path,
    split_host,
    without_token_query,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:4477", ("127.0.0.1", 4477)),
        ("LOCALHOST", ("localhost", None)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::1]", ("::1", None)),
        ("example.com.", ("example.com", None)),
        ("::1", None),
        ("a:b:c", None),
        ("host:99999", None),
        ("host:x", None),
        ("user@host", None),
        ("", None),
        ("[::1", None),
        (":80", None),
    ],
)
def test_split_host(value: str, expected: tuple[str, int | None] | None) -> None:
    assert split_host(value) == expected


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:4477", "localhost:1", "[::1]:4477", "LocalHost"]
)
def test_loopback_hosts_allowed(host: str) -> None:
    assert host_allowed(host, "127.0.0.1")


@pytest.mark.parametrize(
    "host", ["evil.example:4477", "evil.example", "127.0.0.1.nip.io", "", "10.0.0.5:4477"]
)
def test_foreign_hosts_rejected(host: str) -> None:
    assert not host_allowed(host, "127.0.0.1")


def test_missing_host_rejected() -> None:
    assert not host_allowed(None, "127.0.0.1")


def test_bind_host_and_extra_hosts() -> None:
    assert host_allowed("10.0.0.5:4477", "10.0.0.5")
    assert host_allowed("lantern.internal", "127.0.0.1", ("lantern.internal",))
    assert host_allowed("lantern.internal:8443", "127.0.0.1", ("lantern.internal:443",))
    assert host_allowed("anything.example", "127.0.0.1", ("*",))


def test_wildcard_bind_allows_ip_literals_not_names() -> None:
    assert host_allowed("192.168.1.20:4477", "0.0.0.0")
    assert host_allowed("[fe80::1]:4477", "::")
    assert not host_allowed("rebind.attacker.example:4477", "0.0.0.0")


def test_origin_check_applies_to_unsafe_methods_and_upgrades() -> None:
    assert needs_origin_check("POST", {})
    assert needs_origin_check("delete", {})
    assert not needs_origin_check("GET", {})
    assert not needs_origin_check("OPTIONS", {})
    assert needs_origin_check("GET", {"Connection": "Upgrade", "Upgrade": "websocket"})


def test_origin_decisions() -> None:
    host = "127.0.0.1:4477"
    assert origin_allowed(None, host, ())  # kubectl and other non-browser clients
    assert origin_allowed("http://127.0.0.1:4477", host, ())
    assert origin_allowed("HTTP://127.0.0.1:4477", host, ())
    assert not origin_allowed("http://127.0.0.1:4478", host, ())
    assert not origin_allowed("https://evil.example", host, ())
    assert not origin_allowed("null", host, ())
    assert not origin_allowed("http://localhost:4477", host, ())  # different origin
    assert origin_allowed("https://ui.example", host, ("https://ui.example/",))
    assert not origin_allowed("http://127.0.0.1:4477", None, ())


def test_launch_token_ways() -> None:
    token = "LT-secret"
    key = b"k" * 32
    value = launch_cookie_value(key, token)
    cookie = {launch_cookie_name(token): value}
    assert launch_token_presented({"X-Kubelantern-Token": token}, {}, token, key) == "header"
    assert launch_token_presented({}, cookie, token, key) == "cookie"
    secure = {launch_cookie_for(token, secure=True): value}
    assert launch_token_presented({}, secure, token, key) == "cookie"
    bearer = {"Authorization": f"Bearer {token}"}
    assert launch_token_presented(bearer, {}, token, key) == "bearer"
    assert launch_token_presented({}, {}, token, key) is None
    assert launch_token_presented({"Authorization": "Bearer other"}, {}, token, key) is None
    assert launch_token_presented({}, {launch_cookie_name(token): "wrong"}, token, key) is None
    # A wrong header is a failure even with a valid cookie.
    assert launch_token_presented({"X-Kubelantern-Token": "wrong"}, cookie, token, key) is None


def test_launch_cookie_is_bound_to_the_key_made_at_start() -> None:
    """Defect 3: the cookie is not the token, and one from another start is worthless."""
    token = "LT-secret-0123456789"
    key, other = b"a" * 32, b"b" * 32
    value = launch_cookie_value(key, token)
    assert token not in value and value != launch_cookie_value(other, token)
    assert launch_cookie_value(key, token) == value  # stable within one start
    # The token itself as the cookie (what the cookie used to carry) no longer works.
    raw = {launch_cookie_name(token): token}
    assert launch_token_presented({}, raw, token, key) is None
    stale = {launch_cookie_name(token): launch_cookie_value(other, token)}
    assert launch_token_presented({}, stale, token, key) is None
    assert launch_cookie_for(token, secure=True) == "__Host-" + launch_cookie_name(token)
    assert launch_cookie_for(token, secure=False) == launch_cookie_name(token)


def test_token_removed_from_redirect() -> None:
    assert without_token_query("/", "token=abc") == "/"
    assert without_token_query("/c/x", "token=abc&tab=logs") == "/c/x?tab=logs"


def test_relative_path_and_navigation() -> None:
    assert relative_path("/k/api/clusters", "/k") == "/api/clusters"
    assert relative_path("/k", "/k") == "/"
    assert relative_path("/kx/api", "/k") is None
    assert relative_path("/api", "") == "/api"
    assert is_browser_navigation("GET", "/", "text/html,application/xhtml+xml")
    assert not is_browser_navigation("GET", "/api/clusters", "text/html")
    assert not is_browser_navigation("GET", "/", "application/json")
    assert not is_browser_navigation("POST", "/", "text/html")


def test_csp_forbids_inline_script_and_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CSP.split("; "))
    # WebAssembly may compile (the recordings player); JavaScript eval and inline stay out.
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert "'unsafe-eval'" not in CSP and "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert "ws:" in directives["connect-src"]
