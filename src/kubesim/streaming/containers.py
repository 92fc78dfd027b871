"""Which container a stream reaches, and what that simulated container is like.

Reads the pod as stored (a Kubernetes Pod JSON dict). Container selection and its errors
follow the apiserver's `streamLocation`; "is it running" follows the kubelet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class ContainerError(Exception):
    """A 400 BadRequest before any upgrade, with the apiserver's message."""


# Images with no shell at all, and images with only a POSIX sh (no bash): the UI's shell
# detection tries bash, then sh, so both cases matter.
# Control-plane images from registry.k8s.io are distroless too (kube-proxy is not).
_NO_SHELL_MARKERS = (
    "distroless",
    "scratch",
    "pause",
    "/coredns",
    "/etcd",
    "/kube-apiserver",
    "/kube-controller-manager",
    "/kube-scheduler",
    "/metrics-server",
)
_SH_ONLY_MARKERS = ("alpine", "busybox", "agnhost")

# Pod annotation overriding the image guess: "" (no shell), "sh", "sh,bash".
SHELLS_ANNOTATION = "sim.kubelantern.io/shells"


@dataclass(frozen=True)
class ContainerInfo:
    pod_name: str
    namespace: str
    pod_uid: str
    name: str
    image: str
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[int, str], ...] = ()  # (containerPort, port name)
    labels: Mapping[str, str] = field(default_factory=dict)
    shells_override: frozenset[str] | None = None  # from the SHELLS_ANNOTATION

    @property
    def shells(self) -> frozenset[str]:
        if self.shells_override is not None:
            return self.shells_override
        image = self.image.lower()
        if any(m in image for m in _NO_SHELL_MARKERS):
            return frozenset()
        if any(m in image for m in _SH_ONLY_MARKERS):
            return frozenset({"sh"})
        return frozenset({"sh", "bash"})

    @property
    def has_userland(self) -> bool:
        """Shell-less images (distroless) have no coreutils either."""
        return bool(self.shells)


def _names(containers: list[JSON]) -> list[str]:
    return [str(c.get("name", "")) for c in containers]


def select_container(pod: JSON, requested: str) -> JSON:
    """The container spec a stream targets, or ContainerError with the apiserver's text."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    name = str(meta.get("name", ""))
    containers: list[JSON] = list(spec.get("containers") or [])
    init: list[JSON] = list(spec.get("initContainers") or [])
    ephemeral: list[JSON] = list(spec.get("ephemeralContainers") or [])
    if not requested:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, "
            f"choose one of: [{' '.join(_names(containers))}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(_names(init))}]"
        raise ContainerError(message)
    for c in containers + init + ephemeral:
        if c.get("name") == requested:
            return c
    raise ContainerError(f"container {requested} is not valid for pod {name}")


def check_running(pod: JSON, container: str) -> None:
    """ContainerError unless the pod is scheduled and the container is running."""
    meta = pod.get("metadata") or {}
    name = str(meta.get("name", ""))
    spec = pod.get("spec") or {}
    if not spec.get("nodeName"):
        raise ContainerError(f"pod {name} does not have a host assigned")
    status = pod.get("status") or {}
    all_statuses = (
        list(status.get("containerStatuses") or [])
        + list(status.get("initContainerStatuses") or [])
        + list(status.get("ephemeralContainerStatuses") or [])
    )
    for cs in all_statuses:
        if cs.get("name") != container:
            continue
        state = cs.get("state") or {}
        if "waiting" in state:
            reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
            raise ContainerError(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        if "terminated" in state:
            raise ContainerError(f'container "{container}" in pod "{name}" is not running')
        return
    if status.get("phase", "Running") == "Pending":
        raise ContainerError(
            f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
        )


def container_info(pod: JSON, spec: JSON) -> ContainerInfo:
    meta = pod.get("metadata") or {}
    env: list[tuple[str, str]] = []
    for item in spec.get("env") or []:
        if isinstance(item, dict) and item.get("name"):
            # valueFrom (secrets, fieldRefs) is not resolved by the simulator: shown empty.
            env.append((str(item["name"]), str(item.get("value", ""))))
    ports: list[tuple[int, str]] = []
    for p in spec.get("ports") or []:
        if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
            ports.append((int(p["containerPort"]), str(p.get("name", ""))))
    override: frozenset[str] | None = None
    annotation = (meta.get("annotations") or {}).get(SHELLS_ANNOTATION)
    if isinstance(annotation, str):
        wanted = {part.strip() for part in annotation.split(",")}
        override = frozenset(wanted & {"sh", "bash"})
    return ContainerInfo(
        shells_override=override,
        pod_name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "default")),
        pod_uid=str(meta.get("uid", "")),
        name=str(spec.get("name", "")),
        image=str(spec.get("image", "")),
        env=tuple(env),
        ports=tuple(ports),
        labels=dict(meta.get("labels") or {}),
    )
