"""Clusters loaded from kubeconfig, talking to the project's simulator over HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubelantern.clusters import profiles
from kubelantern.clusters.registry import Cluster, load_registry
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.stack import CONTEXT_NAMES, RANCHER_TOKEN, SimCluster


async def get(cluster: Cluster, api_path: str, query: str = "") -> int:
    session = await cluster.session()
    headers = await cluster.auth_headers()
    url = cluster.upstream_url(api_path, query)
    async with session.get(url, headers=headers, **cluster.request_kwargs()) as resp:
        await resp.read()
        return resp.status


async def test_every_sim_answers_through_its_cluster(
    kubeconfig: Path, sims: dict[str, SimCluster]
) -> None:
    registry = await load_registry(Settings(kubeconfigs=(kubeconfig,)))
    try:
        assert registry.errors == []
        assert sorted(registry.clusters) == sorted(CONTEXT_NAMES[p] for p in sims)
        for profile, sim in sims.items():
            name = CONTEXT_NAMES[profile]
            # The name as the browser (encoded) and as kubectl (decoded) sends it.
            encoded = name.replace("/", "%2F").replace(":", "%3A").replace("@", "%40")
            for tail in (f"{encoded}/api/v1/namespaces", f"{name}/api/v1/namespaces"):
                found = registry.resolve(tail)
                assert found is not None and found[0].name == name
                cluster, api_path = found
            before = sim.state.recorded
            assert await get(cluster, api_path, "limit=5") == 200, profile
            recorded = sim.state.requests_since(before)
            assert recorded, profile
            last = recorded[-1]
            prefix = "/k8s/clusters/c-m-abc12" if profile == "rancher" else ""
            assert (last.path, last.query_string) == (prefix + "/api/v1/namespaces", "limit=5")
            assert last.header("Authorization") == f"Bearer {sim.context.token}"
            assert (last.header("User-Agent") or "").startswith("kubelantern/")
        rancher = registry.clusters[CONTEXT_NAMES["rancher"]]
        assert rancher.profile is profiles.RANCHER and rancher.profile_source == "detected"
    finally:
        await registry.close()


async def test_exec_plugin_rotation_against_sim(
    sim_factory: Callable[..., SimCluster], tmp_path: Path
) -> None:
    # The simulator knows only the plugin's second token: the first answers 401.
    sim = sim_factory("kubernetes", tokens={"rotating-2": "admin"})
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_TOKEN": "rotating", "FAKE_PLUGIN_COUNT_FILE": str(tmp_path / "runs")},
        interactiveMode="Never",
    )
    ctx = Context("eks", sim.context.server, ca_pem=sim.context.ca_pem, user={"exec": exec_cfg})
    path = write_kubeconfig(tmp_path / "config", [ctx])
    registry = await load_registry(Settings(kubeconfigs=(path,)))
    try:
        cluster = registry.clusters["eks"]
        assert await get(cluster, "/api/v1/namespaces") == 401
        assert await cluster.credentials.refresh("rotating-1") is True
        assert await get(cluster, "/api/v1/namespaces") == 200
        assert (tmp_path / "runs").read_text().count("run") == 2
    finally:
        await registry.close()


async def test_basic_auth_against_sims(sims: dict[str, SimCluster], tmp_path: Path) -> None:
    """kube-apiserver: user/password; Rancher: its API key pair as Basic credentials."""
    access, _, secret = RANCHER_TOKEN.partition(":")
    cases = {
        "kube-basic": ("kubernetes", "admin", "sim-password", 200),
        "kube-wrong": ("kubernetes", "admin", "nope", 401),
        "rancher-basic": ("rancher", access, secret, 200),
        "rancher-wrong": ("rancher", access, "nope", 401),
    }
    contexts = [
        Context(
            name,
            sims[profile].context.server,
            ca_pem=sims[profile].context.ca_pem,
            user={"username": user, "password": password},
        )
        for name, (profile, user, password, _) in cases.items()
    ]
    path = write_kubeconfig(tmp_path / "config", contexts)
    registry = await load_registry(Settings(kubeconfigs=(path,)))
    try:
        for name, (*_, status) in cases.items():
            assert await get(registry.clusters[name], "/api/v1/namespaces") == status, name
        assert registry.clusters["kube-basic"].credentials.describe() == "basic auth (user admin)"
    finally:
        await registry.close()
