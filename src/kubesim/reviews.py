"""The review kinds a client POSTs to ask about itself: SelfSubjectReview (who am I),
SelfSubjectAccessReview (may I), SelfSubjectRulesReview."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .auth import is_denied
from .bodies import read_body
from .kinds import ResourceType
from .responses import json_response
from .state import SimState

JSON = dict[str, Any]


async def review(
    request: web.Request, state: SimState, rt: ResourceType, user: str
) -> web.Response:
    body = await read_body(request)
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
