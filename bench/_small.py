"""The small-request load: GETs of one pod on kept-alive connections, interleaved across
every path; latency percentiles and the proxy's CPU per request."""

from __future__ import annotations

import time
from typing import Any

from bench import _clients as c
from bench._loads import rotate
from bench._procs import cpu_between, measure, sample
from bench._stack import Stack
from bench._stats import percentile


def small_requests(stack: Stack, n: int) -> dict[str, Any]:
    """n GETs of one pod per path on a kept-alive connection, interleaved (request i goes to
    every path, in rotated order); latency percentiles and the proxy's CPU per request."""
    ns, pod, _ = stack.shell
    path = f"/api/v1/namespaces/{ns}/pods/{pod}"
    conns = {ep.label: c.KeepAlive(ep) for ep in stack.targets}
    samples: dict[str, list[float]] = {ep.label: [] for ep in stack.targets}
    proxies = [ep for ep in stack.targets if ep.pid]

    def one(ep: c.Endpoint) -> float:
        t0 = time.perf_counter()
        status, body = conns[ep.label].get(path)
        took = (time.perf_counter() - t0) * 1000
        if status != 200 or not body.startswith(b"{"):
            raise RuntimeError(f"{ep.label}: GET pod answered {status}")
        return took

    try:
        for i in range(50):  # warm-up, not counted
            for ep in rotate(stack.targets, i):
                one(ep)
        before = {ep.label: sample(ep.pid) for ep in proxies if ep.pid}
        with measure(None, stack.pids) as u:
            for i in range(n):
                for ep in rotate(stack.targets, i):
                    samples[ep.label].append(one(ep))
        after = {ep.label: sample(ep.pid) for ep in proxies if ep.pid}
    finally:
        for conn in conns.values():
            conn.close()
    out: dict[str, Any] = {
        "requests": n,
        "path": "GET one pod (JSON)",
        "wall_s": round(u.wall_s, 2),
        "others_cores": round(u.others_cores, 3),
        "irq_cores": round(u.irq_cores, 3),
        "steal_cores": round(u.steal_cores, 3),
        "noisy": u.noisy,
    }
    targets: dict[str, Any] = {}
    direct = samples.get("direct", [])
    for ep in stack.targets:
        s = samples[ep.label]
        row: dict[str, Any] = {
            "p50_ms": round(percentile(s, 50), 3),
            "p99_ms": round(percentile(s, 99), 3),
        }
        if ep.pid:
            cpu = cpu_between(before[ep.label], after[ep.label])
            row["cpu_us_per_request"] = round(cpu / n * 1e6, 1)
        if direct and ep.label != "direct":
            row["added_p50_ms"] = round(row["p50_ms"] - percentile(direct, 50), 3)
            row["added_p99_ms"] = round(row["p99_ms"] - percentile(direct, 99), 3)
        targets[ep.label] = row
    out["targets"] = targets
    return out
