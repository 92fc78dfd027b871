"""The web UI driven as a user would, in headless Chromium, against the simulator clusters."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import CONTEXT_NAMES
from tests.e2e.conftest import Problems, Ui, shot

pytestmark = pytest.mark.browser

RANCHER = CONTEXT_NAMES["rancher"]
KIND = CONTEXT_NAMES["kubernetes"]


def enc(name: str) -> str:
    return quote(name, safe="")


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def assert_clean(problems: Problems) -> None:
    assert problems.errors == [], "the browser console reported errors:\n" + "\n".join(problems.errors)


def open_list(page: Any, ui: Ui, cluster: str, kind: str, namespace: str | None = None) -> None:
    page.goto(f"{ui.url}/c/{enc(cluster)}/{kind}")
    if namespace is not None:
        page.get_by_label("Namespace").select_option(namespace)
    expect(page.locator(".live-live")).to_be_visible()


def test_cluster_chooser_shows_every_cluster_with_profile(page: Any, ui: Ui, problems: Problems) -> None:
    cards = page.locator(".cluster-card")
    expect(cards).to_have_count(len(CONTEXT_NAMES))
    rancher = page.locator(f'.cluster-card[data-cluster="{RANCHER}"]')
    expect(rancher).to_contain_text("rancher")
    expect(rancher.locator(".badge")).to_have_text("ok")
    shot(page, "01-clusters")
    assert_clean(problems)


def test_rancher_pod_logs_search_and_terminal(page: Any, ui: Ui, problems: Problems) -> None:
    page.locator(f'.cluster-card[data-cluster="{RANCHER}"]').click()
    expect(page).to_have_url(re.compile(rf"/c/{re.escape(enc(RANCHER))}/pods$"))
    page.get_by_label("Namespace").select_option("shop")
    expect(page.locator(".live-live")).to_be_visible()
    row = page.locator('.grid-body [role="row"][data-name^="frontend-"]').first
    expect(row).to_be_visible()
    expect(page.locator('.grid-body [role="row"][data-name^="checkout-"]').first).to_contain_text("CrashLoopBackOff")
    shot(page, "02-pods-list")

    pod_name = row.get_attribute("data-name")
    row.locator("a.cell-name").click()
    expect(page.locator("h1.obj-title")).to_have_text(pod_name)
    expect(page.locator(".container-card")).to_have_count(1)
    shot(page, "03-pod-detail")

    # Logs in the dock; search a line.
    page.get_by_test_id("action-logs").click()
    lines = page.get_by_test_id("log-lines")
    expect(lines).not_to_be_empty()
    first_line = lines.locator("div").first.inner_text().strip()
    word = first_line.split()[-1] if first_line.split() else "GET"
    page.get_by_label("Search logs").fill(word)
    expect(page.get_by_test_id("match-count")).to_contain_text(re.compile(r"[1-9]"))
    shot(page, "04-logs")

    # A shell: echo, resize, exit code.
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    expect(term.get_by_test_id("terminal-status")).to_contain_text(re.compile("connected", re.I))
    term.locator(".kl-term").click()
    page.keyboard.type("echo hello\n")
    expect(term.locator(".xterm-rows > div", has_text=re.compile(r"^\s*hello\s*$"))).to_have_count(1)
    page.set_viewport_size({"width": 1200, "height": 760})
    page.keyboard.type("exit 3\n")
    expect(term.get_by_test_id("terminal-status")).to_contain_text("3")
    shot(page, "05-terminal")
    assert_clean(problems)


def test_yaml_edit_replicas_dry_run_diff_apply(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{enc(KIND)}/deployments/shop/cart")
    expect(page.locator("h1.obj-title")).to_have_text("cart")
    page.get_by_test_id("tab-yaml").click()
    expect(page.get_by_test_id("yaml-view")).to_contain_text("replicas: 2")
    page.get_by_test_id("yaml-edit").click()
    editor = page.get_by_test_id("yaml-editor").locator(".cm-content")
    line = editor.locator(".cm-line", has_text=re.compile(r"^\s*replicas: 2$")).first
    line.click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type("4")
    page.get_by_test_id("yaml-review").click()
    diff = page.get_by_test_id("yaml-diff")
    expect(diff).to_contain_text("replicas: 4")
    shot(page, "06-yaml-diff")
    page.get_by_test_id("yaml-apply").click()
    expect(page.get_by_test_id("yaml-view")).to_contain_text("replicas: 4")

    # The list follows through watch.
    page.locator('.nav-item[data-kind="deployments"]').click()
    row = page.locator('.grid-body [role="row"][data-name="cart"]')
    expect(row).to_contain_text(re.compile(r"\d/4"))
    shot(page, "07-deployments")
    assert_clean(problems)


def test_permalinks_history_search_and_theme(page: Any, ui: Ui, problems: Problems) -> None:
    open_list(page, ui, KIND, "services")
    expect(page.locator('.grid-body [role="row"]').first).to_be_visible()
    page.keyboard.press("g")
    page.keyboard.press("d")
    expect(page).to_have_url(re.compile(r"/deployments$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/services$"))
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/deployments$"))

    # Global search across the loaded lists, "/" focuses it.
    expect(page.locator(".live-live")).to_be_visible()
    page.keyboard.press("/")
    page.keyboard.type("catalog")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/deployments/shop/catalog$"))

    # A cluster-scoped permalink opened directly.
    page.goto(f"{ui.url}/c/{enc(KIND)}/nodes")
    node = page.locator('.grid-body [role="row"]').first.get_attribute("data-name")
    page.goto(f"{ui.url}/c/{enc(KIND)}/nodes/_/{node}")
    expect(page.locator("h1.obj-title")).to_have_text(node)

    # Theme toggle persists over a reload.
    start = page.evaluate("document.documentElement.dataset.theme")
    page.locator("#theme-toggle").click()
    other = "dark" if start == "light" else "light"
    expect(page.locator("html")).to_have_attribute("data-theme", other)
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", other)
    shot(page, f"08-node-{other}")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)
    assert_clean(problems)


def test_secret_values_hidden_until_revealed(page: Any, ui: Ui, problems: Problems) -> None:
    page.goto(f"{ui.url}/c/{enc(KIND)}/secrets/shop/postgres-credentials")
    item = page.locator('.data-item[data-key="password"]')
    expect(item).not_to_contain_text("s3cr3t-demo-only")
    page.get_by_test_id("reveal-password").click()
    expect(item).to_contain_text("s3cr3t-demo-only")
    expect(page.locator('.data-item[data-key="username"]')).not_to_contain_text("app\n")
    assert_clean(problems)
