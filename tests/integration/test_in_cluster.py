"""In-cluster mode: kubelantern acts only with the user's own token, on every path.

The service account mount is stood in for by the kubernetes simulator's spec, so the
refusal is checked against a cluster that would otherwise accept kubelantern's credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.clusters import registry as registry_module
from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.proxy.subprotocols import encode_bearer
from kubelantern.settings import Settings
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.proxy import EXEC_OFFER, cluster_base, exec_path, exec_session, find_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN, SimCluster


async def test_no_user_token_is_a_401_for_http_and_websocket(
    sims: dict[str, SimCluster],
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kc = write_kubeconfig(tmp_path / "config", [sims["kubernetes"].context])
    spec = load_kubeconfigs([kc], home=tmp_path).specs[0]
    assert spec.auth.token  # kubelantern itself holds a working credential
    monkeypatch.setattr(registry_module, "load_in_cluster", lambda: spec)
    server = lantern_factory(Settings(in_cluster=True, launch_token=None))
    base = cluster_base(server, spec.name)
    user = {"Authorization": f"Bearer {KUBE_TOKEN}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/pods") as resp:
            assert resp.status == 401
            assert "log in" in (await resp.json())["message"]
        ns, pod, container = await find_pod(http, base, headers=user)
        url = base + exec_path(ns, pod, container, ["echo", "as the user"])

        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with http.ws_connect(url, protocols=EXEC_OFFER):
                pass
        assert refused.value.status == 401

        got = await exec_session(http, url, protocols=(*EXEC_OFFER, encode_bearer(KUBE_TOKEN)))
        assert got.stdout == b"as the user\n"
        got = await exec_session(http, url, headers=user)
        assert got.stdout == b"as the user\n"


async def test_in_cluster_with_extra_kubeconfig_clusters(
    sims: dict[str, SimCluster],
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deploy/kubernetes/overlays/extra-clusters: the home cluster acts as the user only; the
    kubeconfig Secret's clusters keep their own credentials."""
    home_kc = write_kubeconfig(tmp_path / "home", [sims["kubernetes"].context])
    home = load_kubeconfigs([home_kc], home=tmp_path).specs[0]
    monkeypatch.setattr(registry_module, "load_in_cluster", lambda: home)
    extra = write_kubeconfig(tmp_path / "extra", [sims["legacy"].context])
    server = lantern_factory(Settings(in_cluster=True, kubeconfigs=(extra,), launch_token=None))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/clusters?wait=0") as resp:
            auth = {c["name"]: c["auth"] for c in await resp.json()}
        assert auth == {home.name: "login", sims["legacy"].context.name: "kubeconfig"}
        async with http.get(f"{cluster_base(server, home.name)}/api/v1/namespaces") as resp:
            assert resp.status == 401  # never the service account's credentials
        async with http.get(f"{cluster_base(server, 'legacy')}/api/v1/namespaces") as resp:
            assert resp.status == 200
