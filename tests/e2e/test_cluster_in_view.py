"""The cluster is always in view (issue 11, defect 2): dock tabs, the terminal's banner, page
titles and downloaded log names say which cluster, with the same colour everywhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, running_pod
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
RANCHER = CONTEXT_NAMES["rancher"]


def open_pod(page: Any, ui: Ui, cluster: str, pod: str) -> None:
    """In-app navigation (the dock stays, as when the user clicks through)."""
    path = f"/c/{quote(cluster, safe='')}/pods/shop/{quote(pod, safe='')}"
    page.evaluate(
        "p => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')) }",
        path,
    )
    expect(page.locator("h1.obj-title")).to_have_text(pod)


def test_dock_tabs_terminal_title_and_downloads_name_the_cluster(
    page: Any, ui: Ui, problems: Problems
) -> None:
    kind_pod = running_pod(ui, KIND, "shop", "cart-")
    open_pod(page, ui, KIND, kind_pod)
    assert KIND in page.title()
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    expect(term.get_by_test_id("terminal-status")).to_contain_text("connected")
    expect(term.get_by_test_id("pane-cluster")).to_have_text(KIND)

    rancher_pod = running_pod(ui, RANCHER, "shop", "cart-")
    open_pod(page, ui, RANCHER, rancher_pod)
    assert RANCHER in page.title()
    page.get_by_test_id("action-shell").click()
    expect(
        page.get_by_test_id("terminal-pane").last.get_by_test_id("terminal-status")
    ).to_contain_text("connected")
    page.get_by_test_id("action-logs").click()

    tabs = page.locator(".kl-tab")
    expect(tabs).to_have_count(3)
    chips = [t.get_by_test_id("tab-cluster") for t in tabs.all()]
    assert [c.inner_text() for c in chips] == [KIND, RANCHER, RANCHER]
    # The same cluster has the same colour; another cluster another one.
    colours = [c.evaluate("e => getComputedStyle(e).backgroundColor") for c in chips]
    assert colours[1] == colours[2] and colours[0] != colours[1], colours
    # The whole name is there to read (the tab shows it, the tooltip has it all).
    assert tabs.nth(0).get_attribute("title") == f"{KIND} · shell: {kind_pod}"

    pane = page.get_by_test_id("log-pane").last
    expect(pane.locator(".kl-row").first).to_be_visible()
    with page.expect_download() as info:
        pane.get_by_role("button", name="Download").click()
    name = info.value.suggested_filename
    assert name.startswith("rancher_down_c-m-abc12_" + rancher_pod), name
    assert problems.errors == [], problems.errors
