"""Events for a namespace's pods, as the scheduler, kubelet and controllers would have written
them."""

from __future__ import annotations

from typing import Any

from ..store import now_rfc3339
from .base import Seeder

JSON = dict[str, Any]


def events(s: Seeder, ns: str) -> None:
    n = 0
    for pod in s.store.list("pods", ns):
        name = pod["metadata"]["name"]
        reason_list: list[tuple[str, str, str, str, int, float]] = []
        cs = (pod.get("status") or {}).get("containerStatuses") or []
        if pod["status"].get("phase") == "Pending":
            reason_list.append(
                (
                    "Warning",
                    "FailedScheduling",
                    "default-scheduler",
                    pod["status"]["conditions"][0]["message"],
                    4,
                    18,
                )
            )
        elif cs and cs[0].get("restartCount"):
            c = cs[0]["name"]
            reason_list += [
                (
                    "Normal",
                    "Pulled",
                    "kubelet",
                    f'Container image "{cs[0]["image"]}" already present on machine',
                    8,
                    47,
                ),
                (
                    "Warning",
                    "BackOff",
                    "kubelet",
                    f"Back-off restarting failed container {c} in pod "
                    f"{name}_{ns}({pod['metadata']['uid']})",
                    196,
                    46,
                ),
            ]
        else:
            continue
        for type_, reason, comp, msg, count, minutes in reason_list:
            n += 1
            first = s.ago(minutes=minutes)
            last = s.ago(seconds=40 + n * 13)
            s.add(
                "events",
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{name}.{0x17F3A2B4C5D6E000 + n:x}", "namespace": ns},
                    "involvedObject": {
                        "kind": "Pod",
                        "namespace": ns,
                        "name": name,
                        "uid": pod["metadata"]["uid"],
                        "apiVersion": "v1",
                        "resourceVersion": pod["metadata"]["resourceVersion"],
                        **({"fieldPath": f"spec.containers{{{cs[0]['name']}}}"} if cs else {}),
                    },
                    "reason": reason,
                    "message": msg,
                    "type": type_,
                    "count": count,
                    "source": {
                        "component": comp,
                        **(
                            {"host": pod["spec"].get("nodeName")}
                            if pod["spec"].get("nodeName")
                            else {}
                        ),
                    },
                    "firstTimestamp": now_rfc3339(first),
                    "lastTimestamp": now_rfc3339(last),
                    "reportingComponent": comp,
                    "reportingInstance": pod["spec"].get("nodeName", ""),
                    "eventTime": None,
                },
                first,
            )
    dep_first = s.ago(hours=5, minutes=12)
    s.add(
        "events",
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "frontend.17f3a2b4c0000001", "namespace": ns},
            "involvedObject": {
                "kind": "Deployment",
                "namespace": ns,
                "name": "frontend",
                "apiVersion": "apps/v1",
            },
            "reason": "ScalingReplicaSet",
            "type": "Normal",
            "count": 1,
            "message": "Scaled up replica set frontend to 3",
            "source": {"component": "deployment-controller"},
            "firstTimestamp": now_rfc3339(dep_first),
            "lastTimestamp": now_rfc3339(dep_first),
            "reportingComponent": "deployment-controller",
            "reportingInstance": "",
            "eventTime": None,
        },
        dep_first,
    )
