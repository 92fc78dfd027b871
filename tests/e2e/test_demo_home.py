"""Issue 11 defect 8: in demo mode the home page said "4 from kubeconfig" and nothing said
"demo"; `serve --demo --kubeconfig X` served the demo clusters only. Now both are served and
the home page says where the clusters come from."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.e2e.conftest import Problems, Ui, new_page
from tests.harness.stack import CONTEXT_NAMES, SimCluster, start_kubelantern

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_ui(kubeconfig: Path, sims: dict[str, SimCluster]) -> Iterator[Ui]:
    token = secrets.token_urlsafe(16)
    server = start_kubelantern(Settings(demo=True, kubeconfigs=(kubeconfig,), launch_token=token))
    yield Ui(server, token)
    server.stop()


def test_home_page_says_demo_and_kubeconfig(
    browser: Any, demo_ui: Ui, sims: dict[str, SimCluster], problems: Problems
) -> None:
    page = new_page(browser, demo_ui.launch_url, problems)
    try:
        sources = page.get_by_test_id("cluster-sources")
        expect(sources).to_have_text(f"{len(sims)} from kubeconfig · 4 demo (built-in simulators)")
        cards = page.locator(".cluster-card")
        expect(cards).to_have_count(len(sims) + 4)
        expect(page.locator('.cluster-card[data-cluster="demo-openshift"]')).to_have_count(1)
        kube = page.locator(f'.cluster-card[data-cluster="{CONTEXT_NAMES["kubernetes"]}"]')
        expect(kube).to_have_count(1)
        assert problems.errors == [], problems.errors
    finally:
        page.context.close()
