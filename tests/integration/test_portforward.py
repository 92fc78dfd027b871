"""Port-forward manager through the JSON API: local TCP <-> pod port over WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelantern.settings import Settings
from kubelantern.web.portforward_api import setup_portforward_routes
from tests.harness.proxy import cluster_base
from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES


@pytest.fixture(scope="module")
def server(kubeconfig: Path) -> Iterator[ServerThread]:
    from kubelantern.web.app import make_app

    def factory() -> Any:
        app = make_app(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
        setup_portforward_routes(app)  # no-op when make_app already did it
        return app

    s = ServerThread(factory).start()
    yield s
    s.stop()


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


async def echo_pod(http: aiohttp.ClientSession, base: str) -> tuple[str, str, int]:
    """A running pod with a declared TCP port the simulator serves as an echo server."""
    async with http.get(f"{base}/api/v1/pods") as resp:
        items = (await resp.json())["items"]
    for pod in items:
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        for container in pod["spec"]["containers"]:
            for port in container.get("ports") or []:
                if port["containerPort"] not in (80, 8080) and port.get("name") != "http":
                    meta = pod["metadata"]
                    return meta["namespace"], meta["name"], port["containerPort"]
    raise AssertionError("no pod with an echo port")


async def round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        got = b""
        async with asyncio.timeout(10):
            while len(got) < len(payload):
                chunk = await reader.read(65536)
                assert chunk, f"connection closed after {len(got)} bytes"
                got += chunk
        return got
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
async def test_forward_a_pod_port(
    server: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    name = CONTEXT_NAMES[profile]
    ns, pod, port = await echo_pod(http, cluster_base(server, profile))
    body = {"cluster": name, "namespace": ns, "pod": pod, "port": port}
    async with http.post(f"{server.url}/api/portforwards", json=body) as resp:
        assert resp.status == 201, await resp.text()
        forward = await resp.json()
    assert forward["cluster"] == name and forward["pod"] == pod and forward["port"] == port
    local = forward["localPort"]
    try:
        payload = bytes(range(256)) * 400  # binary-safe, ~100 KiB
        assert await round_trip(local, payload) == payload
        assert await round_trip(local, b"second connection\n") == b"second connection\n"
        async with http.get(f"{server.url}/api/portforwards") as resp:
            items = {f["id"]: f for f in (await resp.json())["items"]}
        listed = items[forward["id"]]
        assert listed["totalConnections"] >= 2
        assert listed["bytesOut"] >= len(payload) and listed["bytesIn"] >= len(payload)
    finally:
        async with http.delete(f"{server.url}/api/portforwards/{forward['id']}") as resp:
            assert resp.status == 200
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", local)
    async with http.get(f"{server.url}/api/portforwards") as resp:
        assert forward["id"] not in {f["id"] for f in (await resp.json())["items"]}


async def test_forward_a_service_port(server: ServerThread, http: aiohttp.ClientSession) -> None:
    body = {
        "cluster": CONTEXT_NAMES["kubernetes"],
        "namespace": "kube-system",
        "service": "kube-dns",
        "port": 53,
    }
    async with http.post(f"{server.url}/api/portforwards", json=body) as resp:
        assert resp.status == 201, await resp.text()
        forward = await resp.json()
    try:
        assert forward["service"] == "kube-dns" and forward["pod"]
        assert forward["port"] == 53
        assert await round_trip(forward["localPort"], b"dns? echo!") == b"dns? echo!"
    finally:
        async with http.delete(f"{server.url}/api/portforwards/{forward['id']}") as resp:
            assert resp.status == 200


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"cluster": "nope", "namespace": "d", "pod": "p", "port": 80}, 404, "unknown cluster"),
        ({"cluster": "kind-dev", "namespace": "d", "port": 80}, 400, "exactly one"),
        ({"cluster": "kind-dev", "namespace": "d", "pod": "p", "port": 0}, 400, "1-65535"),
        ({"cluster": "kind-dev", "namespace": "default", "pod": "ghost", "port": 80}, 404, ""),
        ({"cluster": "kind-dev"}, 400, "namespace"),
    ],
)
async def test_bad_requests_get_clear_errors(
    server: ServerThread, http: aiohttp.ClientSession, body: dict[str, Any], status: int, text: str
) -> None:
    async with http.post(f"{server.url}/api/portforwards", json=body) as resp:
        assert resp.status == status, await resp.text()
        assert text in (await resp.json())["message"]
    async with http.delete(f"{server.url}/api/portforwards/pf-999") as resp:
        assert resp.status == 404


async def test_pod_side_errors_are_surfaced(
    server: ServerThread, http: aiohttp.ClientSession
) -> None:
    ns, pod, _ = await echo_pod(http, cluster_base(server, "kubernetes"))
    body = {"cluster": CONTEXT_NAMES["kubernetes"], "namespace": ns, "pod": pod, "port": 12345}
    async with http.post(f"{server.url}/api/portforwards", json=body) as resp:
        assert resp.status == 201
        forward = await resp.json()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", forward["localPort"])
        writer.write(b"anyone there?")
        async with asyncio.timeout(10):
            assert await reader.read() == b""  # closed: nothing listens in the pod
        writer.close()
        async with http.get(f"{server.url}/api/portforwards") as resp:
            listed = {f["id"]: f for f in (await resp.json())["items"]}[forward["id"]]
        assert "12345" in (listed["lastError"] or ""), listed
    finally:
        async with http.delete(f"{server.url}/api/portforwards/{forward['id']}") as resp:
            assert resp.status == 200


async def test_forwards_stop_on_shutdown(kubeconfig: Path, http: aiohttp.ClientSession) -> None:
    from tests.harness.stack import start_kubelantern

    own = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
    try:
        ns, pod, port = await echo_pod(http, cluster_base(own, "kubernetes"))
        body = {"cluster": CONTEXT_NAMES["kubernetes"], "namespace": ns, "pod": pod, "port": port}
        async with http.post(f"{own.url}/api/portforwards", json=body) as resp:
            assert resp.status == 201, await resp.text()
            local = (await resp.json())["localPort"]
        assert await round_trip(local, b"before") == b"before"
    finally:
        await asyncio.to_thread(own.stop)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", local)
