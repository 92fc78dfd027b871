"""The JSON API: /api/clusters, /api/config, login/logout, /metrics, /readyz, demo mode."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from kubelantern.proxy.headers import login_cookie_name
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES, KUBE_TOKEN, RANCHER_TOKEN, SimCluster

FIELDS = {
    "name",
    "server",
    "namespace",
    "profile",
    "profileSource",
    "strategy",
    "strategySource",
    "state",
    "error",
    "version",
    "auth",
    "loggedIn",
    "reason",
    "source",
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def test_clusters_list_with_state_profile_and_version(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{lantern.url}/api/clusters") as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "no-store"
        clusters = {c["name"]: c for c in await r.json()}
    assert set(clusters) == set(CONTEXT_NAMES.values())
    for profile, name in CONTEXT_NAMES.items():
        c = clusters[name]
        assert FIELDS <= set(c), name
        assert c["state"] == "ok", c
        assert c["error"] is None
        assert c["server"] == sims[profile].base_url
        assert c["auth"] == "kubeconfig" and c["loggedIn"] is False
        assert isinstance(c["version"], str) and c["version"].startswith("v")
        assert c["strategy"]
    assert clusters["rancher/down:c-m-abc12"]["profile"] == "rancher"
    assert clusters["ocp"]["profile"] == "openshift"
    assert clusters["ocp"]["profileSource"] == "detected"
    assert clusters["kind-dev"]["profile"] == "kubernetes"


async def test_failed_contexts_are_listed_with_their_error(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    kc = write_kubeconfig(
        tmp_path / "config",
        [
            Context(name="down", server="https://127.0.0.1:1", token="t"),
            Context(
                name="broken",
                server="https://127.0.0.1:2",
                token="t",
                cluster={"certificate-authority-data": "bm90IGEgY2VydA=="},
            ),
        ],
    )
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    async with http.get(f"{server.url}/api/clusters") as r:
        clusters = {c["name"]: c for c in await r.json()}
    assert clusters["down"]["state"] == "unreachable"
    assert "'down'" in clusters["down"]["error"]
    assert clusters["broken"]["state"] == "error" and clusters["broken"]["error"]
    async with http.get(f"{server.url}/clusters/broken/api") as r:
        assert r.status == 503
        assert "broken" in (await r.json())["message"]


async def test_config_says_how_long_a_dropped_terminal_is_kept(
    lantern_factory: Callable[..., ServerThread], http: aiohttp.ClientSession
) -> None:
    server = lantern_factory(Settings(launch_token=None), session_grace=7.0)
    async with http.get(f"{server.url}/api/config") as r:
        assert (await r.json())["sessionGrace"] == 7.0


async def test_config_metrics_and_health(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{lantern.url}/api/config") as r:
        config = await r.json()
    assert config["baseUrl"] == "" and config["localMode"] is True
    assert isinstance(config["version"], str) and config["features"]["portForward"] is True
    async with http.get(f"{lantern.url}/clusters/kind-dev/api/v1/namespaces/default/pods/nah"):
        pass
    wanted = 'kubelantern_http_requests_total{cluster="kind-dev",code="404"}'
    async with asyncio.timeout(5):  # counted when the handler returns, maybe after the body
        while True:
            async with http.get(f"{lantern.url}/metrics") as r:
                assert r.status == 200
                text = await r.text()
            if wanted in text:
                break
            await asyncio.sleep(0.02)
    assert r.content_type == "text/plain"
    assert "# TYPE kubelantern_http_requests_total counter" in text
    assert 'kubelantern_http_requests_total{cluster="kind-dev",code="404"}' in text
    assert "# TYPE kubelantern_active_streams gauge" in text
    assert "# TYPE kubelantern_upstream_errors_total counter" in text
    assert "# TYPE kubelantern_websocket_strategy_fallbacks_total counter" in text
    assert 'kubelantern_request_duration_seconds_bucket{cluster="kind-dev",le="+Inf"}' in text
    for path in ("/healthz", "/readyz"):
        async with http.get(f"{lantern.url}{path}") as r:
            assert (r.status, await r.text()) == (200, "ok")
    async with http.get(f"{lantern.url}/api/portforwards") as r:
        assert r.status == 200 and "items" in await r.json()  # mounted in local mode
    async with http.get(f"{lantern.url}/api/nothing-here") as r:
        assert r.status == 404 and (await r.json())["kind"] == "Status"


@pytest.fixture
def tokenless(
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    pki: Pki,
    tmp_path: Path,
) -> ServerThread:
    """kubelantern over the kubernetes simulator with a context that holds no credentials."""
    kc = write_kubeconfig(
        tmp_path / "config",
        [Context(name="anon", server=sims["kubernetes"].base_url, ca_pem=pki.ca_pem)],
    )
    return lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))


async def test_login_verifies_sets_cookie_and_proxy_uses_it(
    tokenless: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    base = tokenless.url
    async with http.get(f"{base}/api/clusters") as r:
        (anon,) = await r.json()
    assert anon["auth"] == "none" and anon["loggedIn"] is False
    async with http.get(f"{base}/clusters/anon/api/v1/namespaces") as r:
        assert r.status == 401  # the simulator refuses anonymous requests

    async with http.post(f"{base}/api/clusters/anon/login", json={"token": "wrong"}) as r:
        assert r.status == 401
        assert "rejected" in (await r.json())["message"]
    async with http.post(f"{base}/api/clusters/anon/login", data=b"nope") as r:
        assert r.status == 400
    async with http.post(f"{base}/api/clusters/nope/login", json={"token": "x"}) as r:
        assert r.status == 404

    async with http.post(f"{base}/api/clusters/anon/login", json={"token": KUBE_TOKEN}) as r:
        assert r.status == 200
        assert await r.json() == {"name": "anon", "loggedIn": True}
        cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{login_cookie_name('anon')}=1~v1.")  # one sealed chunk
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert KUBE_TOKEN not in cookie  # sealed; never a readable token in a header we make

    async with http.get(f"{base}/clusters/anon/api/v1/namespaces?labelSelector=x%3Dlogin") as r:
        assert r.status == 200
    seen = [q for q in sims["kubernetes"].state.requests if "x%3Dlogin" in q.query_string][-1]
    assert seen.header("Authorization") == f"Bearer {KUBE_TOKEN}"
    assert seen.header("Cookie") is None

    async with http.get(f"{base}/api/clusters?wait=0") as r:
        (anon,) = await r.json()
    assert anon["auth"] == "login" and anon["loggedIn"] is True

    async with http.post(f"{base}/api/clusters/anon/logout") as r:
        assert r.status == 200
    async with http.get(f"{base}/clusters/anon/api/v1/namespaces") as r:
        assert r.status == 401


async def test_demo_mode_without_any_kubeconfig(
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not (tmp_path / ".kube").exists()
    server = lantern_factory(Settings(launch_token=None))
    async with http.get(f"{server.url}/api/config") as r:
        assert (await r.json())["demo"] is True
    async with http.get(f"{server.url}/api/clusters") as r:
        clusters = await r.json()
    assert clusters and all(c["state"] == "ok" for c in clusters), clusters
    name = clusters[0]["name"]

    async with http.get(f"{server.url}/clusters/{quote(name, safe='')}/api/v1/namespaces") as r:
        assert r.status == 200
    assert os.environ.get("HOME") == str(tmp_path)


async def test_demo_with_a_kubeconfig_serves_both(
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Issue 11 defect 8: `serve --demo --kubeconfig X` ignored X. Now X's contexts come
    first, then the demo clusters; a context named like a demo cluster keeps the name (that
    demo cluster is left out, and the log says so); /api/clusters says where each is from."""
    sim = sims["kubernetes"]
    clash = dataclasses.replace(sim.context, name="demo-legacy")
    config = write_kubeconfig(tmp_path / "config", [sim.context, clash])
    server = lantern_factory(
        Settings(demo=True, kubeconfigs=(config,), launch_token=None, kubeconfig_poll=0.2)
    )
    async with http.get(f"{server.url}/api/config") as r:
        assert (await r.json())["demo"] is True
    async with http.get(f"{server.url}/api/clusters") as r:
        clusters = await r.json()
    sources = [(c["name"], c["source"]) for c in clusters]
    assert sources == [
        (sim.context.name, "kubeconfig"),
        ("demo-legacy", "kubeconfig"),
        ("demo-kubernetes", "demo"),
        ("demo-rancher", "demo"),
        ("demo-openshift", "demo"),
    ], sources
    for name in (sim.context.name, "demo-legacy", "demo-openshift"):
        async with http.get(f"{server.url}/clusters/{quote(name, safe='')}/version") as r:
            assert r.status == 200, name
    # demo-legacy is the kubeconfig's (the kubernetes simulator), not the legacy demo.
    async with http.get(f"{server.url}/clusters/demo-legacy/version") as r:
        assert (await r.json())["gitVersion"] == sim.state.profile.default_version
    # The kubeconfig changes on disk: its contexts are reloaded, the demo clusters stay.
    write_kubeconfig(tmp_path / "config", [sim.context])
    for _ in range(100):
        async with http.get(f"{server.url}/api/clusters") as r:
            names = [c["name"] for c in await r.json()]
        if "demo-legacy" not in names:
            break
        await asyncio.sleep(0.1)
    assert names == [sim.context.name, "demo-kubernetes", "demo-rancher", "demo-openshift"]


async def test_login_state_is_probed_with_the_users_own_token(
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    pki: Pki,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Issue 11, defect 3: a Rancher cluster without kubeconfig credentials, after a token
    login, is "ok" for that user (the probe used to ask with the kubeconfig's nothing and
    answer "unauthorized, loggedIn"), and still "unauthorized" for everyone else."""
    rancher = sims["rancher"]
    kc = write_kubeconfig(
        tmp_path / "config",
        [Context(name="anon-rancher", server=rancher.base_url, ca_pem=pki.ca_pem)],
    )
    base = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None)).url
    async with http.get(f"{base}/api/clusters") as r:
        (before,) = await r.json()
    assert before["state"] == "unauthorized" and before["loggedIn"] is False, before

    async with http.post(
        f"{base}/api/clusters/anon-rancher/login", json={"token": RANCHER_TOKEN}
    ) as r:
        assert r.status == 200
    async with http.get(f"{base}/api/clusters") as r:
        (mine,) = await r.json()
    assert mine["loggedIn"] is True and mine["auth"] == "login"
    assert mine["state"] == "ok" and mine["error"] is None, mine
    assert isinstance(mine["version"], str) and mine["version"].startswith("v")
    asked = [q for q in rancher.state.requests if q.path.endswith("/version")]
    assert asked and asked[-1].header("Authorization") == f"Bearer {RANCHER_TOKEN}"

    # Another browser (no login cookie) still sees the kubeconfig's state.
    async with aiohttp.ClientSession() as other, other.get(f"{base}/api/clusters") as r:
        (theirs,) = await r.json()
    assert theirs["state"] == "unauthorized" and theirs["loggedIn"] is False, theirs
