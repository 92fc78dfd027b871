"""A tiny controller manager: Deployments own ReplicaSets own Pods; StatefulSets and DaemonSets
own Pods; deleting an owner deletes its dependents. Runs synchronously after each write, so a
`kubectl scale` or a `rollout restart` is visible on the next request. Pods are run and
stopped by `kubelet.py`; their shapes are `podstatus.py`'s, owner references `ownership.py`'s."""

from __future__ import annotations

import copy
from typing import Any

from .kubelet import Kubelet
from .ownership import APPS, POD_OWNERS, owned_by, owner_ref, safe_suffix, template_hash
from .podstatus import pod_ready
from .store import now_rfc3339

JSON = dict[str, Any]


class Controllers(Kubelet):
    """The workload controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet) and the
    garbage collector, over the kubelet's pods."""

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
            key = POD_OWNERS.get(ref.get("kind", ""))
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
        ready = sum(1 for p in pods if pod_ready(p))
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
            ready += sum(1 for p in pods if pod_ready(p))
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
        ready = sum(1 for p in pods_now if pod_ready(p))
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
        ready = sum(1 for p in pods_now if pod_ready(p))
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
