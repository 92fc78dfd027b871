"""*pure*: the random values of one sign-in: PKCE verifier and S256 challenge (RFC 7636),
`state` (CSRF on the redirect) and `nonce` (binds the ID token to this sign-in)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

VERIFIER_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_verifier() -> str:
    """43 unreserved characters from 32 random bytes (RFC 7636 §4.1 allows 43..128)."""
    return _b64url(secrets.token_bytes(32))


def s256_challenge(verifier: str) -> str:
    """`BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2)."""
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= VERIFIER_CHARS:
        raise ValueError("a PKCE code_verifier is 43 to 128 unreserved characters")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class Pending:
    """What a sign-in needs to remember between the redirect and the callback."""

    state: str
    nonce: str
    verifier: str
    return_to: str  # a path on our origin to land on after sign-in

    @property
    def challenge(self) -> str:
        return s256_challenge(self.verifier)


def new_pending(return_to: str) -> Pending:
    return Pending(
        state=_b64url(secrets.token_bytes(24)),
        nonce=_b64url(secrets.token_bytes(24)),
        verifier=make_verifier(),
        return_to=return_to,
    )
