"""OIDC wire decisions without sockets: discovery, authorization URL, token requests, PKCE,
the callback checks."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kubelantern.identity.flow import (
    CallbackError,
    check_callback,
    pending_from_dict,
    pending_to_dict,
    safe_return_to,
)
from kubelantern.identity.oidc import (
    ClientConfig,
    OidcError,
    ProviderMetadata,
    authorization_url,
    code_request,
    discovery_url,
    end_session_url,
    parse_discovery,
    parse_token_response,
    refresh_request,
)
from kubelantern.identity.pkce import make_verifier, new_pending, s256_challenge

ISSUER = "https://sso.example.com/realms/team"


def doc(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
        "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
        "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
        "end_session_endpoint": f"{ISSUER}/protocol/openid-connect/logout",
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


CLIENT = ClientConfig(
    issuer=ISSUER,
    client_id="kubelantern",
    client_secret="s3cret",
    redirect_uri="https://kl.example.com/base/oidc-callback",
    scopes=("profile", "email", "groups"),
)


def test_discovery_url_keeps_the_issuers_path() -> None:
    assert discovery_url(ISSUER) == f"{ISSUER}/.well-known/openid-configuration"
    assert discovery_url(ISSUER + "/") == f"{ISSUER}/.well-known/openid-configuration"
    assert (
        discovery_url("https://accounts.example.com")
        == "https://accounts.example.com/.well-known/openid-configuration"
    )


def test_discovery_parsed_and_unsafe_algorithms_dropped() -> None:
    meta = parse_discovery(doc(), ISSUER)
    assert meta.issuer == ISSUER
    assert meta.algorithms == ("RS256",)  # HS256 and none are never accepted
    assert meta.end_session_endpoint is not None
    assert meta.token_auth_methods == ("client_secret_basic",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "https://evil.example.com/realms/team"}, "must be the same"),
        ({"token_endpoint": None}, "no usable token_endpoint"),
        ({"jwks_uri": "file:///etc/passwd"}, "no usable jwks_uri"),
        ({"code_challenge_methods_supported": ["plain"]}, "PKCE S256"),
        ({"id_token_signing_alg_values_supported": ["HS256"]}, "no asymmetric algorithm"),
    ],
)
def test_discovery_refusals_say_why(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(OidcError, match=message):
        parse_discovery(doc(**changes), ISSUER)
    with pytest.raises(OidcError, match="not JSON"):
        parse_discovery(["x"], ISSUER)


def test_authorization_url_has_state_nonce_pkce_and_openid() -> None:
    meta = parse_discovery(doc(), ISSUER)
    pending = new_pending("/base/c/x")
    url = authorization_url(
        meta, CLIENT, state=pending.state, nonce=pending.nonce, challenge=pending.challenge
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == meta.authorization_endpoint
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["response_type"] == "code"
    assert q["client_id"] == "kubelantern"
    assert q["redirect_uri"] == CLIENT.redirect_uri
    assert q["scope"].split() == ["openid", "profile", "email", "groups"]
    assert q["state"] == pending.state and q["nonce"] == pending.nonce
    assert q["code_challenge_method"] == "S256"
    expected = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
    assert q["code_challenge"] == expected.decode().rstrip("=")
    assert "client_secret" not in q and pending.verifier not in url


def test_authorization_url_with_a_query_in_the_endpoint() -> None:
    meta = parse_discovery(doc(authorization_endpoint=f"{ISSUER}/auth?tenant=a"), ISSUER)
    url = authorization_url(meta, CLIENT, state="s", nonce="n", challenge="c" * 43)
    assert url.startswith(f"{ISSUER}/auth?tenant=a&response_type=code")


def test_pkce_rfc7636_appendix_b_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    made = make_verifier()
    assert len(made) == 43 and s256_challenge(made)
    with pytest.raises(ValueError, match="43 to 128"):
        s256_challenge("short")


def test_code_request_repeats_redirect_uri_and_sends_verifier() -> None:
    meta = parse_discovery(doc(), ISSUER)
    req = code_request(meta, CLIENT, code="abc", verifier="v" * 43)
    assert req.url == meta.token_endpoint
    assert req.form == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": CLIENT.redirect_uri,
        "code_verifier": "v" * 43,
        "client_id": "kubelantern",
    }
    assert req.basic_auth == ("kubelantern", "s3cret")


def test_client_secret_post_and_public_client() -> None:
    post = parse_discovery(
        doc(token_endpoint_auth_methods_supported=["client_secret_post"]), ISSUER
    )
    req = refresh_request(post, CLIENT, refresh_token="r")
    assert req.basic_auth is None and req.form["client_secret"] == "s3cret"
    assert req.form["grant_type"] == "refresh_token" and req.form["refresh_token"] == "r"
    public = ClientConfig(ISSUER, "kubelantern", None, CLIENT.redirect_uri)
    req = code_request(parse_discovery(doc(), ISSUER), public, code="c", verifier="v" * 43)
    assert req.basic_auth is None and "client_secret" not in req.form


def test_token_responses() -> None:
    tokens = parse_token_response(
        200,
        {"access_token": "at", "id_token": "it", "refresh_token": "rt", "expires_in": 300},
        ISSUER,
    )
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token) == ("at", "it", "rt")
    assert tokens.expires_in == 300
    with pytest.raises(OidcError, match=r"400 invalid_grant: PKCE code_verifier missing"):
        parse_token_response(
            400,
            {"error": "invalid_grant", "error_description": "PKCE code_verifier missing"},
            ISSUER,
        )
    with pytest.raises(OidcError, match="without JSON"):
        parse_token_response(502, None, ISSUER)
    with pytest.raises(OidcError, match="no access_token"):
        parse_token_response(200, {"id_token": "x"}, ISSUER)


def test_end_session_url_names_the_client_not_the_token() -> None:
    meta = parse_discovery(doc(), ISSUER)
    url = end_session_url(meta, CLIENT, post_logout_redirect_uri="https://kl.example.com/base/")
    assert url is not None
    q = parse_qs(urlsplit(url).query)
    assert q == {
        "client_id": ["kubelantern"],
        "post_logout_redirect_uri": ["https://kl.example.com/base/"],
    }
    without = ProviderMetadata(ISSUER, "https://a", "https://t", "https://j")
    assert end_session_url(without, CLIENT, post_logout_redirect_uri="/") is None


def test_callback_checks() -> None:
    pending = new_pending("/")
    good = {"code": "abc", "state": pending.state}
    assert check_callback(good, pending) == "abc"
    with pytest.raises(CallbackError, match="no sign-in is in progress") as info:
        check_callback(good, None)  # a replayed callback: the flow cookie is gone
    assert info.value.status == 400
    with pytest.raises(CallbackError, match="state does not match"):
        check_callback({"code": "abc", "state": "other"}, pending)
    with pytest.raises(CallbackError, match="state does not match"):
        check_callback({"code": "abc"}, pending)
    with pytest.raises(CallbackError, match="no authorization code"):
        check_callback({"state": pending.state}, pending)
    with pytest.raises(CallbackError, match=r"refused the sign-in \(access_denied: nope\)") as info:
        check_callback({"error": "access_denied", "error_description": "nope"}, pending)
    assert info.value.status == 403


def test_pending_round_trip_and_garbage() -> None:
    pending = new_pending("/c/x")
    assert pending_from_dict(pending_to_dict(pending)) == pending
    assert pending_from_dict({"s": "x"}) is None
    assert pending_from_dict({"s": 1, "n": "n", "v": "v", "r": "/"}) is None


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("/c/kind/pods", "", "/c/kind/pods"),
        ("//evil.example.com/x", "", "/"),
        ("https://evil.example.com/", "", "/"),
        ("/\\evil", "", "/"),
        (None, "/kl", "/kl/"),
        ("/other", "/kl", "/kl/"),
        ("/kl/c/x", "/kl", "/kl/c/x"),
        ("/x\r\nSet-Cookie: a", "", "/"),
    ],
)
def test_return_to_stays_on_our_origin(value: str | None, base: str, expected: str) -> None:
    assert safe_return_to(value, base) == expected
