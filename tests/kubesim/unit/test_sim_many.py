"""`bulk_pods` (issue 11's scale work): Running pods spread over `many-NNN` namespaces and the
worker nodes, each with metrics from metrics.k8s.io like any running pod."""

from __future__ import annotations

from collections import Counter

from kubesim.config import SimConfig
from kubesim.state import make_state
from kubesim.usage import node_metrics, pod_metrics


def test_bulk_pods_spread_over_namespaces_and_workers() -> None:
    state = make_state(SimConfig(bulk_pods=500, bulk_namespaces=7))
    pods = [p for p in state.store.list("pods", None) if p["metadata"]["namespace"][:5] == "many-"]
    assert len(pods) == 500
    assert len({(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods}) == 500
    per_ns = Counter(p["metadata"]["namespace"] for p in pods)
    assert sorted(per_ns) == [f"many-{k:03d}" for k in range(7)]
    assert max(per_ns.values()) - min(per_ns.values()) <= 1
    assert {n["metadata"]["name"] for n in state.store.list("namespaces", None)} >= set(per_ns)
    assert set(Counter(p["spec"]["nodeName"] for p in pods)) == {"worker-1", "worker-2"}
    assert all(p["status"]["phase"] == "Running" for p in pods)

    metrics = pod_metrics(state.store, "many-003")
    assert len(metrics) == per_ns["many-003"]
    cpus = {m["containers"][0]["usage"]["cpu"] for m in metrics}
    assert len(cpus) > 1, "every pod uses the same CPU"
    # The nodes' usage counts the bulk pods: far above the demo cluster's own.
    demo = make_state(SimConfig())
    cpu = {m["metadata"]["name"]: int(m["usage"]["cpu"][:-1]) for m in node_metrics(state.store)}
    base = {m["metadata"]["name"]: int(m["usage"]["cpu"][:-1]) for m in node_metrics(demo.store)}
    assert cpu["worker-1"] > base["worker-1"] + 250 * 1, (cpu, base)


def test_no_bulk_pods_by_default() -> None:
    state = make_state(SimConfig(demo_data=False))
    assert state.store.list("pods", None) == []
