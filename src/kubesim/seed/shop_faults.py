"""What goes wrong in the shop: a container in CrashLoopBackOff, a pod no node can take."""

from __future__ import annotations

import copy
from typing import Any

from ..store import now_rfc3339
from .base import Seeder

JSON = dict[str, Any]


def crashloop(s: Seeder, pod: JSON) -> None:
    pod = copy.deepcopy(pod)
    cs = pod["status"]["containerStatuses"][0]
    last_start, last_end = s.ago(minutes=6, seconds=10), s.ago(minutes=5, seconds=38)
    cs.update(
        {
            "ready": False,
            "started": False,
            "restartCount": 7,
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container=checkout "
                    f"pod={pod['metadata']['name']}_shop({pod['metadata']['uid']})",
                }
            },
            "lastState": {
                "terminated": {
                    "exitCode": 2,
                    "reason": "Error",
                    "startedAt": now_rfc3339(last_start),
                    "finishedAt": now_rfc3339(last_end),
                    "containerID": cs["containerID"],
                }
            },
        }
    )
    for c in pod["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c.update(
                status="False",
                reason="ContainersNotReady",
                message="containers with unready status: [checkout]",
                lastTransitionTime=now_rfc3339(last_end),
            )
    s.store.replace("pods", pod)
    s.ctl.reconcile("deployments.apps", "shop", "checkout")


def unschedulable(s: Seeder, pod: JSON) -> None:
    pod = copy.deepcopy(pod)
    pod["spec"].pop("nodeName", None)
    pod["status"] = {
        "phase": "Pending",
        "qosClass": "Burstable",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "lastProbeTime": None,
                "lastTransitionTime": pod["metadata"]["creationTimestamp"],
                "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                "{node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. "
                "preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                "scheduling, 2 No preemption victims found for incoming pod.",
            }
        ],
    }
    s.store.replace("pods", pod)
    s.ctl.reconcile("deployments.apps", "shop", "importer")
