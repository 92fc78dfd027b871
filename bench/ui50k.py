"""The pod list with 50,000 pods in 200 namespaces, in headless Chromium (issue 11).

One simulator process seeded with `--bulk-pods`, one `kubelantern serve` process in front of
it, the real UI on `/c/bench/pods` (all namespaces). Two variants, alternated round by round
in the same run:

- `paged`: the list as shipped (`limit=500` first, then pages of 5,000, rows shown as pages
  arrive; virtualized table);
- `unpaged` (baseline): the same page with paging off (`localStorage['kubelantern.listPaging']
  = 'off'`: one list request for everything, as before paging).

Per round: time to first rows (first row in the DOM, from navigation start), time to all rows
(the count reaches the cluster's total, no page pending), frame time while scrolling
(requestAnimationFrame deltas while the list scrolls one screen per frame, after all rows are
in: median, p95, max), frame time while later pages arrive (nothing scrolled: the main
thread's stalls as pages are merged), rows in the DOM, JS heap (after GC), the renderer's RSS
(from /proc), and the CPU of the simulator, kubelantern, the browser and everything else on
the machine per round: a round where other processes used more than NOISE_CORES cores is
flagged noisy. Medians with [min-max] over rounds, and paged/unpaged ratios paired per round
(all rounds, and quiet rounds only). Numbers, not pass/fail.

Run: `python -m bench.ui50k [--pods N] [--rounds R] [--usage off]` (or `make bench-ui50k`).
Writes artifacts/bench/ui50k.json and ui50k.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness.chromium import launch_chromium  # noqa: E402
from tests.harness.kubeconfig import Context, write_kubeconfig  # noqa: E402
from tests.harness.pki import make_pki  # noqa: E402
from tests.harness.stack import KUBE_TOKEN  # noqa: E402

from bench._procs import NOISE_CORES, machine_busy_s, tree_cpu_s  # noqa: E402
from bench._stack import free_port, serve_cmd, spawn, stop  # noqa: E402
from bench._stats import fmt, percentile, spread  # noqa: E402

OUT = ROOT / "artifacts" / "bench" / "ui50k.json"
VARIANTS = ("paged", "unpaged")
SCROLL_FRAMES = 240

SCROLL_MAX_S = 12  # a frame cap in time too: at 100 ms a frame, 240 frames would take 24 s

# Frames from navigation on (no scrolling): the main thread's stalls while pages arrive.
FRAMES_INIT = """(() => {
    const f = (window.__frames = []);
    let last = performance.now();
    const tick = (t) => {
        f.push([t, t - last]);
        last = t;
        if (!window.__framesStop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})();"""

SCROLL = """async ([frames, maxMs]) => {
    // One screen further each frame (wrapping at the end): every frame shows new rows.
    const el = document.querySelector('.grid-body');
    const deltas = [];
    let maxRows = 0;
    const start = performance.now();
    let last = start;
    for (let i = 0; i < frames && last - start < maxMs; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        const t = performance.now();
        deltas.push(t - last);
        last = t;
        const next = el.scrollTop + el.clientHeight;
        el.scrollTop = next + el.clientHeight > el.scrollHeight ? 0 : next;
        el.dispatchEvent(new Event('scroll'));
        maxRows = Math.max(maxRows, el.querySelectorAll('[role="row"]').length);
    }
    return { deltas: deltas.slice(1), maxRows };
}"""

# metrics.k8s.io answered 404 for the whole page: the list without its usage columns and
# without the poll of every pod's usage (`--usage off`).
METRICS_ROUTE = "**/apis/metrics.k8s.io/**"


def start_sim(folder: Path, pods: int, namespaces: int) -> tuple[subprocess.Popen[bytes], str]:
    """The simulator as its own process; seeding 50,000 pods takes a while before it listens."""
    port = free_port()
    log = folder / "simulator.log"
    cmd = [sys.executable, "-m", "kubesim", "--tls-cert", str(folder / "server.crt"),
           "--tls-key", str(folder / "server.key"), "--bulk-pods", str(pods),
           "--bulk-namespaces", str(namespaces), f"--port={port}"]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while "serving" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the simulator did not start; see {log}")
        time.sleep(0.5)
    return proc, f"https://127.0.0.1:{port}"


def total_pods(lantern: str) -> int:
    with urllib.request.urlopen(f"{lantern}/clusters/bench/api/v1/pods?limit=1", timeout=120) as r:
        meta = json.loads(r.read())["metadata"]
    return int(meta.get("remainingItemCount", 0)) + 1


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def renderer_rss(browser_cdp: Any) -> float:
    info = browser_cdp.send("SystemInfo.getProcessInfo")
    return round(sum(rss_mb(p["id"]) for p in info["processInfo"] if p["type"] == "renderer"), 1)


def frame_stats(deltas: list[float]) -> dict[str, Any]:
    if not deltas:
        return {"median": None, "p95": None, "max": None, "n": 0}
    return {
        "median": round(percentile(deltas, 50), 2),
        "p95": round(percentile(deltas, 95), 2),
        "max": round(max(deltas), 2),
        "n": len(deltas),
    }


@dataclass
class Stack:
    lantern: str
    sim_pid: int
    lantern_pid: int


def one_round(browser: Any, stack: Stack, variant: str, bulk: int, usage: bool) -> dict[str, Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    flag = "off" if variant == "unpaged" else "on"
    ctx.add_init_script(
        f"try {{ localStorage.setItem('kubelantern.listPaging', '{flag}') }} catch {{}}"
    )
    ctx.add_init_script(FRAMES_INIT)
    if not usage:
        ctx.route(METRICS_ROUTE, lambda route: route.fulfill(status=404, body="{}"))
    page = ctx.new_page()
    page.set_default_timeout(600_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    cpu = RoundCpu(stack)
    try:
        page.goto(f"{stack.lantern}/c/bench/pods")
        page.wait_for_selector('.grid-body [role="row"]', timeout=600_000)
        first = page.evaluate("performance.now()")
        # The demo pods beside the bulk ones come and go (crash loops, jobs): "all rows" is
        # every bulk pod listed and no page pending, not an exact count.
        page.wait_for_function(
            """(bulk) => Number(document.querySelector('[data-testid=row-count]')?.textContent)
                >= bulk && !document.querySelector('[data-testid=rows-pending]')""",
            arg=bulk,
            timeout=600_000,
            polling=50,
        )
        all_rows = page.evaluate("performance.now()")
        frames = page.evaluate("window.__framesStop = true; window.__frames")
        loading = [d for t, d in frames if first < t <= all_rows]
        page.wait_for_timeout(500)
        scroll_cpu = RoundCpu(stack)
        scroll = page.evaluate(SCROLL, [SCROLL_FRAMES, SCROLL_MAX_S * 1000])
        scroll_use = scroll_cpu.done()
        page.evaluate("gc(); gc()")
        heap = page.evaluate("performance.memory.usedJSHeapSize") / 1e6
        bcdp = browser.new_browser_cdp_session()
        renderer = renderer_rss(bcdp)
        bcdp.detach()
        use = cpu.done()
        return {
            "variant": variant,
            "first_rows_s": round(first / 1000, 3),
            "all_rows_s": round(all_rows / 1000, 3),
            "frame_ms": frame_stats(scroll["deltas"]),
            # Frames between the first rows and all rows, nothing scrolled: stalls while
            # later pages arrive (none for the unpaged list: its rows come all at once).
            "loading_frame_ms": frame_stats(loading),
            "rows_in_dom_max": scroll["maxRows"],
            "js_heap_mb": round(heap, 1),
            "renderer_rss_mb": renderer,
            "cpu": use,
            "scroll_cpu": scroll_use,
            "noisy": use["others_cores"] > NOISE_CORES or scroll_use["others_cores"] > NOISE_CORES,
            "page_errors": errors,
        }
    finally:
        ctx.close()


class RoundCpu:
    """CPU used from here to done(): the simulator, kubelantern, the browser and this driver
    (everything started by this process) and the rest of the machine (the noise)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.t0 = time.perf_counter()
        self.busy0 = machine_busy_s()
        self.mine0 = tree_cpu_s(os.getpid())
        self.sim0 = tree_cpu_s(stack.sim_pid)
        self.lantern0 = tree_cpu_s(stack.lantern_pid)

    def done(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        busy = machine_busy_s() - self.busy0
        mine = tree_cpu_s(os.getpid()) - self.mine0
        sim = tree_cpu_s(self.stack.sim_pid) - self.sim0
        lantern = tree_cpu_s(self.stack.lantern_pid) - self.lantern0
        return {
            "wall_s": round(wall, 2),
            "sim_cores": round(sim / wall, 2),
            "lantern_cores": round(lantern / wall, 2),
            "browser_cores": round((mine - sim - lantern) / wall, 2),
            "others_cores": round(max(0.0, busy - mine) / wall, 2),
        }


def _pairs(rounds: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(paged, unpaged) of the same round."""
    by = {(r["round"], r["variant"]): r for r in rounds}
    return [
        (by[(n, "paged")], by[(n, "unpaged")])
        for n in sorted({r["round"] for r in rounds})
        if (n, "paged") in by and (n, "unpaged") in by
    ]


def _ratio(a: float | None, b: float | None) -> float:
    return a / b if a is not None and b else float("nan")


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in VARIANTS:
        rs = [r for r in rounds if r["variant"] == v]
        out[v] = {
            "first_rows_s": spread([r["first_rows_s"] for r in rs]),
            "all_rows_s": spread([r["all_rows_s"] for r in rs]),
            "frame_median_ms": spread([r["frame_ms"]["median"] for r in rs]),
            "frame_p95_ms": spread([r["frame_ms"]["p95"] for r in rs]),
            "loading_frame_median_ms": spread(
                [r["loading_frame_ms"]["median"] for r in rs if r["loading_frame_ms"]["n"]]
            ),
            "loading_frame_max_ms": spread(
                [r["loading_frame_ms"]["max"] for r in rs if r["loading_frame_ms"]["n"]]
            ),
            "js_heap_mb": spread([r["js_heap_mb"] for r in rs]),
            "renderer_rss_mb": spread([r["renderer_rss_mb"] for r in rs]),
            "scroll_server_cores": spread(
                [r["scroll_cpu"]["sim_cores"] + r["scroll_cpu"]["lantern_cores"] for r in rs]
            ),
            "others_cores": spread([r["cpu"]["others_cores"] for r in rs]),
            "rows_in_dom_max": max((r["rows_in_dom_max"] for r in rs), default=0),
            "noisy_rounds": [r["round"] for r in rs if r["noisy"]],
        }
    # Paired per round (paged over unpaged, same round): < 1 means paging is faster.
    pairs = _pairs(rounds)
    quiet = [(a, b) for a, b in pairs if not a["noisy"] and not b["noisy"]]
    picks: dict[str, Callable[[dict[str, Any]], float | None]] = {
        "first_rows": lambda r: r["first_rows_s"],
        "all_rows": lambda r: r["all_rows_s"],
        "frame_median": lambda r: r["frame_ms"]["median"],
        "frame_p95": lambda r: r["frame_ms"]["p95"],
    }
    for name, pick in picks.items():
        out[f"ratio_{name}"] = spread([_ratio(pick(a), pick(b)) for a, b in pairs])
        out[f"quiet_ratio_{name}"] = spread([_ratio(pick(a), pick(b)) for a, b in quiet])
    return out


def table(res: dict[str, Any]) -> str:
    s = res["summary"]
    lines = [
        f"ui50k: {res['pods']} pods in {res['namespaces']} namespaces, {res['rounds']} rounds "
        f"per variant (alternated), usage columns {'on' if res['usage'] else 'off'}, "
        "median [min-max]",
        f"{'':30}{'paged':>26}{'unpaged (baseline)':>26}",
    ]
    rows = [
        ("time to first rows s", "first_rows_s", 2),
        ("time to all rows s", "all_rows_s", 2),
        ("scroll frame median ms", "frame_median_ms", 1),
        ("scroll frame p95 ms", "frame_p95_ms", 1),
        ("loading frame median ms", "loading_frame_median_ms", 1),
        ("loading frame max ms", "loading_frame_max_ms", 0),
        ("JS heap MB", "js_heap_mb", 0),
        ("renderer RSS MB", "renderer_rss_mb", 0),
        ("sim+lantern cores in scroll", "scroll_server_cores", 2),
        ("other processes' cores", "others_cores", 2),
    ]
    for title, key, digits in rows:
        lines.append(
            f"{title:30}{fmt(s['paged'][key], digits):>26}{fmt(s['unpaged'][key], digits):>26}"
        )
    lines.append(
        f"{'rows in the DOM (max)':30}{s['paged']['rows_in_dom_max']:>26}"
        f"{s['unpaged']['rows_in_dom_max']:>26}"
    )
    noisy = [f"{v} r{n}" for v in VARIANTS for n in s[v]["noisy_rounds"]]
    lines.append(
        f"noisy rounds (others > {NOISE_CORES} cores): {', '.join(noisy) if noisy else 'none'}"
    )
    lines.append("paged/unpaged, paired per round (all rounds | quiet rounds only):")
    for name in ("first_rows", "all_rows", "frame_median", "frame_p95"):
        lines.append(f"  {name:14}{fmt(s[f'ratio_{name}']):>22} | {fmt(s[f'quiet_ratio_{name}'])}")
    return "\n".join(lines)


def run(pods: int, namespaces: int, rounds: int, usage: bool = True) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    static = ROOT / "src" / "kubelantern" / "web" / "static" / "index.html"
    if not static.exists():
        raise RuntimeError("the web UI is not built (make frontend)")
    with tempfile.TemporaryDirectory(prefix="kl-bench-ui50k-") as tmp:
        folder = Path(tmp)
        pki = make_pki(folder)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            seeded = time.monotonic()
            # One simulator for every round: seeding 50,000 pods is the slow part, and the
            # rounds only read (the demo pods' churn goes on the same for both variants).
            sim, sim_url = start_sim(folder, pods, namespaces)
            procs.append(sim)
            seed_s = time.monotonic() - seeded
            kubeconfig = write_kubeconfig(
                folder / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
            )
            lantern, port = spawn(serve_cmd(kubeconfig), "kubelantern", folder)
            procs.append(lantern)
            stack = Stack(f"http://127.0.0.1:{port}", sim.pid, lantern.pid)
            total = total_pods(stack.lantern)
            results: list[dict[str, Any]] = []
            with sync_playwright() as pw:
                browser = launch_chromium(pw, measuring=True)
                for r in range(rounds):
                    order = VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS))
                    for v in order:
                        res = one_round(browser, stack, v, pods, usage)
                        res["round"] = r
                        print(json.dumps(res), flush=True)
                        results.append(res)
                browser.close()
        finally:
            stop(procs)
    return {
        "pods": total,
        "namespaces": namespaces,
        "rounds": rounds,
        "usage": usage,
        "seed_s": round(seed_s, 1),
        "results": results,
        "summary": summarise(results),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.ui50k", description=__doc__.split("\n")[0])
    p.add_argument("--pods", type=int, default=50_000)
    p.add_argument("--namespaces", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--usage", choices=("on", "off"), default="on",
        help="off: metrics.k8s.io answers 404 (no usage columns, no poll of every pod's usage)",
    )  # fmt: skip
    args = p.parse_args(argv if argv is not None else [])
    res = run(args.pods, args.namespaces, args.rounds, args.usage == "on")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    text = table(res)
    OUT.with_suffix(".txt").write_text(text + "\n")
    print(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
