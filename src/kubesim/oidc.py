"""*pure*: kube-apiserver's OIDC token authenticator, as far as the tests need it: a bearer
token that is an ID token signed by the trusted issuer (JWKS), for the configured client,
not expired, names a user by `username_claim` (with `username_prefix`)."""

from __future__ import annotations

import time

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .config import OidcTrust


def verify_oidc_token(
    token: str, trust: OidcTrust, now: float | None = None
) -> tuple[str | None, str]:
    """(username, "") or (None, why)."""
    if token.count(".") != 2:
        return None, "invalid bearer token"
    try:
        keys = KeySet.import_key_set(dict(trust.jwks()))  # type: ignore[arg-type]
        claims = jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims
    except (JoseError, ValueError, TypeError) as e:
        return None, f"oidc: token not verified ({type(e).__name__})"
    now = time.time() if now is None else now
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if claims.get("iss") != trust.issuer:
        return None, "oidc: wrong issuer"
    if trust.client_id not in audiences:
        return None, "oidc: wrong audience"
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or now >= exp:
        return None, "oidc: token expired"
    name = claims.get(trust.username_claim)
    if not isinstance(name, str) or not name:
        return None, f"oidc: no {trust.username_claim} claim"
    return trust.username_prefix + name, ""
