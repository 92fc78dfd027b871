"""`metrics.k8s.io/v1beta1` (what metrics-server serves): usage computed from the running pods,
deterministic per object and gently varying over time, so `kubectl top` and UIs have numbers."""

from __future__ import annotations

import datetime as dt
import functools
import math
import zlib
from typing import Any

from aiohttp import web

from .kinds import ResourceType
from .responses import json_response
from .selectors import label_matcher
from .state import SimState
from .status import method_not_allowed, not_found
from .store import Store, now_rfc3339

JSON = dict[str, Any]
GROUP, VERSION = "metrics.k8s.io", "v1beta1"


def _wave(key: str, now: float, low: float, high: float) -> float:
    phase = zlib.crc32(key.encode()) % 1000 / 1000 * 2 * math.pi
    level = 0.5 + 0.35 * math.sin(now / 90 + phase) + 0.15 * math.sin(now / 17 + 2 * phase)
    return low + (high - low) * max(0.0, min(1.0, level))


def container_usage(pod: JSON, container: JSON, now: float) -> JSON:
    key = (
        f"{pod['metadata'].get('namespace')}/{pod['metadata'].get('name')}/{container.get('name')}"
    )
    requests = ((container.get("resources") or {}).get("requests")) or {}
    mem_req = _mebibytes(str(requests.get("memory", "128Mi")))
    cpu = _wave(key + "/cpu", now, 1, 120)
    mem = _wave(key + "/mem", now, mem_req * 0.2, mem_req * 0.9)
    return {"cpu": f"{round(cpu)}m", "memory": f"{round(mem * 1024)}Ki"}


@functools.lru_cache(maxsize=256)  # a few distinct requests, asked 50,000 times a poll
def _mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1 / 1000, "M": 1, "G": 1000}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            try:
                return float(quantity[: -len(suffix)]) * factor
            except ValueError:
                return 128.0
    try:
        return float(quantity) / (1024 * 1024)
    except ValueError:
        return 128.0


def pod_metrics(store: Store, namespace: str | None) -> list[JSON]:
    now = dt.datetime.now(dt.UTC)
    created, stamp = now_rfc3339(now), now_rfc3339(now - dt.timedelta(seconds=7))
    out = []
    for pod in store.list("pods", namespace):
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        meta = pod["metadata"]
        out.append(
            {
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta.get("namespace", ""),
                    "creationTimestamp": created,
                    "labels": meta.get("labels") or {},
                },
                "timestamp": stamp,
                "window": "15.012s",
                "containers": [
                    {"name": c.get("name", ""), "usage": container_usage(pod, c, now.timestamp())}
                    for c in (pod.get("spec") or {}).get("containers") or []
                ],
            }
        )
    return out


def node_metrics(store: Store) -> list[JSON]:
    now = dt.datetime.now(dt.UTC)
    out = []
    for node in store.list("nodes"):
        name = node["metadata"]["name"]
        cpu_m = mem_ki = 0.0
        for pod in store.list("pods"):
            if (pod.get("spec") or {}).get("nodeName") != name:
                continue
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            for c in (pod.get("spec") or {}).get("containers") or []:
                usage = container_usage(pod, c, now.timestamp())
                cpu_m += float(usage["cpu"][:-1])
                mem_ki += float(usage["memory"][:-2])
        cpu_m += 180  # the kubelet, the runtime and the OS
        mem_ki += 900 * 1024
        out.append(
            {
                "metadata": {
                    "name": name,
                    "creationTimestamp": now_rfc3339(now),
                    "labels": node["metadata"].get("labels") or {},
                },
                "timestamp": now_rfc3339(now - dt.timedelta(seconds=9)),
                "window": "20.04s",
                "usage": {"cpu": f"{round(cpu_m)}m", "memory": f"{round(mem_ki)}Ki"},
            }
        )
    return out


def serve_metrics(
    request: web.Request, state: SimState, rt: ResourceType, ns: str, name: str
) -> web.Response:
    if request.method != "GET":
        raise method_not_allowed()
    if rt.plural == "pods":
        items = pod_metrics(state.store, ns or None)
    else:
        items = node_metrics(state.store)
    labels = label_matcher(request.query.get("labelSelector"))
    items = [{"kind": rt.kind, "apiVersion": rt.api_version, **i} for i in items if labels(i)]
    if name:
        found = [i for i in items if i["metadata"]["name"] == name]
        if not found:
            raise not_found(rt.plural, name, rt.group)
        return json_response(found[0])
    return json_response(
        {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": ""},
            "items": items,
        }
    )
