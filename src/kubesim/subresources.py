"""Subresources with their own rules: `scale` and `pods/ephemeralcontainers` (kubectl debug).
The pod streams (`log`, `exec`, `attach`, `portforward`) are in `podstreams`."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from . import params
from .bodies import media_type, read_body, read_patch
from .kinds import ResourceType
from .patch import PATCH_TYPES, apply_patch
from .reads import get_or_404
from .responses import json_response
from .state import SimState
from .status import StatusError, invalid, method_not_allowed
from .store import now_rfc3339
from .validation import check_resource_version, invalid_replicas, valid_replicas
from .views import to_view
from .writes import store_update

JSON = dict[str, Any]


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


async def scale(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    current = get_or_404(state, rt, ns, name)
    method = request.method
    if method == "GET":
        return json_response(_scale_view(current))
    if method == "PUT":
        scale = await read_body(request)
        check_resource_version(rt, current, (scale.get("metadata") or {}).get("resourceVersion"))
    elif method == "PATCH":
        kind, patch = await read_patch(request)
        scale = apply_patch(kind, _scale_view(current), patch)
    else:
        raise method_not_allowed()
    replicas = (scale.get("spec") or {}).get("replicas")
    if not valid_replicas(replicas):
        raise invalid_replicas("Scale", name, "autoscaling", replicas)
    new = copy.deepcopy(current)
    new.setdefault("spec", {})["replicas"] = replicas
    updated = store_update(state, rt, current, new, "", params.dry_run(request.query))
    fresh = state.store.get(rt.key, ns, name) or updated
    return json_response(_scale_view(fresh))


async def ephemeral(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    """`pods/ephemeralcontainers` (kubectl debug): only spec.ephemeralContainers may change;
    new ones start running at once."""
    current = get_or_404(state, rt, ns, name)
    method = request.method
    if method == "GET":
        return json_response(to_view(rt, current))
    if method == "PUT":
        target = await read_body(request)
    elif method == "PATCH":
        ctype = media_type(request)
        if PATCH_TYPES.get(ctype) in (None, "apply"):
            raise StatusError(415, f'unsupported patch type "{ctype}" for pods/ephemeralcontainers')
        kind, patch = await read_patch(request)
        target = apply_patch(kind, to_view(rt, current), patch)
    else:
        raise method_not_allowed()

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
