"""The built-in demo clusters and `python -m kubesim`, over plain HTTP on loopback."""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from kubelantern.demo import demo_specs
from kubesim.demo import start_demo

VERSIONS = {
    "demo-kubernetes": "v1.32.4",
    "demo-rancher": "v1.32.4",
    "demo-openshift": "v1.30.7+rhcos",
    "demo-legacy": "v1.27.16",
}


async def test_demo_starts_one_cluster_per_profile() -> None:
    demo = await start_demo()
    try:
        names = [s.name for s in demo_specs(demo)]
        assert names == ["demo-kubernetes", "demo-rancher", "demo-openshift", "demo-legacy"]
        rancher = demo_specs(demo)[1]
        assert rancher.server.startswith("http://127.0.0.1:") and rancher.server.endswith(
            "/k8s/clusters/c-m-abc12"
        )
        async with aiohttp.ClientSession() as http:
            for spec in demo_specs(demo):
                headers = {"Authorization": f"Bearer {spec.auth.token}"}
                async with http.get(
                    spec.server + "/api/v1/namespaces/shop/pods", headers=headers
                ) as resp:
                    assert resp.status == 200, spec.name
                    assert len((await resp.json())["items"]) >= 8
                async with http.get(spec.server + "/version", headers=headers) as resp:
                    assert (await resp.json())["gitVersion"] == VERSIONS[spec.name]
    finally:
        await demo.close()
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(demo_specs(demo)[0].server + "/version") as resp:
                raise AssertionError(f"still serving after close: {resp.status}")
        except aiohttp.ClientConnectionError:
            pass


async def test_module_entry_point_prints_url_and_token() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kubesim",
        "--profile",
        "rancher",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            first = (await proc.stdout.readline()).decode()
            second = (await proc.stdout.readline()).decode()
        url = first.split()[-1]
        token = second.split()[-1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/k8s/clusters/c-m-abc12")
        async with aiohttp.ClientSession() as http:
            async with http.get(
                url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert resp.status == 200
                assert resp.headers["X-Api-Cattle-Auth"] == "true"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
