"""Authentication decisions per profile, as pure functions over the received headers.

kube-apiserver: `Authorization: Bearer`, Basic (kept for tests), and on WebSocket upgrades the
`base64url.bearer.authorization.k8s.io.<RawURL b64>` subprotocol, which is validated and then
removed from `Sec-WebSocket-Protocol` before the handler sees it. Rancher: Bearer, Basic carrying
`name:secret` in padded URL-safe base64, or the `R_SESS` cookie when there is no Authorization;
it never reads the subprotocol.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import SimConfig
from .oidc import verify_oidc_token
from .profiles import SimProfile

BEARER_PROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io."
ANONYMOUS = "system:anonymous"

Headers = Sequence[tuple[str, str]]

_RAW_URL_B64 = re.compile(r"^[A-Za-z0-9_-]*$")
_URL_B64_PADDED = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_STD_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@dataclass(frozen=True)
class AuthResult:
    user: str | None  # None: not authenticated
    via: str = ""  # bearer | basic | subprotocol | cookie | anonymous
    # Set when the token came from a subprotocol: the list the handler must see instead.
    protocols: tuple[str, ...] | None = None
    error: str = ""  # why authentication failed, for tests and logs (never the token)

    @property
    def ok(self) -> bool:
        return self.user is not None


def header_values(headers: Headers, name: str) -> list[str]:
    lname = name.lower()
    return [v for k, v in headers if k.lower() == lname]


def first_header(headers: Headers, name: str) -> str | None:
    values = header_values(headers, name)
    return values[0] if values else None


def is_websocket_upgrade(headers: Headers) -> bool:
    """`Upgrade: websocket` and a Connection header naming upgrade (apimachinery wsstream)."""
    upgrade = ",".join(header_values(headers, "Upgrade")).lower()
    return "websocket" in upgrade and connection_has_upgrade(headers)


def connection_has_upgrade(headers: Headers) -> bool:
    return "upgrade" in ",".join(header_values(headers, "Connection")).lower()


def offered_protocols(headers: Headers) -> list[str]:
    """Every Sec-WebSocket-Protocol line, split on commas and trimmed, in order."""
    out: list[str] = []
    for line in header_values(headers, "Sec-WebSocket-Protocol"):
        out.extend(p.strip() for p in line.split(",") if p.strip())
    return out


def decode_raw_url_b64(data: str) -> bytes | None:
    """Go's base64.RawURLEncoding: URL-safe alphabet, no padding, strict."""
    if not _RAW_URL_B64.match(data) or len(data) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def _decode_basic(data: str, url_safe: bool) -> str | None:
    pattern = _URL_B64_PADDED if url_safe else _STD_B64
    if not pattern.match(data) or len(data) % 4:
        return None
    try:
        raw = base64.urlsafe_b64decode(data) if url_safe else base64.b64decode(data)
        return raw.decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def subprotocol_token(protocols: list[str]) -> tuple[str | None, list[str], str]:
    """(token, remaining protocols, error) following apiserver's ProtocolAuthenticator."""
    tokens = [p for p in protocols if p.startswith(BEARER_PROTOCOL_PREFIX)]
    rest = [p for p in protocols if not p.startswith(BEARER_PROTOCOL_PREFIX)]
    if not tokens:
        return None, protocols, ""
    if len(tokens) > 1:
        return None, rest, "multiple base64.bearer.authorization tokens specified"
    raw = decode_raw_url_b64(tokens[0][len(BEARER_PROTOCOL_PREFIX) :])
    if raw is None:
        return None, rest, "invalid base64.bearer.authorization token encoding"
    try:
        token = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, rest, "invalid base64.bearer.authorization token: contained non-utf8 data"
    if not rest:
        return None, rest, "missing additional subprotocol"
    return token, rest, ""


def parse_cookies(headers: Headers) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for line in header_values(headers, "Cookie"):
        for part in line.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in cookies:
                cookies[name] = value
    return cookies


def authenticate(profile: SimProfile, config: SimConfig, headers: Headers) -> AuthResult:
    """Who is asking, according to this profile's front door."""
    authorization = first_header(headers, "Authorization")
    errors: list[str] = []
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and profile.bearer_header:
            user = config.tokens.get(value)
            if user is not None:
                return AuthResult(user, "bearer")
            if config.oidc is not None:
                oidc_user, why = verify_oidc_token(value, config.oidc)
                if oidc_user is not None:
                    return AuthResult(oidc_user, "oidc")
                errors.append(why)
            else:
                errors.append("invalid bearer token")
        elif scheme.lower() == "basic" and profile.basic_header:
            decoded = _decode_basic(value, url_safe=profile.basic_is_token_pair)
            if decoded is None:
                errors.append("undecodable basic credentials")
            else:
                name, _, secret = decoded.partition(":")
                if profile.basic_is_token_pair:
                    user = config.tokens.get(f"{name}:{secret}")
                else:
                    user = name if config.basic.get(name) == secret and secret else None
                if user is not None:
                    return AuthResult(user, "basic")
                errors.append("invalid basic credentials")
        else:
            errors.append(f"unsupported authorization scheme {scheme!r}")
    elif profile.session_cookie:
        cookie = parse_cookies(headers).get(profile.session_cookie)
        if cookie is not None:
            user = config.tokens.get(cookie)
            if user is not None:
                return AuthResult(user, "cookie")
            errors.append("invalid session cookie")

    if profile.subprotocol_token and is_websocket_upgrade(headers):
        token, rest, error = subprotocol_token(offered_protocols(headers))
        if error:
            return AuthResult(None, error=error)
        if token is not None:
            user = config.tokens.get(token)
            via = "subprotocol"
            if user is None and config.oidc is not None:
                user, _ = verify_oidc_token(token, config.oidc)
                via = "oidc-subprotocol"
            if user is None:
                return AuthResult(None, error="invalid subprotocol bearer token")
            return AuthResult(user, via, protocols=tuple(rest))

    if errors:
        return AuthResult(None, error="; ".join(errors))
    if config.allow_anonymous:
        return AuthResult(ANONYMOUS, "anonymous")
    return AuthResult(None, error="no credentials")


def browser_origin_denied(headers: Headers) -> bool:
    """Rancher's pkg/websocket handler: an upgrade from a browser UA whose Origin host != Host."""
    if not connection_has_upgrade(headers):
        return False
    agent = first_header(headers, "User-Agent") or ""
    if "mozilla" not in agent.lower():
        return False
    origin = first_header(headers, "Origin")
    if origin is None:
        return False
    host = first_header(headers, "Host") or ""
    try:
        origin_host = urlsplit(origin).netloc
    except ValueError:
        return True
    return origin_host.lower() != host.lower()


def is_denied(rules: tuple[str, ...], verb: str, resource: str) -> bool:
    """Whether a SimConfig.denied_verbs rule matches (resource may be "pods/exec")."""
    for rule in rules:
        parts = rule.split()
        rule_verb = parts[0] if parts else "*"
        rule_res = parts[1] if len(parts) > 1 else "*"
        if rule_verb not in ("*", verb):
            continue
        if rule_res in ("*", resource) or (
            "/" not in rule_res and "/" not in resource and rule_res == resource
        ):
            return True
    return False
