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
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
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
                ev("bench.clear()")
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
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    print(table(res))
    print(f"wrote {OUT.relative_to(ROOT)}")
    if res["page_errors"]:
        print("page errors:", res["page_errors"], file=sys.stderr)


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    main()
