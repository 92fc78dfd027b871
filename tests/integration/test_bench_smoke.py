"""The proxy benchmark's machinery on tiny sizes, so it cannot rot: every load runs against
fresh stacks and the JSON and table have their shape. Speed is not asserted here (that is
what `make bench` measures)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_runs_every_load_and_writes_json_and_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.proxy", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "proxy.json").read_text())
    kubectl = shutil.which("kubectl") is not None
    proxies = {"kubelantern"} | ({"kubectl proxy"} if kubectl else set())

    assert [s["kind"] for s in result["stacks"]] == ["http-only", "full"]
    assert "kubelantern (glibc malloc defaults)" in result["stacks"][0]["targets"]
    assert "kubelantern (asyncio TLS buffers)" in result["stacks"][1]["targets"]
    assert result["errors"] == []
    for name in ("http_log", "ws_exec", "ws_logs"):
        entry = result["throughput"][name]
        labels = {t["target"] for t in entry["transfers"]}
        assert {"direct"} | proxies <= labels, name
        for t in entry["transfers"]:
            assert t["bytes"] == 1024 * 1024 and t["mb_s"] > 0
            assert (t["cpu_s_per_gb"] is None) == (t["target"] == "direct")
            assert isinstance(t["noisy"], bool) and t["others_cores"] >= 0
        assert entry["summary"]["kubelantern"]["cpu_s_per_gb"]["n"] >= 1
        if kubectl:
            ratio = entry["ratios"]["kubelantern / kubectl proxy cpu_s_per_gb"]["all"]
            assert ratio["min"] <= ratio["median"] <= ratio["max"]

    (latency,) = result["follow_latency"]
    assert latency["targets"]["kubelantern"]["lines"] >= 1
    (conc,) = result["concurrent_streams"]
    # More than the 64 pooled connections per cluster kubelantern once capped streams at.
    assert conc["kubelantern"]["complete_in_order"] == conc["kubelantern"]["streams"] == 80
    (idle,) = result["idle_websockets"]
    assert set(idle) - {"stack"} == proxies | {"kubelantern (asyncio TLS buffers)"}
    assert idle["kubelantern"]["alive_when_measured"] == 70
    (small,) = result["small_requests"]
    assert small["targets"]["kubelantern"]["cpu_us_per_request"] > 0
    (start,) = result["startup"]
    assert start["targets"]["kubelantern"]["ms"]["n"] == 1

    judged = {row["target"]: row for row in result["targets"]}
    assert "idle WebSocket: RSS per session" in judged
    assert all(row["met"] in (True, False) for row in judged.values())
    table = (tmp_path / "proxy.txt").read_text()
    assert "targets (issue 12):" in table and "ratio kubelantern / direct mb_s" in table


def test_bench_only_small_requests_runs_that_load_alone(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.proxy", "--smoke", "--only", "small_requests",
         "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "proxy.json").read_text())
    assert [s["kind"] for s in result["stacks"]] == ["full"]
    rounds = result["meta"]["config"]["rounds"]
    assert len(result["small_requests"]) == rounds, result["small_requests"]
    for entry in result["small_requests"]:
        assert entry["targets"]["kubelantern"]["cpu_us_per_request"] > 0
    assert not any(t["transfers"] for t in result["throughput"].values())
    assert not result["idle_websockets"] and not result["startup"]


def test_tls_floor_bench_measures_every_case(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.tlsfloor", "--connections", "30", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "tlsfloor.json").read_text())
    assert [r["version"] for r in result.values()] == ["TLSv1.3", "TLSv1.3", "TLSv1.2"]
    assert all(r["connections"] == 30 and r["malloc_kib"] > 0 for r in result.values())
