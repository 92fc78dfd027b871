"""A tiny controller manager: Deployments own ReplicaSets own Pods; StatefulSets and DaemonSets
own Pods; deleting an owner deletes its dependents. Runs synchronously after each write, so a
`kubectl scale` or a `rollout restart` is visible on the next request."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
import random
from typing import Any

from .store import Store, now_rfc3339

JSON = dict[str, Any]

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.SafeEncodeString alphabet

APPS = "apps/v1"


def safe_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(_SAFE) for _ in range(n))


def _normalized(value: Any) -> Any:
    """Drop nulls and empty maps/lists, as typed Go structs make them indistinguishable."""
    if isinstance(value, dict):
        out = {k: _normalized(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def template_hash(template: JSON) -> str:
    """The pod-template-hash of a template: equal for templates that differ only in empty
    fields (a `rollout undo` sends the old ReplicaSet's template back with such differences)."""
    tmpl = copy.deepcopy(template)
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    digest = hashlib.sha256(json.dumps(_normalized(tmpl), sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def owner_ref(owner: JSON, kind: str, api_version: str = APPS) -> JSON:
    meta = owner["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: JSON, uid: str) -> bool:
    return any(
        r.get("uid") == uid for r in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


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


def _loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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


class Controllers:
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

    def _new_pod(self, owner: JSON, kind: str, name: str, extra_labels: JSON) -> JSON:
        tmpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
        meta = tmpl.get("metadata") or {}
        labels = {**(meta.get("labels") or {}), **extra_labels}
        pod: JSON = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": owner["metadata"].get("namespace", "default"),
                "labels": labels,
                "ownerReferences": [owner_ref(owner, kind)],
            },
            "spec": tmpl.get("spec") or {},
        }
        if meta.get("annotations"):
            pod["metadata"]["annotations"] = dict(meta["annotations"])
        return self.start_pod(pod)

    def _create_pod(
        self, owner: JSON, kind: str, name: str, labels: JSON, message: str, component: str
    ) -> None:
        """A new pod of `owner`'s, stored, with the owner's SuccessfulCreate event."""
        pod = self.store.add("pods", self._new_pod(owner, kind, name, labels), created=self.now())
        self.event(owner, "Normal", "SuccessfulCreate", message, component)
        self.pod_started_events(pod)

    # -- owners --------------------------------------------------------------------------
    def reconcile(self, key: str, namespace: str, name: str) -> None:
        obj = self.store.get(key, namespace, name)
        if obj is None:
            return
        if key == "deployments.apps":
            self.deployment(obj)
        elif key == "replicasets.apps":
            self.replicaset(obj)
            self._owner_status(obj)
        elif key == "statefulsets.apps":
            self.statefulset(obj)
        elif key == "daemonsets.apps":
            self.daemonset(obj)

    def after_pod_delete(self, pod: JSON) -> None:
        """A deleted pod with a controlling owner is replaced, as the owner's controller would."""
        ns = pod["metadata"].get("namespace", "")
        for ref in pod["metadata"].get("ownerReferences") or []:
            key = _POD_OWNERS.get(ref.get("kind", ""))
            if key:
                owner = self.store.get(key, ns, ref.get("name", ""))
                if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                    self.reconcile(key, ns, ref["name"])

    def _owner_status(self, rs: JSON) -> None:
        ns = rs["metadata"].get("namespace", "")
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                d = self.store.get("deployments.apps", ns, ref.get("name", ""))
                if d is not None:
                    self._deployment_status(d)

    def _pods_of(self, owner: JSON) -> list[JSON]:
        ns = owner["metadata"].get("namespace", "")
        uid = owner["metadata"]["uid"]
        # Terminating pods no longer count: the owner replaces them at once.
        return [
            p
            for p in self.store.list("pods", ns)
            if owned_by(p, uid) and not p["metadata"].get("deletionTimestamp")
        ]

    def deployment(self, d: JSON) -> None:
        ns, uid = d["metadata"].get("namespace", ""), d["metadata"]["uid"]
        spec = d.get("spec") or {}
        tmpl = spec.get("template") or {}
        h = template_hash(tmpl)
        rss = [r for r in self.store.list("replicasets.apps", ns) if owned_by(r, uid)]
        current = next(
            (r for r in rss if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h),
            None,
        )
        replicas = int(spec.get("replicas", 1))
        revisions = [
            int(
                (r["metadata"].get("annotations") or {}).get(
                    "deployment.kubernetes.io/revision", "0"
                )
            )
            for r in rss
        ]
        if current is None:
            rs_tmpl = copy.deepcopy(tmpl)
            rs_tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = h
            current = {
                "apiVersion": APPS,
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{d['metadata']['name']}-{h}",
                    "namespace": ns,
                    "labels": dict(rs_tmpl["metadata"]["labels"]),
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": str(replicas),
                        "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                        "deployment.kubernetes.io/revision": str(max(revisions, default=0) + 1),
                    },
                    "ownerReferences": [owner_ref(d, "Deployment")],
                    "generation": 1,
                },
                "spec": {"replicas": replicas, "selector": selector, "template": rs_tmpl},
                "status": {},
            }
            self.store.add("replicasets.apps", current, created=self.now())
            self.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {current['metadata']['name']} from 0 to {replicas}",
                "deployment-controller",
            )
        elif int((current.get("spec") or {}).get("replicas", 0)) != replicas:
            before = int((current.get("spec") or {}).get("replicas", 0))
            self.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {'up' if replicas > before else 'down'} replica set "
                f"{current['metadata']['name']} from {before} to {replicas}",
                "deployment-controller",
            )
            current = copy.deepcopy(current)
            annotations = current["metadata"].setdefault("annotations", {})
            mine = int(annotations.get("deployment.kubernetes.io/revision", "0"))
            if before == 0 and mine < max(revisions, default=0):
                # A rollback makes an old ReplicaSet the newest revision again.
                annotations["deployment.kubernetes.io/revision"] = str(max(revisions) + 1)
            current["spec"]["replicas"] = replicas
            current["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            self.store.replace("replicasets.apps", current)
        for r in rss:
            if (
                r["metadata"]["uid"] != current["metadata"]["uid"]
                and int(r["spec"].get("replicas", 0)) != 0
            ):
                self.event(
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    f"Scaled down replica set {r['metadata']['name']} from "
                    f"{r['spec'].get('replicas', 0)} to 0",
                    "deployment-controller",
                )
                r = copy.deepcopy(r)
                r["spec"]["replicas"] = 0
                r["metadata"]["generation"] = int(r["metadata"].get("generation", 1)) + 1
                self.store.replace("replicasets.apps", r)
        for r in self.store.list("replicasets.apps", ns):
            if owned_by(r, uid):
                self.replicaset(r)
        fresh = self.store.get("deployments.apps", ns, d["metadata"]["name"])
        if fresh is not None:
            self._deployment_status(fresh)

    def replicaset(self, rs: JSON) -> None:
        want = int((rs.get("spec") or {}).get("replicas", 1))
        pods = self._pods_of(rs)
        labels = {
            "pod-template-hash": (rs["metadata"].get("labels") or {}).get("pod-template-hash", "")
        }
        labels = {k: v for k, v in labels.items() if v}
        for _ in range(want - len(pods)):
            name = f"{rs['metadata']['name']}-{safe_suffix(self.rng)}"
            self._create_pod(
                rs, "ReplicaSet", name, labels, f"Created pod: {name}", "replicaset-controller"
            )
        if len(pods) > want:
            doomed = sorted(
                pods, key=lambda p: p["metadata"].get("creationTimestamp", ""), reverse=True
            )
            for p in doomed[: len(pods) - want]:
                if self.delete_pod(p, refresh_owner=False) is not None:
                    self.event(
                        rs,
                        "Normal",
                        "SuccessfulDelete",
                        f"Deleted pod: {p['metadata']['name']}",
                        "replicaset-controller",
                    )
        pods = self._pods_of(rs)
        ready = sum(1 for p in pods if _pod_ready(p))
        self._set_status(
            "replicasets.apps",
            rs,
            {
                "replicas": len(pods),
                "fullyLabeledReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"].get("generation", 1),
            },
        )

    def _deployment_status(self, d: JSON) -> None:
        ns, uid = d["metadata"].get("namespace", ""), d["metadata"]["uid"]
        h = template_hash((d.get("spec") or {}).get("template") or {})
        total = ready = updated = 0
        for r in self.store.list("replicasets.apps", ns):
            if not owned_by(r, uid):
                continue
            pods = self._pods_of(r)
            total += len(pods)
            ready += sum(1 for p in pods if _pod_ready(p))
            if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h:
                updated += len(pods)
        want = int((d.get("spec") or {}).get("replicas", 1))
        ts = (d.get("metadata") or {}).get("creationTimestamp") or now_rfc3339()
        available = "True" if ready >= want or want == 0 else "False"
        status: JSON = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                {
                    "type": "Available",
                    "status": available,
                    "lastUpdateTime": ts,
                    "lastTransitionTime": ts,
                    "reason": "MinimumReplicasAvailable"
                    if available == "True"
                    else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if available == "True"
                    else "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "lastUpdateTime": ts,
                    "lastTransitionTime": ts,
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{d["metadata"]["name"]}-{h}" has successfully '
                    "progressed.",
                },
            ],
        }
        if total - ready > 0:
            status["unavailableReplicas"] = total - ready
        self._set_status("deployments.apps", d, status)

    def statefulset(self, s: JSON) -> None:
        want = int((s.get("spec") or {}).get("replicas", 1))
        ns = s["metadata"].get("namespace", "")
        pods = {p["metadata"]["name"]: p for p in self._pods_of(s)}
        base = s["metadata"]["name"]
        for i in range(want):
            name = f"{base}-{i}"
            if name not in pods and self.store.get("pods", ns, name) is None:
                labels = {
                    "statefulset.kubernetes.io/pod-name": name,
                    "apps.kubernetes.io/pod-index": str(i),
                }
                self._create_pod(
                    s,
                    "StatefulSet",
                    name,
                    labels,
                    f"create Pod {name} in StatefulSet {base} successful",
                    "statefulset-controller",
                )
        for name, pod in pods.items():
            idx = name.rsplit("-", 1)[-1]
            if idx.isdigit() and int(idx) >= want:
                self.delete_pod(pod, refresh_owner=False)
        pods_now = self._pods_of(s)
        ready = sum(1 for p in pods_now if _pod_ready(p))
        self._set_status(
            "statefulsets.apps",
            s,
            {
                "observedGeneration": s["metadata"].get("generation", 1),
                "replicas": len(pods_now),
                "readyReplicas": ready,
                "currentReplicas": len(pods_now),
                "updatedReplicas": len(pods_now),
                "availableReplicas": ready,
            },
        )

    def daemonset(self, ds: JSON) -> None:
        nodes = self.store.list("nodes")
        have = {(p.get("spec") or {}).get("nodeName"): p for p in self._pods_of(ds)}
        for node in nodes:
            if node["metadata"]["name"] not in have:
                pod = self._new_pod(
                    ds, "DaemonSet", f"{ds['metadata']['name']}-{safe_suffix(self.rng)}", {}
                )
                pod = self.start_pod(pod, node)
                self.store.add("pods", pod, created=self.now())
        pods_now = self._pods_of(ds)
        ready = sum(1 for p in pods_now if _pod_ready(p))
        n = len(nodes)
        self._set_status(
            "daemonsets.apps",
            ds,
            {
                "currentNumberScheduled": len(pods_now),
                "desiredNumberScheduled": n,
                "numberMisscheduled": 0,
                "numberReady": ready,
                "numberAvailable": ready,
                "updatedNumberScheduled": len(pods_now),
                "observedGeneration": ds["metadata"].get("generation", 1),
            },
        )

    def _set_status(self, key: str, obj: JSON, status: JSON) -> None:
        current = self.store.get(key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if current is None:
            return
        merged = {**(current.get("status") or {}), **status}
        if merged != current.get("status"):
            updated = copy.deepcopy(current)
            updated["status"] = merged
            self.store.replace(key, updated)

    # -- garbage collection --------------------------------------------------------------
    def collect(self, owner: JSON) -> None:
        """Delete everything (transitively) owned by a deleted object."""
        uid = owner["metadata"].get("uid")
        if not uid:
            return
        for key in self.store.keys():
            for obj in self.store.list(key):
                if owned_by(obj, uid):
                    meta = obj["metadata"]
                    removed = self.store.remove(key, meta.get("namespace", ""), meta["name"])
                    if removed is not None:
                        self.collect(removed)


# Owner kind -> store key, for the controllers that replace a deleted pod.
_POD_OWNERS = {
    "ReplicaSet": "replicasets.apps",
    "StatefulSet": "statefulsets.apps",
    "DaemonSet": "daemonsets.apps",
}


def _pod_ready(pod: JSON) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False
