"""JSON API for port-forwards (local mode):

    GET    /api/portforwards          -> 200 {"items": [forward, ...]}
    POST   /api/portforwards          {cluster, namespace, pod | service, port, localPort?}
                                      -> 201 forward
    DELETE /api/portforwards/{id}     -> 200 {"id": ..., "stopped": true} | 404

A forward is `Forward.as_json()` (proxy/portforward.py). Forwards stop on shutdown.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelantern.proxy.portforward import PortForwards, parse_port
from kubelantern.status import KubelanternError, error_response, status_response
from kubelantern.web import keys

PORTFORWARDS: web.AppKey[PortForwards] = web.AppKey("portforwards", PortForwards)


def setup_portforward_routes(app: web.Application, base: str = "") -> None:
    """Add the routes and the manager to `app` (call before the app starts; idempotent)."""
    settings = app[keys.SETTINGS]
    if PORTFORWARDS in app or settings.in_cluster or settings.oidc or settings.auth_header:
        return  # in-cluster or team mode, a listener would open on the server: not offered
    app[PORTFORWARDS] = PortForwards(app[keys.SETTINGS], app[keys.METRICS])
    app.router.add_get(f"{base}/api/portforwards", list_forwards)
    app.router.add_post(f"{base}/api/portforwards", create_forward)
    app.router.add_delete(f"{base}/api/portforwards/{{id}}", delete_forward)
    app.on_shutdown.append(_stop_all)


async def _stop_all(app: web.Application) -> None:
    await app[PORTFORWARDS].close_all()


async def list_forwards(request: web.Request) -> web.Response:
    forwards = request.app[PORTFORWARDS].list()
    return web.json_response({"items": [f.as_json() for f in forwards]})


async def create_forward(request: web.Request) -> web.Response:
    try:
        body: Any = await request.json()
    except ValueError:
        return status_response(400, "body must be JSON: {cluster, namespace, pod|service, port}")
    if not isinstance(body, dict):
        return status_response(400, "body must be a JSON object")
    cluster_name = body.get("cluster")
    namespace = body.get("namespace")
    pod = body.get("pod")
    service = body.get("service")
    for key, value in (("cluster", cluster_name), ("namespace", namespace)):
        if not isinstance(value, str) or not value:
            return status_response(400, f"{key} is required (a string)")
    for key, value in (("pod", pod), ("service", service)):
        if value is not None and (not isinstance(value, str) or not value):
            return status_response(400, f"{key} must be a non-empty string")
    registry = request.app.get(keys.REGISTRY)
    cluster = registry.get(str(cluster_name)) if registry is not None else None
    if cluster is None:
        return status_response(404, f"unknown cluster {cluster_name!r}")
    try:
        port = parse_port(body.get("port"))
        local = body.get("localPort")
        local_port = 0 if local in (None, 0, "") else parse_port(local, "localPort")
        forward = await request.app[PORTFORWARDS].start(
            cluster,
            str(namespace),
            port,
            pod=pod,
            service=service,
            local_port=local_port,
        )
    except KubelanternError as e:  # PortForwardError, CredentialError, ClusterUnreachable
        return error_response(e)
    return web.json_response(forward.as_json(), status=201)


async def delete_forward(request: web.Request) -> web.Response:
    forward_id = request.match_info["id"]
    if not await request.app[PORTFORWARDS].stop(forward_id):
        return status_response(404, f"no port-forward {forward_id!r}")
    return web.json_response({"id": forward_id, "stopped": True})
