"""The streaming HTTP proxy against every simulator profile, over real sockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.proxy import cluster_base, eventually
from tests.harness.servers import ServerThread
from tests.harness.stack import (
    CONTEXT_NAMES,
    KUBE_TOKEN,
    RANCHER_CLUSTER_ID,
    RANCHER_TOKEN,
    SimCluster,
)

PROFILES = ("kubernetes", "rancher", "legacy", "openshift")


def recorded(sim: SimCluster, marker: str) -> Any:
    """The request the simulator saw whose query carries `marker`."""
    found = [r for r in sim.state.requests if marker in r.query_string]
    assert found, f"the simulator never saw a request with {marker!r}"
    return found[-1]


def marker() -> tuple[str, str]:
    """A unique, harmless query parameter to find our request in the simulator's log."""
    value = uuid.uuid4().hex[:12]
    return f"labelSelector=probe%3D{value}", value


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


@pytest.mark.parametrize("profile", PROFILES)
async def test_list_through_proxy_keeps_prefix_and_injects_kubeconfig_auth(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession, profile: str
) -> None:
    query, value = marker()
    async with http.get(f"{cluster_base(lantern, profile)}/api/v1/namespaces?{query}") as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
    assert body["kind"] == "NamespaceList"
    seen = recorded(sims[profile], value)
    prefix = f"/k8s/clusters/{RANCHER_CLUSTER_ID}" if profile == "rancher" else ""
    assert seen.path == f"{prefix}/api/v1/namespaces"
    token = RANCHER_TOKEN if profile == "rancher" else KUBE_TOKEN
    assert seen.header("Authorization") == f"Bearer {token}"
    assert seen.header("User-Agent").startswith("Python/")  # a non-browser client's UA is kept


async def test_browser_user_agent_is_replaced_by_ours(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    query, value = marker()
    ua = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}
    url = f"{cluster_base(lantern, 'rancher')}/api/v1/namespaces?{query}"
    async with http.get(url, headers=ua) as resp:
        assert resp.status == 200
    assert recorded(sims["rancher"], value).header("User-Agent").startswith("kubelantern/")


async def test_decoded_cluster_name_form(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    # kubectl decodes its --server path: /clusters/rancher/down:c-m-abc12/api/...
    query, value = marker()
    url = f"{cluster_base(lantern, 'rancher', encoded=False)}/api/v1/namespaces?{query}"
    async with http.get(url) as resp:
        assert resp.status == 200
    assert recorded(sims["rancher"], value).path.startswith(f"/k8s/clusters/{RANCHER_CLUSTER_ID}/")


async def test_client_bearer_wins_over_kubeconfig(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    query, value = marker()
    headers = {"Authorization": f"Bearer {RANCHER_TOKEN}"}  # the sim knows it; not kind-dev's
    url = f"{cluster_base(lantern, 'kubernetes')}/api/v1/namespaces?{query}"
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 200
    assert recorded(sims["kubernetes"], value).header("Authorization") == f"Bearer {RANCHER_TOKEN}"

    query, value = marker()
    url = f"{cluster_base(lantern, 'kubernetes')}/api/v1/namespaces?{query}"
    async with http.get(url, headers={"Authorization": "Bearer not-a-real-token"}) as resp:
        assert resp.status == 401  # the user's own (bad) token is used, not ours
    assert recorded(sims["kubernetes"], value).header("Authorization") == (
        "Bearer not-a-real-token"
    )


async def test_session_and_hop_by_hop_headers_never_go_upstream(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    query, value = marker()
    headers = {
        "Cookie": "kl-launch-x=secret; R_SESS=browser",
        "X-Kubelantern-Token": "launch-secret",
        "Connection": "keep-alive, X-Private-Hop",
        "X-Private-Hop": "1",
        "Keep-Alive": "timeout=5",
        "Referer": "http://127.0.0.1/?token=launch-secret",
        "Origin": f"{lantern.url}",
        "Kubectl-Command": "kubectl get",
        "Accept": "application/json",
    }
    url = f"{cluster_base(lantern, 'openshift')}/api/v1/namespaces?{query}"
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 200
    seen = recorded(sims["openshift"], value)
    names = {k.lower() for k, _ in seen.headers}
    for banned in ("cookie", "x-kubelantern-token", "x-private-hop", "keep-alive", "referer"):
        assert banned not in names, banned
    assert "origin" not in names
    assert seen.header("Kubectl-Command") == "kubectl get"
    assert seen.header("Host") == URL(sims["openshift"].base_url).raw_authority


async def test_watch_streams_events_live(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    base = f"{cluster_base(lantern, 'kubernetes')}/api/v1/namespaces/default/configmaps"
    name = f"live-{uuid.uuid4().hex[:8]}"
    async with http.get(f"{base}?watch=true&allowWatchBookmarks=false") as watch:
        assert watch.status == 200
        # Create an object while the watch is open; its ADDED event must arrive on the
        # same open stream (nothing buffered until the end).
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
        async with http.post(base, json=body) as created:
            assert created.status == 201, await created.text()
        async with asyncio.timeout(10):
            while True:
                line = await watch.content.readline()
                assert line, "watch ended before the event arrived"
                event = json.loads(line)
                if event["object"]["metadata"].get("name") == name:
                    break
        assert event["type"] == "ADDED"
        assert not watch.content.at_eof()


async def _first_pod(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with http.get(f"{base}/api/v1/pods") as resp:
        pods = (await resp.json())["items"]
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    assert running, "the simulator has no running pod"
    pod = running[0]
    return pod["metadata"]["namespace"], pod["metadata"]["name"]


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
async def test_logs_follow_streams_before_the_end(
    lantern: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    base = cluster_base(lantern, profile)
    ns, pod = await _first_pod(http, base)
    url = f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?follow=true&tailLines=2"
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        async with asyncio.timeout(10):
            first = await resp.content.readline()
            second = await resp.content.readline()
            third = await resp.content.readline()  # a line written after we connected
        assert first and second and third
        assert not resp.content.at_eof()


async def test_client_disconnect_closes_the_upstream_watch(
    lantern: ServerThread, sims: dict[str, SimCluster]
) -> None:
    store = sims["legacy"].state.store
    before = len(store.watchers)
    url = f"{cluster_base(lantern, 'legacy')}/api/v1/namespaces/default/configmaps?watch=true"
    session = aiohttp.ClientSession()
    resp = await session.get(url)
    assert resp.status == 200
    await eventually(lambda: len(store.watchers) == before + 1)
    resp.close()  # drop the connection mid-stream
    await session.close()
    await eventually(lambda: len(store.watchers) == before)


async def test_upstream_errors_pass_through_intact(
    lantern: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession, pki: Pki
) -> None:
    url = f"{cluster_base(lantern, 'kubernetes')}/api/v1/namespaces/default/pods/no-such-pod"
    async with http.get(url) as resp:
        assert resp.status == 404
        body = await resp.json()
    assert body["kind"] == "Status" and body["reason"] == "NotFound"
    assert "no-such-pod" in body["message"]

    # Rancher's own 401 body, byte for byte as the direct answer.
    path = f"/k8s/clusters/{RANCHER_CLUSTER_ID}/api/v1/namespaces"
    bad = {"Authorization": "Bearer token-wrong:nope"}
    async with http.get(f"{cluster_base(lantern, 'rancher')}/api/v1/namespaces", headers=bad) as r:
        proxied = (r.status, await r.read(), r.headers.get("Content-Type"))
    async with http.get(
        f"{sims['rancher'].server.url}{path}", headers=bad, ssl=pki.client_context()
    ) as r:
        direct = (r.status, await r.read(), r.headers.get("Content-Type"))
    assert proxied == direct
    assert proxied[0] == 401


async def test_unknown_cluster_and_bad_paths(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{lantern.url}/clusters/nope/api") as resp:
        assert resp.status == 404
        body = await resp.json()
    assert "'nope'" in body["message"] and "kind-dev" in body["message"]

    bad = URL(f"{cluster_base(lantern, 'kubernetes')}/api/%2e%2e/%2e%2e/secret", encoded=True)
    async with http.get(bad) as resp:
        assert resp.status == 400
        assert "kind-dev" in (await resp.json())["message"]

    h2c = {"Connection": "Upgrade", "Upgrade": "h2c"}
    url = f"{cluster_base(lantern, 'kubernetes')}/api/v1/namespaces/default/pods/x/exec"
    async with http.post(url, headers=h2c) as resp:
        assert resp.status == 400
        assert "unsupported Upgrade 'h2c'" in (await resp.json())["message"]


async def test_unreachable_cluster_is_a_502_naming_it(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    kc = write_kubeconfig(
        tmp_path / "config", [Context(name="gone", server="https://127.0.0.1:1", token="t")]
    )
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    async with http.get(f"{server.url}/clusters/gone/api/v1/pods") as resp:
        assert resp.status == 502
        body = await resp.json()
    assert body["kind"] == "Status" and body["code"] == 502
    assert body["message"].startswith("cluster 'gone' unreachable:")
    assert "refused" in body["message"]


async def test_tls_verification_failure_says_so(
    lantern_factory: Callable[..., ServerThread],
    sims: dict[str, SimCluster],
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    # The simulator's real URL, but no CA: its certificate cannot be verified.
    kc = write_kubeconfig(
        tmp_path / "config",
        [Context(name="no-ca", server=sims["kubernetes"].base_url, token=KUBE_TOKEN)],
    )
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    async with http.get(f"{server.url}/clusters/no-ca/api/v1/pods") as resp:
        assert resp.status == 502
        message = (await resp.json())["message"]
    assert message.startswith("TLS verification failed for cluster 'no-ca'")
    assert "certificate-authority" in message


async def test_exec_plugin_401_refresh_and_retry(
    lantern_factory: Callable[..., ServerThread],
    sim_factory: Callable[..., SimCluster],
    pki: Pki,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    # The plugin prints rotating-1, then rotating-2; the cluster only accepts the second.
    sim = sim_factory("kubernetes", tokens={"rotating-2": "admin"})
    runs = tmp_path / "runs"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_COUNT_FILE": str(runs), "FAKE_PLUGIN_TOKEN": "rotating"},
        interactiveMode="Never",
    )
    kc = write_kubeconfig(
        tmp_path / "config",
        [Context(name="eks", server=sim.base_url, ca_pem=pki.ca_pem, user={"exec": exec_cfg})],
    )
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    # Let the startup probe use (and burn) rotating-1 first or not: either way the proxied
    # request must end with 200 on rotating-2.
    query, value = marker()
    async with http.get(f"{server.url}/clusters/eks/api/v1/namespaces?{query}") as resp:
        assert resp.status == 200, await resp.text()
    assert recorded(sim, value).header("Authorization") == "Bearer rotating-2"
    tries = [r.header("Authorization") for r in sim.state.requests if value in r.query_string]
    assert tries[-1] == "Bearer rotating-2"
    assert len(tries) <= 2


async def test_request_body_streams_upstream_and_errors_come_back(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    base = f"{cluster_base(lantern, 'openshift')}/api/v1/namespaces/default/configmaps"
    name = f"big-{uuid.uuid4().hex[:8]}"
    payload = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"blob": "x" * (2 * 1024 * 1024)},  # above the retry buffer: streamed
    }
    async with http.post(
        base, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 201, await resp.text()
    async with http.get(f"{base}/{name}") as resp:
        assert len((await resp.json())["data"]["blob"]) == 2 * 1024 * 1024
    async with http.post(
        base, data=b"{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        assert (await r.json())["kind"] == "Status"


async def test_silent_server_is_a_504_not_a_hang(
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kubelantern.proxy.http as proxy_http

    monkeypatch.setattr(proxy_http, "CONNECT_TIMEOUT", 0.5)
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept TCP, never answer the TLS ClientHello

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        kc = write_kubeconfig(
            tmp_path / "config",
            [Context(name="mute", server=f"https://127.0.0.1:{port}", token="t")],
        )
        lantern = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
        async with asyncio.timeout(20):
            async with http.get(f"{lantern.url}/clusters/mute/api/v1/pods") as resp:
                assert resp.status == 504
                body = await resp.json()
        assert body["reason"] == "Timeout"
        assert "'mute'" in body["message"] and "0.5s" in body["message"]
    finally:
        for w in held:
            w.close()
        server.close()


async def test_a_cluster_silent_after_the_handshake_is_a_504_after_the_answer_deadline(
    lantern_factory: Callable[..., ServerThread],
    sim_factory: Callable[..., SimCluster],
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # TLS done, connection pooled, then the cluster stops answering: the answer deadline
    # (proxy/deadline.py, swept once a second) ends the request, never a hang.
    import kubelantern.proxy.http as proxy_http
    from tests.harness.faultproxy import FaultProxy

    monkeypatch.setattr(proxy_http, "HEADERS_TIMEOUT", 0.5)
    sim = sim_factory("kubernetes")
    with FaultProxy("127.0.0.1", sim.server.port) as fault:
        kc = write_kubeconfig(
            tmp_path / "config",
            [Context("hung", fault.url, ca_pem=sim.context.ca_pem, token=sim.context.token)],
        )
        lantern = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
        url = f"{lantern.url}/clusters/hung/api/v1/namespaces"
        async with http.get(url) as resp:
            assert resp.status == 200, await resp.text()
        await asyncio.to_thread(fault.stall)
        started = asyncio.get_running_loop().time()
        async with asyncio.timeout(20), http.get(url) as resp:
            assert resp.status == 504, await resp.text()
            body = await resp.json()
        took = asyncio.get_running_loop().time() - started
        assert body["reason"] == "Timeout"
        assert "'hung'" in body["message"] and "0.5s" in body["message"], body
        assert 0.5 <= took < 10, took


async def test_client_disconnect_ends_a_follow_stream(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    name = CONTEXT_NAMES["rancher"]
    base = cluster_base(lantern, "rancher")
    ns, pod = await _first_pod(http, base)

    async def gauge() -> int:
        async with http.get(f"{lantern.url}/metrics") as r:
            text = await r.text()
        line = f'kubelantern_active_streams{{cluster="{name}",kind="http"}} '
        found = [ln for ln in text.splitlines() if ln.startswith(line)]
        return int(found[0].rsplit(" ", 1)[1]) if found else 0

    # Streams of earlier tests end within the disconnect poll: let the gauge settle first.
    async with asyncio.timeout(10):
        while await gauge() != 0:  # noqa: ASYNC110 - server-side state, polled
            await asyncio.sleep(0.1)
    before = 0
    own = aiohttp.ClientSession()
    resp = await own.get(f"{base}/api/v1/namespaces/{ns}/pods/{pod}/log?follow=true")
    assert resp.status == 200
    assert await resp.content.readline()
    assert await gauge() == before + 1
    resp.close()
    await own.close()
    async with asyncio.timeout(10):
        while await gauge() != before:  # noqa: ASYNC110 - server-side state, polled
            await asyncio.sleep(0.1)
