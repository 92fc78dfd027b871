"""The cluster probe behind /api/clusters: classification, detection, caching, bounds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelantern.clusters.probe import (
    ERROR,
    OK,
    UNAUTHORIZED,
    UNKNOWN,
    UNREACHABLE,
    Prober,
    api_groups_of,
    classify,
    probe_cluster,
)
from kubelantern.clusters.registry import Registry, load_registry
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import free_port
from tests.harness.stack import SimCluster


def test_classify() -> None:
    assert classify(200, b"{}", "c") == (OK, None)
    assert classify(403, b"{}", "c") == (OK, None)  # authenticated, just not allowed
    state, error = classify(401, b'{"kind":"Status","message":"Unauthorized"}', "prod")
    assert state == UNAUTHORIZED and error is not None and "'prod'" in error
    state, error = classify(500, b"boom", "prod")
    assert state == ERROR and error is not None and "500" in error and "boom" in error


def test_api_groups_of_both_discovery_shapes() -> None:
    legacy = {"kind": "APIGroupList", "groups": [{"name": "apps"}, {"name": "route.openshift.io"}]}
    assert api_groups_of(legacy) == ("apps", "route.openshift.io")
    aggregated = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"name": "batch"}}]}
    assert api_groups_of(aggregated) == ("batch",)
    assert api_groups_of(["nonsense"]) == ()


async def _registry(kubeconfig: Path) -> Registry:
    return await load_registry(Settings(kubeconfigs=(kubeconfig,)))


async def test_probe_detects_profiles_and_versions(
    sims: dict[str, SimCluster], kubeconfig: Path
) -> None:
    registry = await _registry(kubeconfig)
    try:
        ocp = registry.get("ocp")
        assert ocp is not None
        result = await probe_cluster(ocp)
        assert result.state == OK and result.version and result.version.startswith("v")
        assert ocp.profile.name == "openshift" and ocp.profile_source == "detected"
        assert result.profile_reason and "openshift" in result.profile_reason
        rancher = registry.get("rancher/down:c-m-abc12")
        assert rancher is not None
        assert (await probe_cluster(rancher)).state == OK
        assert rancher.profile.name == "rancher"
    finally:
        await registry.close()


async def test_prober_caches_and_never_waits_long(
    sims: dict[str, SimCluster], kubeconfig: Path, tmp_path: Path
) -> None:
    registry = await _registry(kubeconfig)
    prober = Prober(ttl=60)
    try:
        kind = registry.get("kind-dev")
        assert kind is not None
        state = sims["kubernetes"].state
        first = await prober.results([kind])
        assert first["kind-dev"].state == OK
        before = state.recorded
        again = await prober.results([kind])
        assert again["kind-dev"] is first["kind-dev"]  # cached: no new /version request
        assert not [r for r in state.requests_since(before) if r.path == "/version"]
    finally:
        await prober.close()
        await registry.close()

    # A server that never answers: the caller gets "unknown" at once, the probe goes on.
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    kc = write_kubeconfig(
        tmp_path / "mute", [Context(name="mute", server=f"https://127.0.0.1:{port}", token="t")]
    )
    registry = await _registry(kc)
    prober = Prober(timeout=1.0)
    try:
        mute = registry.get("mute")
        assert mute is not None
        async with asyncio.timeout(0.9):
            quick = await prober.results([mute], wait=0.2)
        assert quick["mute"].state == UNKNOWN
        async with asyncio.timeout(5):
            final = await prober.start(mute)
        assert final.state == UNREACHABLE and "'mute'" in (final.error or "")
    finally:
        await prober.close()
        await registry.close()
        for w in held:
            w.close()
        server.close()


async def test_hopeless_failures_are_not_probed_again_until_asked(
    sims: dict[str, SimCluster], pki: Pki, tmp_path: Path
) -> None:
    """Issue 11, defect 4: a failing exec plugin is not re-run by every refresh after the
    cache time (it used to be, forever); an unreachable server is asked again."""
    count = tmp_path / "runs"
    kc = write_kubeconfig(
        tmp_path / "config",
        [
            Context(
                "failplugin",
                sims["kubernetes"].base_url,
                ca_pem=pki.ca_pem,
                user={
                    "exec": fake_plugin_exec(
                        {"FAKE_PLUGIN_MODE": "fail", "FAKE_PLUGIN_COUNT_FILE": str(count)}
                    )
                },
            ),
            Context("down", f"https://127.0.0.1:{free_port()}", ca_pem=pki.ca_pem, token="t"),
        ],
    )
    registry = await _registry(kc)
    prober = Prober(ttl=0.05)
    try:
        plugin, down = registry.get("failplugin"), registry.get("down")
        assert plugin is not None and down is not None
        first = await prober.results([plugin, down], wait=30)
        assert first["failplugin"].reason == "exec-plugin", first
        assert first["down"].reason == "unreachable", first
        runs = len(count.read_text().splitlines())
        await asyncio.sleep(0.2)  # past the cache time
        again = await prober.results([plugin, down], wait=30)
        assert again["failplugin"] is first["failplugin"]
        assert len(count.read_text().splitlines()) == runs  # the plugin did not run again
        assert again["down"] is not first["down"]  # a transient failure is asked again
        prober.forget("failplugin")  # "Re-run the plugin"
        await prober.results([plugin], wait=30)
        assert len(count.read_text().splitlines()) > runs
    finally:
        await prober.close()
        await registry.close()


async def test_prober_bounds_probes_in_flight(tmp_path: Path) -> None:
    """A first /api/clusters over many contexts dials at most `at_once` clusters together."""
    held: list[asyncio.StreamWriter] = []
    open_now = 0
    most = 0
    three = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        if most >= 3:
            three.set()
        held.append(writer)
        await reader.read()  # until the prober gives up on the connection
        open_now -= 1

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    kc = write_kubeconfig(tmp_path / "many", [Context(f"c{i}", url, token="t") for i in range(20)])
    registry = await _registry(kc)
    prober = Prober(timeout=30.0, at_once=3)
    try:
        answers = await prober.results(list(registry), wait=0.2)
        assert {r.state for r in answers.values()} == {UNKNOWN}
        async with asyncio.timeout(10):
            await three.wait()
        await asyncio.sleep(0.5)  # room for more connections, had the bound been missing
        assert most == 3 and len(held) == 3
    finally:
        await prober.close()
        await registry.close()
        for w in held:
            w.close()
        server.close()
