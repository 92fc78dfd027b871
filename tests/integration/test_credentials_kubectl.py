"""The exec plugin contract, checked against the real kubectl (client-go).

The same kubeconfig and fake plugin are used by kubectl and by kubelantern: the plugin
must see the same KUBERNETES_EXEC_INFO, args and env from both, and the API server the same
bearer token.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.registry import Registry
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread

pytestmark = pytest.mark.kubectl


def version_app(seen: list[str | None]) -> web.Application:
    async def version(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"major": "1", "minor": "32", "gitVersion": "v1.32.4"})

    app = web.Application()
    app.router.add_get("/version", version)
    return app


@pytest.fixture(scope="module")
def api(pki: Pki) -> Iterator[tuple[ServerThread, list[str | None]]]:
    seen: list[str | None] = []
    with ServerThread(lambda: version_app(seen), ssl_context=pki.server_context()) as server:
        yield server, seen


@pytest.mark.parametrize("api_version", ["v1", "v1beta1"])
async def test_plugin_sees_what_kubectl_gives_it(
    kubectl: str,
    api: tuple[ServerThread, list[str | None]],
    pki: Pki,
    tmp_path: Path,
    api_version: str,
) -> None:
    server, seen = api
    info_file = tmp_path / "info.json"
    exec_cfg = fake_plugin_exec(
        {
            "FAKE_PLUGIN_INFO_FILE": str(info_file),
            "FAKE_PLUGIN_TOKEN": "same",
            "PLUGIN_REGION": "eu-west-1",
        },
        api_version=api_version,
        args=("--cluster", "prod"),
        provideClusterInfo=True,
        interactiveMode="Never",
    )
    ctx = Context(
        "eks",
        server.url,
        ca_pem=pki.ca_pem,
        user={"exec": exec_cfg},
        cluster={
            "tls-server-name": "kubernetes.test",
            "extensions": [
                {"name": "other", "extension": {"x": 1}},
                {
                    "name": "client.authentication.k8s.io/exec",
                    "extension": {"audience": "eks", "nested": {"k": [1, 2]}},
                },
            ],
        },
    )
    path = write_kubeconfig(tmp_path / "config", [ctx])

    seen.clear()
    proc = await asyncio.create_subprocess_exec(
        kubectl,
        "--kubeconfig",
        str(path),
        "get",
        "--raw",
        "/version",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()
    from_kubectl = json.loads(info_file.read_text())
    assert seen and set(seen) == {"Bearer same-1"}  # one plugin run, its token

    result = load_kubeconfigs([path], home=tmp_path)
    registry = Registry.from_specs(result.specs, result.errors)
    cluster = registry.clusters["eks"]
    try:
        assert await cluster.credentials.token() == "same-1"
    finally:
        await registry.close()
    ours = json.loads(info_file.read_text())

    k_cluster = from_kubectl["info"]["spec"]["cluster"]
    o_cluster = ours["info"]["spec"]["cluster"]
    assert o_cluster == k_cluster
    assert o_cluster["config"] == {"audience": "eks", "nested": {"k": [1, 2]}}
    for key in ("server", "certificate-authority-data", "tls-server-name"):
        assert key in o_cluster, key
    assert base64.b64decode(o_cluster["certificate-authority-data"]) == pki.ca_pem
    assert ours["info"]["apiVersion"] == from_kubectl["info"]["apiVersion"]
    assert ours["info"]["kind"] == from_kubectl["info"]["kind"] == "ExecCredential"
    assert ours["info"]["spec"]["interactive"] == from_kubectl["info"]["spec"]["interactive"]
    assert ours["argv"] == from_kubectl["argv"] == ["--cluster", "prod"]
    assert ours["env"] == from_kubectl["env"] == {"PLUGIN_REGION": "eu-west-1"}
