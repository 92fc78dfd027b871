"""The WebSocket bridge against the simulator profiles, with aiohttp as the client.

Helpers here (exec session runner, pod finder) are reused by the other WebSocket tests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest

from kubelantern.proxy.subprotocols import BEARER_PREFIX, encode_bearer
from tests.conftest import CONTEXT_NAMES, RANCHER_TOKEN, SimCluster
from tests.harness.servers import ServerThread

PROFILES = ("kubernetes", "rancher", "legacy")
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
EXEC_OFFER = (V5, V4)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131"
NO_USERLAND = ("distroless", "scratch", "pause")


def cluster_base(server: ServerThread, profile_or_name: str) -> str:
    name = CONTEXT_NAMES.get(profile_or_name, profile_or_name)
    return f"{server.url}/clusters/{quote(name, safe='')}"


async def find_pod(
    session: aiohttp.ClientSession, base: str, *, headers: dict[str, str] | None = None
) -> tuple[str, str, str]:
    """(namespace, pod, container) of a Running pod with a shell, via kubelantern."""
    async with session.get(f"{base}/api/v1/pods", headers=headers or {}) as resp:
        assert resp.status == 200, await resp.text()
        items = (await resp.json())["items"]
    for pod in items:
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        first = pod["spec"]["containers"][0]
        if any(m in first.get("image", "") for m in NO_USERLAND) or first["name"] == "firehose":
            continue
        return pod["metadata"]["namespace"], pod["metadata"]["name"], first["name"]
    raise AssertionError(f"no running pod with a shell in {base}")


def exec_path(ns: str, pod: str, container: str, command: Sequence[str], **flags: bool) -> str:
    query: list[tuple[str, str]] = [("command", c) for c in command]
    query.append(("container", container))
    for flag in ("stdin", "stdout", "stderr", "tty"):
        if flags.get(flag, flag in ("stdout", "stderr")):
            query.append((flag, "true"))
    return f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{urlencode(query)}"


@dataclass
class Session:
    protocol: str | None
    stdout: bytes = b""
    stderr: bytes = b""
    status: dict[str, Any] | None = None
    close_code: int | None = None
    close_reason: str = ""
    first: bytes | None = None  # the first message (the "connected" empty write)
    messages: list[bytes] = field(default_factory=list)


async def run_stream(
    ws: aiohttp.ClientWebSocketResponse,
    *,
    stdin: bytes | None = None,
    close_stdin: bool = False,
    resize: tuple[int, int] | None = None,
    after_first: list[bytes] | None = None,
    limit: float = 20,
) -> Session:
    """Drive one channel-protocol session to its end (binary framing)."""
    result = Session(ws.protocol)
    async with asyncio.timeout(limit):
        first = True
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.CLOSE:
                # The server's Close frame is what counts: kube-apiserver drops TCP right
                # after it, which can fail aiohttp's reply and leave ws.close_code at 1006.
                result.close_code = msg.data
                result.close_reason = msg.extra or ""
                break
            assert msg.type is aiohttp.WSMsgType.BINARY, msg
            data: bytes = msg.data
            result.messages.append(data)
            if first:
                first = False
                result.first = data
                if resize is not None:
                    size = json.dumps({"Width": resize[0], "Height": resize[1]}).encode()
                    await ws.send_bytes(b"\x04" + size + b"\n")
                if stdin is not None:
                    await ws.send_bytes(b"\x00" + stdin)
                for extra in after_first or []:
                    await ws.send_bytes(extra)
                if close_stdin:
                    await ws.send_bytes(b"\xff\x00")
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == 1:
                result.stdout += payload
            elif channel == 2:
                result.stderr += payload
            elif channel == 3:
                result.status = json.loads(payload)
    return result


async def exec_session(
    session: aiohttp.ClientSession,
    url: str,
    *,
    protocols: Sequence[str] = EXEC_OFFER,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Session:
    async with session.ws_connect(url, protocols=protocols, headers=headers or {}) as ws:
        return await run_stream(ws, **kwargs)


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


# --- exec on every profile -------------------------------------------------------------


@pytest.mark.parametrize("profile", [*PROFILES, "openshift"])
async def test_exec_echo(lantern: ServerThread, http: aiohttp.ClientSession, profile: str) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    got = await exec_session(http, base + exec_path(ns, pod, container, ["echo", "hello lantern"]))
    assert got.protocol == (V4 if profile == "legacy" else V5)
    assert got.stdout == b"hello lantern\n"
    assert got.status == {"metadata": {}, "status": "Success"}
    assert got.close_code == 1000


@pytest.mark.parametrize("profile", PROFILES)
async def test_exec_exit_code(
    lantern: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    got = await exec_session(http, base + exec_path(ns, pod, container, ["sh", "-c", "exit 3"]))
    assert got.status is not None
    assert got.status["status"] == "Failure" and got.status["reason"] == "NonZeroExitCode"
    assert got.status["details"]["causes"][0] == {"reason": "ExitCode", "message": "3"}
    assert got.close_code == 1000


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
async def test_exec_stdin_with_v5_close_signal(
    lantern: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["cat"], stdin=True)
    got = await exec_session(
        http, url, protocols=(V5,), stdin=b"line one\nline two\n", close_stdin=True
    )
    assert got.stdout == b"line one\nline two\n"
    assert got.status == {"metadata": {}, "status": "Success"}
    assert got.close_code == 1000


async def test_exec_stdin_v4_on_legacy(lantern: ServerThread, http: aiohttp.ClientSession) -> None:
    base = cluster_base(lantern, "legacy")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["head", "-n", "1"], stdin=True)
    got = await exec_session(http, url, protocols=EXEC_OFFER, stdin=b"only this\nnot this\n")
    assert got.protocol == V4
    assert got.stdout == b"only this\n"
    assert got.close_code == 1000


@pytest.mark.parametrize("profile", PROFILES)
async def test_exec_tty_and_resize(
    lantern: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(
        ns,
        pod,
        container,
        ["sh", "-c", "sleep 0.3; stty size"],
        stdin=True,
        tty=True,
        stderr=False,
    )
    got = await exec_session(http, url, resize=(132, 43))
    assert b"43 132" in got.stdout
    assert got.status is not None and got.status["status"] == "Success"


@pytest.mark.parametrize("profile", PROFILES)
async def test_attach(lantern: ServerThread, http: aiohttp.ClientSession, profile: str) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    url = (
        f"{base}/api/v1/namespaces/{ns}/pods/{pod}/attach?container={container}"
        "&stdin=true&stdout=true&stderr=true"
    )
    async with http.ws_connect(url, protocols=EXEC_OFFER) as ws:
        first = await ws.receive(timeout=10)
        assert first.type is aiohttp.WSMsgType.BINARY
        await ws.send_bytes(b"\x00ping through the bridge\n")
        seen = b""
        async with asyncio.timeout(10):
            while b"got: ping through the bridge" not in seen:
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.BINARY, msg
                if msg.data[:1] == b"\x01":
                    seen += msg.data[1:]
        await ws.close(code=1000, message=b"detach")
    assert ws.close_code == 1000


# --- logs over both WebSocket subprotocols ---------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
async def test_logs_over_websocket_match_http(
    lantern: ServerThread, http: aiohttp.ClientSession, profile: str
) -> None:
    base = cluster_base(lantern, profile)
    ns, pod, container = await find_pod(http, base)
    # From the start of the log with a byte limit: stable while new lines keep arriving
    # (a tailLines window would move between the HTTP and the WebSocket request).
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/log?container={container}&limitBytes=6000"
    async with http.get(base + path) as resp:
        assert resp.status == 200
        expected = await resp.read()
    assert expected, "the simulator should have log lines"
    for protocol in ("binary.k8s.io", "base64.binary.k8s.io"):
        chunks: list[bytes] = []
        close_code = None
        async with http.ws_connect(base + path, protocols=(protocol,)) as ws:
            assert ws.protocol == protocol
            async with asyncio.timeout(10):
                while True:
                    msg = await ws.receive()
                    if msg.type is aiohttp.WSMsgType.CLOSE:
                        close_code = msg.data
                        break
                    if protocol == "binary.k8s.io":
                        assert msg.type is aiohttp.WSMsgType.BINARY
                        chunks.append(msg.data)
                    else:
                        assert msg.type is aiohttp.WSMsgType.TEXT
                        chunks.append(base64.b64decode(msg.data))
        assert close_code == 1000
        assert chunks[0] == b""  # the server's "connected" empty message, relayed as is
        assert b"".join(chunks) == expected, protocol


# --- strategies: what reaches the upstream -----------------------------------------------


def last_upgrade(sim: SimCluster, path_part: str) -> Any:
    for req in reversed(list(sim.state.requests)):
        if path_part in req.path and _header(req, "Upgrade"):
            return req
    raise AssertionError(f"no upgrade to {path_part} reached the simulator")


def _header(req: Any, name: str) -> str | None:
    headers = req.headers
    if isinstance(headers, dict):
        for k, v in headers.items():
            if k.lower() == name.lower():
                return str(v)
        return None
    for k, v in headers:
        if k.lower() == name.lower():
            return str(v)
    return None


async def test_browser_on_rancher_gets_the_header_strategy(
    lantern: ServerThread, http: aiohttp.ClientSession, sims: dict[str, SimCluster]
) -> None:
    base = cluster_base(lantern, "rancher")
    ns, pod, container = await find_pod(http, base)
    marker = "browser-on-rancher"
    url = base + exec_path(ns, pod, container, ["echo", marker])
    headers = {"User-Agent": BROWSER_UA, "Origin": lantern.url}
    protocols = (V4, "channel.k8s.io", encode_bearer(RANCHER_TOKEN))
    got = await exec_session(http, url, protocols=protocols, headers=headers)
    assert got.protocol == V4  # echoed exactly; the bearer entry never comes back
    assert got.stdout == marker.encode() + b"\n"
    req = last_upgrade(sims["rancher"], "/exec")
    assert _header(req, "Authorization") == f"Bearer {RANCHER_TOKEN}"
    offered = _header(req, "Sec-WebSocket-Protocol") or ""
    assert BEARER_PREFIX not in offered
    assert "mozilla" not in (_header(req, "User-Agent") or "").lower()
    origin = _header(req, "Origin")
    assert origin is None or origin == sims["rancher"].server.url
    assert _header(req, "Cookie") is None


async def test_header_strategy_never_forwards_the_bearer_subprotocol(
    lantern: ServerThread, http: aiohttp.ClientSession, sims: dict[str, SimCluster]
) -> None:
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["echo", "no-token-in-protocols"])
    got = await exec_session(
        http, url, protocols=(V5, encode_bearer("sim-admin-token")), headers={"Cookie": "a=b"}
    )
    assert got.stdout == b"no-token-in-protocols\n"
    req = last_upgrade(sims["kubernetes"], "/exec")
    assert BEARER_PREFIX not in (_header(req, "Sec-WebSocket-Protocol") or "")
    assert _header(req, "Authorization") == "Bearer sim-admin-token"
    assert _header(req, "Cookie") is None


async def test_upstream_401_reaches_the_client_with_its_body(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    base = cluster_base(lantern, "rancher")
    url = base + exec_path("default", "any", "c", ["true"])
    headers = {"Authorization": "Bearer token-nope:wrong"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, protocols=(V5,), headers=headers)
    assert err.value.status == 401
    # The body is Rancher's JSON: read it with a plain upgrade request.
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": V5,
        **headers,
    }
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == 401
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert body["message"] == "Unauthorized 401: must authenticate"
    assert "token-nope" not in json.dumps(body)


async def test_bare_403_gets_an_explanation(
    lantern: ServerThread, http: aiohttp.ClientSession
) -> None:
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["true"])
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "v9.channel.k8s.io",
    }
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == 403
        body = await resp.json()
    assert "none of the offered subprotocols" in body["message"]
    assert "v9.channel.k8s.io" in body["message"]


@pytest.mark.parametrize(
    ("protocols", "status"),
    [
        (f"{V5}, {BEARER_PREFIX}%%%notbase64", 401),
        (f"{V5}, {encode_bearer('a')}, {encode_bearer('b')}", 400),
        (f"{V5},, binary.k8s.io", 400),
    ],
)
async def test_garbage_subprotocols_get_a_clear_error(
    lantern: ServerThread, http: aiohttp.ClientSession, protocols: str, status: int
) -> None:
    url = cluster_base(lantern, "kubernetes") + exec_path("default", "x", "c", ["true"])
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": protocols,
    }
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["kind"] == "Status" and body["message"]
    assert "notbase64" not in body["message"]
    async with http.get(f"{lantern.url}/healthz") as resp:  # still up
        assert resp.status == 200
