"""ID token verification: signature with the provider's JWKS (joserfc), then `iss`, `aud`,
`azp`, `exp`, `iat`, `nonce` (OIDC Core §3.1.3.7), each failure with its own message.

`verify_id_token` is pure over a key set; `JwksCache` keeps the provider's keys and fetches
them again when a token names a key id it does not know (the provider rotated its keys),
at most once per `min_refetch` seconds so that junk tokens cannot make us hammer it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet

from kubelantern.identity.oidc import OidcError

DEFAULT_LEEWAY: Final = 60.0  # seconds of clock skew tolerated on exp/iat


class IdTokenError(OidcError):
    """The ID token is not acceptable; the message says which check failed."""


class UnknownKeyError(IdTokenError):
    """The token names a key id the key set does not have (refetch the JWKS)."""


def import_jwks(doc: object, issuer: str) -> KeySet:
    """The provider's public keys; symmetric and private members are ignored."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise OidcError(f"the provider {issuer}'s jwks_uri did not return a JSON Web Key Set")
    public = [
        {k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        for key in doc["keys"]
        if isinstance(key, dict)
        and key.get("kty") in ("RSA", "EC", "OKP")
        and key.get("use", "sig") == "sig"
    ]
    if not public:
        raise OidcError(f"the provider {issuer}'s JWKS holds no signing key we can use")
    try:
        return KeySet.import_key_set({"keys": public})
    except (JoseError, ValueError, TypeError) as e:
        raise OidcError(f"the provider {issuer}'s JWKS could not be read ({e})") from None


def _header(token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(token.encode("ascii")).headers())
    except (JoseError, ValueError, UnicodeError):
        raise IdTokenError("the ID token is not a signed JWT") from None


def _decode(token: str, keys: KeySet, algorithms: Sequence[str]) -> dict[str, Any]:
    header = _header(token)
    kid = header.get("kid")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise IdTokenError(
            f"the ID token is signed with {alg!r}; the provider announced {list(algorithms)}"
        )
    if kid is None:
        # No kid: try the keys of the right type (a provider with one key often omits it).
        candidates = [k for k in keys.keys if k.check_alg(alg) is None]
        for key in candidates:
            try:
                return dict(jwt.decode(token, key, algorithms=list(algorithms)).claims)
            except BadSignatureError:
                continue
            except JoseError:
                continue
        raise IdTokenError("the ID token's signature does not verify with any provider key")
    try:
        return dict(jwt.decode(token, keys, algorithms=list(algorithms)).claims)
    except InvalidKeyIdError:
        raise UnknownKeyError(f"the ID token is signed with key {kid!r}, unknown to us") from None
    except BadSignatureError:
        raise IdTokenError(
            f"the ID token's signature does not verify with the provider's key {kid!r} "
            "(forged or corrupted)"
        ) from None
    except UnsupportedAlgorithmError:
        raise IdTokenError(f"the ID token's algorithm {alg!r} is not accepted") from None
    except (DecodeError, JoseError, ValueError) as e:
        raise IdTokenError(f"the ID token cannot be decoded ({e})") from None


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    now: float,
    leeway: float = DEFAULT_LEEWAY,
) -> None:
    """OIDC Core §3.1.3.7; `nonce` None skips the nonce check (refreshed ID tokens)."""
    iss = claims.get("iss")
    if iss != issuer:
        raise IdTokenError(f"the ID token's issuer is {iss!r}, expected {issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise IdTokenError(
            f"the ID token is for audience {aud!r}, not for this client ({client_id!r}); "
            "check --oidc-client-id"
        )
    azp = claims.get("azp")
    if len(audiences) > 1 and azp != client_id:
        raise IdTokenError(f"the ID token has several audiences and azp {azp!r}, not ours")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise IdTokenError("the ID token has no expiry (exp)")
    if now > exp + leeway:
        raise IdTokenError(f"the ID token expired {int(now - exp)} s ago")
    iat = claims.get("iat")
    if isinstance(iat, int | float) and iat > now + leeway:
        raise IdTokenError("the ID token is issued in the future (check the clocks)")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("the ID token has no subject (sub)")
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdTokenError(
            "the ID token's nonce does not match this sign-in (replayed or mixed-up response)"
        )


def verify_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms: Sequence[str],
    now: float,
    leeway: float = DEFAULT_LEEWAY,
) -> dict[str, Any]:
    claims = _decode(token, keys, algorithms)
    check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now, leeway=leeway)
    return claims


class JwksCache:
    """The provider's keys, fetched on first use and again for an unknown key id."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[KeySet]],
        *,
        min_refetch: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refetch = min_refetch
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _load(self, *, force: bool) -> KeySet:
        async with self._lock:  # single flight: concurrent sign-ins share one fetch
            fresh = self._clock() - self._fetched_at < self._min_refetch
            if self._keys is None or (force and not fresh):
                self._keys = await self._fetch()
                self._fetched_at = self._clock()
            return self._keys

    async def verify(
        self,
        token: str,
        *,
        issuer: str,
        client_id: str,
        nonce: str | None,
        algorithms: Sequence[str],
        now: float,
        leeway: float = DEFAULT_LEEWAY,
    ) -> dict[str, Any]:
        keys = await self._load(force=False)
        args: dict[str, Any] = dict(
            issuer=issuer, client_id=client_id, nonce=nonce, algorithms=algorithms, now=now
        )
        try:
            return verify_id_token(token, keys, leeway=leeway, **args)
        except UnknownKeyError:
            keys = await self._load(force=True)  # the provider may have rotated its keys
            return verify_id_token(token, keys, leeway=leeway, **args)
