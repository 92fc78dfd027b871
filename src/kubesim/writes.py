"""Create, update, patch and delete (one object or a collection), with dry runs, and what a
stored write sets off (CRD types, a namespace's default ServiceAccount, the controllers)."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from . import params
from .kinds import ResourceType
from .patch import apply_patch
from .reads import get_or_404, select
from .responses import json_response
from .state import SimState
from .status import StatusError, already_exists, method_not_allowed, not_found
from .store import now_rfc3339
from .validation import (
    check_resource_version,
    secret_string_data,
    validate,
    validate_name,
    validate_update,
)
from .views import from_view, to_view

JSON = dict[str, Any]


UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


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
    validate_name(rt, name)
    if store.get(rt.key, namespace if rt.namespaced else "", name) is not None:
        raise already_exists(rt.plural, name, rt.group)
    obj["apiVersion"], obj["kind"] = (
        ("v1", "Event") if rt.key == "events" else (rt.api_version, rt.kind)
    )
    for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp"):
        meta.pop(k, None)
    if rt.has_generation:
        meta["generation"] = 1
    secret_string_data(rt, obj)
    validate(rt, obj)
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


def check_sub(sub: str) -> None:
    """PUT and PATCH reach the object or its status; other subresources have their own routes."""
    if sub and sub != "status":
        raise method_not_allowed()


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
    check_sub(sub)
    current = get_or_404(state, rt, namespace, name)
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
    check_resource_version(rt, current, meta.get("resourceVersion"))
    return store_update(state, rt, current, new, sub, dry_run)


def store_update(
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
    secret_string_data(rt, new)
    validate(rt, new)
    validate_update(rt, current, new)
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
    check_sub(sub)
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
        check_resource_version(rt, current, (patch.get("metadata") or {}).get("resourceVersion"))
    if pmeta.get("name", name) != name:
        raise StatusError(400, "metadata.name cannot be changed by a patch")
    # store_update keeps the stored status unless sub is "status", as for a PUT.
    return store_update(state, rt, current, from_view(rt, patched), sub, dry_run)


def delete_object(
    state: SimState,
    rt: ResourceType,
    namespace: str,
    name: str,
    *,
    dry_run: bool = False,
    orphan: bool = False,
) -> JSON:
    current = get_or_404(state, rt, namespace, name)
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


def delete_collection(
    request: web.Request, state: SimState, rt: ResourceType, namespace: str
) -> web.Response:
    dry_run = params.dry_run(request.query)
    items, _ = select(state, rt, namespace, request)
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
