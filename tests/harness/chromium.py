"""Headless Chromium for the browser tests (tests/e2e) and the browser benchmarks
(bench/logviewer.py, bench/ui50k.py): one binary and one set of flags, so that a benchmark
measures the browser the tests drive."""

from __future__ import annotations

import os
from typing import Any

# The system Chromium (Debian package `chromium`, `make system-deps`); CHROMIUM is the name the
# benchmarks once read, KUBELANTERN_CHROMIUM the tests'.
CHROMIUM = os.environ.get("KUBELANTERN_CHROMIUM") or os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # no background work of the browser's own, in a test's timing or a benchmark's numbers
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Benchmarks: heap numbers that move with every allocation (not bucketed), and gc() before
# reading them.
MEASURING_ARGS = ["--enable-precise-memory-info", "--js-flags=--expose-gc"]


def launch_chromium(pw: Any, *, measuring: bool = False, executable: str = CHROMIUM) -> Any:
    """A headless Chromium from a `sync_playwright()` context."""
    args = ARGS + (MEASURING_ARGS if measuring else [])
    return pw.chromium.launch(executable_path=executable, headless=True, args=args)
