"""Log viewer benchmark: the browser side of pod logs, in headless Chromium.

Builds the harness in frontend/src/streams/bench/ (the real LogController and virtualized
LogView, fed through the same bytes -> lines -> rAF-batched append path a WebSocket uses) and
measures:

- lines/s appended while following (a synthetic feeder saturating the main thread);
- requestAnimationFrame deltas while flinging through 100,000 lines (no wrap, wrap, search);
- JS heap with the 50k-line cap after 200k lines, vs 200k lines kept, vs empty;
- a baseline in the same run: a naive list (one DOM node per line) at 10,000 lines.

Run: `.venv/bin/python bench/logviewer.py` (or `python -m bench logviewer`). Writes
artifacts/bench/logviewer.json. Numbers, not pass/fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
OUT = ROOT / "artifacts" / "bench" / "logviewer.json"
if str(ROOT) not in sys.path:  # run as a script: `bench` is not importable otherwise
    sys.path.insert(0, str(ROOT))

from tests.harness.chromium import launch_chromium  # noqa: E402


def build_harness(out: Path) -> None:
    env = {**os.environ, "KL_BENCH_OUT": str(out)}
    subprocess.run(
        ["npx", "vite", "build", "--config", "src/streams/bench/vite.config.mjs"],
        cwd=FRONTEND,
        env=env,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def heap_mb(page: Any, cdp: Any) -> dict[str, float]:
    """Heap after two full GCs. Chromium keeps big decoded strings outside the V8 heap
    (external strings), so CDP's JSHeapUsedSize alone undercounts lines; performance.memory
    (precise mode) and Runtime.getHeapUsage's backing storage include them."""
    page.evaluate("gc(); gc()")
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    usage = cdp.send("Runtime.getHeapUsage")
    return {
        "used_js_heap": round(page.evaluate("performance.memory.usedJSHeapSize") / 1e6, 1),
        "cdp_js_heap_used": round(float(metrics["JSHeapUsedSize"]) / 1e6, 1),
        "backing_storage": round(float(usage.get("backingStorageSize", 0)) / 1e6, 1),
    }


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kl-bench-") as tmp:
        harness = Path(tmp) / "harness"
        build_harness(harness)
        server, url = serve(harness)
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw, measuring=True)
                page = browser.new_page(viewport={"width": 1200, "height": 700})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url)
                page.wait_for_function("document.title === 'bench ready'", timeout=30_000)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                ev = page.evaluate
                res: dict[str, Any] = {}
                res["follow"] = ev("bench.followThroughput(4000)")
                res["follow_small_chunks"] = ev("bench.followThroughput(3000, 2048)")
                res["scroll_100k"] = ev("bench.scroll(100000, 3000)")
                res["scroll_100k_wrap"] = ev("bench.scroll(100000, 3000, true)")
                res["scroll_100k_search"] = ev("bench.scroll(100000, 3000, false, true, 'alice')")
                # Memory in a fresh page, so garbage from the cases above does not count.
                page.reload()
                page.wait_for_function("document.title === 'bench ready'", timeout=30_000)
                empty = heap_mb(page, cdp)
                res["fill_cap_50k"] = ev("bench.fill(200000, 50000)")
                capped = heap_mb(page, cdp)
                res["fill_cap_200k"] = ev("bench.fill(200000, 200000)")
                uncapped = heap_mb(page, cdp)
                ev("bench.clear()")
                res["memory_mb"] = {
                    "empty": empty,
                    "cap_50k_after_200k": capped,
                    "cap_200k_after_200k": uncapped,
                    "lines_50k_cost": round(capped["used_js_heap"] - empty["used_js_heap"], 1),
                    "lines_200k_cost": round(uncapped["used_js_heap"] - empty["used_js_heap"], 1),
                }
                res["baseline_naive_10k"] = ev("bench.naive(10000, 3000)")
                res["virtual_10k"] = {
                    **ev("bench.virtualShow(10000)"),
                    **{"scroll": ev("bench.scroll(10000, 3000)")["frames"]},
                }
                res["page_errors"] = errors
                browser.close()
        finally:
            server.shutdown()
    return res


FIREHOSE_BYTES = 32 * 1024 * 1024

RAW_CONSUMER = """async (url) => {
    // Baseline: the same WebSocket, bytes counted, nothing shown.
    return await new Promise((resolve) => {
        const t0 = performance.now();
        let bytes = 0, lines = 0;
        const ws = new WebSocket(url, ['binary.k8s.io']);
        ws.binaryType = 'arraybuffer';
        ws.onmessage = (e) => {
            const u = new Uint8Array(e.data);
            bytes += u.length;
            for (let i = 0; i < u.length; i++) if (u[i] === 10) lines++;
        };
        ws.onclose = (e) => resolve(
            { bytes, lines, seconds: (performance.now() - t0) / 1000, code: e.code });
    });
}"""


def run_end_to_end() -> dict[str, Any]:
    """The seeded firehose pod (bench/bulk) through kubelantern's WebSocket proxy into the
    real UI's log pane, against a bare WebSocket consumer of the same URL in the same page."""
    from playwright.sync_api import sync_playwright
    from tests.harness.kubeconfig import write_kubeconfig
    from tests.harness.pki import make_pki
    from tests.harness.stack import start_kubelantern, start_sim

    from kubelantern.settings import Settings

    static = ROOT / "src" / "kubelantern" / "web" / "static" / "index.html"
    if not static.exists():
        return {"skipped": "the web UI is not built (make frontend)"}
    with tempfile.TemporaryDirectory(prefix="kl-bench-e2e-") as tmp:
        pki = make_pki(Path(tmp))
        sim = start_sim(pki, "kubernetes", firehose_bytes=FIREHOSE_BYTES)
        kubeconfig = write_kubeconfig(Path(tmp) / "config", [sim.context])
        lantern = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
        cluster = sim.context.name
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw, measuring=True)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(120_000)
                page.goto(f"{lantern.url}/c/{cluster}/pods/bench/bulk")
                page.locator("h1.obj-title").wait_for()
                ws_url = lantern.url.replace("http", "ws", 1) + (
                    f"/clusters/{cluster}/api/v1/namespaces/bench/pods/bulk/log"
                    "?container=firehose&follow=true&timestamps=true"
                )
                raw_before = page.evaluate(RAW_CONSUMER, ws_url)
                t0 = page.evaluate("performance.now()")
                page.get_by_test_id("action-logs").click()
                page.wait_for_function(
                    "() => /stream ended/.test(document.querySelector("
                    "'[data-testid=log-status]')?.innerText ?? '')",
                    timeout=120_000,
                )
                t1 = page.evaluate("performance.now()")
                status = page.get_by_test_id("log-status").inner_text()
                # The bare consumer again, after: the two runs bracket the viewer's.
                raw_after = page.evaluate(RAW_CONSUMER, ws_url)
                browser.close()
        finally:
            lantern.stop()
            sim.server.stop()

    def number(pattern: str) -> int:
        import re

        m = re.search(pattern, status)
        return int(m.group(1).replace(",", "")) if m else 0

    held = number(r"([\d,]+) lines")
    dropped = number(r"([\d,]+) older lines dropped")
    seconds = (t1 - t0) / 1000
    viewer = {"lines": held + dropped, "held": held, "dropped": dropped, "seconds": seconds}
    viewer["lines_per_second"] = round(viewer["lines"] / seconds)
    viewer["mb_per_second"] = round(FIREHOSE_BYTES / seconds / 1e6, 1)
    raw = min((raw_before, raw_after), key=lambda r: float(r["seconds"]))
    raw["lines_per_second"] = round(raw["lines"] / raw["seconds"])
    raw["mb_per_second"] = round(raw["bytes"] / raw["seconds"] / 1e6, 1)
    raw["runs_seconds"] = [round(raw_before["seconds"], 2), round(raw_after["seconds"], 2)]
    return {
        "bytes": FIREHOSE_BYTES,
        "viewer": viewer,
        "raw_websocket": raw,
        "viewer_vs_raw": round(raw["seconds"] / seconds, 2),
    }


def table(res: dict[str, Any]) -> str:
    f = res["follow"]
    rows = [
        ("append while following (16 KiB chunks)", f"{f['linesPerSecond']:,} lines/s", _fr(f)),
        (
            "append while following (2 KiB chunks)",
            f"{res['follow_small_chunks']['linesPerSecond']:,} lines/s",
            _fr(res["follow_small_chunks"]),
        ),
        (
            "scroll 100k lines",
            f"{res['scroll_100k']['rowsInDom']} rows in DOM",
            _fr(res["scroll_100k"]),
        ),
        ("scroll 100k lines, wrap", "", _fr(res["scroll_100k_wrap"])),
        ("scroll 100k lines, search highlight", "", _fr(res["scroll_100k_search"])),
        (
            "naive list 10k lines (baseline)",
            f"build {res['baseline_naive_10k']['appendMs']:.0f} ms",
            _fr(res["baseline_naive_10k"]),
        ),
        (
            "virtualized 10k lines",
            f"build {res['virtual_10k']['appendMs']:.0f} ms",
            _fr({"frames": res["virtual_10k"]["scroll"]}),
        ),
    ]
    e = res.get("end_to_end") or {}
    if "viewer" in e:
        rows.append(
            (
                "firehose via kubelantern into the UI",
                f"{e['viewer']['lines_per_second']:,} lines/s",
                f"{e['viewer']['mb_per_second']} MB/s",
            )
        )
        rows.append(
            (
                "same WebSocket, bare consumer (baseline)",
                f"{e['raw_websocket']['lines_per_second']:,} lines/s",
                f"{e['raw_websocket']['mb_per_second']} MB/s",
            )
        )
    m = res["memory_mb"]
    lines = [f"{'case':42} {'result':26} frame ms p50/p95/max"]
    lines += [f"{a:42} {b:26} {c}" for a, b, c in rows]
    lines.append(
        f"JS heap (performance.memory after GC): empty {m['empty']['used_js_heap']} MB;"
        f" 200k lines appended with the 50k cap {m['cap_50k_after_200k']['used_js_heap']} MB"
        f" (+{m['lines_50k_cost']}); 200k kept {m['cap_200k_after_200k']['used_js_heap']} MB"
        f" (+{m['lines_200k_cost']})"
    )
    return "\n".join(lines)


def _fr(r: dict[str, Any]) -> str:
    fr = r["frames"]
    return f"{fr['p50']:.1f} / {fr['p95']:.1f} / {fr['max']:.1f}"


def main() -> None:
    res = run()
    try:
        res["end_to_end"] = run_end_to_end()
    except Exception as exc:  # the in-page numbers stand on their own
        res["end_to_end"] = {"error": repr(exc)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    print(table(res))
    print(f"wrote {OUT.relative_to(ROOT)}")
    if res["page_errors"]:
        print("page errors:", res["page_errors"], file=sys.stderr)


if __name__ == "__main__":
    main()
