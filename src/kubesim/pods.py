"""Pod facts shared by logs and the streaming handlers: container selection and its errors."""

from __future__ import annotations

from typing import Any

from .status import StatusError

JSON = dict[str, Any]


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


def _named(part: JSON | None, sections: tuple[str, ...], name: str) -> JSON:
    """A copy of the first entry called `name` in `part`'s lists `sections`, or {}."""
    for section in sections:
        for c in (part or {}).get(section) or []:
            if c.get("name") == name:
                return dict(c)
    return {}


def container_spec(pod: JSON, container: str) -> JSON:
    sections = ("containers", "initContainers", "ephemeralContainers")
    return _named(pod.get("spec"), sections, container)


def container_status(pod: JSON, container: str) -> JSON:
    sections = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")
    return _named(pod.get("status"), sections, container)
