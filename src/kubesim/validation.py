"""What the apiserver refuses on write: names, required fields, pod updates that change more than
they may, negative replicas, a stale resourceVersion (409)."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

from .kinds import ResourceType
from .status import StatusError, conflict, invalid

JSON = dict[str, Any]


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


_DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def validate_name(rt: ResourceType, name: str) -> None:
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


def validate_update(rt: ResourceType, current: JSON, new: JSON) -> None:
    if rt.key == "pods":
        old_spec, new_spec = current.get("spec") or {}, new.get("spec") or {}
        if _pod_spec_mutable_view(old_spec) != _pod_spec_mutable_view(new_spec):
            name = current["metadata"].get("name", "")
            raise invalid("Pod", name, "", [("spec", POD_UPDATE_FORBIDDEN)])


def secret_string_data(rt: ResourceType, obj: JSON) -> None:
    """Secrets fold `stringData` into base64 `data` on write, as the apiserver does."""
    if rt.key == "secrets" and isinstance(obj.get("stringData"), dict):
        data = obj.setdefault("data", {}) or {}
        for k, v in obj.pop("stringData").items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def valid_replicas(value: Any) -> bool:
    return isinstance(value, int) and value >= 0


def invalid_replicas(kind: str, name: str, group: str, value: Any) -> StatusError:
    message = f"Invalid value: {value}: must be greater than or equal to 0"
    return invalid(kind, name, group, [("spec.replicas", message)])


def validate(rt: ResourceType, obj: JSON) -> None:
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
        if spec.get("replicas") is not None and not valid_replicas(spec["replicas"]):
            raise invalid_replicas(rt.kind, name, rt.group, spec["replicas"])


def check_resource_version(rt: ResourceType, current: JSON, wanted: str | None) -> None:
    """A write that names a resourceVersion must name the stored one (optimistic locking)."""
    if wanted and wanted != current["metadata"].get("resourceVersion"):
        raise conflict(rt.plural, current["metadata"]["name"], rt.group)
