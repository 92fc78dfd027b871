"""Pure header decisions for the upstream leg, shared by the HTTP proxy and the WS bridge.

Nothing here does IO. Given what the client sent and what the cluster's kubeconfig
offers, these functions say which headers go upstream, whose credential wins, and which
upstream response headers come back. `proxy/http.py` and `proxy/ws/` both call
them so a token is handled the same way on every path.

Credential precedence (DESIGN §4), first match wins:
  1. the client's own `Authorization` (Bearer or Basic) — kubectl `--token`, the SPA's
     per-request header, the python client;
  2. the per-cluster login cookie `kl-auth-<sha256(name)[:16]>` (sealed) set by
     `POST /api/clusters/<name>/login`;
  3. in team mode, the signed-in user's token (OIDC) for the clusters that use the user's
     identity (in-cluster, and kubeconfig entries without credentials);
  4. the kubeconfig's credentials (`Cluster.credentials.headers()`).
The bearer subprotocol (`base64url.bearer.authorization.k8s.io.<token>`) sits between 1
and 2 for WebSocket upgrades; parsing it is `proxy/subprotocols.py`'s job.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.identity.sessions import join_cookie

# RFC 9110 §7.6.1 hop-by-hop fields, plus the legacy ones proxies strip in practice.
HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

LAUNCH_TOKEN_HEADER = "X-Kubelantern-Token"

# Request headers that describe the browser's session with *us*, not the user's request
# to the cluster: never forwarded upstream.
_CLIENT_ONLY_REQUEST: frozenset[str] = frozenset(
    {
        "cookie",  # our launch and login cookies live here
        LAUNCH_TOKEN_HEADER.lower(),
        "host",  # the client library sets the upstream's own
        "origin",  # the browser's origin is ours, not the cluster's (WS: the strategy decides)
        "referer",  # leaks our URLs (and possibly ?token=) to the cluster
        "content-length",  # the HTTP client recomputes it for the body it sends
        "expect",  # 100-continue was answered by our server already
        "authorization",  # decided by `choose_credentials`, never copied blindly
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
    }
)

# Extra request headers a WebSocket bridge must not copy: its client library performs its
# own handshake (key, version, extensions) and the strategy picks protocols.
_WEBSOCKET_HANDSHAKE: frozenset[str] = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)

# Upstream response headers that must not reach the client.
_UPSTREAM_ONLY_RESPONSE: frozenset[str] = frozenset(
    {
        "set-cookie",  # an upstream session (Rancher's R_SESS) must not land on our origin
        "set-cookie2",
        "strict-transport-security",  # would pin our localhost origin to https
        "alt-svc",  # would point the browser at the upstream's h3 endpoint for our origin
    }
)


# The fixed parts of what is dropped, joined once rather than per request.
_DROP_REQUEST: frozenset[str] = HOP_BY_HOP | _CLIENT_ONLY_REQUEST | {"user-agent"}
_DROP_WEBSOCKET: frozenset[str] = _DROP_REQUEST | _WEBSOCKET_HANDSHAKE
_DROP_RESPONSE: frozenset[str] = HOP_BY_HOP | _UPSTREAM_ONLY_RESPONSE


def _list_tokens(headers: Mapping[str, str] | CIMultiDictProxy[str], name: str) -> list[str]:
    """The comma-separated tokens of every `name` header, trimmed and lower-cased."""
    values: Iterable[str]
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        values = headers.getall(name, [])
    else:
        values = [v for k, v in headers.items() if k.lower() == name.lower()]
    return [t.strip().lower() for v in values for t in v.split(",") if t.strip()]


_NO_TOKENS: frozenset[str] = frozenset()


def connection_tokens(headers: Mapping[str, str] | CIMultiDictProxy[str]) -> frozenset[str]:
    """Header names listed in `Connection` (they are hop-by-hop for this message)."""
    if isinstance(headers, CIMultiDictProxy | CIMultiDict) and "Connection" not in headers:
        # Most messages have none (keep-alive is HTTP/1.1's default) and this is asked up to
        # five times a proxied request: one lookup, not a scan (-0.3 µs a call).
        return _NO_TOKENS
    return frozenset(_list_tokens(headers, "Connection"))


def upstream_request_headers(
    client: Mapping[str, str] | CIMultiDictProxy[str], *, websocket: bool = False
) -> CIMultiDict[str]:
    """The client's request headers that may travel upstream, minus anything credential-ish.

    Drops hop-by-hop headers (and those named in `Connection`), `Cookie`, the launch token,
    `Host`, `Origin`, `Referer`, `Authorization` (added back by the caller from
    `choose_credentials`), forwarding headers, and `Content-Length` (the HTTP client sets
    it). With `websocket=True` the `Sec-WebSocket-*` handshake headers go too. Keeps
    `Accept`, `Accept-Encoding`, `Content-Type`, `Impersonate-*`, `Kubectl-*`, ...
    User-Agent is left for `upstream_user_agent` to decide.
    """
    drop = _DROP_WEBSOCKET if websocket else _DROP_REQUEST
    if named := connection_tokens(client):  # else no copy of the ~25 fixed names
        drop = drop | named
    return CIMultiDict([(n, v) for n, v in client.items() if n.lower() not in drop])


def response_headers(upstream: Mapping[str, str] | CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Upstream response headers to pass back: all but hop-by-hop and cookie/HSTS ones.

    `Content-Encoding` stays (bytes pass through undecoded); `Content-Length` stays, it is
    only dropped by the caller when the body is re-chunked.
    """
    return CIMultiDict(response_header_pairs(upstream))


def response_header_pairs(
    upstream: Mapping[str, str] | CIMultiDictProxy[str],
) -> list[tuple[str, str]]:
    """`response_headers` as pairs, for extending a response's own headers in one pass
    (a CIMultiDict handed to `web.Response` is copied again: -1 µs a proxied request)."""
    drop = _DROP_RESPONSE
    if named := connection_tokens(upstream):
        drop = drop | named
    return [(n, v) for n, v in upstream.items() if n.lower() not in drop]


def is_browser_user_agent(user_agent: str | None) -> bool:
    return bool(user_agent) and "mozilla" in (user_agent or "").lower()


def upstream_user_agent(client_user_agent: str | None, ours: str) -> str:
    """User-Agent for an upstream HTTP request.

    A non-browser client's own User-Agent is kept (`kubectl/v1.32 ...` is what cluster audit
    logs should show). A browser's is replaced by ours: the request is made by kubelantern on
    the user's behalf, and browser User-Agents switch on browser-only behaviour in proxies
    (Rancher's origin rule, login redirects). No User-Agent at all: ours.
    """
    if not client_user_agent or is_browser_user_agent(client_user_agent):
        return ours
    return client_user_agent


# -- WebSocket / SPDY detection ------------------------------------------------------------


def _upgrade_values(headers: Mapping[str, str] | CIMultiDictProxy[str]) -> list[str]:
    if "upgrade" not in connection_tokens(headers):
        return []
    return _list_tokens(headers, "Upgrade")


def is_websocket_upgrade(headers: Mapping[str, str] | CIMultiDictProxy[str]) -> bool:
    return "websocket" in _upgrade_values(headers)


# -- credentials ---------------------------------------------------------------------------

LOGIN_COOKIE_PREFIX = "kl-auth-"
LAUNCH_COOKIE_PREFIX = "kl-launch-"


@functools.lru_cache(maxsize=1024)  # asked on every proxied request; a hash each time
def login_cookie_name(cluster: str) -> str:
    """`kl-auth-<sha256(cluster name)[:16]>`: cookie names cannot hold `/ : @`."""
    return LOGIN_COOKIE_PREFIX + hashlib.sha256(cluster.encode()).hexdigest()[:16]


def launch_cookie_name(launch_token: str) -> str:
    """Named after the token's hash so two kubelantern instances on one host (cookies
    ignore ports) do not overwrite each other's cookie."""
    return LAUNCH_COOKIE_PREFIX + hashlib.sha256(launch_token.encode()).hexdigest()[:12]


class CredentialSource(enum.Enum):
    CLIENT = "client"  # the client's Authorization header (or the bearer subprotocol)
    LOGIN = "login"  # the per-cluster login cookie
    SESSION = "session"  # the signed-in user's token (team mode, OIDC)
    KUBECONFIG = "kubeconfig"
    NONE = "none"


@dataclass(frozen=True)
class UserCredential:
    """A credential the *client* brought. `authorization` is a full header value."""

    authorization: str
    source: CredentialSource

    def __repr__(self) -> str:  # never print the secret
        return f"UserCredential(source={self.source.value})"


_AUTH_SCHEME = re.compile(r"^(bearer|basic)\s+\S", re.IGNORECASE)


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, else None."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return rest.strip() or None


def is_launch_token(token: str | None, launch_token: str | None) -> bool:
    """True when `token` is exactly our launch token (constant-time compare)."""
    if not token or not launch_token:
        return False
    return secrets.compare_digest(token.encode(), launch_token.encode())


def is_launch_token_bearer(authorization: str | None, launch_token: str | None) -> bool:
    """True when `Authorization: Bearer <t>` carries exactly our launch token."""
    return is_launch_token(bearer_of(authorization), launch_token)


def user_credential(
    headers: Mapping[str, str] | CIMultiDictProxy[str],
    cookies: Mapping[str, str],
    cluster: str,
    *,
    launch_token: str | None = None,
    open_login: Callable[[str | None], str | None] | None = None,
) -> UserCredential | None:
    """The user's own credential for `cluster`, by precedence; None means "use kubeconfig".

    An `Authorization` header is taken when it is Bearer or Basic and is not the launch
    token (the security middleware strips that one, this is belt and braces). Otherwise the
    login cookie for this cluster, when `open_login` opens it (it is sealed; see
    identity/logins.py).
    """
    authorization = headers.get("Authorization")
    if (
        authorization
        and _AUTH_SCHEME.match(authorization.strip())
        and not is_launch_token_bearer(authorization, launch_token)
    ):
        return UserCredential(authorization.strip(), CredentialSource.CLIENT)
    if open_login is not None and cookies:  # no cookies (kubectl, scripts): no login cookie
        token = open_login(join_cookie(cookies, login_cookie_name(cluster)))
        if token:
            return UserCredential(f"Bearer {token}", CredentialSource.LOGIN)
    return None


def choose_credentials(
    user: UserCredential | None, kubeconfig: Mapping[str, str] | CIMultiDict[str] | None
) -> tuple[CIMultiDict[str], CredentialSource]:
    """Auth headers for the upstream request and where they came from.

    The user's credential replaces the kubeconfig's entirely (including its Impersonate-*
    headers: a user who logged in acts as themselves). The client's own Impersonate-*
    headers pass through `upstream_request_headers` unchanged (`kubectl --as`).
    """
    out: CIMultiDict[str] = CIMultiDict()
    if user is not None:
        out["Authorization"] = user.authorization
        return out, user.source
    if kubeconfig:
        for name, value in kubeconfig.items():
            out.add(name, value)
        return out, CredentialSource.KUBECONFIG
    return out, CredentialSource.NONE


# -- redaction -----------------------------------------------------------------------------

_SECRET_QUERY = re.compile(r"(?i)(^|[?&;])((?:access_)?token|auth)=[^&;#]*")


def redact_path(path_qs: str) -> str:
    """A request target fit for logs: `token=`/`access_token=`/`auth=` values replaced."""
    if "=" not in path_qs:  # most targets (every access line): no scan (-1.5 µs)
        return path_qs
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=REDACTED", path_qs)
