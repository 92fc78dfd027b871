"""The apiserver's URL space behind the front door: /version, health, /openapi, discovery,
then one resource (group, version, namespace, name, subresource) and its verb, after the
user's verb check. What each verb does lives in `reads`, `writes`, `subresources`, `reviews`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import discovery, params, usage
from .bodies import read_body, read_patch
from .kinds import REVIEW_KINDS
from .params import parse_bool
from .podstreams import pod_stream
from .reads import get_or_404, list_response, object_response
from .responses import json_response
from .reviews import review
from .state import SimState, check_allowed
from .status import method_not_allowed, not_found_path
from .subresources import ephemeral, scale
from .watch import serve_watch
from .writes import create_object, delete_collection, delete_object, patch_object, update_object

JSON = dict[str, Any]


async def route(request: web.Request, state: SimState, path: str, user: str) -> web.StreamResponse:
    method = request.method
    path = path.rstrip("/") or "/"
    if path == "/version":
        return json_response(version_info(state))
    if path in ("/healthz", "/livez", "/readyz") or path.startswith(
        ("/healthz/", "/livez/", "/readyz/")
    ):
        return web.Response(text="ok", content_type="text/plain")
    if path == "/":
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
        return json_response({"paths": paths})
    if path == "/openapi/v3":
        return json_response(discovery.openapi_v3_root(state.registry))
    if path.startswith("/openapi/v3/"):
        doc = discovery.openapi_v3_doc(state.registry, path[len("/openapi/v3/") :])
        if doc is None:
            raise not_found_path()
        return json_response(doc)
    parts = path.strip("/").split("/")
    accept = request.headers.get("Accept", "")
    if parts[0] == "api":
        if len(parts) == 1:
            return _discovery(state, accept, core=True)
        if parts[1] != "v1":
            raise not_found_path()
        group, version, rest = "", "v1", parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return _discovery(state, accept, core=False)
        if len(parts) == 2:
            doc = discovery.api_group(state.registry, parts[1])
            if doc is None:
                raise not_found_path()
            return json_response(doc)
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise not_found_path()
    if not rest:
        if method != "GET":
            raise method_not_allowed()
        doc = discovery.resource_list(state.registry, group, version)
        if doc is None:
            raise not_found_path()
        return json_response(doc)
    return await _resource(request, state, user, group, version, rest)


def version_info(state: SimState) -> JSON:
    v = state.version
    core = v.lstrip("v").split("+")[0].split("-")[0].split(".")
    return {
        "major": core[0],
        "minor": core[1] if len(core) > 1 else "0",
        "gitVersion": v,
        "gitCommit": state.profile.git_commit,
        "gitTreeState": "clean",
        "buildDate": "2025-04-22T16:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": state.profile.platform,
    }


def _discovery(state: SimState, accept: str, core: bool) -> web.Response:
    agg = discovery.aggregated_version(accept) if state.profile.aggregated_discovery else None
    if agg is not None:
        return json_response(
            discovery.aggregated(state.registry, core, agg),
            content_type=discovery.AGGREGATED_MEDIA.format(v=agg),
        )
    if core:
        return json_response(discovery.api_versions())
    return json_response(discovery.api_group_list(state.registry))


async def _resource(
    request: web.Request, state: SimState, user: str, group: str, version: str, rest: list[str]
) -> web.StreamResponse:
    registry = state.registry
    watch = False
    if rest[0] == "watch":
        watch, rest = True, rest[1:]
        if not rest:
            raise not_found_path()
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = registry.get(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    rt = registry.get(group, version, rest[0])
    if rt is None or len(rest) > 3:
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if rt.namespaced is False and namespace:
        raise not_found_path()
    if sub and sub not in rt.subresources:
        raise not_found_path()
    method = request.method
    query = request.query
    watch = watch or parse_bool(query.get("watch"))
    if rt.group == usage.GROUP and watch:
        raise method_not_allowed()
    if method == "GET" and watch and not sub:
        check_allowed(state, user, "watch", rt.plural, group, namespace, name)
        return await serve_watch(request, state, rt, namespace, name)

    verb = _verb(method, bool(name), sub)
    resource = f"{rt.plural}/{sub}" if sub else rt.plural
    check_allowed(state, user, verb, resource, group, namespace, name)

    if rt.group == usage.GROUP:
        return usage.serve_metrics(request, state, rt, namespace, name)
    if rt.plural in REVIEW_KINDS:
        if method != "POST" or name:
            raise method_not_allowed()
        return await review(request, state, rt, user)
    if sub in ("exec", "attach", "portforward", "log"):
        pod = get_or_404(state, rt, namespace, name)
        return await pod_stream(request, state, pod, sub)
    if sub == "scale":
        return await scale(request, state, rt, namespace, name)
    if sub == "ephemeralcontainers":
        return await ephemeral(request, state, rt, namespace, name)
    if method == "GET":
        if name:
            obj = get_or_404(state, rt, namespace, name)
            return object_response(request, state, rt, obj)
        return list_response(request, state, rt, namespace)
    if method == "POST" and not name:
        body = await read_body(request)
        obj, created = create_object(state, rt, namespace, body, dry_run=params.dry_run(query))
        return json_response(obj, 201 if created else 200)
    if method == "PUT" and name:
        body = await read_body(request)
        obj = update_object(state, rt, namespace, name, body, sub, dry_run=params.dry_run(query))
        return json_response(obj)
    if method == "PATCH" and name:
        kind, patch = await read_patch(request)
        obj = patch_object(
            state, rt, namespace, name, kind, patch, sub, dry_run=params.dry_run(query)
        )
        return json_response(obj)
    if method == "DELETE" and name:
        obj = delete_object(
            state, rt, namespace, name, dry_run=params.dry_run(query), orphan=params.orphan(query)
        )
        return json_response(obj)
    if method == "DELETE" and not name:
        return delete_collection(request, state, rt, namespace)
    raise method_not_allowed()


def _verb(method: str, named: bool, sub: str) -> str:
    if sub in ("exec", "attach", "portforward"):
        return "create" if method == "POST" else "get"
    return {
        "GET": "get" if named else "list",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }.get(method, method.lower())
