"""The cluster is always in view (issue 11, defect 2): dock tabs, the terminal's banner, page
titles and downloaded log names say which cluster, with the same colour everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, new_page, running_pod, shot
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.stack import CONTEXT_NAMES, SimCluster

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


# The colour set for the kind cluster in its kubeconfig extension, as the browser computes it.
RED = "#c33"
RED_RGB = "rgb(204, 51, 51)"
TOKEN = "e2e-titles"


@pytest.fixture
def coloured(lantern_factory: Any, sims: dict[str, SimCluster], tmp_path: Path) -> Ui:
    """The kind cluster with a colour from the kubeconfig extension; rancher without one."""
    k, r = sims["kubernetes"].context, sims["rancher"].context
    looks = [{"name": "kubelantern", "extension": {"color": RED}}]
    contexts = [
        Context(KIND, k.server, ca_pem=k.ca_pem, token=k.token, extensions=looks),
        Context(RANCHER, r.server, ca_pem=r.ca_pem, token=r.token),
    ]
    kc = write_kubeconfig(tmp_path / "coloured", contexts)
    return Ui(lantern_factory(kubeconfigs=(kc,), launch_token=TOKEN), TOKEN)


def head_chip(page: Any) -> Any:
    """The chip in the page's own title row (not the dock's, not the top bar's)."""
    return page.locator("main .page-head").get_by_test_id("cluster-chip")


def colour(chip: Any) -> str:
    return str(chip.evaluate("e => getComputedStyle(e).backgroundColor"))


def test_list_detail_yaml_and_generic_pages_show_the_cluster(
    browser: Any, coloured: Ui, problems: Problems
) -> None:
    """Issue 11, "the cluster everywhere": every page title row carries the cluster's chip in
    its kubeconfig colour, and the browser tab names the page and the cluster."""
    ui = coloured
    pod = running_pod(ui, KIND, "shop", "cart-")
    page = new_page(browser, ui.launch_url, problems)
    c = quote(KIND, safe="")

    page.goto(f"{ui.url}/c/{c}/pods")
    expect(page.get_by_test_id("row-count")).not_to_have_text("…")
    expect(head_chip(page)).to_have_text(KIND)
    assert colour(head_chip(page)) == RED_RGB
    expect(page).to_have_title(f"pods · {KIND} — kubelantern")

    # A kind without a hand-made view (the server's Table columns): the same chip and title.
    page.goto(f"{ui.url}/c/{c}/serviceaccounts")
    expect(page.get_by_test_id("table-list")).to_be_visible()
    expect(head_chip(page)).to_have_text(KIND)
    assert colour(head_chip(page)) == RED_RGB
    expect(page).to_have_title(f"serviceaccounts · {KIND} — kubelantern")

    page.goto(f"{ui.url}/c/{c}/pods/shop/{quote(pod, safe='')}")
    expect(page.locator("h1.obj-title")).to_have_text(pod)
    expect(head_chip(page)).to_have_text(KIND)
    assert colour(head_chip(page)) == RED_RGB
    expect(page).to_have_title(f"{pod} (pod) · {KIND} — kubelantern")

    page.get_by_test_id("tab-yaml").click()
    expect(page.locator(".cm-content")).to_contain_text("kind: Pod")
    expect(head_chip(page)).to_have_text(KIND)
    assert colour(head_chip(page)) == RED_RGB
    expect(page).to_have_title(f"{pod} (pod) · {KIND} — kubelantern")
    shot(page, "cluster-chip-yaml")

    # Another cluster: its own name and a colour of its own (from its name, none is set).
    rancher_pod = running_pod(ui, RANCHER, "shop", "cart-")
    page.goto(f"{ui.url}/c/{quote(RANCHER, safe='')}/pods/shop/{quote(rancher_pod, safe='')}")
    expect(page.locator("h1.obj-title")).to_have_text(rancher_pod)
    expect(head_chip(page)).to_have_text(RANCHER)
    assert colour(head_chip(page)) not in ("", RED_RGB, "rgba(0, 0, 0, 0)")
    expect(page).to_have_title(f"{rancher_pod} (pod) · {RANCHER} — kubelantern")
    assert problems.errors == [], problems.errors
