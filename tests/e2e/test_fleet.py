"""The fleet home, the Ctrl+K switcher and "Run checks" in headless Chromium (issue 11: "the
cluster everywhere", "failures explained in the page"): a sortable, searchable table with
favourites that survive a reload, groups and colours from the kubeconfig extension, counts
asked only for rows on screen, switching to the same page on another cluster, and the
doctor's checks run from the cluster page and the failure page."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, new_page, shot
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.stack import CONTEXT_NAMES, SimCluster

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
RANCHER = CONTEXT_NAMES["rancher"]
LEGACY = CONTEXT_NAMES["legacy"]
TOKEN = "e2e-token"


def _ext(**looks: str) -> list[dict[str, Any]]:
    return [{"name": "kubelantern", "extension": looks}]


@pytest.fixture
def fleet(lantern_factory: Any, sims: dict[str, SimCluster], tmp_path: Path) -> str:
    """kind-dev (prod, #c33), rancher (prod), legacy and zeta (no group), gone (staging,
    unreachable)."""
    k, r, old = sims["kubernetes"].context, sims["rancher"].context, sims["legacy"].context
    contexts = [
        Context(
            KIND,
            k.server,
            ca_pem=k.ca_pem,
            token=k.token,
            extensions=_ext(group="prod", color="#c33"),
        ),
        Context(RANCHER, r.server, ca_pem=r.ca_pem, token=r.token, extensions=_ext(group="prod")),
        Context(LEGACY, old.server, ca_pem=old.ca_pem, token=old.token),
        Context("zeta", k.server, ca_pem=k.ca_pem, token=k.token),
        Context(
            "gone",
            "https://127.0.0.1:9",
            ca_pem=k.ca_pem,
            token="x",
            extensions=_ext(group="staging"),
        ),
    ]
    kc = write_kubeconfig(tmp_path / "fleet", contexts)
    server = lantern_factory(kubeconfigs=(kc,), launch_token=TOKEN)
    return str(server.url)


def _names(page: Any) -> list[str]:
    return page.locator(".fleet-row").evaluate_all("rows => rows.map(r => r.dataset.cluster)")


def _groups(page: Any) -> list[str]:
    return page.locator(".group-row").evaluate_all("rows => rows.map(r => r.dataset.group)")


def test_fleet_table_sorts_searches_groups_and_keeps_favourites(
    browser: Any, fleet: str, problems: Problems
) -> None:
    page = new_page(browser, f"{fleet}/?token={TOKEN}", problems)
    expect(page.locator(".fleet-row")).to_have_count(5)
    # Groups from the extension, "ungrouped" last; the extension's colour on the row's dot.
    assert _groups(page) == ["prod", "staging", "ungrouped"]
    assert _names(page) == [KIND, RANCHER, "gone", LEGACY, "zeta"]
    dot = page.locator(f'.fleet-row[data-cluster="{KIND}"] [data-testid="cluster-dot"]')
    expect(dot).to_have_css("background-color", "rgb(204, 51, 51)")
    # Counts for a cluster that answers: nodes ready n/n, a number of pods not ready.
    kind = page.locator(f'.fleet-row[data-cluster="{KIND}"]')
    expect(kind.locator('[data-col="nodes"]')).to_have_text(
        re.compile(r"^\d+/\d+$"), timeout=20_000
    )
    expect(kind.locator('[data-col="pods"]')).to_have_text(re.compile(r"^\d+$"))
    expect(kind.locator('[data-col="warnings"]')).to_have_text(re.compile(r"^\d+$"))
    expect(kind.locator('[data-col="version"]')).to_have_text(re.compile(r"^v1\."))
    expect(kind.locator('[data-col="strategy"]')).not_to_have_text("—")
    gone = page.locator('.fleet-row[data-cluster="gone"]')
    expect(gone.locator(".badge")).to_have_text("unreachable", timeout=20_000)
    expect(gone.locator('[data-col="nodes"]')).to_have_text("—")

    # Sorted by name, ascending, at first; a click on the header turns it (inside each group).
    expect(page.locator('th[data-sort="name"]')).to_have_attribute("aria-sort", "ascending")
    page.locator('th[data-sort="name"] button').click()
    expect(page.locator('th[data-sort="name"]')).to_have_attribute("aria-sort", "descending")
    assert _names(page) == [RANCHER, KIND, "gone", "zeta", LEGACY]
    page.locator('th[data-sort="name"] button').click()
    expect(page.locator('th[data-sort="name"]')).to_have_attribute("aria-sort", "ascending")
    # By version, newest first: the legacy cluster's older version goes after zeta's.
    page.locator('th[data-sort="version"] button').click()
    page.locator('th[data-sort="version"] button').click()
    expect(page.locator('th[data-sort="version"]')).to_have_attribute("aria-sort", "descending")
    assert _names(page)[-2:] == ["zeta", LEGACY]
    page.locator('th[data-sort="name"] button').click()
    assert _names(page) == [KIND, RANCHER, "gone", LEGACY, "zeta"]

    # Search by name or group.
    search = page.get_by_label("Filter clusters")
    search.fill("ranch")
    expect(page.locator(".fleet-row")).to_have_count(1)
    assert _names(page) == [RANCHER]
    search.fill("staging")
    assert _names(page) == ["gone"]
    search.fill("")
    expect(page.locator(".fleet-row")).to_have_count(5)

    # A favourite goes first in its group, and stays after a reload.
    page.get_by_role("button", name="Star zeta").click()
    assert _names(page) == [KIND, RANCHER, "gone", "zeta", LEGACY]
    # A collapsed group stays collapsed after a reload too.
    page.locator('.group-row[data-group="staging"] button').click()
    expect(page.locator('.fleet-row[data-cluster="gone"]')).to_have_count(0)
    page.reload()
    expect(page.locator(".fleet-row")).to_have_count(4)
    assert _names(page) == [KIND, RANCHER, "zeta", LEGACY]
    expect(page.get_by_role("button", name="Unstar zeta")).to_have_attribute("aria-pressed", "true")
    shot(page, "fleet-home")
    assert problems.errors == []


def test_cluster_colour_from_the_extension_on_pages_and_switcher(
    browser: Any, fleet: str, problems: Problems
) -> None:
    page = new_page(browser, f"{fleet}/c/{KIND}/overview?token={TOKEN}", problems)
    chip = page.locator("h1 [data-testid=cluster-chip]")
    expect(chip).to_have_text(KIND)
    expect(chip).to_have_css("background-color", "rgb(204, 51, 51)")
    picker_dot = page.get_by_test_id("cluster-picker").get_by_test_id("cluster-dot")
    expect(picker_dot).to_have_css("background-color", "rgb(204, 51, 51)")
    # A cluster without a colour gets the stable one derived from its name, not the default.
    page.goto(f"{fleet}/c/zeta/overview")
    expect(page.locator("h1 [data-testid=cluster-chip]")).not_to_have_css(
        "background-color", "rgb(204, 51, 51)"
    )
    assert problems.errors == []


def test_ctrl_k_switches_to_the_same_page_on_another_cluster(
    browser: Any, fleet: str, problems: Problems
) -> None:
    page = new_page(browser, f"{fleet}/c/{KIND}/deployments?token={TOKEN}", problems)
    expect(page.get_by_label("Cluster", exact=True)).to_have_value(KIND)
    page.keyboard.press("Control+k")
    box = page.get_by_label("Cluster name or group")
    expect(box).to_be_focused()
    # By group: the two prod clusters.
    box.fill("prod")
    items = page.locator(".switcher-item")
    expect(items).to_have_count(2)
    # Fuzzy by name, then Enter: the same page (deployments) on rancher.
    box.fill("rnch")
    expect(items.first).to_have_attribute("data-cluster", RANCHER)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/c/{re.escape(quote(RANCHER, safe=''))}/deployments$"))
    expect(page.locator(".switcher")).to_have_count(0)
    # Arrows move the selection; Escape closes without switching.
    page.keyboard.press("Control+k")
    box = page.get_by_label("Cluster name or group")
    box.fill("e")
    first = items.nth(0).get_attribute("data-cluster")
    second = items.nth(1).get_attribute("data-cluster")
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(page.locator(".switcher")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/c/{re.escape(quote(RANCHER, safe=''))}/deployments$"))
    page.keyboard.press("Control+k")
    page.get_by_label("Cluster name or group").fill("e")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert first != second
    expect(page).to_have_url(
        re.compile(rf"/c/{re.escape(quote(str(second), safe=''))}/deployments$")
    )
    assert problems.errors == []


def test_run_checks_on_the_cluster_page_and_the_failure_page(
    browser: Any, fleet: str, problems: Problems
) -> None:
    page = new_page(browser, f"{fleet}/c/{KIND}/overview?token={TOKEN}", problems)
    page.get_by_test_id("run-checks").click()
    verdict = page.get_by_test_id("doctor-verdict")
    expect(verdict).to_contain_text("OK", timeout=60_000)
    header = page.locator('[data-testid="doctor-strategies"] tr[data-strategy="header"]')
    expect(header.locator("td").nth(1)).to_have_text("ok")
    expect(header.locator("td").nth(2)).to_have_text("ok")
    shot(page, "fleet-run-checks")

    page.goto(f"{fleet}/c/gone/pods")
    expect(page.get_by_test_id("cluster-problem")).to_be_visible(timeout=20_000)
    page.get_by_test_id("run-checks").click()
    verdict = page.get_by_test_id("doctor-verdict")
    expect(verdict).to_contain_text("FAIL", timeout=60_000)
    expect(verdict).to_contain_text("unreachable")
    expect(page.locator(".doctor-advice")).to_contain_text("VPN")
    assert problems.errors == []


def test_hundred_contexts_counts_only_for_rows_on_screen(
    browser: Any,
    lantern_factory: Any,
    sims: dict[str, SimCluster],
    tmp_path: Path,
    problems: Problems,
) -> None:
    sim = sims["kubernetes"]
    k = sim.context
    contexts = [Context(f"c{i:03d}", k.server, ca_pem=k.ca_pem, token=k.token) for i in range(100)]
    server = lantern_factory(
        kubeconfigs=(write_kubeconfig(tmp_path / "many", contexts),), launch_token=TOKEN
    )
    page = new_page(browser, f"{server.url}/?token={TOKEN}", problems)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/summary") else None)
    first = page.locator('.fleet-row[data-cluster="c000"] [data-col="nodes"]')
    expect(first).to_have_text(re.compile(r"^\d+/\d+$"), timeout=30_000)
    visible = page.locator(".fleet-row").evaluate_all(
        "rows => rows.filter(r => { const b = r.getBoundingClientRect();"
        " return b.bottom > 0 && b.top < innerHeight; }).length"
    )
    page.wait_for_timeout(1500)  # room for more requests, had every row been asked
    assert 0 < len(asked) <= 2 * visible, (len(asked), visible)
    assert len(asked) < 50
    last = page.locator('.fleet-row[data-cluster="c099"]')
    last.scroll_into_view_if_needed()
    expect(last.locator('[data-col="nodes"]')).to_have_text(
        re.compile(r"^\d+/\d+$"), timeout=30_000
    )
    assert any(u.endswith("/c099/summary") for u in asked)
    assert problems.errors == []


def _running_pod(url: str, cluster: str, namespace: str, prefix: str) -> str:
    req = urllib.request.Request(
        f"{url}/clusters/{quote(cluster, safe='')}/api/v1/namespaces/{namespace}/pods",
        headers={"X-Kubelantern-Token": TOKEN},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        pods = json.loads(res.read())["items"]
    names = sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith(prefix) and p["status"].get("phase") == "Running"
    )
    assert names, f"no running pod {prefix}* on {cluster}"
    return names[0]


def test_dock_tab_and_terminal_banner_use_the_extension_colour(
    browser: Any, fleet: str, problems: Problems
) -> None:
    pod = _running_pod(fleet, KIND, "shop", "cart-")
    # Straight to the pod (a reload: the colours must arrive with /api/clusters, not later).
    page = new_page(browser, f"{fleet}/c/{KIND}/pods/shop/{pod}?token={TOKEN}", problems)
    expect(page.locator("h1.obj-title")).to_have_text(pod)
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    expect(term.get_by_test_id("terminal-status")).to_contain_text("connected")
    red = "rgb(204, 51, 51)"
    expect(page.locator(".kl-tab").first.get_by_test_id("tab-cluster")).to_have_css(
        "background-color", red
    )
    expect(term.get_by_test_id("pane-cluster")).to_have_css("background-color", red)
    assert problems.errors == []
