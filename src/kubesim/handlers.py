"""API routes behind the front door: discovery, resource verbs, subresources."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any

import yaml
from aiohttp import web

from . import discovery, metrics, params, protobuf
from .auth import is_denied, is_websocket_upgrade
from .kinds import REVIEW_KINDS, ResourceType
from .logs import parse_log_options, prepare_pod_log
from .params import parse_bool
from .patch import PATCH_TYPES, apply_patch
from .responses import json_response
from .selectors import field_matcher, label_matcher
from .state import SimState, check_allowed, extra_headers
from .status import StatusError, already_exists, conflict, invalid, not_found, status_response
from .store import now_rfc3339
from .tables import build_table, printer_for, wants_table
from .views import crd_for, from_view, to_view
from .watch import serve_watch

JSON = dict[str, Any]

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


# -- routing ---------------------------------------------------------------------------------


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
            raise _not_found_path()
        return json_response(doc)
    parts = path.strip("/").split("/")
    accept = request.headers.get("Accept", "")
    if parts[0] == "api":
        if len(parts) == 1:
            return _discovery(state, accept, core=True)
        if parts[1] != "v1":
            raise _not_found_path()
        group, version, rest = "", "v1", parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return _discovery(state, accept, core=False)
        if len(parts) == 2:
            doc = discovery.api_group(state.registry, parts[1])
            if doc is None:
                raise _not_found_path()
            return json_response(doc)
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise _not_found_path()
    if not rest:
        if method != "GET":
            raise _method_not_allowed()
        doc = discovery.resource_list(state.registry, group, version)
        if doc is None:
            raise _not_found_path()
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


def _not_found_path() -> StatusError:
    """The apiserver's 404 for a path it does not serve (no group, version or resource)."""
    return StatusError(404, "the server could not find the requested resource")


def _method_not_allowed() -> StatusError:
    return StatusError(405, "the server does not allow this method on the requested resource")


async def _resource(
    request: web.Request, state: SimState, user: str, group: str, version: str, rest: list[str]
) -> web.StreamResponse:
    registry = state.registry
    watch = False
    if rest[0] == "watch":
        watch, rest = True, rest[1:]
        if not rest:
            raise _not_found_path()
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = registry.get(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    rt = registry.get(group, version, rest[0])
    if rt is None or len(rest) > 3:
        raise _not_found_path()
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if rt.namespaced is False and namespace:
        raise _not_found_path()
    if sub and sub not in rt.subresources:
        raise _not_found_path()
    method = request.method
    query = request.query
    watch = watch or parse_bool(query.get("watch"))
    if rt.group == metrics.GROUP and watch:
        raise _method_not_allowed()
    if method == "GET" and watch and not sub:
        check_allowed(state, user, "watch", rt.plural, group, namespace, name)
        return await serve_watch(request, state, rt, namespace, name)

    verb = _verb(method, bool(name), sub)
    resource = f"{rt.plural}/{sub}" if sub else rt.plural
    check_allowed(state, user, verb, resource, group, namespace, name)

    if rt.group == metrics.GROUP:
        return _metrics(request, state, rt, namespace, name)
    if rt.plural in REVIEW_KINDS:
        if method != "POST" or name:
            raise _method_not_allowed()
        return await _review(request, state, rt, user)
    if sub in ("exec", "attach", "portforward", "log"):
        pod = _get_or_404(state, rt, namespace, name)
        return await _pod_stream(request, state, pod, sub)
    if sub == "scale":
        return await _scale(request, state, rt, namespace, name)
    if sub == "ephemeralcontainers":
        return await _ephemeral(request, state, rt, namespace, name)
    if method == "GET":
        if name:
            obj = _get_or_404(state, rt, namespace, name)
            return _object_response(request, state, rt, obj)
        return _list_response(request, state, rt, namespace)
    if method == "POST" and not name:
        body = await _body(request)
        obj, created = create_object(state, rt, namespace, body, dry_run=params.dry_run(query))
        return json_response(obj, 201 if created else 200)
    if method == "PUT" and name:
        body = await _body(request)
        obj = update_object(state, rt, namespace, name, body, sub, dry_run=params.dry_run(query))
        return json_response(obj)
    if method == "PATCH" and name:
        kind, patch = await _patch_body(request)
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
        return _delete_collection(request, state, rt, namespace)
    raise _method_not_allowed()


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


def _media_type(request: web.Request, default: str = "") -> str:
    return request.headers.get("Content-Type", default).split(";")[0].strip()


async def _patch_body(request: web.Request) -> tuple[str, Any]:
    """(patch kind, decoded patch) of a PATCH request; 415 for a media type that is no patch."""
    kind = PATCH_TYPES.get(_media_type(request))
    if kind is None:
        raise StatusError(
            415,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml, application/strategic-merge-patch+json",
        )
    raw = await request.read()
    try:
        return kind, yaml.safe_load(raw) if kind == "apply" else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise StatusError(400, f"error decoding patch: {exc}") from None


async def _body(request: web.Request) -> JSON:
    raw = await request.read()
    ctype = _media_type(request, "application/json")
    if ctype == protobuf.MEDIA_TYPE:
        try:
            return protobuf.decode_object(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StatusError(415, f"the body of the request could not be decoded: {exc}") from None
    if ctype not in ("application/json", "application/yaml", "application/x-yaml", "text/yaml", ""):
        # Like an apiserver without that serializer: 415 makes client-go retry with JSON.
        raise StatusError(
            415,
            f"the body of the request was in an unknown format - accepted media types include: "
            f'application/json, application/yaml (got "{ctype}")',
        )
    try:
        body = yaml.safe_load(raw) if "yaml" in ctype else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise StatusError(400, f"the body of the request could not be decoded: {exc}") from None
    if not isinstance(body, dict):
        raise StatusError(400, "the body of the request must be a JSON object")
    return body


# -- views -----------------------------------------------------------------------------------


def _get_or_404(state: SimState, rt: ResourceType, ns: str, name: str) -> JSON:
    obj = state.store.get(rt.key, ns, name)
    if obj is None:
        raise not_found(rt.plural, name, rt.group)
    return obj


def _object_response(
    request: web.Request, state: SimState, rt: ResourceType, obj: JSON
) -> web.Response:
    view = to_view(rt, obj)
    if wants_table(request.headers.get("Accept", "")):
        printer = printer_for(rt.key, crd_for(state, rt), rt.version)
        table = build_table(
            [view],
            printer,
            include_object=request.query.get("includeObject", "Metadata"),
            resource_version=view["metadata"].get("resourceVersion", ""),
        )
        return json_response(table)
    return json_response(view)


def select(state: SimState, rt: ResourceType, namespace: str, request: web.Request) -> list[JSON]:
    labels = label_matcher(request.query.get("labelSelector"))
    fields = field_matcher(request.query.get("fieldSelector"))
    items = [to_view(rt, o) for o in state.store.list(rt.key, namespace or None)]
    return [o for o in items if labels(o) and fields(o)]


def _list_response(
    request: web.Request, state: SimState, rt: ResourceType, namespace: str
) -> web.Response:
    items = select(state, rt, namespace, request)
    rv = str(state.store.rv)
    query = request.query
    cont = query.get("continue", "")
    if cont:
        try:
            token = json.loads(base64.urlsafe_b64decode(cont.encode()))
            start = tuple(token["start"])
            rv = token["rv"]
        except (ValueError, KeyError, TypeError):
            raise StatusError(
                400,
                "continue key is not valid: incorrect encoded start resourceVersion "
                "(version meta.k8s.io/v1)",
            ) from None
        items = [
            o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start
        ]
    next_token = ""
    remaining = 0
    limit_raw = query.get("limit", "")
    if limit_raw:
        try:
            limit = int(limit_raw)
        except ValueError:
            raise StatusError(400, f"invalid limit {limit_raw!r}") from None
        if 0 < limit < len(items):
            last = items[limit - 1]["metadata"]
            remaining = len(items) - limit
            items = items[:limit]
            token = {"rv": rv, "start": [last.get("namespace", ""), last["name"]]}
            next_token = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
    if wants_table(request.headers.get("Accept", "")):
        printer = printer_for(rt.key, crd_for(state, rt), rt.version)
        return json_response(
            build_table(
                items,
                printer,
                include_object=query.get("includeObject", "Metadata"),
                resource_version=rv,
                continue_token=next_token,
            )
        )
    builtin = not (crd_for(state, rt) is not None)
    meta: JSON = {"resourceVersion": rv}
    if next_token:
        meta["continue"] = next_token
        meta["remainingItemCount"] = remaining
    if builtin:
        # Typed lists from kube-apiserver carry no kind/apiVersion on their items.
        items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
    return json_response(
        {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}
    )


# -- writes ----------------------------------------------------------------------------------


def _validate_name(rt: ResourceType, name: str) -> None:
    if not name:
        raise invalid(
            rt.kind,
            name,
            rt.group,
            [("metadata.name", "Required value: name or generateName is required")],
        )
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise invalid(
            rt.kind,
            name,
            rt.group,
            [("metadata.name", f'Invalid value: "{name}": {_DNS_SUBDOMAIN_MSG}')],
        )


POD_UPDATE_FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)"
)
UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


def _pod_spec_mutable_view(spec: JSON) -> JSON:
    """A pod spec without the fields an update may change (apiserver ValidatePodUpdate)."""
    out = copy.deepcopy(spec)
    for section in ("containers", "initContainers"):
        for c in out.get(section) or []:
            c.pop("image", None)
    for k in (
        "activeDeadlineSeconds",
        "tolerations",
        "terminationGracePeriodSeconds",
        "ephemeralContainers",
    ):
        out.pop(k, None)
    return out


def _validate_update(rt: ResourceType, current: JSON, new: JSON) -> None:
    if rt.key == "pods":
        old_spec, new_spec = current.get("spec") or {}, new.get("spec") or {}
        if _pod_spec_mutable_view(old_spec) != _pod_spec_mutable_view(new_spec):
            name = current["metadata"].get("name", "")
            raise invalid("Pod", name, "", [("spec", POD_UPDATE_FORBIDDEN)])


def _secret_string_data(rt: ResourceType, obj: JSON) -> None:
    """Secrets fold `stringData` into base64 `data` on write, as the apiserver does."""
    if rt.key == "secrets" and isinstance(obj.get("stringData"), dict):
        data = obj.setdefault("data", {}) or {}
        for k, v in obj.pop("stringData").items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def _valid_replicas(value: Any) -> bool:
    return isinstance(value, int) and value >= 0


def _invalid_replicas(kind: str, name: str, group: str, value: Any) -> StatusError:
    message = f"Invalid value: {value}: must be greater than or equal to 0"
    return invalid(kind, name, group, [("spec.replicas", message)])


def _validate(rt: ResourceType, obj: JSON) -> None:
    name = obj["metadata"].get("name", "")
    if rt.key == "pods":
        containers = (obj.get("spec") or {}).get("containers")
        if not containers:
            raise invalid(rt.kind, name, rt.group, [("spec.containers", "Required value")])
        for i, c in enumerate(containers):
            if not c.get("image"):
                raise invalid(
                    rt.kind, name, rt.group, [(f"spec.containers[{i}].image", "Required value")]
                )
    if rt.key in ("deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps"):
        spec = obj.get("spec") or {}
        if not (spec.get("template") or {}).get("spec", {}).get("containers"):
            raise invalid(
                rt.kind, name, rt.group, [("spec.template.spec.containers", "Required value")]
            )
        if spec.get("replicas") is not None and not _valid_replicas(spec["replicas"]):
            raise _invalid_replicas(rt.kind, name, rt.group, spec["replicas"])


def create_object(
    state: SimState, rt: ResourceType, namespace: str, body: JSON, *, dry_run: bool = False
) -> tuple[JSON, bool]:
    store = state.store
    obj = from_view(rt, copy.deepcopy(body))
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise StatusError(400, "metadata must be an object")
    if rt.namespaced:
        body_ns = meta.get("namespace")
        if body_ns and namespace and body_ns != namespace:
            raise StatusError(
                400,
                "the namespace of the provided object does not match the namespace sent on the "
                "request",
            )
        namespace = namespace or body_ns or "default"
        meta["namespace"] = namespace
        if store.get("namespaces", "", namespace) is None:
            raise not_found("namespaces", namespace)
    else:
        meta.pop("namespace", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "".join(
            state.controllers.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)
        )
    name = meta.get("name", "")
    _validate_name(rt, name)
    if store.get(rt.key, namespace if rt.namespaced else "", name) is not None:
        raise already_exists(rt.plural, name, rt.group)
    obj["apiVersion"], obj["kind"] = (
        ("v1", "Event") if rt.key == "events" else (rt.api_version, rt.kind)
    )
    for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp"):
        meta.pop(k, None)
    if rt.has_generation:
        meta["generation"] = 1
    _secret_string_data(rt, obj)
    _validate(rt, obj)
    if rt.key == "pods" and not (obj.get("status") or {}).get("phase"):
        state.controllers.start_pod(obj, _node(state, obj))
    if rt.key == "namespaces":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    if dry_run:
        meta["uid"] = store.new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        return to_view(rt, obj), True
    store.add(rt.key, obj)
    if rt.key == "pods":
        state.controllers.pod_started_events(obj)
    return _after_write(state, rt, obj), True


def _node(state: SimState, pod: JSON) -> JSON | None:
    name = (pod.get("spec") or {}).get("nodeName")
    return state.store.get("nodes", "", name) if name else None


def _after_write(state: SimState, rt: ResourceType, obj: JSON) -> JSON:
    """Run what a stored write sets off; the object as stored afterwards, in `rt`'s view."""
    meta = obj["metadata"]
    ns, name = meta.get("namespace", ""), meta["name"]
    if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
        state.sync_crds()
    elif rt.key == "namespaces":
        store = state.store
        if store.get("serviceaccounts", name, "default") is None:
            store.add(
                "serviceaccounts",
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": name},
                },
            )
    state.controllers.reconcile(rt.key, ns, name)
    return to_view(rt, state.store.get(rt.key, ns, name) or obj)


def _check_sub(sub: str) -> None:
    """PUT and PATCH reach the object or its status; other subresources have their own routes."""
    if sub and sub != "status":
        raise _method_not_allowed()


def _check_resource_version(rt: ResourceType, current: JSON, wanted: str | None) -> None:
    """A write that names a resourceVersion must name the stored one (optimistic locking)."""
    if wanted and wanted != current["metadata"].get("resourceVersion"):
        raise conflict(rt.plural, current["metadata"]["name"], rt.group)


def update_object(
    state: SimState,
    rt: ResourceType,
    namespace: str,
    name: str,
    body: JSON,
    sub: str = "",
    *,
    dry_run: bool = False,
) -> JSON:
    _check_sub(sub)
    current = _get_or_404(state, rt, namespace, name)
    new = from_view(rt, copy.deepcopy(body))
    meta = new.setdefault("metadata", {})
    if meta.get("name") and meta["name"] != name:
        raise StatusError(
            400,
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})",
        )
    if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
        raise StatusError(
            400,
            "the namespace of the provided object does not match the namespace sent on the request",
        )
    _check_resource_version(rt, current, meta.get("resourceVersion"))
    return _store_update(state, rt, current, new, sub, dry_run)


def _store_update(
    state: SimState, rt: ResourceType, current: JSON, new: JSON, sub: str, dry_run: bool
) -> JSON:
    meta = new.setdefault("metadata", {})
    old_meta = current["metadata"]
    for k in ("uid", "creationTimestamp", "name", "namespace", "generation", "deletionTimestamp"):
        if k in old_meta:
            meta[k] = old_meta[k]
        else:
            meta.pop(k, None)
    meta.pop("resourceVersion", None)
    new["apiVersion"], new["kind"] = (
        current.get("apiVersion", rt.api_version),
        current.get("kind", rt.kind),
    )
    if sub == "status":
        merged = copy.deepcopy(current)
        merged["status"] = new.get("status", {})
        new = merged
    elif "status" in rt.subresources and "status" in current:
        new["status"] = copy.deepcopy(current["status"])
    if rt.has_generation and new.get("spec") != current.get("spec"):
        meta["generation"] = int(old_meta.get("generation", 1)) + 1
    _secret_string_data(rt, new)
    _validate(rt, new)
    _validate_update(rt, current, new)
    if new == current or (_strip_rv(new) == _strip_rv(current)):
        return to_view(rt, current)  # a no-op update keeps the resourceVersion, like etcd
    if dry_run:
        new["metadata"]["resourceVersion"] = old_meta.get("resourceVersion", "")
        return to_view(rt, new)
    state.store.replace(rt.key, new)
    return _after_write(state, rt, new)


def _strip_rv(obj: JSON) -> JSON:
    out = dict(obj)
    out["metadata"] = {
        k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"
    }
    return out


def patch_object(
    state: SimState,
    rt: ResourceType,
    namespace: str,
    name: str,
    kind: str,
    patch: Any,
    sub: str = "",
    *,
    dry_run: bool = False,
) -> JSON:
    _check_sub(sub)
    current = state.store.get(rt.key, namespace, name)
    if current is None:
        if kind == "apply" and isinstance(patch, dict):
            patch.setdefault("metadata", {}).setdefault("name", name)
            return create_object(state, rt, namespace, patch, dry_run=dry_run)[0]
        raise not_found(rt.plural, name, rt.group)
    view = to_view(rt, current)
    patched = apply_patch(kind, view, patch)
    pmeta = patched.get("metadata") or {}
    if isinstance(patch, dict):
        _check_resource_version(rt, current, (patch.get("metadata") or {}).get("resourceVersion"))
    if pmeta.get("name", name) != name:
        raise StatusError(400, "metadata.name cannot be changed by a patch")
    # _store_update keeps the stored status unless sub is "status", as for a PUT.
    return _store_update(state, rt, current, from_view(rt, patched), sub, dry_run)


def delete_object(
    state: SimState,
    rt: ResourceType,
    namespace: str,
    name: str,
    *,
    dry_run: bool = False,
    orphan: bool = False,
) -> JSON:
    current = _get_or_404(state, rt, namespace, name)
    if rt.key == "namespaces" and name in UNDELETABLE_NAMESPACES:
        raise StatusError(
            403,
            f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            details={"name": name, "kind": "namespaces"},
        )
    if dry_run:
        return to_view(rt, current)
    store = state.store
    if rt.key == "pods":
        gone = state.controllers.delete_pod(current)
        assert gone is not None
        return to_view(rt, gone)
    if rt.key == "namespaces":
        for key in store.keys():
            for obj in store.list(key, name):
                store.remove(key, name, obj["metadata"]["name"])
    removed = store.remove(rt.key, namespace, name)
    assert removed is not None
    if not orphan:
        state.controllers.collect(removed)
    if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
        spec = removed.get("spec") or {}
        plural, group = (spec.get("names") or {}).get("plural", ""), spec.get("group", "")
        for obj in store.list(f"{plural}.{group}"):
            store.remove(
                f"{plural}.{group}", obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
            )
        state.registry.remove_group_kind(group, plural)
        state.sync_crds()
    out = to_view(rt, removed)
    if rt.key == "namespaces":
        out.setdefault("status", {})["phase"] = "Terminating"
        out["metadata"]["deletionTimestamp"] = now_rfc3339()
    return out


def _delete_collection(
    request: web.Request, state: SimState, rt: ResourceType, namespace: str
) -> web.Response:
    dry_run = params.dry_run(request.query)
    items = select(state, rt, namespace, request)
    deleted = [
        delete_object(
            state, rt, o["metadata"].get("namespace", ""), o["metadata"]["name"], dry_run=dry_run
        )
        for o in items
        if state.store.get(rt.key, o["metadata"].get("namespace", ""), o["metadata"]["name"])
        is not None
    ]
    return json_response(
        {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": str(state.store.rv)},
            "items": deleted,
        }
    )


# -- subresources ----------------------------------------------------------------------------


def _scale_view(obj: JSON) -> JSON:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    sel = spec.get("selector") or {}
    labels = sel.get("matchLabels") if isinstance(sel, dict) and "matchLabels" in sel else sel
    selector = ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": {"replicas": int(status.get("replicas", 0)), "selector": selector},
    }


async def _scale(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    current = _get_or_404(state, rt, ns, name)
    method = request.method
    if method == "GET":
        return json_response(_scale_view(current))
    if method == "PUT":
        scale = await _body(request)
        _check_resource_version(rt, current, (scale.get("metadata") or {}).get("resourceVersion"))
    elif method == "PATCH":
        kind, patch = await _patch_body(request)
        scale = apply_patch(kind, _scale_view(current), patch)
    else:
        raise _method_not_allowed()
    replicas = (scale.get("spec") or {}).get("replicas")
    if not _valid_replicas(replicas):
        raise _invalid_replicas("Scale", name, "autoscaling", replicas)
    new = copy.deepcopy(current)
    new.setdefault("spec", {})["replicas"] = replicas
    updated = _store_update(state, rt, current, new, "", params.dry_run(request.query))
    fresh = state.store.get(rt.key, ns, name) or updated
    return json_response(_scale_view(fresh))


async def _ephemeral(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    """`pods/ephemeralcontainers` (kubectl debug): only spec.ephemeralContainers may change;
    new ones start running at once."""
    current = _get_or_404(state, rt, ns, name)
    method = request.method
    if method == "GET":
        return json_response(to_view(rt, current))
    if method == "PUT":
        target = await _body(request)
    elif method == "PATCH":
        ctype = _media_type(request)
        if PATCH_TYPES.get(ctype) in (None, "apply"):
            raise StatusError(415, f'unsupported patch type "{ctype}" for pods/ephemeralcontainers')
        kind, patch = await _patch_body(request)
        target = apply_patch(kind, to_view(rt, current), patch)
    else:
        raise _method_not_allowed()

    def refused(message: str) -> StatusError:
        return invalid("Pod", name, "", [("spec.ephemeralContainers", message)])

    wanted = (target.get("spec") or {}).get("ephemeralContainers") or []
    existing = {
        c.get("name"): c for c in (current.get("spec") or {}).get("ephemeralContainers") or []
    }
    for c in wanted:
        if not c.get("name") or not c.get("image"):
            raise refused("Required value: name and image")
        if c["name"] in existing and existing[c["name"]] != c:
            raise refused(
                f'Forbidden: existing ephemeral containers "{c["name"]}" may not be changed'
            )
    if {c.get("name") for c in wanted} < set(existing):
        raise refused("Forbidden: existing ephemeral containers may not be removed")
    new = copy.deepcopy(current)
    new["spec"]["ephemeralContainers"] = copy.deepcopy(wanted)
    statuses = {
        s.get("name"): s for s in (new.get("status") or {}).get("ephemeralContainerStatuses") or []
    }
    started = now_rfc3339()
    for c in wanted:
        if c["name"] not in statuses:
            statuses[c["name"]] = {
                "name": c["name"],
                "image": c["image"],
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": True,
                "containerID": f"containerd://{state.store.new_uid().replace('-', '')}",
                "state": {"running": {"startedAt": started}},
                "lastState": {},
            }
    new.setdefault("status", {})["ephemeralContainerStatuses"] = list(statuses.values())
    if params.dry_run(request.query):
        return json_response(to_view(rt, new))
    state.store.replace(rt.key, new)
    return json_response(to_view(rt, state.store.get(rt.key, ns, name) or new))


def _metrics(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    if request.method != "GET":
        raise _method_not_allowed()
    if rt.plural == "pods":
        items = metrics.pod_metrics(state.store, ns or None)
    else:
        items = metrics.node_metrics(state.store)
    labels = label_matcher(request.query.get("labelSelector"))
    items = [{"kind": rt.kind, "apiVersion": rt.api_version, **i} for i in items if labels(i)]
    if name:
        found = [i for i in items if i["metadata"]["name"] == name]
        if not found:
            raise not_found(rt.plural, name, rt.group)
        return json_response(found[0])
    return json_response(
        {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": ""},
            "items": items,
        }
    )


async def _review(
    request: web.Request, state: SimState, rt: ResourceType, user: str
) -> web.Response:
    body = await _body(request)
    spec = body.get("spec") or {}
    out = copy.deepcopy(body)
    out.setdefault("apiVersion", rt.api_version)
    out.setdefault("kind", rt.kind)
    out.setdefault("metadata", {})["creationTimestamp"] = None
    rules = state.config.denied_verbs.get(user, ())
    if rt.plural == "selfsubjectreviews":
        groups = (
            ["system:authenticated"] if user != "system:anonymous" else ["system:unauthenticated"]
        )
        out["status"] = {"userInfo": {"username": user, "groups": groups}}
    elif rt.plural == "selfsubjectaccessreviews":
        attrs = spec.get("resourceAttributes")
        if attrs:
            resource = attrs.get("resource", "")
            if attrs.get("subresource"):
                resource += "/" + attrs["subresource"]
            denied = is_denied(rules, attrs.get("verb", ""), resource)
        else:
            non = spec.get("nonResourceAttributes") or {}
            denied = is_denied(rules, non.get("verb", ""), non.get("path", ""))
        out["status"] = {"allowed": not denied}
        if not denied:
            out["status"]["reason"] = (
                f'RBAC: allowed by ClusterRoleBinding "sim-{user}" of ClusterRole '
                f'"cluster-admin" to User "{user}"'
            )
    else:
        out["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    return json_response(out, 201)


async def _pod_stream(
    request: web.Request, state: SimState, pod: JSON, sub: str
) -> web.StreamResponse:
    headers = [(k, v) for k, v in request.headers.items()]
    if sub == "log":
        if request.method != "GET":
            raise _method_not_allowed()
        options = parse_log_options(request.query, pod["metadata"]["name"])
        plan = prepare_pod_log(state, pod, options)
        if is_websocket_upgrade(headers):
            try:
                from .streaming import handle_log_websocket
            except ImportError:
                return status_response(
                    501, "log streaming over WebSocket is not available in this simulator build"
                )
            return await handle_log_websocket(request, state, plan.chunks())
        return await _http_log(request, state, plan)
    if request.method not in ("GET", "POST"):
        raise _method_not_allowed()
    try:
        from . import streaming
    except ImportError:
        return status_response(501, f"pods/{sub} is not available in this simulator build")
    if sub == "portforward":
        return await streaming.handle_portforward(request, state, pod)
    return await streaming.handle_exec(request, state, pod, attach=sub == "attach")


async def _http_log(request: web.Request, state: SimState, plan: Any) -> web.StreamResponse:
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "text/plain", **extra_headers(state)}
    )
    resp.enable_chunked_encoding()
    await resp.prepare(request)  # headers go out before the body, as the apiserver flushes them
    try:
        async for chunk in plan.chunks():
            if request.transport is None or request.transport.is_closing():
                break
            await resp.write(chunk)
        await resp.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass
    return resp
