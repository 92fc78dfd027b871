"""What the scheduler and the kubelet do for the simulator: pick a node and an IP, run a pod
(at once, or after a while in ContainerCreating), stop it (at once, or after a while
Terminating), and record the Events they would. The workload controllers build on it
(`controller.Controllers`), told of every pod that started or went through `after_pod_delete`."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import random
from typing import Any

from .podstatus import creating_status, pod_defaults, running_status
from .store import Store, now_rfc3339

JSON = dict[str, Any]


def _loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Kubelet:
    def __init__(
        self,
        store: Store,
        seed: int,
        *,
        startup_seconds: float = 0.0,
        termination_seconds: float = 0.0,
    ) -> None:
        self.store = store
        # >0: new pods spend this long in ContainerCreating, deleted pods this long Terminating
        # (only while an event loop runs: the seed always makes settled objects).
        self.startup_seconds = startup_seconds
        self.termination_seconds = termination_seconds
        self.rng = random.Random(seed * 7919 + 17)
        self._ip_next: dict[str, int] = {}
        self._node_turn = 0
        self._event_seq = 0
        # The seed backdates what it creates; None means "now".
        self.frozen_now: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return self.frozen_now or dt.datetime.now(dt.UTC)

    # -- events --------------------------------------------------------------------------
    def event(self, obj: JSON, type_: str, reason: str, message: str, component: str) -> None:
        """Record a core/v1 Event about `obj`, as controllers and the kubelet do. The seed
        (which backdates objects) records none: a real cluster forgets events after an hour."""
        if self.frozen_now is not None:
            return
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        self._event_seq += 1
        ts = now_rfc3339()
        host = (obj.get("spec") or {}).get("nodeName", "") if obj.get("kind") == "Pod" else ""
        source: JSON = {"component": component}
        if host and component == "kubelet":
            source["host"] = host
        self.store.add(
            "events",
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{meta.get('name', '')}.{self._event_seq + 0x1800000000:x}",
                    "namespace": ns,
                },
                "involvedObject": {
                    "kind": obj.get("kind", ""),
                    "namespace": ns,
                    "name": meta.get("name", ""),
                    "uid": meta.get("uid", ""),
                    "apiVersion": obj.get("apiVersion", ""),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "type": type_,
                "count": 1,
                "source": source,
                "firstTimestamp": ts,
                "lastTimestamp": ts,
                "reportingComponent": component,
                "reportingInstance": host,
                "eventTime": None,
            },
        )

    def pod_stopped_events(self, pod: JSON) -> None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            self.event(
                pod, "Normal", "Killing", f"Stopping container {c.get('name', '')}", "kubelet"
            )

    def pod_started_events(self, pod: JSON) -> None:
        node = (pod.get("spec") or {}).get("nodeName", "")
        ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
        if not node:
            return
        self.event(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {node}",
            "default-scheduler",
        )
        if (pod.get("status") or {}).get("phase") == "Running":
            self._started_container_events(pod)

    def _started_container_events(self, pod: JSON) -> None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            image, cname = c.get("image", ""), c.get("name", "")
            self.event(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                "kubelet",
            )
            self.event(pod, "Normal", "Created", f"Created container: {cname}", "kubelet")
            self.event(pod, "Normal", "Started", f"Started container {cname}", "kubelet")

    # -- scheduling ----------------------------------------------------------------------
    def nodes(self) -> list[JSON]:
        return [
            n for n in self.store.list("nodes") if not (n.get("spec") or {}).get("unschedulable")
        ]

    def pick_node(self) -> JSON | None:
        nodes = [
            n
            for n in self.nodes()
            if "node-role.kubernetes.io/control-plane"
            not in ((n.get("metadata") or {}).get("labels") or {})
        ] or self.nodes()
        if not nodes:
            return None
        node = nodes[self._node_turn % len(nodes)]
        self._node_turn += 1
        return node

    def pod_ip(self, node: JSON | None) -> str:
        names = [n["metadata"]["name"] for n in self.store.list("nodes")]
        idx = (
            names.index(node["metadata"]["name"])
            if node and node["metadata"]["name"] in names
            else 9
        )
        n = self._ip_next.get(str(idx), 7) + 1
        self._ip_next[str(idx)] = n
        return f"10.42.{idx}.{n % 250 + 2}"

    def start_pod(
        self, pod: JSON, node: JSON | None = None, started: dt.datetime | None = None
    ) -> JSON:
        """Schedule and run a new pod object in place (spec defaults, nodeName, status)."""
        pod["spec"] = pod_defaults(pod.get("spec") or {})
        node = node or self.pick_node()
        if node is not None:
            pod["spec"]["nodeName"] = node["metadata"]["name"]
        loop = _loop()
        if self.startup_seconds > 0 and loop is not None and self.frozen_now is None:
            pod["status"] = creating_status(pod, node)
            ns, name = pod["metadata"].get("namespace", ""), pod["metadata"].get("name", "")
            loop.call_later(self.startup_seconds, self._finish_start, ns, name)
            return pod
        pod["status"] = running_status(pod, node, self.pod_ip(node), started or self.now())
        return pod

    def _finish_start(self, ns: str, name: str) -> None:
        pod = self.store.get("pods", ns, name)
        if pod is None or (pod.get("status") or {}).get("phase") != "Pending":
            return
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            return
        pod = copy.deepcopy(pod)
        node = self.store.get("nodes", "", (pod.get("spec") or {}).get("nodeName", ""))
        pod["status"] = running_status(pod, node, self.pod_ip(node), self.now())
        self.store.replace("pods", pod)
        self._started_container_events(pod)
        self.after_pod_delete(pod)  # refresh the owners' status

    def delete_pod(self, pod: JSON, *, refresh_owner: bool = True) -> JSON | None:
        """Delete a pod the way the kubelet finishes it: Terminating for a while when so
        configured, then gone (the owner makes a replacement right away)."""
        meta = pod["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        loop = _loop()
        if self.termination_seconds > 0 and loop is not None:
            if meta.get("deletionTimestamp"):
                return pod
            marked = copy.deepcopy(pod)
            marked["metadata"]["deletionTimestamp"] = now_rfc3339()
            marked["metadata"]["deletionGracePeriodSeconds"] = 30
            self.store.replace("pods", marked)
            self.pod_stopped_events(marked)
            if refresh_owner:
                self.after_pod_delete(marked)
            loop.call_later(
                self.termination_seconds, self._finish_delete, ns, name, meta.get("uid")
            )
            return marked
        removed = self.store.remove("pods", ns, name)
        if removed is not None:
            self.pod_stopped_events(removed)
            if refresh_owner:
                self.after_pod_delete(removed)
        return removed

    def _finish_delete(self, ns: str, name: str, uid: str | None) -> None:
        pod = self.store.get("pods", ns, name)
        if pod is not None and pod["metadata"].get("uid") == uid:
            removed = self.store.remove("pods", ns, name)
            if removed is not None:
                self.after_pod_delete(removed)

    def after_pod_delete(self, pod: JSON) -> None:
        """A pod started late or went away: its owner's controller reacts (`Controllers`)."""
