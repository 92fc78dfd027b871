"""Team mode in Chromium: the first visit goes to the identity provider's sign-in page, the
user signs in there, lands back in kubelantern, sees their name, browses a cluster that
knows them only by their OIDC identity, and signs out (at the provider too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.conftest import SimCluster, start_sim
from tests.e2e.conftest import Problems, shot
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.oidc_provider import OidcProvider, sim_trust, start_provider
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread, free_port

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
