"""Many pods for scale work (issue 11: 50,000 pods in 200 namespaces): Running pods spread
over namespaces `many-000…` and the worker nodes, added straight to the store (no kubelet
events, no controllers) so that seeding 50,000 takes seconds, not minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..store import Store, now_rfc3339
from .base import NODES, container

JSON = dict[str, Any]
IMAGE = "registry.example/many:1.0"


def many_pods(store: Store, count: int, namespaces: int, now: dt.datetime) -> None:
    if count <= 0:
        return
    namespaces = max(1, namespaces)
    workers = [n[0] for n in NODES if not n[2]] or [NODES[0][0]]
    started = now_rfc3339(now - dt.timedelta(hours=2))
    for k in range(namespaces):
        store.add(
            "namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"many-{k:03d}"},
             "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
            created=now - dt.timedelta(days=3),
        )  # fmt: skip
    for i in range(count):
        ns = f"many-{i % namespaces:03d}"
        app = f"app-{(i // namespaces) % 50:02d}"
        node = workers[i % len(workers)]
        pod: JSON = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{app}-{i:06d}", "namespace": ns, "labels": {"app": app}},
            "spec": {
                "nodeName": node,
                "containers": [container("main", IMAGE, cpu="10m", mem="32Mi")],
            },
            "status": {
                "phase": "Running",
                "podIP": f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}",
                "hostIP": next(n[1] for n in NODES if n[0] == node),
                "startTime": started,
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "main", "ready": True, "restartCount": 0, "started": True,
                     "image": IMAGE,
                     "state": {"running": {"startedAt": started}}}
                ],
            },
        }  # fmt: skip
        store.add("pods", pod, created=now - dt.timedelta(hours=2))
