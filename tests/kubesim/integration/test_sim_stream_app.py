"""The streaming side through the simulator's full app (auth, prefix, store), per profile."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.harness.pki import Pki
from tests.harness.stack import SimCluster

V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"


def headers(sim: SimCluster) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.context.token}"}


async def running_pod(session: aiohttp.ClientSession, sim: SimCluster, ssl: Any) -> str:
    """Any seeded single-container Running pod in `shop`."""
    async with session.get(
        f"{sim.base_url}/api/v1/namespaces/shop/pods", headers=headers(sim), ssl=ssl
    ) as resp:
        assert resp.status == 200
        pods = (await resp.json())["items"]
    for pod in pods:
        if pod["status"].get("phase") == "Running" and len(pod["spec"]["containers"]) == 1:
            return str(pod["metadata"]["name"])
    raise AssertionError("no running single-container pod seeded in shop")


@contextlib.asynccontextmanager
async def pod_session(sim: SimCluster, pki: Pki) -> AsyncIterator[tuple[Any, Any, str]]:
    """(client session, TLS context trusting the sim, a running pod of `shop` to stream from)."""
    ssl = pki.client_context()
    async with aiohttp.ClientSession() as session:
        yield session, ssl, await running_pod(session, sim, ssl)


async def exec_once(
    session: aiohttp.ClientSession, sim: SimCluster, ssl: Any, pod: str, protocols: list[str]
) -> tuple[str | None, bytes, bytes]:
    url = f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/exec?command=hostname&stdout=true"
    async with session.ws_connect(url, protocols=protocols, headers=headers(sim), ssl=ssl) as ws:
        out, status = b"", b""
        async with asyncio.timeout(15):
            async for msg in ws:
                if msg.data[0] == 1:
                    out += msg.data[1:]
                elif msg.data[0] == 3:
                    status += msg.data[1:]
        assert ws.close_code == 1000
        return ws.protocol, out, status


@pytest.mark.parametrize("profile", ["kubernetes", "rancher", "openshift", "legacy"])
async def test_exec_negotiation_per_profile(
    sims: dict[str, SimCluster], pki: Pki, profile: str
) -> None:
    sim = sims[profile]
    async with pod_session(sim, pki) as (session, ssl, pod):
        proto, out, status = await exec_once(session, sim, ssl, pod, [V5, V4])
        assert proto == (V4 if profile == "legacy" else V5)
        assert out == f"{pod}\n".encode()
        assert json.loads(status) == {"metadata": {}, "status": "Success"}
        if profile == "legacy":
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await exec_once(session, sim, ssl, pod, [V5])
            assert exc.value.status == 403


@pytest.mark.parametrize("proto", ["binary.k8s.io", "base64.binary.k8s.io"])
async def test_log_websocket_matches_http_log(
    sims: dict[str, SimCluster], pki: Pki, proto: str
) -> None:
    sim = sims["kubernetes"]
    async with pod_session(sim, pki) as (session, ssl, pod):
        url = f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/log?limitBytes=20000"
        async with session.get(url, headers=headers(sim), ssl=ssl) as resp:
            assert resp.status == 200
            http_body = await resp.read()
        assert len(http_body) == 20000
        messages: list[bytes] = []
        async with session.ws_connect(url, protocols=[proto], headers=headers(sim), ssl=ssl) as ws:
            assert ws.protocol == proto
            async with asyncio.timeout(15):
                async for msg in ws:
                    if proto.startswith("base64"):
                        assert msg.type == aiohttp.WSMsgType.TEXT
                        messages.append(base64.b64decode(msg.data))
                    else:
                        assert msg.type == aiohttp.WSMsgType.BINARY
                        messages.append(msg.data)
            assert ws.close_code == 1000
    assert messages[0] == b""
    assert all(len(m) <= 2048 for m in messages)
    assert b"".join(messages) == http_body


async def test_port_forward_through_app(sims: dict[str, SimCluster], pki: Pki) -> None:
    sim = sims["openshift"]
    async with pod_session(sim, pki) as (session, ssl, pod):
        url = f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/portforward?ports=80"
        async with session.ws_connect(url, protocols=[V4], headers=headers(sim), ssl=ssl) as ws:
            first = [await ws.receive(timeout=5) for _ in range(2)]
            assert [m.data for m in first] == [b"\x00P\x00", b"\x01P\x00"]
            await ws.send_bytes(b"\x00GET /healthz HTTP/1.1\r\nHost: pod\r\n\r\n")
            reply = await ws.receive(timeout=5)
            assert reply.data.startswith(b"\x00HTTP/1.1 200 OK\r\n")
            assert f"Hello from pod {pod}".encode() in reply.data
            closing = await ws.receive(timeout=5)  # Connection: close ends the only port
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_attach_through_app(sims: dict[str, SimCluster], pki: Pki) -> None:
    sim = sims["kubernetes"]
    async with pod_session(sim, pki) as (session, ssl, pod):
        url = f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/attach?stdout=1&stdin=1&tty=1"
        async with session.ws_connect(url, protocols=[V5], headers=headers(sim), ssl=ssl) as ws:
            await ws.send_bytes(b"\x00hello main\r")
            seen = b""
            async with asyncio.timeout(10):
                while b"got: hello main" not in seen:
                    msg = await ws.receive()
                    seen += msg.data[1:]
            assert b"\r\n" in seen  # a terminal: ONLCR output


async def test_bearer_subprotocol_is_never_negotiated(
    sims: dict[str, SimCluster], pki: Pki
) -> None:
    """The token travels as a subprotocol (browser style) and the 101 echoes only v4."""
    sim = sims["kubernetes"]
    ssl = pki.client_context()
    assert sim.context.token is not None
    token = base64.urlsafe_b64encode(sim.context.token.encode()).decode().rstrip("=")
    async with aiohttp.ClientSession() as session:
        pod = await running_pod(session, sim, ssl)
        url = f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/exec?command=id&stdout=1"
        protocols = [f"base64url.bearer.authorization.k8s.io.{token}", V4]
        async with session.ws_connect(url, protocols=protocols, ssl=ssl) as ws:
            assert ws.protocol == V4
            out = b""
            async with asyncio.timeout(10):
                async for msg in ws:
                    if msg.data[0] == 1:
                        out += msg.data[1:]
    assert out.startswith(b"uid=0(root)")


async def test_rancher_dashboard_style_shell(sims: dict[str, SimCluster], pki: Pki) -> None:
    """As Rancher's ContainerShell.vue: base64.channel.k8s.io, `1` flags, R_SESS cookie auth."""
    sim = sims["rancher"]
    ssl = pki.client_context()
    async with aiohttp.ClientSession() as session:
        pod = await running_pod(session, sim, ssl)
    assert sim.context.token is not None
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        session.cookie_jar.update_cookies({"R_SESS": sim.context.token})
        url = (
            f"{sim.base_url}/api/v1/namespaces/shop/pods/{pod}/exec"
            "?stdout=1&stdin=1&stderr=1&tty=1&command=sh"
        )
        async with session.ws_connect(url, protocols=["base64.channel.k8s.io"], ssl=ssl) as ws:
            assert ws.protocol == "base64.channel.k8s.io"
            await ws.send_str("4" + base64.b64encode(b'{"Width":70,"Height":20}').decode())

            async def read_until(marker: bytes) -> bytes:
                seen = b""
                async with asyncio.timeout(10):
                    while marker not in seen:
                        msg = await ws.receive()
                        assert msg.type == aiohttp.WSMsgType.TEXT
                        if msg.data[:1] == "1":
                            seen += base64.b64decode(msg.data[1:])
                return seen

            # Wait for the prompt before typing: a tty echoes early keystrokes
            # ahead of the prompt, so the order is only defined after it.
            prompt = await read_until(b"# ")
            assert prompt.startswith(b"root@")
            await ws.send_str("0" + base64.b64encode(b"stty size\r").decode())
            assert b"20 70" in await read_until(b"20 70")
