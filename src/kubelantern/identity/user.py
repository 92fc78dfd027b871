"""*pure*: the signed-in user as kept in the sealed session cookie, and when to refresh.

Only what is needed goes in (the cookie must stay small): the bearer token the clusters
get, the refresh token, when the bearer expires, and a few claims to show who is signed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # only OIDC sign-in makes token sets; local mode never loads oidc.py
    from kubelantern.identity.oidc import TokenSet

REFRESH_BEFORE: Final = 60.0  # seconds before the bearer expires that we refresh it


@dataclass(frozen=True)
class UserSession:
    sub: str
    name: str  # what the UI shows: name, else email, else preferred_username, else sub
    email: str | None
    bearer: str  # the ID token, or the access token with --oidc-use-access-token
    refresh_token: str | None
    expires_at: float  # when `bearer` stops being accepted
    signed_in_at: float

    def needs_refresh(self, now: float, before: float = REFRESH_BEFORE) -> bool:
        return now >= self.expires_at - before

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserSession | None:
        """None when the payload is not a session (an older format, say)."""
        try:
            session = cls(
                sub=str(data["sub"]),
                name=str(data["name"]),
                email=None if data.get("email") is None else str(data["email"]),
                bearer=str(data["bearer"]),
                refresh_token=(
                    None if data.get("refresh_token") is None else str(data["refresh_token"])
                ),
                expires_at=float(data["expires_at"]),
                signed_in_at=float(data["signed_in_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return session if session.sub and session.bearer else None


def display_name(claims: Mapping[str, Any]) -> str:
    for key in ("name", "email", "preferred_username", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def session_from_tokens(
    tokens: TokenSet,
    claims: Mapping[str, Any],
    *,
    use_access_token: bool,
    now: float,
    signed_in_at: float | None = None,
    previous_refresh_token: str | None = None,
) -> UserSession:
    """The session after a sign-in or a refresh. `claims` are the verified ID token's."""
    if use_access_token:
        bearer = tokens.access_token
        lifetime = tokens.expires_in
        expires_at = now + lifetime if lifetime is not None else float(claims["exp"])
    else:
        if tokens.id_token is None:
            raise ValueError("the token response has no id_token")
        bearer = tokens.id_token
        expires_at = float(claims["exp"])
    email = claims.get("email")
    return UserSession(
        sub=str(claims["sub"]),
        name=display_name(claims),
        email=email if isinstance(email, str) else None,
        bearer=bearer,
        # A provider that does not rotate refresh tokens leaves it out of the refresh answer.
        refresh_token=tokens.refresh_token or previous_refresh_token,
        expires_at=expires_at,
        signed_in_at=now if signed_in_at is None else signed_in_at,
    )
