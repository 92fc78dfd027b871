"""Failures explained in the page (issue 11, defect 4): a rejected token (401), a missing or
failing exec plugin, a TLS name mismatch and an unreachable server each get a page of their
own with the action that fixes it, instead of an empty table with a "retrying" badge; a
failing plugin is not re-run by every refresh, only when the user asks."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.e2e.conftest import Problems, new_page
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread, free_port
from tests.harness.stack import KUBE_TOKEN, SimCluster

pytestmark = pytest.mark.browser


def runs(count_file: Path) -> int:
    return len(count_file.read_text().splitlines()) if count_file.exists() else 0


def test_each_cluster_failure_has_its_own_page_and_action(
    browser: Any,
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    pki: Pki,
    tmp_path: Path,
    problems: Problems,
) -> None:
    kube = sims["kubernetes"].base_url
    count = tmp_path / "plugin-runs"
    kc = write_kubeconfig(
        tmp_path / "config",
        [
            Context("rejected", kube, ca_pem=pki.ca_pem, token="expired-token-0123456789"),
            Context(
                "noplugin",
                kube,
                ca_pem=pki.ca_pem,
                user={
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "kubelantern-no-such-plugin",
                    }
                },
            ),
            Context(
                "failplugin",
                kube,
                ca_pem=pki.ca_pem,
                user={
                    "exec": fake_plugin_exec(
                        {"FAKE_PLUGIN_MODE": "fail", "FAKE_PLUGIN_COUNT_FILE": str(count)}
                    )
                },
            ),
            Context(
                "tlsname",
                kube,
                ca_pem=pki.ca_pem,
                token=KUBE_TOKEN,
                cluster={"tls-server-name": "wrong.example.test"},
            ),
            Context("down", f"https://127.0.0.1:{free_port()}", ca_pem=pki.ca_pem, token="x"),
        ],
    )
    lantern = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    page = new_page(browser, f"{lantern.url}/", problems)
    # The list pages of these clusters ask nothing; the failing fetches are the probe's.
    problem = page.get_by_test_id("cluster-problem")

    def show(name: str, reason: str, title: str) -> None:
        page.goto(f"{lantern.url}/c/{quote(name)}/pods")
        expect(problem).to_have_attribute("data-reason", reason)
        expect(problem.locator("h2").first).to_contain_text(title)
        expect(page.locator(".grid-body")).to_have_count(0)  # no empty table retrying

    show("rejected", "rejected", "rejected its credentials")
    expect(page.get_by_test_id("cluster-problem-action")).to_contain_text("paste a token")
    show("noplugin", "exec-plugin", "credential plugin")
    expect(page.get_by_test_id("cluster-problem-error")).to_contain_text("not found on PATH")
    show("failplugin", "exec-plugin", "credential plugin")
    expect(page.get_by_test_id("cluster-problem-error")).to_contain_text(
        "the SSO session has expired"
    )
    show("tlsname", "tls", "TLS")
    expect(page.get_by_test_id("cluster-problem-error")).to_contain_text("tls-server-name")
    expect(page.get_by_test_id("cluster-problem-action")).to_contain_text("tls-server-name")
    show("down", "unreachable", "unreachable")

    # A failing plugin is not re-run by refreshes (the page polls /api/clusters) …
    before = runs(count)
    assert before >= 1
    for _ in range(3):
        with urllib.request.urlopen(f"{lantern.url}/api/clusters", timeout=30) as r:
            json.loads(r.read())
    assert runs(count) == before
    # … only when the user asks.
    page.goto(f"{lantern.url}/c/failplugin/pods")
    page.get_by_role("button", name="Re-run the plugin").click()
    for _ in range(300):  # up to 30 s on a loaded box
        if runs(count) > before:
            break
        page.wait_for_timeout(100)
    assert runs(count) > before, "Re-run the plugin did not run it"

    # A rejected kubeconfig token: a token pasted for this browser session is used instead.
    page.goto(f"{lantern.url}/c/rejected/pods")
    page.get_by_label("Token").fill(KUBE_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator('.grid-body [role="row"]').first).to_be_visible()
    page.context.close()
    assert problems.errors == [], problems.errors
