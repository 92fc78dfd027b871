"""Team mode end to end over real sockets: kubelantern with OIDC sign-in in front of two
simulators — one that knows users only by their OIDC identity (no kubeconfig credentials),
one reached with kubeconfig credentials — and the loopback provider over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.oidc_provider import OidcProvider, browser_sign_in, sim_trust, start_provider
from tests.harness.pki import Pki
from tests.harness.proxy import exec_path, exec_session, find_pod
from tests.harness.servers import ServerThread, free_port
from tests.harness.stack import KUBE_TOKEN, SimCluster

SECRET = "team-mode-secret-0123456789-abcdefghijk"


@dataclass
class Team:
    idp: OidcProvider
    users: SimCluster  # user identity: no credentials in the kubeconfig
    ops: SimCluster  # kubeconfig credentials
    lantern: ServerThread


@pytest.fixture
def team(pki: Pki, sim_factory: Callable[..., SimCluster], tmp_path: Path) -> Iterator[Team]:
    idp, idp_server = start_provider(pki.server_context(), auto_user="alice")
    users = sim_factory("kubernetes", oidc=sim_trust(idp))
    ops = sim_factory("kubernetes")
    config = write_kubeconfig(
        tmp_path / "config",
        [
            Context("team", users.base_url, ca_pem=pki.ca_pem),  # no token: the user's own
            Context("ops", ops.base_url, ca_pem=pki.ca_pem, token=KUBE_TOKEN),
        ],
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
        session_secret=SECRET,
    )
    from kubelantern.web.app import make_app

    lantern = ServerThread(lambda: make_app(settings), port=port).start()
    yield Team(idp, users, ops, lantern)
    lantern.stop()
    idp_server.stop()


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)


async def test_the_signed_in_users_token_reaches_user_identity_clusters(
    team: Team, pki: Pki
) -> None:
    url = team.lantern.url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        # Not signed in: the proxy refuses, the page load goes to the sign-in.
        async with http.get(f"{url}/clusters/team/api/v1/namespaces") as resp:
            assert resp.status == 401
            assert "sign in at" in (await resp.json())["message"]
        async with http.get(
            f"{url}/c/team", headers={"Accept": "text/html"}, allow_redirects=False
        ) as resp:
            assert (
                resp.status == 302 and "/oidc/login?return_to=/c/team" in resp.headers["Location"]
            )
        await browser_sign_in(http, url, pki.client_context(), "/c/team")
        async with http.get(f"{url}/api/me") as resp:
            me = await resp.json()
        assert me["signedIn"] and me["name"] == "Alice Example"

        before = team.users.state.recorded
        async with http.get(f"{url}/clusters/team/api/v1/namespaces") as resp:
            assert resp.status == 200, await resp.text()
        seen = team.users.state.requests_since(before)
        assert seen and all(r.user == "oidc:alice@example.com" and r.via == "oidc" for r in seen)
        bearer = seen[-1].header("Authorization") or ""
        assert bearer.startswith("Bearer ey") and KUBE_TOKEN not in bearer

        # The kubeconfig cluster keeps its own credentials (the user's token does not go there).
        before_ops = team.ops.state.recorded
        async with http.get(f"{url}/clusters/ops/api/v1/namespaces") as resp:
            assert resp.status == 200
        assert {r.user for r in team.ops.state.requests_since(before_ops)} == {"admin"}

        # A shell (WebSocket exec) on the user-identity cluster carries the user too.
        ns, pod, container = await find_pod(http, f"{url}/clusters/team")
        before = team.users.state.recorded
        session = await exec_session(
            http,
            f"{url}/clusters/team{exec_path(ns, pod, container, ['echo', 'hi'])}",
            headers={"Origin": url},
        )
        assert session.stdout == b"hi\n"
        upgrades = [r for r in team.users.state.requests_since(before) if "/exec" in r.path]
        assert upgrades and upgrades[-1].user == "oidc:alice@example.com"


async def test_config_and_logout(team: Team, pki: Pki) -> None:
    url = team.lantern.url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        async with http.get(f"{url}/api/config") as resp:  # open: the SPA reads it first
            config = await resp.json()
        assert config["signIn"] == "oidc" and config["localMode"] is False
        assert config["features"]["portForward"] is False  # no listeners on a shared server
        await browser_sign_in(http, url, pki.client_context())
        async with http.get(f"{url}/api/clusters?wait=0") as resp:
            auth = {c["name"]: c["auth"] for c in await resp.json()}
        assert auth == {"team": "user", "ops": "kubeconfig"}
        async with http.post(f"{url}/oidc/logout", headers={"Origin": url}) as resp:
            body = await resp.json()
        assert body["redirect"].startswith(team.idp.issuer)
        async with http.get(f"{url}/clusters/team/api/v1/namespaces") as resp:
            assert resp.status == 401
        # A cross-site logout (foreign Origin) is refused by the Origin check.
        async with http.post(
            f"{url}/oidc/logout", headers={"Origin": "https://evil.example.com"}
        ) as resp:
            assert resp.status == 403


async def test_trusted_header_identity_impersonates(
    sim_factory: Callable[..., SimCluster], pki: Pki, tmp_path: Path
) -> None:
    """--auth-header: the proxy's user goes upstream as Impersonate-User; a client's own
    Impersonate-* headers and the trusted header itself never do."""
    from tests.harness.stack import start_kubelantern

    sim = sim_factory("kubernetes")
    config = write_kubeconfig(
        tmp_path / "config", [Context("ops", sim.base_url, ca_pem=pki.ca_pem, token=KUBE_TOKEN)]
    )
    lantern = start_kubelantern(
        Settings(kubeconfigs=(config,), launch_token=None, auth_header="X-Forwarded-User")
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{lantern.url}/clusters/ops/api/v1/namespaces") as resp:
                assert resp.status == 401
                assert "X-Forwarded-User missing" in (await resp.json())["message"]
            before = sim.state.recorded
            headers = {"X-Forwarded-User": "bob@example.com", "Impersonate-User": "admin"}
            async with http.get(
                f"{lantern.url}/clusters/ops/api/v1/namespaces", headers=headers
            ) as resp:
                assert resp.status == 200
            (seen,) = [
                r for r in sim.state.requests_since(before) if r.path.endswith("/namespaces")
            ]
            assert seen.header_values("Impersonate-User") == ["bob@example.com"]
            assert seen.header("X-Forwarded-User") is None
            async with http.get(f"{lantern.url}/api/me", headers=headers) as resp:
                assert (await resp.json())["name"] == "bob@example.com"
    finally:
        lantern.stop()
