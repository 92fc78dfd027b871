"""`--auth-header X-Forwarded-User`: identity from an identity-aware proxy (oauth2-proxy,
Pomerium, IAP) in front of kubelantern. Only with the explicit flag, and the CLI warns: anyone
who can reach kubelantern without passing that proxy could claim any name.

The header's user goes upstream as `Impersonate-User` beside kubelantern's own credentials
(which therefore need the `impersonate` verb on users). Impersonation headers from the
client are dropped first, and the trusted header itself never goes upstream. Requests
without the header get 401."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.identity.request import TRUSTED_USER
from kubelantern.settings import Settings
from kubelantern.status import status_response

OPEN_PATHS: Final = frozenset({"/healthz", "/readyz", "/api/config", "/favicon.svg"})
MAX_NAME: Final = 256


def usable_name(value: str | None) -> str | None:
    """The header's user name, or None when absent or not a plain name."""
    if value is None:
        return None
    name = value.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 or c == "," for c in name):
        return None
    return name


def trusted_header_middleware(settings: Settings) -> Middleware:
    header = settings.auth_header or ""
    base = settings.base_url

    @web.middleware
    async def trusted(request: web.Request, handler: Handler) -> web.StreamResponse:
        rel = request.path[len(base) :] if base and request.path.startswith(base) else request.path
        if rel in OPEN_PATHS or rel.startswith("/assets/"):
            return await handler(request)
        name = usable_name(request.headers.get(header))
        if name is None:
            return status_response(
                401,
                f"no user from the identity-aware proxy (header {header} missing or not a "
                "name); reach kubelantern through that proxy",
            )
        headers = CIMultiDict(request.headers)
        headers.popall(header, None)
        for key in [k for k in headers if k.lower().startswith("impersonate-")]:
            headers.popall(key, None)
        headers["Impersonate-User"] = name
        request = request.clone(headers=CIMultiDictProxy(headers))
        request[TRUSTED_USER] = name
        return await handler(request)

    return trusted


async def me(request: web.Request) -> web.Response:
    name = request.get(TRUSTED_USER)
    return web.json_response(
        {"signedIn": name is not None, "name": name, "email": None},
        headers={"Cache-Control": "no-store"},
    )


def install(app: web.Application, settings: Settings) -> None:
    app.middlewares.append(trusted_header_middleware(settings))
    app.router.add_get(f"{settings.base_url}/api/me", me)
