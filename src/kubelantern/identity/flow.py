"""*pure*: the sign-in flow between our redirect and the provider's callback.

The pending sign-in (state, nonce, PKCE verifier, where to return) travels in a short-lived
sealed cookie, so the callback may land on any replica. The callback is accepted once: the
cookie is cleared whatever the outcome, so replaying the callback URL finds no sign-in in
progress; and the provider refuses a code used twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from kubelantern.identity.oidc import OidcError
from kubelantern.identity.pkce import Pending

FLOW_TTL: Final = 600.0  # seconds a user has to finish signing in at the provider


class CallbackError(OidcError):
    """The callback cannot complete the sign-in; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def pending_to_dict(p: Pending) -> dict[str, str]:
    return {"s": p.state, "n": p.nonce, "v": p.verifier, "r": p.return_to}


def pending_from_dict(data: Mapping[str, Any]) -> Pending | None:
    try:
        p = Pending(state=data["s"], nonce=data["n"], verifier=data["v"], return_to=data["r"])
    except KeyError:
        return None
    if not all(isinstance(v, str) for v in (p.state, p.nonce, p.verifier, p.return_to)):
        return None
    return p


def safe_return_to(value: str | None, base: str) -> str:
    """A same-origin path to land on after sign-in; anything else becomes `<base>/`."""
    home = (base or "") + "/"
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return home
    if any(c in value for c in "\r\n\t"):
        return home
    if base and not (value == base or value.startswith(base + "/")):
        return home
    return value


def check_callback(query: Mapping[str, str], pending: Pending | None) -> str:
    """The authorization code of a valid callback; CallbackError with the reason otherwise."""
    error = query.get("error")
    if error:
        desc = query.get("error_description")
        raise CallbackError(
            f"the identity provider refused the sign-in ({error}{': ' + desc if desc else ''})",
            403 if error == "access_denied" else 400,
        )
    if pending is None:
        raise CallbackError(
            "no sign-in is in progress in this browser (the callback was replayed, took longer "
            f"than {int(FLOW_TTL // 60)} minutes, or cookies are blocked); start again"
        )
    state = query.get("state")
    if not state or state != pending.state:
        raise CallbackError(
            "the callback's state does not match the sign-in in progress (a replayed or forged "
            "callback); start again"
        )
    code = query.get("code")
    if not code:
        raise CallbackError("the callback has no authorization code")
    return code
