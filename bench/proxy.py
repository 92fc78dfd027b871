"""The proxy benchmark: kubelantern against `kubectl proxy` and a direct connection, same
simulator, same run (issue 12).

Primary figure: the proxy process's CPU seconds per GB (all threads, /proc), then minor
page faults per GB, then MB/s. Each throughput load moves SIZE per transfer, one warm-up
round is discarded, then ROUNDS rounds in rotated order; kubelantern/kubectl-proxy ratios
are paired per round and shown as median [min-max]. Several fresh process stacks (one of
them HTTP-only: its process state is the one that used to go bad); every transfer records
the CPU of processes outside the stack, and rounds where that exceeds a quarter core are
flagged noisy (ratios are given over all rounds and over the quiet ones).

    python -m bench.proxy              # make bench: 200 MB, 8 rounds, 3 stacks (~15 min)
    python -m bench.proxy --quick      # make bench-quick: 50 MB, 3 rounds, 2 stacks
    python -m bench.proxy --smoke      # tiny sizes: checks the machinery, not the speed
    python -m bench.proxy --quick --only spdy_exec,spdy_forward --mb 200   # SPDY rows only
    python -m bench.proxy --quick --only small_requests   # small-request latency/CPU rows only
    python -m bench.proxy --variant 'uvloop:KUBELANTERN_LOOP=uvloop'   # an extra target
    python -m bench.proxy --only small_requests \
        --variant 'aiohttp client:KUBELANTERN_UPSTREAM_CLIENT=aiohttp'   # lean vs aiohttp client
    python -m bench.proxy --quick --only spdy_exec,ws_exec \
        --variant 'recording:KUBELANTERN_SERVE_ARGS=--record-sessions {folder}/casts'

Writes artifacts/bench/proxy.json and proxy.txt (the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from bench import _loads as loads
from bench._procs import IRQ_TIME_ACCOUNTING, NOISE_CORES, TICK_SLACK_S
from bench._small import small_requests
from bench._stack import KUBE_TOKEN, ROOT, Stack, stack
from bench._stats import spread
from bench._table import table
from bench.startup import TARGET_MS, measure_startup

OUT = ROOT / "artifacts" / "bench"
BASELINE = "kubectl proxy"
MALLOC_DEFAULTS = {"kubelantern (glibc malloc defaults)": {"KUBELANTERN_MALLOC_TUNING": "0"}}
ASYNCIO_TLS = {"kubelantern (asyncio TLS buffers)": {"KUBELANTERN_TLS_BUFFERS": "asyncio"}}


@dataclass(frozen=True)
class Config:
    mb: int = 200  # MiB per transfer
    rounds: int = 8
    full_stacks: int = 2
    http_only_stack: bool = True
    follow_s: float = 12.0
    concurrent: int = 1000
    seq_lines: int = 2000
    idle: int = 5000
    settle_s: float = 2.0
    after_close_s: float = 12.0
    small: int = 1000
    startup_clusters: int = 50
    startup_runs: int = 5
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    only: tuple[str, ...] = ()  # throughput loads to run (and nothing else); () = all
    full_variants: dict[str, dict[str, str]] = field(default_factory=lambda: dict(ASYNCIO_TLS))
    http_only_variants: dict[str, dict[str, str]] = field(
        default_factory=lambda: dict(MALLOC_DEFAULTS)
    )


FULL = Config()
QUICK = Config(mb=50, rounds=3, full_stacks=1, follow_s=6, concurrent=300, idle=1000,
               small=300, startup_runs=3)  # fmt: skip
# Smoke: more streams and sessions than a connection pool of 64 (the cap this once had).
SMOKE = Config(mb=1, rounds=1, full_stacks=1, follow_s=1.5, concurrent=80, seq_lines=20,
               idle=70, settle_s=0.3, after_close_s=0.5, small=5, startup_clusters=3,
               startup_runs=1)  # fmt: skip


# -- running -----------------------------------------------------------------------------


def run(cfg: Config, folder: Path, log: Any = sys.stdout) -> dict[str, Any]:
    result: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": asdict(cfg),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kubectl": _kubectl_version(),
            "noise_threshold_cores": NOISE_CORES,
            "noise_slack_s": TICK_SLACK_S,
            "irq_time_accounting": IRQ_TIME_ACCOUNTING,
        },
        "stacks": [],
        "throughput": {t.name: {"what": t.what, "transfers": []} for t in loads.THROUGHPUT},
        "follow_latency": [],
        "concurrent_streams": [],
        "idle_websockets": [],
        "small_requests": [],
        "startup": [],
        "errors": [],
    }
    http_only = cfg.http_only_stack and (not cfg.only or "http_log" in cfg.only)
    plans = [("http-only", cfg.http_only_variants)] if http_only else []
    plans += [("full", cfg.full_variants)] * cfg.full_stacks
    for stack_id, (kind, extra) in enumerate(plans):
        variants = {**cfg.variants, **extra}
        with stack(folder / f"stack{stack_id}", variants) as s:
            labels = [t.label for t in s.targets]
            result["stacks"].append({"id": stack_id, "kind": kind, "targets": labels})
            print(f"stack {stack_id} ({kind}): {', '.join(labels)}", file=log, flush=True)
            run_stack(cfg, s, stack_id, kind, result, log)
    for entry in result["throughput"].values():
        entry.update(summarize(entry["transfers"]))
    result["targets"] = judge(result)
    return result


def run_stack(
    cfg: Config, s: Stack, stack_id: int, kind: str, result: dict[str, Any], log: Any
) -> None:
    """The loads of one stack, into `result`; a failing load is recorded, the rest run."""
    size = cfg.mb * 1024 * 1024

    def attempt(what: str, fn: Callable[[], Any]) -> Any:
        print(f"  {what} ...", file=log, flush=True)
        try:
            return fn()
        except Exception as exc:
            print(f"  {what} FAILED: {exc!r}", file=log, flush=True)
            result["errors"].append({"stack": stack_id, "load": what, "error": repr(exc)})
            return None

    def add(key: str, what: str, fn: Callable[[], dict[str, Any]]) -> None:
        got = attempt(what, fn)
        if got is not None:
            result[key].append({"stack": stack_id} | got)

    if "small_requests" in cfg.only:  # e.g. `--only small_requests`: ROUNDS runs of it
        for _ in range(cfg.rounds if kind == "full" else 0):
            add("small_requests", f"{cfg.small} interleaved small requests",
                lambda: small_requests(s, cfg.small))  # fmt: skip
    if kind == "full" and not cfg.only:
        # Idle memory first, on fresh processes: a heap that earlier loads grew could hide
        # sessions in memory that is already there.
        idle = partial(loads.idle_websockets, s, cfg.idle, cfg.settle_s, cfg.after_close_s)
        add("idle_websockets", f"{cfg.idle} idle WebSockets", idle)
    for load in loads.THROUGHPUT:
        if (kind == "http-only" and load.name != "http_log") or (
            cfg.only and load.name not in cfg.only
        ):
            continue
        got = attempt(
            f"{load.name}: {cfg.rounds}+1 rounds of {cfg.mb} MiB",
            partial(loads.throughput, s, stack_id, load, size, cfg.rounds),
        )
        result["throughput"][load.name]["transfers"] += got or []
    if kind != "full" or cfg.only:
        return
    add("follow_latency", "logs -f line latency",
        lambda: loads.follow_latency(s, cfg.follow_s))  # fmt: skip
    add("concurrent_streams", f"{cfg.concurrent} concurrent streams",
        lambda: loads.concurrent_streams(s, cfg.concurrent, cfg.seq_lines))  # fmt: skip
    add("small_requests", f"{cfg.small} interleaved small requests",
        lambda: small_requests(s, cfg.small))  # fmt: skip
    add("startup", f"start-up with {cfg.startup_clusters} clusters",
        lambda: measure_startup(s.sim.base, s.pki.ca_pem, KUBE_TOKEN, s.folder,
                                cfg.startup_clusters, cfg.startup_runs,
                                client=(s.pki.client_cert_pem, s.pki.client_key_pem),
                                sim_pid=s.sim_pid))  # fmt: skip


def _kubectl_version() -> str | None:
    binary = shutil.which("kubectl")
    if not binary:
        return None
    done = subprocess.run([binary, "version", "--client"], capture_output=True, text=True)
    return done.stdout.splitlines()[0] if done.stdout else None


# -- summaries ---------------------------------------------------------------------------


def summarize(transfers: list[dict[str, Any]]) -> dict[str, Any]:
    """Per target: spreads of CPU s/GB, faults/GB, MB/s. Per proxy: paired per-round ratios
    against kubectl proxy and direct, over all rounds and over rounds where both were quiet."""
    per_target: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rounds: dict[tuple[int, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    noisy: dict[str, int] = defaultdict(int)
    for t in transfers:
        for key in ("cpu_s_per_gb", "minflt_per_gb", "mb_s", "irq_cores"):
            if t.get(key) is not None:
                per_target[t["target"]][key].append(t[key])
        rounds[(t["stack"], t["round"])][t["target"]] = t
        noisy[t["target"]] += t["noisy"]
    summary = {
        label: {k: spread(v) for k, v in values.items()}
        | {"noisy": noisy[label], "transfers": len(values["mb_s"])}
        for label, values in per_target.items()
    }
    ratios: dict[str, dict[str, Any]] = {}
    for label in per_target:
        if label in ("direct", BASELINE):
            continue
        for base, keys in ((BASELINE, ("cpu_s_per_gb", "mb_s")), ("direct", ("mb_s",))):
            for key in keys:
                every, quiet = [], []
                for pair in rounds.values():
                    a, b = pair.get(label), pair.get(base)
                    if not a or not b or not b[key]:
                        continue
                    every.append(a[key] / b[key])
                    if not a["noisy"] and not b["noisy"]:
                        quiet.append(a[key] / b[key])
                if every:
                    ratios[f"{label} / {base} {key}"] = {
                        "all": spread(every),
                        "quiet": spread(quiet),
                    }
    return {"summary": summary, "ratios": ratios}


def _median(s: dict[str, Any] | None) -> float | None:
    return None if not s or not s.get("n") else float(s["median"])


def judge(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, met or missed, from this run's numbers."""
    rows: list[dict[str, Any]] = []

    def add(what: str, value: float | None, limit: float, low: bool, unit: str = "") -> None:
        met = None if value is None else (value <= limit if low else value >= limit)
        rows.append({"target": what, "value": value, "limit": limit, "unit": unit, "met": met})

    for name in ("http_log", "ws_exec"):
        r = result["throughput"][name]["ratios"]
        add(f"{name}: CPU s/GB / kubectl proxy", _median(r.get(
            f"kubelantern / {BASELINE} cpu_s_per_gb", {}).get("all")), 0.9, True)  # fmt: skip
        add(f"{name}: MB/s / kubectl proxy", _median(r.get(
            f"kubelantern / {BASELINE} mb_s", {}).get("all")), 1.1, False)  # fmt: skip
        add(f"{name}: MB/s / direct", _median(r.get(
            "kubelantern / direct mb_s", {}).get("all")), 0.8, False)  # fmt: skip
    http = result["throughput"]["http_log"]["summary"].get("kubelantern", {})
    add("http_log: minor faults per GB", _median(http.get("minflt_per_gb")), 1000, True, "/GB")
    small = [s["targets"]["kubelantern"] for s in result["small_requests"]]
    if small:
        add("small request: added p50 over direct", _median(spread(
            [s["added_p50_ms"] for s in small])), 0.3, True, "ms")  # fmt: skip
        add("small request: added p99 over direct", _median(spread(
            [s["added_p99_ms"] for s in small])), 0.8, True, "ms")  # fmt: skip
        add("small request: CPU per request", _median(spread(
            [s["cpu_us_per_request"] for s in small])), 400, True, "µs")  # fmt: skip
    idle = [s["kubelantern"] for s in result["idle_websockets"] if "error" not in s["kubelantern"]]
    if idle:
        add("idle WebSocket: RSS per session", _median(spread(
            [s["kib_per_session"] for s in idle])), 30, True, "KiB")  # fmt: skip
        back = all(s["back_near_baseline"] for s in idle)
        rows.append({"target": "idle WebSocket: RSS back near baseline after close",
                     "value": back, "limit": True, "unit": "", "met": back})  # fmt: skip
    conc = [s["kubelantern"] for s in result["concurrent_streams"]]  # errors count as missed
    if conc:
        whole = all(s.get("complete_in_order") == s["streams"] for s in conc)
        rows.append({"target": f"{conc[0]['streams']} concurrent streams complete in order",
                     "value": whole, "limit": True, "unit": "", "met": whole})  # fmt: skip
    starts = [s["targets"]["kubelantern"]["ms"]["median"] for s in result["startup"]]
    if starts:
        clusters = result["startup"][0]["clusters"]
        add(f"start-up with {clusters} clusters", _median(spread(starts)), TARGET_MS, True, "ms")
        # CPU too: a loaded machine stretches the wall time far more than the CPU time.
        cpu = [s["targets"]["kubelantern"]["cpu_ms"]["median"] for s in result["startup"]]
        add(f"start-up CPU with {clusters} clusters", _median(spread(cpu)), TARGET_MS, True, "ms")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer rounds and megabytes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes: the machinery only")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL:VAR=VALUE[,...]",
                   help="one more kubelantern target with extra environment")  # fmt: skip
    p.add_argument(
        "--only",
        default="",
        metavar="LOAD[,LOAD]",
        help="only these throughput loads (e.g. spdy_exec,spdy_forward); small_requests: "
        "that load alone, ROUNDS times per stack",
    )
    p.add_argument("--mb", type=int, default=0, help="MiB per transfer (overrides the mode)")
    p.add_argument("--out", type=Path, default=OUT, help=f"folder for proxy.json ({OUT})")
    args = p.parse_args(argv)
    cfg = SMOKE if args.smoke else QUICK if args.quick else FULL
    variants: dict[str, dict[str, str]] = {}
    for spec in args.variant:
        label, _, env = spec.partition(":")
        variants[label] = dict(kv.split("=", 1) for kv in env.split(",") if kv)
    cfg = replace(cfg, variants=variants, only=tuple(x for x in args.only.split(",") if x))
    if args.mb:
        cfg = replace(cfg, mb=args.mb)
    folder = Path(tempfile.mkdtemp(prefix="kl-bench-"))
    try:
        result = run(cfg, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "proxy.json").write_text(json.dumps(result, indent=1))
    text = table(result)
    (args.out / "proxy.txt").write_text(text + "\n")
    print(text)
    print(f"\nwrote {args.out / 'proxy.json'} and proxy.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
