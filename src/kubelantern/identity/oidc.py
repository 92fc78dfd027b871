"""*pure*: the OpenID Connect wire decisions — discovery document, authorization URL,
token and refresh requests, token responses, end-session URL. No sockets here; `client.py`
does the IO.

Facts followed: discovery lives at `<issuer>/.well-known/openid-configuration`, the issuer
may have a path (Keycloak: `https://sso/realms/team`) and must equal the document's `issuer`
exactly (OIDC Discovery §4.3); the token request repeats the `redirect_uri` of the
authorization request (RFC 6749 §4.1.3); PKCE is S256 (RFC 7636).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote_plus, urlencode, urlsplit

DEFAULT_SCOPES: Final = ("openid", "profile", "email")
# Asymmetric algorithms only: "none" and HS* (keyed with the client secret) are refused.
SAFE_ALGORITHMS: Final = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


class OidcError(Exception):
    """Sign-in cannot go on; the message says what the provider or the token got wrong."""


def discovery_url(issuer: str) -> str:
    """`<issuer>/.well-known/openid-configuration`, keeping the issuer's path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    token_auth_methods: tuple[str, ...] = ("client_secret_basic",)
    code_challenge_methods: tuple[str, ...] = ()


def _url(doc: Mapping[str, Any], key: str, issuer: str, *, required: bool) -> str | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http"):
        raise OidcError(f"the provider {issuer}'s discovery document has no usable {key}")
    return value


def _strings(doc: Mapping[str, Any], key: str, default: Sequence[str]) -> tuple[str, ...]:
    value = doc.get(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return tuple(default)


def parse_discovery(doc: object, issuer: str) -> ProviderMetadata:
    """Check a discovery document against the configured issuer and keep what we use."""
    if not isinstance(doc, dict):
        raise OidcError(f"the provider {issuer} answered discovery with something not JSON")
    found = doc.get("issuer")
    if found != issuer and not (isinstance(found, str) and found.rstrip("/") == issuer.rstrip("/")):
        raise OidcError(
            f"the discovery document says issuer {found!r}, but --oidc-issuer-url is {issuer!r}; "
            "they must be the same (copy the provider's issuer exactly, path included)"
        )
    methods = _strings(doc, "code_challenge_methods_supported", ())
    if methods and "S256" not in methods:
        raise OidcError(f"the provider {issuer} does not support PKCE S256 (it lists {methods})")
    algorithms = tuple(
        a
        for a in _strings(doc, "id_token_signing_alg_values_supported", ("RS256",))
        if a in SAFE_ALGORITHMS
    )
    if not algorithms:
        raise OidcError(
            f"the provider {issuer} signs ID tokens with no asymmetric algorithm we accept"
        )
    return ProviderMetadata(
        issuer=str(found),
        authorization_endpoint=str(_url(doc, "authorization_endpoint", issuer, required=True)),
        token_endpoint=str(_url(doc, "token_endpoint", issuer, required=True)),
        jwks_uri=str(_url(doc, "jwks_uri", issuer, required=True)),
        end_session_endpoint=_url(doc, "end_session_endpoint", issuer, required=False),
        userinfo_endpoint=_url(doc, "userinfo_endpoint", issuer, required=False),
        algorithms=algorithms,
        token_auth_methods=_strings(
            doc, "token_endpoint_auth_methods_supported", ("client_secret_basic",)
        ),
        code_challenge_methods=methods,
    )


@dataclass(frozen=True)
class ClientConfig:
    """What --oidc-* configured."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_uri: str  # <public-url><base>/oidc-callback
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    use_access_token: bool = False
    extra_auth_params: Mapping[str, str] = field(default_factory=dict)


def authorization_url(
    meta: ProviderMetadata,
    client: ClientConfig,
    *,
    state: str,
    nonce: str,
    challenge: str,
) -> str:
    scopes = client.scopes if "openid" in client.scopes else ("openid", *client.scopes)
    params = {
        **client.extra_auth_params,
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    sep = "&" if urlsplit(meta.authorization_endpoint).query else "?"
    return meta.authorization_endpoint + sep + urlencode(params)


@dataclass(frozen=True)
class TokenRequest:
    """A POST to the token endpoint: form fields and the client's Basic credentials, if any."""

    url: str
    form: dict[str, str]
    basic_auth: tuple[str, str] | None


def basic_authorization(client_id: str, secret: str) -> str:
    """`client_secret_basic`: both parts form-urlencoded before Base64 (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _client_auth(
    meta: ProviderMetadata, client: ClientConfig, form: dict[str, str]
) -> tuple[str, str] | None:
    form["client_id"] = client.client_id
    if client.client_secret is None:
        return None  # a public client: PKCE is its proof
    if "client_secret_basic" not in meta.token_auth_methods and (
        "client_secret_post" in meta.token_auth_methods
    ):
        form["client_secret"] = client.client_secret
        return None
    return (client.client_id, client.client_secret)


def code_request(
    meta: ProviderMetadata, client: ClientConfig, *, code: str, verifier: str
) -> TokenRequest:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,  # must repeat the authorization request's
        "code_verifier": verifier,
    }
    basic = _client_auth(meta, client, form)
    return TokenRequest(meta.token_endpoint, form, basic)


def refresh_request(
    meta: ProviderMetadata, client: ClientConfig, *, refresh_token: str
) -> TokenRequest:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    basic = _client_auth(meta, client, form)
    return TokenRequest(meta.token_endpoint, form, basic)


@dataclass(frozen=True)
class TokenSet:
    id_token: str | None
    access_token: str
    refresh_token: str | None
    expires_in: float | None


def parse_token_response(status: int, body: object, issuer: str) -> TokenSet:
    """A token endpoint's answer; OidcError carrying the provider's error and description."""
    if not isinstance(body, dict):
        raise OidcError(f"the provider {issuer}'s token endpoint answered {status} without JSON")
    if status != 200 or "error" in body:
        error = body.get("error", "unknown_error")
        desc = body.get("error_description")
        detail = f"{error}: {desc}" if desc else str(error)
        raise OidcError(f"the provider {issuer} refused the token request ({status} {detail})")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise OidcError(f"the provider {issuer}'s token response has no access_token")
    id_token = body.get("id_token")
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    return TokenSet(
        id_token=id_token if isinstance(id_token, str) and id_token else None,
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_in=float(expires_in) if isinstance(expires_in, int | float) else None,
    )


def end_session_url(
    meta: ProviderMetadata, client: ClientConfig, *, post_logout_redirect_uri: str
) -> str | None:
    """RP-initiated logout at the provider, or None when it has no end-session endpoint.

    Names the client by `client_id` rather than `id_token_hint`: no token goes into a URL
    (RP-Initiated Logout 1.0 §2 allows either)."""
    if not meta.end_session_endpoint:
        return None
    params = {"client_id": client.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    sep = "&" if urlsplit(meta.end_session_endpoint).query else "?"
    return meta.end_session_endpoint + sep + urlencode(params)
