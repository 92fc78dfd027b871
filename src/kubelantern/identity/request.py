"""Where a request's signed-in user lives, so the proxy (below web/) can read it."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from kubelantern.identity.user import UserSession

USER: Final = web.RequestKey("kubelantern.user", UserSession)


def request_user(request: web.Request) -> UserSession | None:
    """The signed-in user of this request (set by web/signin.py's middleware), if any."""
    return request.get(USER)


# The user an identity-aware proxy vouched for (--auth-header): kubelantern acts with its
# own credentials and `Impersonate-User: <this>`.
TRUSTED_USER: Final = web.RequestKey("kubelantern.trusted_user", str)
