"""Team mode in Chromium: the first visit goes to the identity provider's sign-in page, the
user signs in there, lands back in kubelantern, sees their name, browses a cluster that
knows them only by their OIDC identity, and signs out (at the provider too)."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.e2e.conftest import Problems, shot
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.oidc_provider import OidcProvider, sim_trust, start_provider
from tests.harness.pki import Pki
from tests.harness.replicas import replicas
from tests.harness.servers import ServerThread, free_port
from tests.harness.stack import SimCluster, start_sim

pytestmark = pytest.mark.browser


@pytest.fixture
def team_stack(pki: Pki, tmp_path: Path) -> Iterator[tuple[OidcProvider, SimCluster, ServerThread]]:
    idp, idp_server = start_provider(pki.server_context())  # the login form, no auto user
    sim = start_sim(pki, "kubernetes", oidc=sim_trust(idp))
    config = write_kubeconfig(
        tmp_path / "config", [Context("team", sim.base_url, ca_pem=pki.ca_pem)]
    )
    port = free_port()
    settings = Settings(
        kubeconfigs=(config,),
        launch_token=None,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        oidc_issuer_url=idp.issuer,
        oidc_client_id=idp.client_id,
        oidc_client_secret=idp.client_secret,
        oidc_ca_file=pki.ca_file,
        session_secret="e2e-session-secret-0123456789-abcdefgh",
    )
    from kubelantern.web.app import make_app

    lantern = ServerThread(lambda: make_app(settings), port=port).start()
    yield idp, sim, lantern
    lantern.stop()
    sim.server.stop()
    idp_server.stop()


def test_sign_in_browse_and_sign_out(
    browser: Any, team_stack: tuple[OidcProvider, SimCluster, ServerThread], problems: Problems
) -> None:
    idp, sim, lantern = team_stack
    # The browser trusts the test CA's provider as a user's browser trusts a real one.
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, ignore_https_errors=True)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    problems.watch(page)

    page.goto(f"{lantern.url}/c/team/pods")
    expect(page).to_have_url(re.compile(rf"^{re.escape(idp.issuer)}/protocol/openid-connect/auth"))
    page.get_by_label("Username").fill("alice")
    shot(page, "20-idp-sign-in")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(lantern.url)}/c/team/pods$"))
    expect(page.locator("#signed-in-user")).to_have_text("Alice Example")
    expect(page.locator('.grid-body [role="row"]').first).to_be_visible()
    shot(page, "21-signed-in")
    users = {r.user for r in sim.state.requests if "/pods" in r.path}
    assert users == {"oidc:alice@example.com"}
    cookies = {c["name"]: c for c in ctx.cookies()}
    session = cookies["kl-session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert "alice" not in session["value"].lower()

    page.locator("#sign-out").click()
    # Signed out here and at the provider, back to the provider's sign-in page.
    expect(page.get_by_label("Username")).to_be_visible()
    assert idp.logouts and idp.logouts[-1]["client_id"] == idp.client_id
    assert "kl-session" not in {c["name"] for c in ctx.cookies()}
    ctx.close()
    assert problems.errors == [], problems.errors


def test_ui_reconnects_when_its_replica_stops(
    browser: Any, pki: Pki, tmp_path: Path, problems: Problems
) -> None:
    """Two replicas behind the balancer; the replica holding the open log stream gets
    SIGTERM: the stream ends with 1001, the log pane reconnects through the other replica
    and new lines keep coming, still signed in."""
    idp, idp_server = start_provider(pki.server_context(), auto_user="alice")
    sim = start_sim(pki, "kubernetes", oidc=sim_trust(idp))
    config = write_kubeconfig(
        tmp_path / "config", [Context("team", sim.base_url, ca_pem=pki.ca_pem)]
    )
    try:
        with replicas(idp, pki, config, tmp_path) as pair:
            ctx = browser.new_context(
                viewport={"width": 1440, "height": 900}, ignore_https_errors=True
            )
            page = ctx.new_page()
            page.set_default_timeout(15_000)
            problems.watch(page)
            page.goto(f"{pair.url}/c/team/pods")
            expect(page.locator("#signed-in-user")).to_have_text("Alice Example")
            page.get_by_label("Namespace").select_option("shop")
            row = page.locator('.grid-body [role="row"][data-name^="frontend-"]').first
            row.locator("a.cell-name").click()
            page.get_by_test_id("action-logs").click()
            expect(page.get_by_test_id("log-lines").locator("div").first).to_be_visible()

            cookie = next(c["value"] for c in ctx.cookies() if c["name"] == "kl-session")
            expect(page.get_by_test_id("log-status")).to_contain_text("following")
            holder = next(
                i
                for i in range(2)
                if re.search(r'kubelantern_active_streams\{[^}]*kind="websocket"[^}]*\} [1-9]',
                             pair.metrics(i, cookie))
            )  # fmt: skip
            status = page.get_by_test_id("log-status")

            def shown() -> int:
                found = re.search(r"([\d,]+) lines", status.inner_text())
                return int(found.group(1).replace(",", "")) if found else 0

            mark = sim.state.recorded

            def log_opens() -> int:
                return sum(1 for r in sim.state.requests_since(mark) if r.path.endswith("/log"))

            opened = log_opens()
            pair.procs[holder].send_signal(signal.SIGTERM)
            assert pair.procs[holder].wait(timeout=15) == 0
            count = shown()

            # The pane reconnects (a new log stream, through the survivor); lines keep coming.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (
                log_opens() > opened and shown() > count + 2
            ):
                page.wait_for_timeout(200)
            assert log_opens() > opened, "the log pane did not reconnect"
            assert shown() > count + 2, status.inner_text()
            expect(status).to_contain_text("following")
            expect(status.locator('[class*="kl-phase-"]')).to_have_count(0)  # no stream in trouble
            survivor = 1 - holder
            assert re.search(
                r'kubelantern_active_streams\{[^}]*kind="websocket"[^}]*\} [1-9]',
                pair.metrics(survivor, cookie),
            )
            expect(page.locator("#signed-in-user")).to_have_text("Alice Example")
            shot(page, "22-reconnected-to-the-other-replica")
            ctx.close()
    finally:
        sim.server.stop()
        idp_server.stop()
    # The stopped replica's resources failed while it went away: the browser says so.
    assert all("Failed to load resource" in e or "WebSocket" in e for e in problems.errors), (
        problems.errors
    )
