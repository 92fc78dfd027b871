"""Issue 11 defect 9: the first terminal after a page load waited ~14 s on "loading the
terminal…". xterm.js is a chunk fetched on first use, and every fetch waits for one of the
browser's 6 HTTP/1.1 connections to the host; each watch (a live list, a workload log pane's pod
watch) holds one for minutes. With six of them open, the chunk (and every other request) waited
until a watch ended. The page now keeps long-lived streams under a budget (api/client.ts), so
ordinary requests always find a connection.

Each round is a fresh browser context (nothing cached), opened on a URL that restores five
workload log panes over the pods list — six watches — and opens a shell at once."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, new_page, running_pod
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
WORKLOADS = ("frontend", "cart", "catalog", "checkout", "importer")
ROUNDS = 5
# Ready takes 0.2-2.5 s on a loaded 2-core box; a stalled chunk waited for a watch to end
# (minutes). The bound is generous so that only a stall fails.
BOUND_S = 20.0


def page_url(ui: Ui) -> str:
    panes = []
    for w in WORKLOADS:
        panes += [
            ("view", "logs"),
            ("cluster", KIND),
            ("namespace", "shop"),
            ("selector", f"app.kubernetes.io/name={w}"),
            ("title", f"deployment/{w}"),
        ]
    return f"{ui.url}/c/{quote(KIND, safe='')}/pods?{urlencode(panes)}"


def test_terminal_is_ready_soon_after_page_load(browser: Any, ui: Ui, problems: Problems) -> None:
    pod = running_pod(ui, KIND, "shop", "cart-")
    took = []
    for _ in range(ROUNDS):
        page = new_page(browser, ui.launch_url, problems)
        try:
            page.goto(page_url(ui))
            expect(page.get_by_role("tab")).to_have_count(len(WORKLOADS))
            shell = page.locator(f'[aria-label="Shell in {pod}"]')
            expect(shell).to_be_enabled()
            start = time.monotonic()
            shell.click()
            status = page.get_by_test_id("terminal-pane").last.get_by_test_id("terminal-status")
            expect(status).to_contain_text("connected", timeout=BOUND_S * 1000)
            took.append(time.monotonic() - start)
        finally:
            page.context.close()
    print("click → connected, s:", sorted(round(t, 2) for t in took))
    assert max(took) < BOUND_S
    assert problems.errors == [], problems.errors
