"""`make_app(settings)`: kubelantern's aiohttp application.

Routes (all under `settings.base_url`):
  /clusters/{cluster}/{API path}   the proxy: HTTP → proxy.http.forward, WebSocket →
                                   proxy.ws.bridge.bridge, SPDY/3.1 →
                                   proxy.upgrade.entry.tunnel_upgrade
  /api/...                         web/api.py (config, clusters, login/logout),
                                   web/portforward_api.py (/api/portforwards, local mode)
  /healthz /readyz /metrics        web/api.py
  /...                             the SPA (web/static.py)

Middlewares, outermost first: access log (+ request metrics) with the security gate (Host,
Origin, launch token) inside it, one layer (web/logs.py), and in team mode the session
(web/signin.py: OIDC routes, sealed cookie).
The cluster registry is loaded at startup (cleanup_ctx); with no
kubeconfig at all (or --demo) the built-in demo simulators start in-process instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelantern.clusters.paths import AmbiguousClusterPath, ApiPathError, validate_api_path
from kubelantern.clusters.probe import Prober
from kubelantern.clusters.registry import Registry, load_registry
from kubelantern.identity.request import TRUSTED_USER, request_user
from kubelantern.observe.logfilter import UNLIMITED
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.recordings import Recorder
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.http import forward
from kubelantern.proxy.plan import Refusal, RequestView, plan
from kubelantern.proxy.ws.sessions import SessionRegistry
from kubelantern.settings import Settings
from kubelantern.status import status_response
from kubelantern.web import (
    api,
    doctor_api,
    fleet,
    keys,
    portforward_api,
    recordings_api,
    static,
    team,
    trusted,
)
from kubelantern.web.logs import front_middleware, note_cluster
from kubelantern.web.reload import KubeconfigReloader
from kubelantern.web.security import add_security_headers, security_gate

if TYPE_CHECKING:
    from kubesim.demo import Demo

log = logging.getLogger("kubelantern")


def kubeconfig_available(
    settings: Settings, env: Mapping[str, str] | None = None, home: Path | None = None
) -> bool:
    """Whether any kubeconfig could be read: flags, then $KUBECONFIG, then ~/.kube/config.

    DESIGN §3: with none found (and no --in-cluster) kubelantern serves the demo clusters.
    """
    if settings.in_cluster or settings.kubeconfigs:
        return True
    env = os.environ if env is None else env
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return any(Path(p).expanduser().is_file() for p in listed)
    home = Path.home() if home is None else home
    return (home / ".kube" / "config").is_file()


def cluster_tail(request: web.Request, base: str) -> str:
    """The raw (still percent-encoded) path after `<base>/clusters/`."""
    raw = request.rel_url.raw_path
    prefix = f"{base}/clusters/"
    return raw[len(prefix) :] if raw.startswith(prefix) else request.match_info.get("tail", "")


def _handshake_ok(request: web.Request) -> bool:
    """Whether aiohttp would accept the WebSocket handshake's form. The throwaway response
    knows the client's own protocols: which one is spoken is the upstream's choice, echoed
    later (proxy/ws/accept.py); with none, aiohttp logged "Client protocols [...] don't
    overlap server-known ones ()" for every upgrade although the answer carried the protocol."""
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    protocols = tuple(p.strip() for p in offered.split(",") if p.strip())
    return web.WebSocketResponse(protocols=protocols).can_prepare(request).ok


async def proxy_handler(request: web.Request) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    if not request.app[keys.STATE].ready:
        return status_response(503, "kubelantern is still loading its clusters; retry shortly")
    registry = request.app[keys.REGISTRY]
    tail = cluster_tail(request, settings.base_url)
    try:
        found = registry.resolve(tail)
    except AmbiguousClusterPath as e:
        return status_response(e.status, str(e))
    if found is None:
        first = tail.split("/", 1)[0]
        known = ", ".join(repr(c.name) for c in registry) or "none"
        return status_response(
            404,
            f"unknown cluster {first!r} in /clusters/{tail[:200]}; known clusters: {known} "
            "(the name is the kubeconfig context name, percent-encoded)",
        )
    cluster, api_path = found
    note_cluster(request, cluster.name)
    try:
        api_path = validate_api_path(api_path)
    except ApiPathError as e:
        return status_response(400, f"cluster {cluster.name!r}: {e}")

    deps = request.app[keys.PROXY]
    view = RequestView(
        method=request.method,
        api_path=api_path,
        raw_query=request.rel_url.raw_query_string,
        headers=request.headers,
        cookies=request.cookies,
        content_length=request.content_length,
        # Only an upgrade is checked (a throwaway WebSocketResponse costs every request).
        valid_upgrade="Upgrade" in request.headers and _handshake_ok(request),
        open_login=team.login_opener(request.app[keys.SEALER], cluster.name),
        session_bearer=user.bearer if (user := request_user(request)) is not None else None,
        trusted_user=request.get(TRUSTED_USER),
        signed_in=user.sub if user is not None else None,
        signed_in_name=(user.email or user.name) if user is not None else None,
    )
    # The cluster's first use builds its TLS; unusable material becomes its load error,
    # which plan() answers with 503 as for an error found at load.
    await cluster.ensure_tls()
    decided = plan(view, cluster, deps.settings)
    if isinstance(decided, Refusal):
        return status_response(decided.status, decided.message)
    # The upgrade paths load with the first upgrade, not with every start (issue 12: start-up).
    call: Coroutine[Any, Any, web.StreamResponse]
    if decided.websocket:
        from kubelantern.proxy.ws.bridge import bridge

        call = bridge(request, deps, cluster, decided)
    elif decided.tunnel:
        from kubelantern.proxy.upgrade.entry import tunnel_upgrade

        call = tunnel_upgrade(request, deps, cluster, decided)
    else:
        call = forward(request, deps, cluster, decided)
    # The call may last for hours (an idle WebSocket): this frame waits on it throughout, so
    # it keeps neither the plan nor the view; the callee drops the plan once it has opened
    # the upstream (issue 12: memory per idle WebSocket).
    del decided, view
    return await call


async def _clusters_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    state = app[keys.STATE]
    registry = app[keys.REGISTRY]
    demo_handle: Demo | None = None
    reloader: KubeconfigReloader | None = None
    # --demo alone, or no kubeconfig anywhere: the demo clusters. --demo with --kubeconfig (or
    # --in-cluster): both, the user's contexts first — naming a file means wanting its
    # contexts, and silently dropping it was issue 11 defect 8.
    real = bool(settings.kubeconfigs or settings.in_cluster) if settings.demo else None
    if real is None:
        # kubeconfig_available stats files (maybe on a slow mount): off the event loop.
        real = await asyncio.to_thread(kubeconfig_available, settings)
    loaded = Registry({}, [])
    if real:
        if settings.kubeconfig_poll > 0 and (settings.kubeconfigs or not settings.in_cluster):
            reloader = KubeconfigReloader(settings, registry, app[keys.PROBER])
            await reloader.snapshot()  # before loading: a change made meanwhile is seen
        loaded = await load_registry(settings)
    if settings.demo or not real:
        why = "--demo" if settings.demo else "no kubeconfig found ($KUBECONFIG, ~/.kube/config)"
        from kubelantern.demo import demo_specs  # the simulator loads only when needed
        from kubesim.demo import start_demo

        demo_handle = await start_demo()
        specs = demo_specs(demo_handle)
        for spec in specs:
            if spec.name in loaded.clusters:
                loaded.errors.append(
                    f"demo cluster {spec.name!r} is not served: a kubeconfig context has that name"
                )
        free = [s for s in specs if s.name not in loaded.clusters]
        demo = Registry.from_specs(free, [], settings)
        loaded.clusters.update(demo.clusters)
        if reloader is not None:
            reloader.fixed = dict(demo.clusters)  # a kubeconfig reload keeps them
        state.demo = True
        log.info("%s: serving the built-in demo clusters: %s", why, ", ".join(demo.clusters))
    registry.clusters.update(loaded.clusters)
    registry.errors.extend(loaded.errors)
    for line in registry.errors:
        log.warning("%s", line, extra=UNLIMITED)
    usable = [c.name for c in registry if c.load_error is None]
    log.info("clusters: %s", ", ".join(repr(n) for n in usable) or "none")
    state.ready = True
    # No probe here: with a hundred contexts, probing at start-up would run every exec
    # plugin (SSO logins, cloud CLIs) and dial every cluster nobody looks at. Clusters are
    # probed when /api/clusters or a proxied request asks, a bounded number at once (Prober).
    prober = app[keys.PROBER]
    if reloader is not None:
        reloader.start()
    try:
        yield
    finally:
        state.ready = False
        if reloader is not None:
            await reloader.close()
        await prober.close()
        await app[keys.PROXY].sessions.close()
        await registry.close()
        if demo_handle is not None:
            await demo_handle.close()


async def _on_shutdown(app: web.Application) -> None:
    await app[keys.STREAMS].close_all()


def make_app(settings: Settings) -> web.Application:
    """Build kubelantern for `settings`; clusters load when the app starts."""
    base = settings.base_url.rstrip("/")
    if base and not base.startswith("/"):
        base = "/" + base
    if base != settings.base_url:
        from dataclasses import replace

        settings = replace(settings, base_url=base)

    settings = team.with_public_url(settings)
    metrics = Metrics()
    deps = ProxyDeps(
        settings,
        Registry({}, []),
        metrics,
        ActiveStreams(metrics),
        SessionRegistry(metrics),
        Recorder(settings.record_sessions, settings.record_input, metrics),
    )
    app = web.Application(middlewares=[front_middleware(security_gate(settings))])
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = metrics
    app[keys.STREAMS] = deps.streams
    app[keys.PROBER] = Prober()
    app[keys.STATE] = keys.ServerState()
    app[keys.SEALER] = team.sealer_for(settings)
    app[keys.REGISTRY] = deps.registry
    app[keys.PROXY] = deps
    app.cleanup_ctx.append(_clusters_ctx)
    app.on_shutdown.append(_on_shutdown)
    app.on_response_prepare.append(add_security_headers)

    if settings.oidc:
        team.install_oidc(app, settings)  # routes, session middleware (after security)
    elif settings.auth_header:
        trusted.install(app, settings)  # identity from an identity-aware proxy's header
    api.add_routes(app, base)
    portforward_api.setup_portforward_routes(app, base)  # local mode only
    recordings_api.add_routes(app, base)
    fleet.add_routes(app, base)  # /api/clusters/{name}/summary
    doctor_api.add_routes(app, base)  # /api/clusters/{name}/doctor
    api.add_fallback(app, base)
    # Any tail, line breaks too (`.` stops at a decoded %0A, which then fell through to
    # aiohttp's bare 404 instead of the path check's 400 or the unknown-cluster 404).
    app.router.add_route("*", f"{base}/clusters/{{tail:[\\s\\S]*}}", proxy_handler)
    static.add_routes(app, base)
    return app
