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
(requestAnimationFrame deltas while the list scrolls one screen per frame: median, p95, max),
rows in the DOM, JS heap (after GC) and the renderer's RSS (from /proc). Medians with
[min-max] over rounds. Numbers, not pass/fail.

Run: `python -m bench.ui50k [--pods N] [--rounds R]` (or `make bench-ui50k`). Writes
artifacts/bench/ui50k.json and ui50k.txt.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness.kubeconfig import Context, write_kubeconfig  # noqa: E402
from tests.harness.pki import make_pki  # noqa: E402
from tests.harness.stack import KUBE_TOKEN  # noqa: E402

from bench._stack import free_port, serve_cmd, spawn, stop  # noqa: E402
from bench._stats import fmt, percentile, spread  # noqa: E402

OUT = ROOT / "artifacts" / "bench" / "ui50k.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-precise-memory-info",
    "--js-flags=--expose-gc",
]
VARIANTS = ("paged", "unpaged")
SCROLL_FRAMES = 240

SCROLL = """async (frames) => {
    // One screen further each frame (wrapping at the end): every frame shows new rows.
    const el = document.querySelector('.grid-body');
    const deltas = [];
    let maxRows = 0;
    let last = performance.now();
    for (let i = 0; i < frames; i++) {
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


def one_round(browser: Any, lantern: str, variant: str, bulk: int) -> dict[str, Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    flag = "off" if variant == "unpaged" else "on"
    ctx.add_init_script(
        f"try {{ localStorage.setItem('kubelantern.listPaging', '{flag}') }} catch {{}}"
    )
    page = ctx.new_page()
    page.set_default_timeout(600_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lantern}/c/bench/pods")
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
        page.wait_for_timeout(500)
        scroll = page.evaluate(SCROLL, SCROLL_FRAMES)
        deltas = scroll["deltas"]
        page.evaluate("gc(); gc()")
        heap = page.evaluate("performance.memory.usedJSHeapSize") / 1e6
        bcdp = browser.new_browser_cdp_session()
        renderer = renderer_rss(bcdp)
        bcdp.detach()
        return {
            "variant": variant,
            "first_rows_s": round(first / 1000, 3),
            "all_rows_s": round(all_rows / 1000, 3),
            "frame_ms": {
                "median": round(percentile(deltas, 50), 2),
                "p95": round(percentile(deltas, 95), 2),
                "max": round(max(deltas), 2),
            },
            "rows_in_dom_max": scroll["maxRows"],
            "js_heap_mb": round(heap, 1),
            "renderer_rss_mb": renderer,
            "page_errors": errors,
        }
    finally:
        ctx.close()


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in VARIANTS:
        rs = [r for r in rounds if r["variant"] == v]
        out[v] = {
            "first_rows_s": spread([r["first_rows_s"] for r in rs]),
            "all_rows_s": spread([r["all_rows_s"] for r in rs]),
            "frame_median_ms": spread([r["frame_ms"]["median"] for r in rs]),
            "frame_p95_ms": spread([r["frame_ms"]["p95"] for r in rs]),
            "js_heap_mb": spread([r["js_heap_mb"] for r in rs]),
            "renderer_rss_mb": spread([r["renderer_rss_mb"] for r in rs]),
            "rows_in_dom_max": max((r["rows_in_dom_max"] for r in rs), default=0),
        }
    # Paired per round (paged over unpaged, same round): < 1 means paging is faster.
    pairs = [
        (a, b)
        for a, b in zip(
            [r for r in rounds if r["variant"] == "paged"],
            [r for r in rounds if r["variant"] == "unpaged"],
            strict=False,
        )
    ]
    out["ratio_first_rows"] = spread([a["first_rows_s"] / b["first_rows_s"] for a, b in pairs])
    out["ratio_all_rows"] = spread([a["all_rows_s"] / b["all_rows_s"] for a, b in pairs])
    return out


def table(res: dict[str, Any]) -> str:
    s = res["summary"]
    lines = [
        f"ui50k: {res['pods']} pods in {res['namespaces']} namespaces, {res['rounds']} rounds "
        "per variant (alternated), median [min-max]",
        f"{'':22}{'paged':>28}{'unpaged (baseline)':>28}",
    ]
    rows = [
        ("time to first rows s", "first_rows_s", 2),
        ("time to all rows s", "all_rows_s", 2),
        ("frame median ms", "frame_median_ms", 1),
        ("frame p95 ms", "frame_p95_ms", 1),
        ("JS heap MB", "js_heap_mb", 0),
        ("renderer RSS MB", "renderer_rss_mb", 0),
    ]
    for title, key, digits in rows:
        lines.append(
            f"{title:22}{fmt(s['paged'][key], digits):>28}{fmt(s['unpaged'][key], digits):>28}"
        )
    lines.append(
        f"{'rows in the DOM (max)':22}{s['paged']['rows_in_dom_max']:>28}"
        f"{s['unpaged']['rows_in_dom_max']:>28}"
    )
    lines.append(
        f"paged/unpaged per round: first rows {fmt(s['ratio_first_rows'])}, "
        f"all rows {fmt(s['ratio_all_rows'])}"
    )
    return "\n".join(lines)


def run(pods: int, namespaces: int, rounds: int) -> dict[str, Any]:
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
            sim, sim_url = start_sim(folder, pods, namespaces)
            procs.append(sim)
            seed_s = time.monotonic() - seeded
            kubeconfig = write_kubeconfig(
                folder / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
            )
            lantern, port = spawn(serve_cmd(kubeconfig), "kubelantern", folder)
            procs.append(lantern)
            url = f"http://127.0.0.1:{port}"
            total = total_pods(url)
            results: list[dict[str, Any]] = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for r in range(rounds):
                    order = VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS))
                    for v in order:
                        res = one_round(browser, url, v, pods)
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
        "seed_s": round(seed_s, 1),
        "results": results,
        "summary": summarise(results),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.ui50k", description=__doc__.split("\n")[0])
    p.add_argument("--pods", type=int, default=50_000)
    p.add_argument("--namespaces", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv if argv is not None else [])
    res = run(args.pods, args.namespaces, args.rounds)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    text = table(res)
    OUT.with_suffix(".txt").write_text(text + "\n")
    print(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
