"""The JSON API the SPA (and scripts) use: config, clusters, per-cluster login; health.

Routes (all under `settings.base_url`):
  GET  /api/config                     {"baseUrl","version","localMode","demo","launchToken",
                                        "sessionGrace",
                                        "features": {"login","websocket","metrics",
                                                     "portForward","recordings"}}
  GET  /api/clusters[?recheck=NAME]    [cluster objects, see `cluster_json`]; recheck
                                       probes NAME afresh (re-runs its exec plugin)
  POST /api/clusters/{name}/login      {"token": "..."} → 200 {"name","loggedIn":true}
  POST /api/clusters/{name}/logout     → 200 {"name","loggedIn":false}
  GET  /api/clusters/{name}/summary    nodes ready, pods not ready, warnings (web/fleet.py)
  POST /api/clusters/{name}/doctor     `kubelantern doctor NAME --json` (web/doctor_api.py)
  GET  /healthz  /readyz  /metrics
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from kubelantern import __version__
from kubelantern.clusters import strategies
from kubelantern.clusters.fetching import get_json
from kubelantern.clusters.kubeconfig import shown_url
from kubelantern.clusters.probe import Prober, ProbeResult
from kubelantern.identity.logins import LOGIN_TTL, open_login, seal_login
from kubelantern.identity.request import request_user
from kubelantern.identity.sessions import chunk_names, join_cookie, split_cookie
from kubelantern.observe.logfilter import redact_text
from kubelantern.proxy.auth import user_request_kwargs
from kubelantern.proxy.headers import (
    login_cookie_name,
)
from kubelantern.proxy.plan import uses_user_identity
from kubelantern.settings import Settings
from kubelantern.status import KubelanternError, error_response, status_response
from kubelantern.web import keys

if TYPE_CHECKING:
    from kubelantern.clusters.cluster import Cluster

log = logging.getLogger("kubelantern.api")

LOGIN_TIMEOUT = 10.0
MAX_TOKEN_LENGTH = 16 * 1024


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    if request.app[keys.STATE].ready:
        return web.Response(text="ok")
    return web.Response(status=503, text="loading clusters")


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[keys.METRICS].render(),
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


async def config(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    return web.json_response(
        {
            "baseUrl": settings.base_url,
            "version": __version__,
            "localMode": not (settings.in_cluster or settings.oidc or settings.auth_header),
            "demo": request.app[keys.STATE].demo,
            "launchToken": settings.launch_token is not None,
            "signIn": "oidc" if settings.oidc else "header" if settings.auth_header else None,
            # How long a dropped terminal may take to reattach (the UI stops trying after it).
            "sessionGrace": settings.session_grace,
            "features": {
                "login": True,
                "websocket": True,
                "metrics": True,
                # Opens ports on the server's machine: local mode only.
                "portForward": not (settings.in_cluster or settings.oidc or settings.auth_header),
                # serve --record-sessions: the recordings page and its failure warning.
                "recordings": settings.record_sessions is not None,
            },
        },
        headers={"Cache-Control": "no-store"},
    )


def auth_kind(cluster: Cluster, in_cluster: bool, logged_in: bool, signed_in: bool = False) -> str:
    """ "user" (team mode: the signed-in user's identity), "kubeconfig" (we hold
    credentials), "login" (the user's pasted token is used), or "none"."""
    if signed_in:
        return "user"
    if logged_in or in_cluster:
        return "login"
    spec = cluster.spec
    if not spec.auth.is_empty or spec.tls.client_cert_data or spec.tls.client_cert_file:
        return "kubeconfig"
    return "none"


def cluster_json(
    cluster: Cluster,
    probe: ProbeResult | None,
    *,
    settings: Settings,
    logged_in: bool,
    signed_in: bool = False,
) -> dict[str, Any]:
    strategy, strategy_source = strategies.current(cluster, settings)
    state = probe.state if probe is not None else "unknown"
    error = cluster.load_error or (probe.error if probe is not None else None)
    if cluster.load_error:
        state = "error"
    return {
        "name": cluster.name,
        "server": shown_url(cluster.spec.server),
        "namespace": cluster.spec.namespace,
        "profile": cluster.profile.name,
        "profileSource": cluster.profile_source,
        "profileReason": probe.profile_reason if probe is not None else None,
        "strategy": strategy,
        "strategySource": strategy_source,
        "state": state,
        # The exec plugin's stderr and upstream messages are shown in the page: no secrets.
        "error": redact_text(error) if error else error,
        "reason": "config" if cluster.load_error else probe.reason if probe is not None else None,
        "version": probe.version if probe is not None else None,
        "auth": auth_kind(cluster, cluster.spec.user_identity, logged_in, signed_in),
        "loggedIn": logged_in,
        # From the kubeconfig's `kubelantern` extension: the fleet table's group, the chip's
        # colour (None: the UI derives one from the name).
        "group": cluster.spec.group,
        "color": cluster.spec.color,
        "source": cluster.spec.origin,
    }


def _login_token(request: web.Request, name: str) -> str | None:
    raw = join_cookie(request.cookies, login_cookie_name(name))
    return open_login(request.app[keys.SEALER], name, raw, time.time())


def _logged_in(request: web.Request, name: str) -> bool:
    return _login_token(request, name) is not None


async def _user_probe(prober: Prober, cluster: Cluster, token: str, wait: float) -> ProbeResult:
    await cluster.ensure_tls()
    # TLS that cannot be built is the cluster's load error, which the probe reports as such.
    tls = await user_request_kwargs(cluster) if cluster.load_error is None else None
    return await prober.user_result(cluster, token, tls, wait)


async def clusters(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    registry = request.app[keys.REGISTRY]
    prober = request.app[keys.PROBER]
    wait = 0.0 if request.query.get("wait") == "0" else 3.0
    if recheck := request.query.get("recheck"):  # "Check again" / "Re-run the plugin"
        prober.forget(recheck)
    results = await prober.results(list(registry), wait=wait)
    # A cluster the user logged in to is probed with that token: its login state is the
    # user's, not the kubeconfig's (which may hold no credentials at all).
    logins = [(c, t) for c in registry if (t := _login_token(request, c.name)) is not None]
    mine = await asyncio.gather(*(_user_probe(prober, c, t, wait) for c, t in logins))
    results.update((c.name, r) for (c, _), r in zip(logins, mine, strict=True))
    tokens = {c.name for c, _ in logins}
    user = request_user(request)
    body = [
        cluster_json(
            c,
            results.get(c.name),
            settings=settings,
            logged_in=c.name in tokens,
            signed_in=user is not None and c.name not in tokens and uses_user_identity(settings, c),
        )
        for c in registry
    ]
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def cluster_from(request: web.Request) -> Cluster | web.Response:
    name = unquote(request.match_info["name"])
    registry = request.app[keys.REGISTRY]
    cluster = registry.get(name)
    if cluster is None:
        known = ", ".join(repr(c.name) for c in registry) or "none"
        return status_response(404, f"unknown cluster {name!r}; known clusters: {known}")
    return cluster


def _cookie_path(request: web.Request) -> str:
    return request.app[keys.SETTINGS].base_url + "/"


async def login(request: web.Request) -> web.Response:
    found = cluster_from(request)
    if isinstance(found, web.Response):
        return found
    cluster = found
    try:
        payload = await request.json()
    except (ValueError, UnicodeDecodeError):
        return status_response(400, 'login expects a JSON body {"token": "..."}')
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token.strip():
        return status_response(400, 'login expects a JSON body {"token": "..."}')
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or any(c in token for c in "\r\n\0 "):
        return status_response(400, "that token cannot be valid (too long or has whitespace)")
    await cluster.ensure_tls()  # first use: unusable TLS material is a load error (503)
    if cluster.load_error is not None:
        return status_response(
            503, f"cluster {cluster.name!r} cannot be used: {cluster.load_error}"
        )

    # Verify the token: any authenticated request works; /api is discovery, allowed to all
    # authenticated users. A bad token is a 401 whatever the RBAC.
    try:
        answer = await get_json(
            cluster,
            "/api",
            auth={"Authorization": f"Bearer {token}"},
            # Without the kubeconfig's client cert, which would vouch for any token.
            tls=await user_request_kwargs(cluster),
            limit=64 * 1024,
            answer_within=LOGIN_TIMEOUT,
        )
    except KubelanternError as e:  # ClusterUnreachable, TLSConfigError
        return error_response(e)
    status = answer.status
    if status == 401:
        return status_response(401, f"cluster {cluster.name!r} rejected this token (401)")
    if status >= 500 or status in (404, 407):
        message = answer.message()
        return status_response(
            502,
            f"cannot check the token: cluster {cluster.name!r} answered {status}"
            + (f": {message}" if message else ""),
        )
    response = web.json_response({"name": cluster.name, "loggedIn": True})
    sealed = seal_login(request.app[keys.SEALER], cluster.name, token, time.time())
    try:
        pairs = split_cookie(login_cookie_name(cluster.name), sealed)
    except ValueError:
        return status_response(400, "that token is too long to keep in cookies")
    for name, value in pairs:
        response.set_cookie(
            name,
            value,
            max_age=int(LOGIN_TTL),
            httponly=True,
            samesite="Strict",
            secure=_secure(request),
            path=_cookie_path(request),
        )
    request.app[keys.PROBER].forget(cluster.name)
    log.info("logged in to cluster %r (token verified, status %d)", cluster.name, status)
    return response


async def logout(request: web.Request) -> web.Response:
    found = cluster_from(request)
    if isinstance(found, web.Response):
        return found
    response = web.json_response({"name": found.name, "loggedIn": False})
    for name in chunk_names(login_cookie_name(found.name)):
        if name in request.cookies:
            response.del_cookie(
                name,
                path=_cookie_path(request),
                secure=_secure(request),
                httponly=True,
                samesite="Strict",
            )
    return response


def _secure(request: web.Request) -> bool:
    """Secure cookies over TLS, also when TLS ends at the ingress (--public-url https)."""
    public = request.app[keys.SETTINGS].public_url or ""
    return request.secure or public.startswith("https://")


async def api_not_found(request: web.Request) -> web.Response:
    return status_response(404, f"no API route {request.method} {request.path}")


def add_routes(app: web.Application, base: str) -> None:
    app.router.add_get(f"{base}/healthz", healthz)
    app.router.add_get(f"{base}/readyz", readyz)
    app.router.add_get(f"{base}/metrics", metrics)
    app.router.add_get(f"{base}/api/config", config)
    app.router.add_get(f"{base}/api/clusters", clusters)
    app.router.add_post(f"{base}/api/clusters/{{name:.+}}/login", login)
    app.router.add_post(f"{base}/api/clusters/{{name:.+}}/logout", logout)


def add_fallback(app: web.Application, base: str) -> None:
    """Unknown /api/ paths answer a JSON 404 (register after every other /api route)."""
    # `[\s\S]`, not `.`: a decoded %0A must land here too, not in aiohttp's bare 404.
    app.router.add_route("*", f"{base}/api/{{rest:[\\s\\S]*}}", api_not_found)
