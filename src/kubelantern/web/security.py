"""DESIGN §5: Host allow-list, Origin check, launch token, security headers.

The decisions are pure functions (tested without sockets); `security_gate` applies them
(inside the one middleware of web/logs.py) in this order: Host (DNS rebinding) → Origin
(cross-site requests and WebSocket hijacking) → launch token. `/healthz`, `/readyz` and the
icon skip only the launch token.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.proxy.headers import (
    LAUNCH_TOKEN_HEADER,
    is_launch_token_bearer,
    is_websocket_upgrade,
    launch_cookie_name,
)
from kubelantern.settings import Settings
from kubelantern.status import status_response

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS: Final = frozenset({"", "0.0.0.0", "::", "*"})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# The icon too: browsers fetch it on their own (also after the cookie is gone), it tells nothing.
OPEN_PATHS: Final = frozenset({"/healthz", "/readyz", "/favicon.svg"})

CSP: Final = "; ".join(
    (
        "default-src 'self'",
        # 'wasm-unsafe-eval' lets WebAssembly compile (asciinema-player's terminal is a wasm
        # module shipped in our own chunk); it allows no eval() of JavaScript and no inline
        # script, which stay forbidden.
        "script-src 'self' 'wasm-unsafe-eval'",
        # xterm.js and CodeMirror set inline style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


# -- pure decisions ------------------------------------------------------------------------


def split_host(value: str) -> tuple[str, int | None] | None:
    """`Host` header → (lower-case hostname without brackets, port); None if malformed."""
    value = value.strip()
    if not value or any(c in value for c in "/@ \t\\?#"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    elif value.count(":") > 1:
        return None  # an IPv6 literal must be bracketed in Host
    else:
        host, _, port_text = value.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port: int | None = int(port_text)
    else:
        port = None
    if not host:
        return None
    return host.lower().rstrip("."), port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(host_header: str | None, bind_host: str, extra: tuple[str, ...] = ()) -> bool:
    """Whether a request's `Host` is one of ours (the DNS-rebinding defence).

    Allowed: loopback names, the bind host, and `extra` (`--allow-host`; `*` allows any),
    each with or without a port. When bound to a wildcard address any IP literal is also
    allowed: rebinding needs a DNS name, and users reach such a server by its IP.
    """
    if host_header is None:
        return False
    parsed = split_host(host_header)
    if parsed is None:
        return False
    host, _ = parsed
    allowed = set(LOOPBACK_NAMES)
    bind = bind_host.strip().strip("[]").lower()
    if bind not in WILDCARD_BINDS:
        allowed.add(bind)
    for entry in extra:
        if entry.strip() == "*":
            return True
        parsed_extra = split_host(entry)
        if parsed_extra is not None:
            allowed.add(parsed_extra[0])
    if host in allowed:
        return True
    return bind in WILDCARD_BINDS and _is_ip(host)


def needs_origin_check(method: str, headers: Mapping[str, str] | CIMultiDictProxy[str]) -> bool:
    """Origin matters for every WebSocket upgrade and every non-GET/HEAD/OPTIONS request."""
    return method.upper() not in SAFE_METHODS or is_websocket_upgrade(headers)


def origin_allowed(origin: str | None, host_header: str | None, allowed: tuple[str, ...]) -> bool:
    """A present Origin must be our own (same host:port as `Host`) or listed.

    No Origin is fine: browsers always send one on cross-site requests and upgrades, so a
    missing one means a non-browser client such as kubectl. `Origin: null` is foreign.
    """
    if origin is None:
        return True
    origin = origin.strip()
    if any(origin.rstrip("/").lower() == a.rstrip("/").lower() for a in allowed if a):
        return True
    if "*" in allowed:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or host_header is None:
        return False
    # Same rule as gorilla/websocket's checkSameOrigin: Origin's host[:port] == Host.
    return parts.netloc.lower() == host_header.strip().lower()


def token_matches(presented: str | None, launch_token: str) -> bool:
    if not presented:
        return False
    return secrets.compare_digest(presented.encode(), launch_token.encode())


HOST_PREFIX: Final = "__Host-"  # browsers keep such a cookie to Secure, Path=/, no Domain


@functools.lru_cache(maxsize=16)  # one key and token per process: the HMAC once, not per request
def launch_cookie_value(cookie_key: bytes, launch_token: str) -> str:
    """What the launch cookie carries: an HMAC of the launch token under `cookie_key`, a key
    made at start. Every service on the host receives the cookie (cookies ignore ports), so
    it must not be the token itself (good for headers, `?token=` and kubectl) and must be
    worthless once this process is gone (issue 10, defect 3)."""
    mac = hmac.new(cookie_key, launch_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def launch_cookie_for(launch_token: str, secure: bool) -> str:
    """The cookie's name: `__Host-` over https (pinned to this host: Secure, Path=/)."""
    return (HOST_PREFIX if secure else "") + launch_cookie_name(launch_token)


def launch_token_presented(
    headers: Mapping[str, str] | CIMultiDictProxy[str],
    cookies: Mapping[str, str],
    launch_token: str,
    cookie_key: bytes,
) -> str | None:
    """How the request proved it knows the launch token: "header", "cookie", "bearer", or
    None. A wrong `X-Kubelantern-Token` header is a failure even if the cookie is right
    (someone sent a stale token on purpose; say so rather than guess)."""
    header = headers.get(LAUNCH_TOKEN_HEADER)
    if header is not None:
        return "header" if token_matches(header, launch_token) else None
    want = launch_cookie_value(cookie_key, launch_token)
    for secure in (True, False):
        if token_matches(cookies.get(launch_cookie_for(launch_token, secure)), want):
            return "cookie"
    if is_launch_token_bearer(headers.get("Authorization"), launch_token):
        return "bearer"
    return None


def without_token_query(path: str, query_string: str) -> str:
    """The same URL with `token=` removed from its query (for the post-login redirect)."""
    kept = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "token"]
    return path + ("?" + urlencode(kept) if kept else "")


# What may stay as is in a Location path; anything else (`\\`, spaces, non-ASCII) is
# percent-encoded so that no browser reads it as a separator or another host.
_UNSAFE_IN_PATH = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]")


def token_redirect_target(raw_path: str, raw_query: str, base_url: str) -> str | None:
    """Where opening `<path>?token=` redirects to: the same path on our own origin, with
    `token` taken out of the query (issue 10, defect 11).

    The path is the raw (still percent-encoded) one, so `%2F%2Fhost` stays a path segment;
    leading slashes are collapsed (`//host` would be another host) and backslashes
    encoded (browsers read `\\` as `/`). None when the decoded path holds control
    characters (CR/LF would split the header): answer 400.
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in unquote(raw_path)):
        return None
    path = _UNSAFE_IN_PATH.sub(lambda m: quote(m.group(0), safe=""), raw_path)
    path = "/" + path.lstrip("/")
    if base_url and not (path == base_url or path.startswith(base_url + "/")):
        path = base_url + "/"
    return without_token_query(path, raw_query)


def is_browser_navigation(method: str, rel_path: str, accept: str | None) -> bool:
    """A page load (wants HTML) rather than an API call: gets an HTML 401, not JSON."""
    if method.upper() not in ("GET", "HEAD"):
        return False
    if rel_path.startswith(("/api/", "/clusters/")) or rel_path in ("/metrics", "/api"):
        return False
    return "text/html" in (accept or "")


def relative_path(path: str, base_url: str) -> str | None:
    """`path` with the base URL prefix removed; None when it lies outside the base."""
    if not base_url:
        return path
    if path == base_url:
        return "/"
    if path.startswith(base_url + "/"):
        return path[len(base_url) :]
    return None


# -- the middleware ------------------------------------------------------------------------

_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kubelantern: open the link</title>
<style>body{{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}}
code{{background:#eee;padding:.1em .3em}}</style></head>
<body><h1>kubelantern needs its launch token</h1>
<p>{message}</p>
<p>Open the URL printed in the terminal where <code>kubelantern serve</code> runs: it ends
with <code>?token=…</code>. Opening it once sets a cookie, so later visits work without it.</p>
</body></html>
"""


def _unauthorized(request: web.Request, rel: str, message: str) -> web.StreamResponse:
    if is_browser_navigation(request.method, rel, request.headers.get("Accept")):
        return web.Response(
            status=401,
            text=_LOGIN_PAGE.format(message=message),
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )
    return status_response(
        401,
        f"{message}; send it as the X-Kubelantern-Token header, as the cookie set by opening "
        "the URL printed in the terminal, or as `Authorization: Bearer <launch token>`",
    )


# What the gate says of a request: the request to handle (maybe a copy without the launch
# token's Authorization), or the answer that refuses (or redirects) it.
Gate = Callable[[web.Request], web.Request | web.StreamResponse]


def security_gate(settings: Settings) -> Gate:
    """Build the check for `settings` (Host, Origin, launch token). Synchronous: it only
    decides, so the access middleware runs it inline rather than as a middleware layer of
    its own (a coroutine and an await less per request, issue 12)."""
    base = settings.base_url
    # Made per start: a launch cookie from an earlier run (or copied by another local
    # service, which receives it too) stops working at restart.
    cookie_key = secrets.token_bytes(32)
    hosts_seen: dict[str | None, bool] = {}  # Host value → allowed (a pure decision)

    def allowed_host(host: str | None) -> bool:
        known = hosts_seen.get(host)
        if known is None:
            if len(hosts_seen) >= 256:  # bounded: anyone may send any Host
                hosts_seen.clear()
            known = hosts_seen[host] = host_allowed(host, settings.host, settings.allowed_hosts)
        return known

    def security(request: web.Request) -> web.Request | web.StreamResponse:
        host = request.headers.get("Host")
        if not allowed_host(host):
            shown = (host or "")[:100]
            return status_response(
                403,
                f"Host {shown!r} is not allowed (DNS rebinding protection); use 127.0.0.1 or "
                "localhost, or start kubelantern with --allow-host",
            )
        if needs_origin_check(request.method, request.headers):
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, host, settings.allowed_origins):
                shown = (origin or "")[:200]
                return status_response(
                    403,
                    f"Origin {shown!r} is not allowed: kubelantern accepts requests that change "
                    "things and WebSocket connections only from its own pages (or from "
                    "--allow-origin)",
                )
        token = settings.launch_token
        rel = relative_path(request.path, base)
        if not token or rel is None or rel in OPEN_PATHS:
            return request

        if request.method in ("GET", "HEAD") and "token" in request.query:
            # Opening the printed URL: trade the query token for a cookie, then redirect so
            # the token does not linger in history or Referer headers.
            if not token_matches(request.query.get("token"), token):
                return _unauthorized(request, rel, "The token in this URL is not valid")
            location = token_redirect_target(
                request.rel_url.raw_path, request.rel_url.raw_query_string, base
            )
            if location is None:
                return status_response(400, "the path may not contain control characters")
            response = web.Response(status=302, headers={"Location": location})
            response.set_cookie(
                launch_cookie_for(token, request.secure),
                launch_cookie_value(cookie_key, token),
                httponly=True,
                samesite="Strict",
                secure=request.secure,
                # `__Host-` requires Path=/; over plain http the cookie stays under the base.
                path="/" if request.secure else (base or "") + "/",
            )
            response.headers["Cache-Control"] = "no-store"
            return response

        how = launch_token_presented(request.headers, request.cookies, token, cookie_key)
        if how is None:
            return _unauthorized(request, rel, "Missing or wrong kubelantern launch token")
        if how == "bearer":
            # The launch token was the Authorization (kubectl --token): it is for us only.
            headers = CIMultiDict(request.headers)
            del headers["Authorization"]
            return request.clone(headers=CIMultiDictProxy(headers))
        return request

    return security


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: hardening headers on everything, CSP on HTML."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("text/html"):
        headers.setdefault("Content-Security-Policy", CSP)
