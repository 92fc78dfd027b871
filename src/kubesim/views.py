"""What clients see of a stored object: its view in the requested group/version (`convert`),
and the CRD behind a custom resource type (for its printer columns)."""

from __future__ import annotations

import copy
from typing import Any

from .convert import VIEWS
from .kinds import ResourceType
from .state import SimState

JSON = dict[str, Any]


def to_view(rt: ResourceType, obj: JSON) -> JSON:
    conv = VIEWS.get((rt.group, rt.version, rt.plural))
    if conv is not None:
        return conv[0](obj)
    out = copy.deepcopy(obj)
    out["apiVersion"] = rt.api_version
    out["kind"] = rt.kind
    return out


def from_view(rt: ResourceType, obj: JSON) -> JSON:
    conv = VIEWS.get((rt.group, rt.version, rt.plural))
    if conv is not None:
        return conv[1](obj)
    return obj


def crd_for(state: SimState, rt: ResourceType) -> JSON | None:
    if not rt.group:
        return None
    return state.store.get(
        "customresourcedefinitions.apiextensions.k8s.io", "", f"{rt.plural}.{rt.group}"
    )
