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
from tests.conftest import KUBE_TOKEN, SimCluster
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.proxy import EXEC_OFFER, cluster_base, exec_path, exec_session, find_pod
from tests.harness.servers import ServerThread


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
