"""Log status without false alarms (issue 11, defect 6): once every stream of a pane has
ended, nothing says it is still following."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


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
