"""The simulator's OIDC authenticator: ID tokens of the trusted issuer are users; others not."""

from __future__ import annotations

import base64
import time

import pytest
from joserfc.jwk import RSAKey

from kubesim.auth import authenticate
from kubesim.config import OidcTrust, SimConfig
from kubesim.profiles import KUBERNETES
from tests.harness.oidc_provider import OidcProvider


@pytest.fixture
def idp() -> OidcProvider:
    return OidcProvider(base_url="https://127.0.0.1:9")


def config(idp: OidcProvider) -> SimConfig:
    jwks = lambda: {"keys": [k.as_dict(private=False) for k in idp.keys]}  # noqa: E731
    return SimConfig(oidc=OidcTrust(issuer=idp.issuer, client_id=idp.client_id, jwks=jwks))


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


def test_id_token_is_the_user(idp: OidcProvider) -> None:
    result = authenticate(KUBERNETES, config(idp), bearer(idp.mint("alice")))
    assert (result.user, result.via) == ("oidc:alice@example.com", "oidc")
    # The static tokens still work beside it.
    assert authenticate(KUBERNETES, config(idp), bearer("sim-admin-token")).user == "admin"


def test_rotated_keys_follow_the_jwks(idp: OidcProvider) -> None:
    idp.rotate(drop_old=True)
    assert authenticate(KUBERNETES, config(idp), bearer(idp.mint("bob"))).user == (
        "oidc:bob@example.com"
    )


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "other"}, "wrong audience"),
        ({"iss": "https://evil.example.com"}, "wrong issuer"),
        ({"exp": int(time.time()) - 1}, "expired"),
    ],
)
def test_refusals(idp: OidcProvider, claims: dict[str, object], error: str) -> None:
    result = authenticate(KUBERNETES, config(idp), bearer(idp.mint("alice", **claims)))
    assert not result.ok and error in result.error


def test_foreign_signature_and_no_trust(idp: OidcProvider) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": idp.signing_key.kid})
    result = authenticate(KUBERNETES, config(idp), bearer(idp.mint("alice", key=stranger)))
    assert not result.ok and "not verified" in result.error
    plain = authenticate(KUBERNETES, SimConfig(), bearer(idp.mint("alice")))
    assert not plain.ok and plain.error == "invalid bearer token"


def test_subprotocol_carries_an_id_token(idp: OidcProvider) -> None:
    token = base64.urlsafe_b64encode(idp.mint("alice").encode()).decode().rstrip("=")
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        (
            "Sec-WebSocket-Protocol",
            f"base64url.bearer.authorization.k8s.io.{token}, v5.channel.k8s.io",
        ),
    ]
    result = authenticate(KUBERNETES, config(idp), headers)
    assert result.user == "oidc:alice@example.com" and result.via == "oidc-subprotocol"
    assert result.protocols == ("v5.channel.k8s.io",)
