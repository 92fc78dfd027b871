"""Big lists (issue 11): a pod list of thousands is listed in pages (`limit` + `continue`,
the first page small so rows show at once), rendered virtualized (only the rows in view are
in the DOM), scrolls to its last pod, and its filter finds a pod that came on the last page;
the watch starts from the list's resourceVersion; rows stay in order as pages are merged in,
and the usage of thousands of pods is polled less often than a small list's."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, new_page, shot
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

PODS = 3000
NAMESPACES = 12


def _pod(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "many"}},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "busybox:1.36"}]},
        "status": {"phase": "Running"},
    }


def names() -> list[tuple[str, str]]:
    return [(f"many-{i % NAMESPACES:02d}", f"pod-{i:05d}") for i in range(PODS)]


def test_paged_virtualized_list_of_3000_pods(
    browser: Any, lantern_factory: Any, sim_factory: Any, tmp_path: Path, problems: Problems
) -> None:
    sim = sim_factory("kubernetes", demo_data=False)

    async def add() -> None:
        for ns, name in names():
            sim.state.store.add("pods", _pod(ns, name))

    sim.server.call(add(), timeout=120)
    kc = write_kubeconfig(tmp_path / "config", [sim.context])
    server = lantern_factory(kubeconfigs=(kc,), launch_token="e2e-token")
    page = new_page(browser, f"{server.url}/?token=e2e-token", problems)
    lists: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda r: (
            lists.append(parse_qs(urlparse(r.url).query))
            if re.search(r"/api/v1/pods(\?|$)", r.url)
            else None
        ),
    )
    usage_asked: list[float] = []
    usage_answered: list[float] = []
    usage_url = re.compile(r"/apis/metrics\.k8s\.io/v1beta1/pods(\?|$)")
    page.on(
        "request",
        lambda r: usage_asked.append(time.monotonic()) if usage_url.search(r.url) else None,
    )
    page.on(
        "requestfinished",
        lambda r: usage_answered.append(time.monotonic()) if usage_url.search(r.url) else None,
    )
    cluster = quote(CONTEXT_NAMES["kubernetes"], safe="")
    page.goto(f"{server.url}/c/{cluster}/pods")
    expect(page.get_by_test_id("row-count")).to_have_text(str(PODS), timeout=60_000)
    expect(page.locator(".live-live")).to_be_visible(timeout=30_000)

    plain = [q for q in lists if "watch" not in q]
    assert plain and plain[0].get("limit") == ["500"], f"first list not paged: {plain[:1]}"
    assert "continue" not in plain[0]
    assert any("continue" in q for q in plain[1:]), f"no continue page: {plain}"
    watches = [q for q in lists if "watch" in q]
    assert watches and watches[0].get("resourceVersion", [""])[0], "watch without the list's RV"

    rows = page.locator('.grid-body [role="row"]')
    rendered = rows.count()
    assert 0 < rendered < 120, f"{rendered} rows in the DOM for {PODS} pods: not virtualized"

    # Sorted by name, the last pod is the last row; scrolling to the end brings it in.
    last = max(n for _, n in names())
    page.locator(".grid-body").evaluate("el => { el.scrollTop = el.scrollHeight }")
    expect(page.locator(f'.grid-body [role="row"][data-name="{last}"]')).to_be_visible()
    assert rows.count() < 120, "scrolling rendered the whole list"

    # Pages follow namespace order, rows are sorted by name: each page was merged into the
    # rows in order (row i is the i-th name).
    ordered = sorted(n for _, n in names())
    for i in (0, 1, 700, 1501, 2222, PODS - 1):
        name = page.locator(".grid-body").evaluate(
            """(el, i) => {
                el.scrollTop = i * 32;
                el.dispatchEvent(new Event('scroll'));
                const at = `translateY(${i * 32}px)`;
                const name = () => [...el.querySelectorAll('[role="row"]')]
                    .find((r) => r.style.transform === at)?.dataset.name;
                return new Promise((done) =>
                    requestAnimationFrame(() => requestAnimationFrame(() => done(name()))));
            }""",
            i,
        )
        assert name == ordered[i], f"row {i} is {name}, not {ordered[i]}"

    # The filter finds a pod that came on the last page (pages follow namespace/name order).
    page.locator(".grid-body").evaluate("el => { el.scrollTop = 0 }")
    on_last_page = max(names())[1]
    page.get_by_label("Filter rows").fill(on_last_page)
    expect(page.get_by_test_id("row-count")).to_have_text("1")
    expect(page.locator(f'.grid-body [role="row"][data-name="{on_last_page}"]')).to_be_visible()

    # Keyboard navigation still walks the (virtual) rows.
    page.get_by_label("Filter rows").fill("")
    expect(page.get_by_test_id("row-count")).to_have_text(str(PODS))
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(3):
        page.keyboard.press("j")
    expect(page.locator(".grid-row.selected")).to_have_attribute("data-name", "pod-00002")

    # Watch events (a pod deleted, one added, one modified) are merged into the sorted rows:
    # none lost, none twice, each in its place.
    store = sim.state.store

    async def churn() -> None:
        store.remove("pods", "many-01", "pod-00001")
        store.add("pods", _pod("many-00", "pod-00000a"))
        changed = copy.deepcopy(store.get("pods", "many-05", "pod-00005"))
        changed["metadata"]["labels"]["touched"] = "yes"
        store.replace("pods", changed)

    sim.server.call(churn(), timeout=30)
    page.locator(".grid-body").evaluate("el => { el.scrollTop = 0 }")
    for i, name in enumerate(["pod-00000", "pod-00000a", "pod-00002", "pod-00003", "pod-00004"]):
        expect(page.locator(f'.grid-body [role="row"][data-name="{name}"]')).to_have_attribute(
            "style", re.compile(rf"translateY\({i * 32}px\)")
        )
    expect(page.locator('.grid-body [role="row"][data-name="pod-00001"]')).to_have_count(0)
    expect(page.locator('.grid-body [role="row"][data-name="pod-00005"]')).to_have_count(1)
    expect(page.get_by_test_id("row-count")).to_have_text(str(PODS))
    page.get_by_label("Filter rows").fill("touched=yes")
    expect(page.get_by_test_id("row-count")).to_have_text("1")
    page.get_by_label("Filter rows").fill("")
    shot(page, "big-list-3000")

    # Usage of 3,000 pods is polled every 45 s, not every 15 s as for a small list: each poll
    # parses every pod's usage on the browser's main thread (a stall every 15 s at 50,000).
    assert usage_answered, "the pod list never asked metrics.k8s.io for usage"
    quiet_until = usage_answered[0] + 30
    page.wait_for_timeout(max(0.0, quiet_until - time.monotonic()) * 1000)
    early = [t - usage_answered[0] for t in usage_asked[1:] if t < quiet_until]
    assert not early, f"usage polled again {early} s after the first answer for {PODS} pods"
    page.context.close()
    assert problems.errors == [], problems.errors
