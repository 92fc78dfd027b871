"""What a pod looks like once the apiserver defaulted it and the kubelet ran it: spec
defaults, the ContainerCreating and Running statuses (image IDs, container IDs, conditions),
readiness. Pure: plain JSON in, plain JSON out."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
from typing import Any

from .store import now_rfc3339

JSON = dict[str, Any]


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    first = repo.split("/")[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif "." not in first and ":" not in first:
        repo = f"docker.io/{repo}"
    return f"{repo}@sha256:{digest}"


def running_status(pod: JSON, node: JSON | None, ip: str, started: dt.datetime) -> JSON:
    """A believable Running status for a pod whose containers all started at `started`."""
    spec = pod.get("spec") or {}
    ts = now_rfc3339(started)
    host_ip = ""
    if node is not None:
        for a in (node.get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                host_ip = a.get("address", "")
    rng = random.Random(f"{pod['metadata'].get('name')}/cid")

    def cstat(c: JSON, init: bool) -> JSON:
        cid = f"containerd://{rng.getrandbits(256):064x}"
        base: JSON = {
            "name": c.get("name", ""),
            "image": c.get("image", ""),
            "imageID": _image_id(str(c.get("image", ""))),
            "containerID": cid,
            "restartCount": 0,
            "started": not init,
            "ready": not init,
        }
        if init:
            base["state"] = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": ts,
                    "finishedAt": ts,
                    "containerID": cid,
                }
            }
        else:
            base["state"] = {"running": {"startedAt": ts}}
        base["lastState"] = {}
        return base

    status: JSON = {
        "phase": "Running",
        "conditions": [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
            for t in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            )
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}] if host_ip else [],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": ts,
        "containerStatuses": [cstat(c, False) for c in spec.get("containers") or []],
        "qosClass": "Burstable",
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [cstat(c, True) for c in spec["initContainers"]]
    return status


# What the apiserver's defaulting fills in on a pod spec and on each of its containers.
POD_SPEC_DEFAULTS: JSON = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "serviceAccountName": "default",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "enableServiceLinks": True,
    "preemptionPolicy": "PreemptLowerPriority",
    "priority": 0,
}


CONTAINER_DEFAULTS: JSON = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "imagePullPolicy": "IfNotPresent",
    "resources": {},
}


def _fill(obj: JSON, defaults: JSON) -> None:
    for key, value in defaults.items():
        obj.setdefault(key, copy.deepcopy(value))  # no dict shared between objects


def pod_defaults(spec: JSON) -> JSON:
    spec = copy.deepcopy(spec)
    _fill(spec, POD_SPEC_DEFAULTS)
    for c in spec.get("containers") or []:
        _fill(c, CONTAINER_DEFAULTS)
    return spec


def creating_status(pod: JSON, node: JSON | None) -> JSON:
    """A scheduled pod whose containers are still being created."""
    ts = now_rfc3339()
    spec = pod.get("spec") or {}
    return {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": ts,
            },
            {
                "type": "Ready",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": ts,
                "reason": "ContainersNotReady",
                "message": "containers with unready status: ["
                + " ".join(c.get("name", "") for c in spec.get("containers") or [])
                + "]",
            },
        ],
        "hostIP": next(
            (
                a.get("address", "")
                for a in ((node or {}).get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "",
        ),
        "startTime": ts,
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "ContainerCreating"}},
                "lastState": {},
            }
            for c in spec.get("containers") or []
        ],
    }


def pod_ready(pod: JSON) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False
