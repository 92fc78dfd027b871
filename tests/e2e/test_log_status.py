"""Log status without false alarms (issue 11, defect 6): once every stream of a pane has
ended, nothing says it is still following."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]


def test_follow_button_is_not_lit_after_every_stream_ended(
    page: Any, ui: Ui, problems: Problems
) -> None:
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods")
    page.locator('.grid-body [role="row"][data-name^="checkout-"] a.cell-name').first.click()
    page.get_by_test_id("previous-logs").click()
    pane = page.get_by_test_id("log-pane").last
    status = pane.get_by_test_id("log-status")
    expect(status).to_contain_text("end of previous instance")
    follow = pane.get_by_role("button", name="Follow", exact=False)
    expect(follow).to_have_attribute("aria-pressed", "false")
    expect(follow).not_to_have_text("Following")
    assert problems.errors == [], problems.errors


def test_a_finished_init_container_is_not_a_stream_failure(
    page: Any, ui: Ui, problems: Problems
) -> None:
    """A healthy pod with an init container: "All containers" ends the init container's stream
    (it has finished) but the pane is still following, with no "stream ended" alarm."""
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods")
    page.locator('.grid-body [role="row"][data-name^="catalog-"] a.cell-name').first.click()
    page.get_by_test_id("action-logs").click()
    pane = page.get_by_test_id("log-pane").last
    picker = pane.get_by_label("Container")
    expect(picker.locator("option", has_text="migrate-db (init)")).to_have_count(1)
    picker.select_option("*")
    # The init container's lines are the oldest: scrolled out of the rendered window, so
    # wait for the merged (labelled) rows instead.
    expect(pane.locator(".kl-row .kl-src").first).to_be_visible()
    status = pane.get_by_test_id("log-status")
    expect(status).to_contain_text("following")
    page.wait_for_timeout(1500)  # the init container's stream has had time to end
    expect(status).not_to_contain_text("stream ended")
    expect(status.get_by_role("button", name="Reconnect")).to_have_count(0)
    expect(pane.get_by_role("button", name="Following")).to_be_visible()
    assert problems.errors == [], problems.errors


@pytest.mark.parametrize("width", [1100, 1180, 1240, 1320])
def test_log_toolbar_does_not_wrap_when_a_match_count_appears(
    page: Any, ui: Ui, problems: Problems, width: int
) -> None:
    """Issue 11 defect 8: typing a search must not push the toolbar onto a second line."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods")
    page.locator('.grid-body [role="row"][data-name^="cart-"] a.cell-name').first.click()
    page.get_by_test_id("action-logs").click()
    pane = page.get_by_test_id("log-pane").last
    expect(pane.locator(".kl-row").first).to_be_visible()
    toolbar = pane.get_by_role("toolbar")
    before = toolbar.bounding_box()["height"]
    pane.get_by_label("Search logs").fill("GET")
    expect(pane.get_by_test_id("match-count")).to_be_visible()
    after = toolbar.bounding_box()["height"]
    assert after == before, f"toolbar grew from {before}px to {after}px"
    assert problems.errors == [], problems.errors


def test_a_pending_pod_says_why_it_has_not_started(page: Any, ui: Ui, problems: Problems) -> None:
    """The importer pod cannot be scheduled: its log pane says so (the pod's condition and
    the scheduler's message), not "0 lines · stream ended"."""
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods")
    page.locator('.grid-body [role="row"][data-name^="importer-"] a.cell-name').first.click()
    page.get_by_test_id("action-logs").click()
    status = page.get_by_test_id("log-pane").last.get_by_test_id("log-status")
    expect(status).to_contain_text("not started: Pending, Unschedulable")
    expect(status).to_contain_text("Insufficient memory")
    expect(status).not_to_contain_text("stream ended")
    follow = page.get_by_test_id("log-pane").last.get_by_role("button", name="Follow", exact=False)
    expect(follow).not_to_have_text("Following")
    assert problems.errors == [], problems.errors
