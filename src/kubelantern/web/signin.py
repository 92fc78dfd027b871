"""Team mode's sign-in edge: `<base>/oidc/login`, `<base>/oidc-callback`,
`POST <base>/oidc/logout`, `GET <base>/api/me`, and the middleware that opens the sealed
session cookie on every request (refreshing the user's token before it expires).

Nothing is kept on the server: the pending sign-in and the session both travel in sealed
cookies (identity/sessions.py), so any replica serves any step and a restart signs nobody
out. A cookie that does not open (tampered, expired, sealed with a retired secret) is no
session: 401 for API calls, the sign-in redirect for page loads — never a 500.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from kubelantern.identity.flow import (
    FLOW_TTL,
    CallbackError,
    check_callback,
    pending_from_dict,
    pending_to_dict,
    safe_return_to,
)
from kubelantern.identity.oidc import OidcError
from kubelantern.identity.request import USER
from kubelantern.identity.sessions import (
    Sealer,
    SealError,
    chunk_names,
    join_cookie,
    split_cookie,
)
from kubelantern.identity.user import REFRESH_BEFORE, UserSession
from kubelantern.status import status_response

if TYPE_CHECKING:  # the OIDC client (joserfc, cryptography's x509) loads in team mode only
    from kubelantern.identity.client import OidcClient

log = logging.getLogger("kubelantern.signin")

SESSION_COOKIE: Final = "kl-session"
FLOW_COOKIE: Final = "kl-oidc-flow"
SESSION_PURPOSE: Final = "session"
FLOW_PURPOSE: Final = "flow"
# Paths that work without a session: health, the sign-in steps, the SPA's own files.
OPEN_PATHS: Final = frozenset(
    {
        "/healthz",
        "/readyz",
        "/oidc/login",
        "/oidc-callback",
        "/oidc/logout",
        "/api/me",
        "/api/config",
        "/favicon.svg",
    }
)
OPEN_PREFIXES: Final = ("/assets/",)


@dataclass
class SignIn:
    """What team mode's sign-in needs at run time."""

    sealer: Sealer
    oidc: OidcClient
    public_url: str  # https://kubelantern.example.com (+ base), no trailing slash
    base: str = ""
    secure: bool = True  # Secure cookies (the public URL is https)
    session_max_age: float = 12 * 3600.0
    refresh_before: float = REFRESH_BEFORE  # seconds before the bearer expires
    clock: Callable[[], float] = time.time
    _refreshing: dict[str, asyncio.Future[UserSession | None]] = field(default_factory=dict)

    @property
    def cookie_path(self) -> str:
        return (self.base or "") + "/"

    # -- cookies ---------------------------------------------------------------------------

    def set_session(self, response: web.StreamResponse, session: UserSession) -> None:
        expires_at = session.signed_in_at + self.session_max_age
        sealed = self.sealer.seal(SESSION_PURPOSE, session.to_dict(), expires_at=expires_at)
        pairs = split_cookie(SESSION_COOKIE, sealed)
        max_age = max(0, int(expires_at - self.clock()))
        for name, value in pairs:
            self.set_cookie(response, name, value, max_age)
        for stale in chunk_names(SESSION_COOKIE)[len(pairs) :]:
            self.delete_cookie(response, stale)

    def clear_session(self, response: web.StreamResponse) -> None:
        for name in chunk_names(SESSION_COOKIE):
            self.delete_cookie(response, name)

    def set_cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.cookie_path,
            httponly=True,
            samesite="Lax",  # sent on the provider's top-level redirect back to us
            secure=self.secure,
        )

    def delete_cookie(self, response: web.StreamResponse, name: str) -> None:
        response.del_cookie(name, path=self.cookie_path)

    def session_of(self, request: web.Request) -> tuple[UserSession | None, str]:
        """The request's session, or None and why (for the log and the 401's message)."""
        sealed = join_cookie(request.cookies, SESSION_COOKIE)
        if sealed is None:
            return None, "not signed in"
        try:
            data = self.sealer.open(SESSION_PURPOSE, sealed, now=self.clock())
        except SealError as e:
            return None, str(e)
        session = UserSession.from_dict(data)
        if session is None:
            return None, "the session cookie is of an older kind; sign in again"
        return session, ""

    async def fresh(self, session: UserSession) -> UserSession | None:
        """`session` with a bearer that is not about to expire; None when that cannot be had.

        Single flight per refresh token on this replica: a page opening ten requests at
        once refreshes once (another replica may refresh too; providers that rotate refresh
        tokens strictly may then sign the user out, which the docs say)."""
        now = self.clock()
        if not session.needs_refresh(now, self.refresh_before):
            return session
        if session.refresh_token is None:
            return None if session.expired(now) else session
        key = session.refresh_token
        running = self._refreshing.get(key)
        if running is None:
            running = asyncio.get_running_loop().create_future()
            self._refreshing[key] = running
            renewed: UserSession | None = None
            try:
                renewed = await self.oidc.refresh(session, now)
            except OidcError as e:
                log.info("refresh for %s failed: %s", session.sub, e)
            finally:
                self._refreshing.pop(key, None)
                running.set_result(renewed)  # waiters get None if we failed unexpectedly
            return renewed
        return await running


def _page(status: int, title: str, message: str, again: str | None) -> web.Response:
    link = f'<p><a href="{html.escape(again)}">Sign in again</a></p>' if again else ""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>kubelantern: {html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{link}</body></html>"
    )
    return web.Response(
        status=status, text=body, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


SIGNIN: Final = web.AppKey("signin", SignIn)


async def login(request: web.Request) -> web.StreamResponse:
    signin = request.app[SIGNIN]
    return_to = safe_return_to(request.query.get("return_to"), signin.base)
    try:
        pending, url = await signin.oidc.start(return_to)
    except OidcError as e:
        log.warning("sign-in cannot start: %s", e)
        return _page(502, "Sign-in is unavailable", str(e), None)
    response = web.Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})
    sealed = signin.sealer.seal(
        FLOW_PURPOSE, pending_to_dict(pending), expires_at=signin.clock() + FLOW_TTL
    )
    signin.set_cookie(response, FLOW_COOKIE, sealed, int(FLOW_TTL))
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    signin = request.app[SIGNIN]
    again = f"{signin.base}/oidc/login"
    pending = None
    raw = request.cookies.get(FLOW_COOKIE)
    if raw:
        try:
            pending = pending_from_dict(signin.sealer.open(FLOW_PURPOSE, raw, now=signin.clock()))
        except SealError:
            pending = None
    try:
        code = check_callback(dict(request.query), pending)  # refuses a missing `pending`
        if pending is None:
            raise CallbackError("no sign-in is in progress in this browser; start again")
        session = await signin.oidc.exchange(code, pending, signin.clock())
    except CallbackError as e:
        response = _page(e.status, "Sign-in failed", str(e), again)
    except OidcError as e:
        log.warning("sign-in failed: %s", e)
        response = _page(401, "Sign-in failed", str(e), again)
    else:
        log.info("signed in: %s (%s)", session.name, session.sub)
        response = web.Response(
            status=302, headers={"Location": pending.return_to, "Cache-Control": "no-store"}
        )
        signin.set_session(response, session)
    signin.delete_cookie(response, FLOW_COOKIE)  # one use, whatever happened
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    signin = request.app[SIGNIN]
    home = f"{signin.public_url}/"
    redirect = await signin.oidc.logout_url(home) or f"{signin.base}/"
    response = web.json_response({"signedIn": False, "redirect": redirect})
    signin.clear_session(response)
    return response


async def me(request: web.Request) -> web.Response:
    signin = request.app[SIGNIN]
    session, why = signin.session_of(request)
    if session is None:
        return web.json_response(
            {"signedIn": False, "reason": why, "login": f"{signin.base}/oidc/login"},
            headers={"Cache-Control": "no-store"},
        )
    return web.json_response(
        {"signedIn": True, "name": session.name, "email": session.email, "sub": session.sub},
        headers={"Cache-Control": "no-store"},
    )


# A renewed session, sealed onto the response by the on_response_prepare hook.
_PENDING_COOKIES: Final = web.RequestKey("kubelantern.signin.renewed", UserSession)


def session_middleware(signin: SignIn) -> Middleware:
    """Every request but the open paths needs a session; refreshed sessions are re-sealed."""
    base = signin.base

    @web.middleware
    async def session_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        rel = request.path[len(base) :] if base and request.path.startswith(base) else request.path
        if rel in OPEN_PATHS or rel.startswith(OPEN_PREFIXES) or (base and rel == request.path):
            return await handler(request)
        session, why = signin.session_of(request)
        renewed = await signin.fresh(session) if session is not None else None
        if renewed is None:
            if session is not None:
                why = "the session could not be renewed; sign in again"
            return _signin_needed(request, signin, rel, why)
        request[USER] = renewed
        if renewed is not session:
            request[_PENDING_COOKIES] = renewed  # set on the response, WebSocket 101 included
        return await handler(request)

    return session_mw


def _signin_needed(request: web.Request, signin: SignIn, rel: str, why: str) -> web.StreamResponse:
    wants_page = (
        request.method in ("GET", "HEAD")
        and not rel.startswith(("/api/", "/clusters/"))
        and "text/html" in request.headers.get("Accept", "")
    )
    if wants_page:
        target = f"{signin.base}/oidc/login?return_to={_quote(request.path_qs)}"
        response: web.StreamResponse = web.Response(
            status=302, headers={"Location": target, "Cache-Control": "no-store"}
        )
    else:
        response = status_response(
            401, f"{why}: sign in at {signin.public_url}/oidc/login", reason="Unauthorized"
        )
    if request.cookies.get(SESSION_COOKIE):
        signin.clear_session(response)  # a cookie that does not open is dropped
    return response


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


async def _renewed_cookies(request: web.Request, response: web.StreamResponse) -> None:
    renewed = request.get(_PENDING_COOKIES)
    if isinstance(renewed, UserSession):
        # The hook runs after aiohttp turned response.cookies into headers: add the lines.
        carrier = web.Response()
        request.app[SIGNIN].set_session(carrier, renewed)
        for morsel in carrier.cookies.values():
            response.headers.add("Set-Cookie", morsel.OutputString())


def install(app: web.Application, signin: SignIn) -> None:
    """Add the sign-in routes, the session middleware and the cookie hook to `app`."""
    base = signin.base
    app[SIGNIN] = signin
    app.middlewares.append(session_middleware(signin))
    app.on_response_prepare.append(_renewed_cookies)
    app.router.add_get(f"{base}/oidc/login", login)
    app.router.add_get(f"{base}/oidc-callback", callback)
    app.router.add_post(f"{base}/oidc/logout", logout)
    app.router.add_get(f"{base}/api/me", me)

    async def close(app: web.Application) -> None:
        await signin.oidc.close()

    app.on_cleanup.append(close)
