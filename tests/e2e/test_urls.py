"""URLs people type (issue 11, defect 5): kubectl's short and singular names, and
cluster-scoped objects without a placeholder for the namespace."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = quote(CONTEXT_NAMES["kubernetes"], safe="")


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("deploy", "deployments"),
        ("deployment", "deployments"),
        ("pvc", "persistentvolumeclaims"),
        ("pvcs", "persistentvolumeclaims"),
        ("svc", "services"),
        ("no", "nodes"),
    ],
)
def test_short_and_singular_names_open_the_list(
    page: Any, ui: Ui, problems: Problems, typed: str, kind: str
) -> None:
    page.goto(f"{ui.url}/c/{KIND}/{typed}")
    expect(page.locator(f'.nav-item.active[data-kind="{kind}"]')).to_have_count(1)
    assert problems.errors == [], problems.errors


def test_cluster_scoped_object_without_placeholder(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{KIND}/nodes/worker-1")
    expect(page.locator("h1.obj-title")).to_have_text("worker-1")
    # Links the app makes to cluster-scoped objects have no placeholder either.
    page.goto(f"{ui.url}/c/{KIND}/nodes")
    link = page.locator('.grid-body [role="row"][data-name="worker-1"] a.cell-name')
    assert link.get_attribute("href").endswith(f"/c/{KIND}/nodes/worker-1")
    page.goto(f"{ui.url}/c/{KIND}/node/worker-1")
    expect(page.locator("h1.obj-title")).to_have_text("worker-1")
    assert problems.errors == [], problems.errors


def test_status_column_shows_crashloopbackoff_whole(page: Any, ui: Ui, problems: Problems) -> None:
    """Issue 11 defect 8: the pod list's Status column does not cut "CrashLoopBackOff"."""
    page.goto(f"{ui.url}/c/{KIND}/pods")
    cell = page.locator(".grid-body .status", has_text="CrashLoopBackOff").first
    expect(cell).to_be_visible()
    cut = cell.evaluate(
        "e => { for (let x = e; x && !x.matches('[role=row]'); x = x.parentElement)"
        " if (x.scrollWidth > x.clientWidth + 1) return true; return false }"
    )
    assert not cut, "CrashLoopBackOff is cut in the Status column"
    assert problems.errors == [], problems.errors
