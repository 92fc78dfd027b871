"""Headless Chromium for the browser benchmarks (`logviewer.py`, `ui50k.py`): one set of flags,
so their numbers are taken in the same browser."""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # no background work of the browser's own in the measurements
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # heap numbers that move with every allocation (not bucketed), and gc() before reading them
    "--enable-precise-memory-info",
    "--js-flags=--expose-gc",
]


def launch_chromium(pw: Any) -> Any:
    """A headless Chromium from a `sync_playwright()` context."""
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
