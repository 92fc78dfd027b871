"""ID token verification over a key set: each failed check with its own message, and key
rotation through the JWKS cache (refetch on an unknown key id, rate-limited)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from joserfc.jwk import KeySet, RSAKey

from kubelantern.identity.jwks import (
    IdTokenError,
    JwksCache,
    UnknownKeyError,
    import_jwks,
    verify_id_token,
)
from kubelantern.identity.oidc import OidcError
from tests.harness.oidc_provider import OidcProvider

ALGS = ("RS256", "ES256")


@pytest.fixture
def idp() -> OidcProvider:
    return OidcProvider(base_url="https://127.0.0.1:9")


def published(idp: OidcProvider) -> KeySet:
    return import_jwks({"keys": [k.as_dict(private=False) for k in idp.keys]}, idp.issuer)


def verify(idp: OidcProvider, token: str, nonce: str | None = "n-1", **kw: Any) -> dict[str, Any]:
    return verify_id_token(
        token,
        published(idp),
        issuer=idp.issuer,
        client_id=idp.client_id,
        nonce=nonce,
        algorithms=ALGS,
        now=kw.pop("now", time.time()),
        **kw,
    )


def test_good_token(idp: OidcProvider) -> None:
    claims = verify(idp, idp.mint("alice", nonce="n-1"))
    assert claims["sub"] == "user-alice" and claims["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aud": "someone-else"}, "audience 'someone-else', not for this client"),
        ({"aud": ["someone-else", "other"]}, "not for this client"),
        ({"aud": ["kubelantern", "other"], "azp": "other"}, "several audiences"),
        ({"iss": "https://evil.example.com/realms/team"}, "issuer is 'https://evil"),
        ({"exp": int(time.time()) - 600}, r"expired \d+ s ago"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
        ({"nonce": "n-other"}, "nonce does not match"),
        ({"sub": ""}, "no subject"),
    ],
)
def test_claims_refused_with_their_reason(
    idp: OidcProvider, changes: dict[str, Any], message: str
) -> None:
    changes = dict(changes)
    token = idp.mint("alice", nonce=changes.pop("nonce", "n-1"), **changes)
    with pytest.raises(IdTokenError, match=message):
        verify(idp, token)


def test_nonce_skipped_for_refreshed_tokens(idp: OidcProvider) -> None:
    assert verify(idp, idp.mint("alice"), nonce=None)["sub"] == "user-alice"
    with pytest.raises(IdTokenError, match="nonce"):
        verify(idp, idp.mint("alice"), nonce="n-1")  # a missing nonce is no match


def test_leeway_on_expiry(idp: OidcProvider) -> None:
    token = idp.mint("alice", nonce="n-1", exp=int(time.time()) - 30)
    assert verify(idp, token, leeway=60)
    with pytest.raises(IdTokenError, match="expired"):
        verify(idp, token, leeway=0)


def test_bad_signature_with_a_known_key_id(idp: OidcProvider) -> None:
    forged_key = RSAKey.generate_key(2048, parameters={"kid": idp.signing_key.kid})
    token = idp.mint("alice", nonce="n-1", key=forged_key)
    with pytest.raises(IdTokenError, match="signature does not verify with the provider's key"):
        verify(idp, token)
    # And a payload altered after signing.
    head, _, sig = idp.mint("alice", nonce="n-1").split(".")
    other = idp.mint("bob", nonce="n-1").split(".")[1]
    with pytest.raises(IdTokenError, match="signature does not verify"):
        verify(idp, f"{head}.{other}.{sig}")


def test_unknown_key_and_algorithms(idp: OidcProvider) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
    with pytest.raises(UnknownKeyError, match="'stranger', unknown"):
        verify(idp, idp.mint("alice", nonce="n-1", key=stranger))
    _, body, _ = idp.mint("alice", nonce="n-1").split(".")
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","kid":"key-1"}').decode().rstrip("=")
    with pytest.raises(IdTokenError, match="signed with 'none'"):
        verify(idp, f"{unsigned}.{body}.")
    with pytest.raises(IdTokenError, match="not a signed JWT"):
        verify(idp, "not-a-jwt")


def test_token_without_kid_tries_the_keys(idp: OidcProvider) -> None:
    # A JWT header without "kid": mint one by re-signing with joserfc directly.
    from joserfc import jwt

    key = idp.signing_key
    body = {"iss": idp.issuer, "aud": idp.client_id, "sub": "s", "exp": time.time() + 60}
    token = jwt.encode({"alg": "RS256"}, {**body, "nonce": "n-1"}, key)
    assert verify(idp, token)["sub"] == "s"
    stranger = RSAKey.generate_key(2048)
    token = jwt.encode({"alg": "RS256"}, {**body, "nonce": "n-1"}, stranger)
    with pytest.raises(IdTokenError, match="does not verify with any provider key"):
        verify(idp, token)


def test_jwks_import_keeps_public_signing_keys_only(idp: OidcProvider) -> None:
    doc = {
        "keys": [
            idp.signing_key.as_dict(private=True),  # private parts must be dropped
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**idp.signing_key.as_dict(private=False), "kid": "enc", "use": "enc"},
        ]
    }
    keys = import_jwks(doc, idp.issuer)
    assert [k.kid for k in keys.keys] == [idp.signing_key.kid]
    assert not keys.keys[0].is_private
    with pytest.raises(OidcError, match="no signing key"):
        import_jwks({"keys": [{"kty": "oct", "k": "x"}]}, idp.issuer)
    with pytest.raises(OidcError, match="did not return a JSON Web Key Set"):
        import_jwks({"nope": 1}, idp.issuer)


async def test_cache_refetches_on_rotation_at_most_once_per_interval(idp: OidcProvider) -> None:
    fetches = 0
    clock = [1000.0]

    async def fetch() -> KeySet:
        nonlocal fetches
        fetches += 1
        return published(idp)

    cache = JwksCache(fetch, min_refetch=30, clock=lambda: clock[0])
    args: dict[str, Any] = dict(
        issuer=idp.issuer, client_id=idp.client_id, nonce=None, algorithms=ALGS
    )
    assert await cache.verify(idp.mint("alice"), now=time.time(), **args)
    assert fetches == 1
    clock[0] += 31
    new_kid = idp.rotate()  # the provider signs with a new key, published in its JWKS
    claims = await cache.verify(idp.mint("alice"), now=time.time(), **args)
    assert claims["sub"] == "user-alice" and fetches == 2
    assert new_kid == "key-2"
    # A junk key id right after a fetch does not make us fetch again.
    stranger = RSAKey.generate_key(2048, parameters={"kid": "junk"})
    with pytest.raises(UnknownKeyError):
        await cache.verify(idp.mint("alice", key=stranger), now=time.time(), **args)
    assert fetches == 2
    # Tokens signed with the old key still verify while the JWKS publishes it.
    assert await cache.verify(idp.mint("alice", key=idp.keys[0]), now=time.time(), **args)
