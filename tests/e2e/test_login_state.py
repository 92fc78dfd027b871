"""A cluster's login state is the user's (issue 11, defect 3): a Rancher cluster whose
kubeconfig context has no credentials, after a token login in the page, shows "ok" on the
home card and in the cluster picker alike (both used to say "unauthorized" while lists worked)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.e2e.conftest import Problems, new_page
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread
from tests.harness.stack import RANCHER_TOKEN, SimCluster

pytestmark = pytest.mark.browser

NAME = "anon-rancher"


def test_token_login_makes_a_credentialless_rancher_cluster_ok_on_card_and_picker(
    browser: Any,
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    pki: Pki,
    tmp_path: Path,
    problems: Problems,
) -> None:
    kc = write_kubeconfig(
        tmp_path / "config",
        [
            Context(name=NAME, server=sims["rancher"].base_url, ca_pem=pki.ca_pem),
            Context(name="kind", server=sims["kubernetes"].base_url, ca_pem=pki.ca_pem),
        ],
    )
    lantern = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    page = new_page(browser, f"{lantern.url}/", problems)
    card = page.locator(f'.fleet-row[data-cluster="{NAME}"]')
    expect(card.locator(".badge")).to_have_text("login needed")

    page.goto(f"{lantern.url}/c/{NAME}/pods")
    page.get_by_label("Token").fill(RANCHER_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator('.grid-body [role="row"]').first).to_be_visible()
    picker = page.get_by_label("Cluster")
    expect(picker.locator(f'option[value="{NAME}"]')).to_have_text(NAME)  # no "(…)" state

    page.goto(f"{lantern.url}/")
    expect(card.locator(".badge")).to_have_text("ok")
    expect(card.locator(".cluster-error")).to_have_count(0)
    page.context.close()
    assert problems.errors == [], problems.errors
