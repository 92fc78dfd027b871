"""CPU and memory usage from metrics.k8s.io (issue 11): columns in the pod and node lists with
the share of the pod's limit or the node's allocatable, the node page's capacity vs what its
pods request; on a cluster that does not serve the group the usage columns are absent (not
zeros) and a hint says why."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, api, shot
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
LEGACY = CONTEXT_NAMES["legacy"]
MI = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}


def enc(name: str) -> str:
    return quote(name, safe="")


def mebibytes(q: str) -> float:
    m = re.fullmatch(r"([\d.]+)(Ki|Mi|Gi)", q)
    assert m, q
    return float(m[1]) * MI[m[2]]


def millicores(q: str) -> float:
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def header_titles(page: Any) -> list[str]:
    return [t.strip("▲▼ ") for t in page.locator('[role="columnheader"]').all_inner_texts()]


def test_pod_and_node_usage_columns(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{enc(KIND)}/pods")
    page.get_by_label("Namespace").select_option("shop")
    expect(page.get_by_role("columnheader", name="CPU")).to_be_visible()
    assert {"CPU", "Memory"} <= set(header_titles(page))
    expect(page.get_by_test_id("usage-hint")).to_have_count(0)

    pods = {
        p["metadata"]["name"]: p for p in api(ui, KIND, "/api/v1/namespaces/shop/pods")["items"]
    }
    running = sorted(n for n, p in pods.items() if p["status"].get("phase") == "Running")
    assert running
    cpu_idx = header_titles(page).index("CPU")
    mem_idx = header_titles(page).index("Memory")
    cpus: set[float] = set()
    for name in running[:4]:
        row = page.locator(f'.grid-body [role="row"][data-name="{name}"]')
        expect(row.locator('[role="cell"]').nth(cpu_idx)).to_have_text(re.compile(r"^\d+m"))
        cpu = row.locator('[role="cell"]').nth(cpu_idx).inner_text()
        mem = row.locator('[role="cell"]').nth(mem_idx).inner_text()
        cpus.add(millicores(cpu.split()[0]))
        # The simulator's memory limit equals the request; usage stays between 20 and 90 %
        # of it, and the percentage shown is the figure over the limit.
        limit = sum(
            mebibytes(c["resources"]["limits"]["memory"]) for c in pods[name]["spec"]["containers"]
        )
        m = re.fullmatch(r"(\S+)\s*(\d+)%", mem.strip())
        assert m, f"memory cell of {name}: {mem!r}"
        used, pct = mebibytes(m[1]), int(m[2])
        assert 15 <= pct <= 95, (name, mem)
        assert abs(used / limit * 100 - pct) <= 2, (name, mem, limit)
    assert len(cpus) > 1, f"every pod shows the same CPU: {cpus}"

    # Nodes: usage against allocatable, and what the pods on each node request.
    page.goto(f"{ui.url}/c/{enc(KIND)}/nodes")
    expect(page.get_by_role("columnheader", name="CPU", exact=True)).to_be_visible()
    assert {"CPU", "Memory", "CPU req.", "Mem. req."} <= set(header_titles(page))
    row = page.locator('.grid-body [role="row"][data-name="worker-1"]')
    req_idx = header_titles(page).index("CPU req.")
    expect(row.locator('[role="cell"]').nth(req_idx)).to_have_text(
        re.compile(r"^\d+(m|\.\d+)?\s*\d+%$")
    )

    # The node page: capacity vs requests of the pods on it (computed here from the API).
    node = api(ui, KIND, "/api/v1/nodes/worker-1")
    on_node = [
        p
        for p in api(ui, KIND, "/api/v1/pods")["items"]
        if p["spec"].get("nodeName") == "worker-1"
        and p["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    want_req = sum(
        millicores(c.get("resources", {}).get("requests", {}).get("cpu", "0m"))
        for p in on_node
        for c in p["spec"]["containers"]
    )
    page.goto(f"{ui.url}/c/{enc(KIND)}/nodes/worker-1")
    table = page.get_by_test_id("node-allocation")
    expect(table).to_be_visible()
    expect(page.get_by_test_id("pods-on-node")).to_have_text(str(len(on_node)))
    req_text = page.get_by_test_id("requests-cpu").inner_text()
    shown = millicores(req_text.split()[0].rstrip("0123456789%") or req_text.split()[0])
    assert abs(shown - want_req) <= max(10, want_req * 0.01), (req_text, want_req)
    alloc = millicores(node["status"]["allocatable"]["cpu"])
    assert f"{round(want_req / alloc * 100)}%" in req_text, (req_text, want_req, alloc)
    expect(page.get_by_test_id("usage-cpu")).to_have_text(re.compile(r"^\d"))
    shot(page, "usage-node-detail")
    assert problems.errors == [], problems.errors


def test_no_usage_columns_where_metrics_are_not_served(
    page: Any, ui: Ui, problems: Problems
) -> None:
    page.goto(f"{ui.url}/c/{enc(LEGACY)}/pods")
    expect(page.locator(".live-live")).to_be_visible()
    hint = page.get_by_test_id("usage-hint")
    expect(hint).to_contain_text("does not serve metrics.k8s.io")
    titles = header_titles(page)
    assert "CPU" not in titles and "Memory" not in titles, titles

    page.goto(f"{ui.url}/c/{enc(LEGACY)}/nodes")
    expect(page.get_by_test_id("usage-hint")).to_be_visible()
    expect(page.get_by_role("columnheader", name="CPU req.")).to_be_visible()
    titles = header_titles(page)
    assert "CPU" not in titles, titles
    # No request for the absent group reached the browser's console as a failed load.
    assert problems.errors == [], problems.errors
