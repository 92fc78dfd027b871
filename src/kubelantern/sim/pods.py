"""Pod facts shared by logs and the streaming handlers: container selection and its errors."""

from __future__ import annotations

from typing import Any

from .status import StatusError

JSON = dict[str, Any]

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def container_names(pod: JSON, section: str = "containers") -> list[str]:
    return [c.get("name", "") for c in (pod.get("spec") or {}).get(section) or []]


def all_container_names(pod: JSON) -> list[str]:
    return (
        container_names(pod, "containers")
        + container_names(pod, "initContainers")
        + container_names(pod, "ephemeralContainers")
    )


def select_container(pod: JSON, requested: str | None) -> str:
    """The container a log/exec/attach request targets, or the apiserver's 400 BadRequest.

    Same rule and texts as kube-apiserver's pod strategy (`validateContainer`/`LogLocation`).
    """
    name = (pod.get("metadata") or {}).get("name", "")
    if requested:
        if requested not in all_container_names(pod):
            raise StatusError(400, f"container {requested} is not valid for pod {name}")
        return requested
    containers = container_names(pod)
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise StatusError(400, f"a container name must be specified for pod {name}")
    inits = container_names(pod, "initContainers")
    message = (
        f"a container name must be specified for pod {name}, "
        f"choose one of: [{' '.join(containers)}]"
    )
    if inits:
        message += f" or one of the init containers: [{' '.join(inits)}]"
    raise StatusError(400, message)


def container_spec(pod: JSON, container: str) -> JSON:
    spec = pod.get("spec") or {}
    for section in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(section) or []:
            if c.get("name") == container:
                return dict(c)
    return {}


def container_status(pod: JSON, container: str) -> JSON:
    status = pod.get("status") or {}
    for section in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for c in status.get(section) or []:
            if c.get("name") == container:
                return dict(c)
    return {}
