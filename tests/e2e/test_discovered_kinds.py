"""Every listable kind discovery advertises gets list, detail and YAML pages (issue 11,
"Discovery-driven resources" and defect 5): OpenShift's and Rancher's well-known kinds with
hand-made columns, every other kind with the server's Table columns, plural/singular/short
names in URLs, and a sidebar of the discovered API groups."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

OCP = quote(CONTEXT_NAMES["openshift"], safe="")
KIND = quote(CONTEXT_NAMES["kubernetes"], safe="")
LEGACY = quote(CONTEXT_NAMES["legacy"], safe="")
RANCHER = quote(CONTEXT_NAMES["rancher"], safe="")


def row(page: Any, name: str) -> Any:
    return page.locator(f'.grid-body [role="row"][data-name="{name}"]')


def test_openshift_routes_deploymentconfigs_and_projects(
    page: Any, ui: Ui, problems: Problems
) -> None:
    page.goto(f"{ui.url}/c/{OCP}/routes")
    expect(page.locator('.nav-item.active[data-kind="routes.route.openshift.io"]')).to_have_count(1)
    expect(page.locator(".page-head h1")).to_have_text("Routes")
    expect(row(page, "frontend")).to_contain_text("frontend-shop.apps.ocp.example.com")
    expect(page.locator('[role="columnheader"]', has_text="Host / path")).to_have_count(1)
    row(page, "frontend").locator("a.cell-name").click()
    expect(page.locator("h1.obj-title")).to_have_text("frontend")
    page.locator('[data-testid="tab-yaml"]').click()
    expect(page.locator(".cm-content")).to_contain_text("route.openshift.io/v1")

    # Short name and singular: kubectl's `dc`, `project`.
    page.goto(f"{ui.url}/c/{OCP}/dc")
    expect(page).to_have_url(f"{ui.url}/c/{OCP}/deploymentconfigs.apps.openshift.io")
    expect(row(page, "legacy-billing")).to_contain_text("0/0")
    page.goto(f"{ui.url}/c/{OCP}/project/shop")
    expect(page.locator("h1.obj-title")).to_have_text("shop")
    page.goto(f"{ui.url}/c/{OCP}/projects.project.openshift.io")
    expect(row(page, "kube-system")).to_contain_text("Active")
    # Defect 5: /pvcs failed on OpenShift too.
    page.goto(f"{ui.url}/c/{OCP}/pvcs")
    expect(page.locator('.nav-item.active[data-kind="persistentvolumeclaims"]')).to_have_count(1)
    expect(page.locator(".page-head h1")).to_have_text("PVCs")
    assert problems.errors == [], problems.errors


def test_rancher_projects_show_display_names(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{RANCHER}/projects.management.cattle.io")
    expect(page.locator(".nav-section", has_text="Rancher").locator(".nav-item")).to_have_text(
        ["Projects"]
    )
    expect(row(page, "p-m4bzd")).to_contain_text("System")
    expect(row(page, "p-m4bzd")).to_contain_text("local")
    assert problems.errors == [], problems.errors


@pytest.mark.parametrize("cluster", [KIND, LEGACY], ids=["aggregated", "per-group"])
def test_a_kind_without_a_view_gets_the_servers_columns(
    page: Any, ui: Ui, problems: Problems, cluster: str
) -> None:
    """ServiceAccounts have no hand-made view: the list shows the Table output's columns;
    the legacy profile has no aggregated discovery (one request a group)."""
    page.goto(f"{ui.url}/c/{cluster}/sa")
    expect(page).to_have_url(f"{ui.url}/c/{cluster}/serviceaccounts")
    table = page.locator('[data-testid="table-list"]')
    expect(table.locator('[role="columnheader"]')).to_have_text(
        ["Namespace", "Name", "Secrets", "Age"]
    )
    first = table.locator('.grid-body [role="row"][data-name="default"]').first
    expect(first).to_be_visible()
    first.locator("a.cell-name").click()
    expect(page.locator("h1.obj-title")).to_have_text("default")
    page.locator('[data-testid="tab-yaml"]').click()
    expect(page.locator(".cm-content")).to_contain_text("kind: ServiceAccount")
    assert problems.errors == [], problems.errors


def test_sidebar_lists_discovered_groups(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{KIND}/pods")
    groups = page.locator('[data-testid="nav-groups"]')
    storage = groups.locator('details[data-group="storage.k8s.io"]')
    storage.locator("summary").click()
    storage.locator('.nav-item[data-kind="storageclasses.storage.k8s.io"]').click()
    expect(page.locator('[data-testid="table-list"] .page-head h1')).to_have_text("StorageClass")
    expect(storage).to_have_attribute("open", "")
    # A cluster-scoped generic kind: its rows link without a namespace placeholder.
    link = page.locator('.grid-body [role="row"] a.cell-name').first
    expect(link).to_be_visible()
    href = f"/c/{KIND}/storageclasses.storage.k8s.io/{link.inner_text()}"
    expect(link).to_have_attribute("href", href)
    expect(groups.locator('details[data-group="rbac.authorization.k8s.io"]')).to_contain_text(
        "ClusterRole"
    )
    # Built-in kinds are not listed twice.
    expect(groups.locator('.nav-item[data-kind="pods"]')).to_have_count(0)
    assert problems.errors == [], problems.errors
