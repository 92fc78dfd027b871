"""Port-forward targets: what a forward points at (a pod port, or a service port resolved
to a running pod) and the lookups that find it. The helpers are pure; the lookups ask the
cluster as kubelantern itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.fetching import get_json
from kubelantern.status import KubelanternError

LOOKUP_TIMEOUT = 15.0


class PortForwardError(KubelanternError):
    """A forward could not be started; `status` is the HTTP status for the API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)
        self.message = message


def parse_port(value: Any, what: str = "port") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PortForwardError(400, f"{what} must be a number 1-65535")
    try:
        port = int(value)
    except ValueError:
        raise PortForwardError(400, f"{what} must be a number 1-65535, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise PortForwardError(400, f"{what} must be 1-65535, not {port}")
    return port


def service_target(service: dict[str, Any], port: int) -> int | str:
    """The targetPort (number or container port name) behind service port `port`."""
    for entry in (service.get("spec") or {}).get("ports") or []:
        if entry.get("port") == port or (entry.get("name") and str(entry.get("name")) == str(port)):
            target = entry.get("targetPort", entry.get("port"))
            return target if isinstance(target, int | str) else port
    name = (service.get("metadata") or {}).get("name", "?")
    raise PortForwardError(404, f"service {name} has no port {port}")


def resolve_container_port(pod: dict[str, Any], target: int | str) -> int:
    """A named targetPort resolved against the pod's containers; numbers pass through."""
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for p in container.get("ports") or []:
            if p.get("name") == target and isinstance(p.get("containerPort"), int):
                return int(p["containerPort"])
    name = (pod.get("metadata") or {}).get("name", "?")
    raise PortForwardError(404, f"pod {name} has no container port named {target!r}")


def label_selector(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def require_running(pod: dict[str, Any]) -> None:
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        name = (pod.get("metadata") or {}).get("name", "?")
        raise PortForwardError(
            400, f"unable to forward port because pod {name} is not running (phase {phase})"
        )


# --- lookups ----------------------------------------------------------------------------


async def get_object(cluster: Cluster, path: str, query: str = "") -> dict[str, Any]:
    """A JSON object from the cluster; raises a KubelanternError for the API to answer."""
    answer = await get_json(cluster, path, query, answer_within=LOOKUP_TIMEOUT)
    if answer.status != 200:
        message = answer.message()
        raise PortForwardError(
            answer.status if answer.status in (401, 403, 404) else 502,
            f"cluster {cluster.name!r}: {path} answered {answer.status}"
            + (f": {message}" if message else ""),
        )
    data = answer.json()
    return data if isinstance(data, dict) else {}


async def resolve_service(
    cluster: Cluster, namespace: str, service: str, port: int
) -> tuple[str, int]:
    ns = quote(namespace, safe="")
    svc = await get_object(cluster, f"/api/v1/namespaces/{ns}/services/{quote(service, safe='')}")
    selector = (svc.get("spec") or {}).get("selector") or {}
    if not selector:
        raise PortForwardError(400, f"service {service} has no selector: no pod to forward to")
    target = service_target(svc, port)
    pods = await get_object(
        cluster,
        f"/api/v1/namespaces/{ns}/pods",
        "labelSelector=" + quote(label_selector(selector)),
    )
    for pod in pods.get("items") or []:
        if (pod.get("status") or {}).get("phase") == "Running":
            name = str((pod.get("metadata") or {}).get("name"))
            return name, resolve_container_port(pod, target)
    raise PortForwardError(404, f"service {service} has no running pod")


# -- one TCP connection ------------------------------------------------------------
