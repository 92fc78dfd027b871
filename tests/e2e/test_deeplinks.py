"""Deep links for the dock (issue 11, defect 10): open log and terminal panes are in the page
URL (`?view=logs&…`, `?view=exec&…`), survive in-app navigation, and come back after a reload."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, running_pod
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
RANCHER = CONTEXT_NAMES["rancher"]


def go(page: Any, path: str) -> None:
    """In-app navigation, as a click on a link does (the dock stays)."""
    page.evaluate(
        "p => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')) }",
        path,
    )


def query(page: Any) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query)


def tab_titles(page: Any) -> list[str]:
    return [t.get_attribute("title") or "" for t in page.locator(".kl-tab").all()]


def test_open_panes_are_in_the_url_and_come_back_after_a_reload(
    page: Any, ui: Ui, problems: Problems
) -> None:
    cart = running_pod(ui, KIND, "shop", "cart-")
    go(page, f"/c/{quote(KIND, safe='')}/pods/shop/{cart}")
    expect(page.locator("h1.obj-title")).to_have_text(cart)
    page.get_by_test_id("action-shell").click()
    expect(
        page.get_by_test_id("terminal-pane").last.get_by_test_id("terminal-status")
    ).to_contain_text("connected")
    page.get_by_test_id("action-logs").click()
    # Workload logs (by label selector) on another cluster.
    go(page, f"/c/{quote(RANCHER, safe='')}/deployments/shop/cart")
    expect(page.locator("h1.obj-title")).to_have_text("cart")
    page.get_by_test_id("action-workload-logs").click()
    expect(page.locator(".kl-tab")).to_have_count(3)

    q = query(page)
    assert [v for k, v in q if k == "view"] == ["exec", "logs", "logs"], q
    assert ("pod", cart) in q, q
    assert any(k == "selector" and "cart" in v for k, v in q), q
    assert [v for k, v in q if k == "cluster"] == [KIND, KIND, RANCHER], q
    before = tab_titles(page)

    # Navigation replaces path and query: the panes stay in the URL.
    go(page, f"/c/{quote(KIND, safe='')}/pods")
    expect(page.locator(".kl-tab")).to_have_count(3)
    assert [v for k, v in query(page) if k == "view"] == ["exec", "logs", "logs"]
    assert urlsplit(page.url).path.endswith("/pods")

    page.reload()
    tabs = page.locator(".kl-tab")
    expect(tabs).to_have_count(3)
    assert tab_titles(page) == before
    page.locator(".kl-tab").nth(0).click()
    expect(
        page.get_by_test_id("terminal-pane").last.get_by_test_id("terminal-status")
    ).to_contain_text("connected")
    page.locator(".kl-tab").nth(1).click()
    expect(page.get_by_test_id("log-pane").first.locator(".kl-row").first).to_be_visible()
    page.locator(".kl-tab").nth(2).click()
    expect(page.get_by_test_id("log-pane").last.locator(".kl-row").first).to_be_visible()

    # Closing a pane takes it out of the URL; closing all leaves no dock parameters.
    page.locator(".kl-tab").nth(0).get_by_role("button").click()
    expect(page.locator(".kl-tab")).to_have_count(2)
    assert [v for k, v in query(page) if k == "view"] == ["logs", "logs"]
    page.get_by_role("button", name="Close all panes").click()
    expect(page.locator(".kl-tab")).to_have_count(0)
    assert query(page) == []
    assert problems.errors == [], problems.errors
