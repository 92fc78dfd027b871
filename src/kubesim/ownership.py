"""Who owns what, as the workload controllers mark it: owner references, the
pod-template-hash, and the random name suffixes (apimachinery's alphabet). Pure."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from typing import Any

JSON = dict[str, Any]

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.SafeEncodeString alphabet

APPS = "apps/v1"

# Owner kind -> store key, for the controllers that replace a deleted pod.
POD_OWNERS = {
    "ReplicaSet": "replicasets.apps",
    "StatefulSet": "statefulsets.apps",
    "DaemonSet": "daemonsets.apps",
}


def safe_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(_SAFE) for _ in range(n))


def _normalized(value: Any) -> Any:
    """Drop nulls and empty maps/lists, as typed Go structs make them indistinguishable."""
    if isinstance(value, dict):
        out = {k: _normalized(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def template_hash(template: JSON) -> str:
    """The pod-template-hash of a template: equal for templates that differ only in empty
    fields (a `rollout undo` sends the old ReplicaSet's template back with such differences)."""
    tmpl = copy.deepcopy(template)
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    digest = hashlib.sha256(json.dumps(_normalized(tmpl), sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def owner_ref(owner: JSON, kind: str, api_version: str = APPS) -> JSON:
    meta = owner["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: JSON, uid: str) -> bool:
    return any(
        r.get("uid") == uid for r in (obj.get("metadata") or {}).get("ownerReferences") or []
    )
