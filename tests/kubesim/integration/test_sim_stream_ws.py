"""The streaming handlers over real loopback sockets, mounted on a minimal aiohttp app.

The simulator's full app (auth, store) is tested elsewhere; here the handlers get a pod
dict and a tiny state, so every subprotocol family can be driven directly.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kubesim.streaming import handle_exec, handle_log_websocket, handle_portforward

V5, V4, V4B64, V1, V1B64 = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v4.base64.channel.k8s.io",
    "channel.k8s.io",
    "base64.channel.k8s.io",
)
LOG_BYTES = b"".join(f"line {i} of the simulated log\n".encode() for i in range(400))


def pod(name: str, image: str = "nginx:1.27", *, running: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}"},
        "spec": {
            "nodeName": "node-1" if running else "",
            "containers": [
                {
                    "name": "app",
                    "image": image,
                    "env": [{"name": "GREETING", "value": "hi"}],
                    "ports": [{"containerPort": 80}, {"containerPort": 5000}],
                }
            ],
        },
        "status": {"phase": "Running" if running else "Pending"},
    }


PODS = {
    "web-1": pod("web-1"),
    "tiny": pod("tiny", "gcr.io/distroless/static:nonroot"),
    "pending": pod("pending", running=False),
}


async def log_chunks() -> AsyncIterator[bytes]:
    for i in range(0, len(LOG_BYTES), 3000):  # reads larger than 2048: they get split
        yield LOG_BYTES[i : i + 3000]


ENDLESS_CLOSED = asyncio.Event()


async def endless_chunks() -> AsyncIterator[bytes]:
    """A followed log that never ends by itself; records when the server lets go of it."""
    try:
        n = 0
        while True:
            n += 1
            yield f"follow line {n}\n".encode()
            await asyncio.sleep(0.01)
    finally:
        ENDLESS_CLOSED.set()


def make_app(supports_v5: bool) -> web.Application:
    state = SimpleNamespace(profile=SimpleNamespace(name="test", supports_v5=supports_v5))

    async def stream(request: web.Request) -> web.StreamResponse:
        the_pod = PODS.get(request.match_info["name"])
        if the_pod is None:
            raise web.HTTPNotFound()
        sub = request.match_info["sub"]
        if sub == "log":
            chunks = endless_chunks() if "endless" in request.query else log_chunks()
            return await handle_log_websocket(request, state, chunks)
        if sub == "portforward":
            return await handle_portforward(request, state, the_pod)
        return await handle_exec(request, state, the_pod, attach=sub == "attach")

    app = web.Application()
    app.router.add_route("*", "/api/v1/namespaces/{ns}/pods/{name}/{sub}", stream)
    return app


@pytest.fixture(params=[True], ids=["kubernetes"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[TestServer]:
    srv = TestServer(make_app(request.param), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def legacy_server() -> AsyncIterator[TestServer]:
    srv = TestServer(make_app(False), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def url(srv: TestServer, name: str, sub: str, query: str) -> str:
    return str(srv.make_url(f"/api/v1/namespaces/shop/pods/{name}/{sub}?{query}"))


def exec_query(*argv: str, **flags: str) -> str:
    parts = [f"command={aiohttp.helpers.quote(a, safe='')}" for a in argv]
    parts += [f"{k}={v}" for k, v in flags.items()]
    return "&".join(parts)


async def collect(
    ws: aiohttp.ClientWebSocketResponse, base64_proto: bool = False
) -> list[tuple[int, bytes]]:
    """All (channel, payload) messages until the server closes."""
    got: list[tuple[int, bytes]] = []
    async with asyncio.timeout(15):
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                assert not base64_proto
                got.append((msg.data[0], msg.data[1:]))
            elif msg.type == aiohttp.WSMsgType.TEXT:
                assert base64_proto
                got.append((ord(msg.data[0]) - 48, base64.b64decode(msg.data[1:])))
    return got


def channel(got: list[tuple[int, bytes]], ch: int) -> bytes:
    return b"".join(payload for c, payload in got if c == ch)


async def test_exec_echo_v5(server: TestServer, session: aiohttp.ClientSession) -> None:
    q = exec_query("echo", "hello", stdout="true", stderr="true")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V5]) as ws:
        assert ws.protocol == V5
        got = await collect(ws)
        assert ws.close_code == 1000
    assert got[0] == (1, b"")  # the empty "connected" message
    assert channel(got, 1) == b"hello\n"
    assert got[-1] == (3, b'{"metadata":{},"status":"Success"}')


async def test_exec_exit_code_cause_first(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("sh", "-c", "echo oops >&2; exit 3", stdout="1", stderr="1")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V5]) as ws:
        got = await collect(ws)
    assert channel(got, 2) == b"oops\n"
    status = json.loads(got[-1][1])
    assert got[-1][0] == 3
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "3"}
    assert status["message"] == (
        "command terminated with non-zero exit code: command terminated with exit code 3"
    )


async def test_stdin_cat_with_v5_close_signal(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("cat", stdin="true", stdout="true", stderr="true")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V5]) as ws:
        await ws.send_bytes(b"\x00piped ")
        await ws.send_bytes(b"\x00data\n")
        await ws.send_bytes(b"\xff\x00")  # half-close stdin: cat sees EOF
        got = await collect(ws)
        assert ws.close_code == 1000
    assert channel(got, 1) == b"piped data\n"
    assert got[-1] == (3, b'{"metadata":{},"status":"Success"}')


async def test_malformed_close_signal_terminates(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("cat", stdin="true", stdout="true")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V5]) as ws:
        await ws.send_bytes(b"\xff\x00\x00")
        got = await collect(ws)
    assert all(c != 3 for c, _ in got)  # no status: the connection was just ended


async def test_tty_resize_and_interactive_shell(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("bash", stdin="true", stdout="true", stderr="true", tty="true")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V5, V4]) as ws:
        # Split JSON across messages, as a streaming decoder must accept.
        await ws.send_bytes(b'\x04{"Width":132,')
        await ws.send_bytes(b'\x04"Height":43}\n')
        await ws.send_bytes(b"\x00stty size\r")
        await ws.send_bytes(b"\x00exit 7\r")
        got = await collect(ws)
    assert not channel(got, 2)  # never stderr with a tty
    out = channel(got, 1)
    assert out.startswith(b"root@web-1:/# ")
    assert b"43 132\r\n" in out
    assert json.loads(got[-1][1])["details"]["causes"][0]["message"] == "7"


@pytest.mark.parametrize("proto", [V4B64, V1B64])
async def test_base64_protocols_round_trip(
    server: TestServer, session: aiohttp.ClientSession, proto: str
) -> None:
    q = exec_query("sh", stdin="1", stdout="1", stderr="1", tty="1")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[proto]) as ws:
        assert ws.protocol == proto
        first = await ws.receive(timeout=5)
        assert first.type == aiohttp.WSMsgType.TEXT and first.data == "1"
        await ws.send_str("4" + base64.b64encode(b'{"Width":90,"Height":30}').decode())
        await ws.send_str("0" + base64.b64encode(b"tput cols; exit 2\r").decode())
        got = await collect(ws, base64_proto=True)
    assert b"90\r\n" in channel(got, 1)
    if proto == V1B64:
        # v1: plain error text on failure, nothing on success.
        assert channel(got, 3).startswith(b"command terminated with non-zero exit code")
    else:
        assert json.loads(channel(got, 3))["reason"] == "NonZeroExitCode"


async def test_v1_success_writes_no_status(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("true", stdout="1")
    async with session.ws_connect(url(server, "web-1", "exec", q), protocols=[V1]) as ws:
        got = await collect(ws)
        assert ws.close_code == 1000
    assert got == [(1, b"")]


async def test_no_protocol_offered_uses_binary(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("hostname", stdout="1")
    async with session.ws_connect(url(server, "web-1", "exec", q)) as ws:
        assert ws.protocol is None
        got = await collect(ws)
    assert channel(got, 1) == b"web-1\n"
    assert channel(got, 3) == b""  # "" has v1 status semantics: nothing on success
    q = exec_query("sh", "-c", "exit 9", stdout="1")
    async with session.ws_connect(url(server, "web-1", "exec", q)) as ws:
        got = await collect(ws)
    assert channel(got, 3).startswith(b"command terminated with non-zero exit code: ")


async def raw_handshake(srv: TestServer, path: str, protocols: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    async with asyncio.timeout(5):
        data = await reader.read()  # until the server closes
    writer.close()
    return data


async def test_unmatched_protocol_gets_raw_403(server: TestServer) -> None:
    path = "/api/v1/namespaces/shop/pods/web-1/exec?command=ls&stdout=1"
    assert await raw_handshake(server, path, "v3.channel.k8s.io") == (
        b"HTTP/1.1 403 Forbidden\r\n\r\n"
    )


async def test_legacy_profile_refuses_v5(legacy_server: TestServer) -> None:
    path = "/api/v1/namespaces/shop/pods/web-1/exec?command=ls&stdout=1"
    assert await raw_handshake(legacy_server, path, V5) == b"HTTP/1.1 403 Forbidden\r\n\r\n"
    async with aiohttp.ClientSession() as s:
        q = exec_query("sh", "-c", "exit 4", stdout="1")
        async with s.ws_connect(url(legacy_server, "web-1", "exec", q), protocols=[V5, V4]) as ws:
            assert ws.protocol == V4
            got = await collect(ws)
    status = json.loads(got[-1][1])
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "4"}
    assert status["message"].endswith("error executing command [sh -c exit 4], exit code 4")


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("web-1", "command=ls", "you must specify at least 1 of stdin, stdout, stderr"),
        ("web-1", "command=ls&stdout=1&container=db", "container db is not valid for pod web-1"),
        ("pending", "command=ls&stdout=1", "pod pending does not have a host assigned"),
    ],
)
async def test_errors_before_upgrade_are_400_status(
    server: TestServer, session: aiohttp.ClientSession, name: str, query: str, message: str
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect(url(server, name, "exec", query), protocols=[V5])
    assert exc.value.status == 400
    async with session.get(
        url(server, name, "exec", query),
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    ) as resp:
        body = await resp.json()
    assert body["message"] == message and body["code"] == 400 and body["kind"] == "Status"


async def test_spdy_exec_handshake_refusals_like_the_kubelet(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    spdy = {"Upgrade": "SPDY/3.1", "Connection": "Upgrade"}
    exec_url = url(server, "web-1", "exec", "command=ls&stdout=1")
    async with session.post(exec_url, headers=spdy) as resp:
        assert resp.status == 400
        assert (await resp.text()).startswith(
            "unable to upgrade: header X-Stream-Protocol-Version does not exist"
        )
    headers = {**spdy, "X-Stream-Protocol-Version": "v5.channel.k8s.io"}
    async with session.post(exec_url, headers=headers) as resp:
        # v5 is the apiserver's WebSocket translator only; a kubelet's SPDY has v4..v1.
        assert resp.status == 403
        assert resp.headers.getall("X-Accepted-Stream-Protocol-Versions")[0] == V4
        assert "unable to negotiate protocol" in await resp.text()


async def test_shellless_image_fails_like_the_runtime(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("bash", stdin="1", stdout="1", tty="1")
    async with session.ws_connect(url(server, "tiny", "exec", q), protocols=[V5]) as ws:
        got = await collect(ws)
        assert ws.close_code == 1000
    status = json.loads(got[-1][1])
    assert got[-1][0] == 3
    assert status["reason"] == "InternalError" and status["code"] == 500
    assert 'exec: "bash": executable file not found in $PATH' in status["message"]


async def test_attach_prints_ticks_and_echoes_stdin(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = "stdin=true&stdout=true&stderr=true"
    async with session.ws_connect(url(server, "web-1", "attach", q), protocols=[V5]) as ws:
        await ws.send_bytes(b"\x00ping\n")
        out = b""
        async with asyncio.timeout(10):
            while b"tick" not in out or b"got: ping" not in out:
                msg = await ws.receive()
                assert msg.type == aiohttp.WSMsgType.BINARY
                out += msg.data[1:] if msg.data[0] == 1 else b""
        await ws.close()  # detach: no status, the main process keeps going
    assert b"[app] main process tick " in out
    # Re-attach: it is still running, with later ticks.
    async with session.ws_connect(url(server, "web-1", "attach", "stdout=1"), protocols=[V5]) as ws:
        async with asyncio.timeout(10):
            while True:
                msg = await ws.receive()
                if b"tick" in msg.data:
                    break


async def test_client_pings_are_answered(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    q = exec_query("sleep", "30", stdout="1")  # outlives the ping, however slow the machine
    async with session.ws_connect(
        url(server, "web-1", "exec", q), protocols=[V5], autoping=False
    ) as ws:
        await ws.ping(b"are-you-there")
        async with asyncio.timeout(5):
            while True:
                msg = await ws.receive()
                if msg.type == aiohttp.WSMsgType.PONG:
                    assert msg.data == b"are-you-there"
                    break


@pytest.mark.parametrize("proto", ["binary.k8s.io", "base64.binary.k8s.io", None])
async def test_log_websocket_matches_bytes(
    server: TestServer, session: aiohttp.ClientSession, proto: str | None
) -> None:
    protocols = [proto] if proto else []
    async with session.ws_connect(
        url(server, "web-1", "log", "follow=true"), protocols=protocols
    ) as ws:
        await ws.send_str("ignored by the server")
        messages: list[bytes] = []
        async with asyncio.timeout(10):
            async for msg in ws:
                if proto == "base64.binary.k8s.io":
                    assert msg.type == aiohttp.WSMsgType.TEXT
                    messages.append(base64.b64decode(msg.data))
                else:
                    assert msg.type == aiohttp.WSMsgType.BINARY
                    messages.append(msg.data)
        assert ws.close_code == 1000
    assert messages[0] == b""
    assert max(len(m) for m in messages) <= 2048
    assert b"".join(messages) == LOG_BYTES


async def test_log_websocket_unknown_protocol_is_raw_403(server: TestServer) -> None:
    path = "/api/v1/namespaces/shop/pods/web-1/log"
    assert await raw_handshake(server, path, "v4.channel.k8s.io") == (
        b"HTTP/1.1 403 Forbidden\r\n\r\n"
    )


@pytest.mark.parametrize("proto", [V4, V4B64])
async def test_port_forward_echo_and_http(
    server: TestServer, session: aiohttp.ClientSession, proto: str
) -> None:
    b64 = proto == V4B64

    def frame(ch: int, data: bytes) -> Any:
        return (chr(48 + ch) + base64.b64encode(data).decode()) if b64 else bytes([ch]) + data

    async def send(ws: aiohttp.ClientWebSocketResponse, ch: int, data: bytes) -> None:
        f = frame(ch, data)
        await (ws.send_str(f) if b64 else ws.send_bytes(f))

    async with session.ws_connect(
        url(server, "web-1", "portforward", "ports=5000,80"), protocols=[proto]
    ) as ws:
        got: list[tuple[int, bytes]] = []

        async def take(n: int) -> None:
            async with asyncio.timeout(5):
                while len(got) < n:
                    msg = await ws.receive()
                    raw = msg.data.encode() if b64 else msg.data
                    got.append(
                        (raw[0] - 48, base64.b64decode(raw[1:])) if b64 else (raw[0], raw[1:])
                    )

        await take(4)
        assert got == [(0, b"\x88\x13"), (1, b"\x88\x13"), (2, b"P\x00"), (3, b"P\x00")]
        await send(ws, 0, b"echo me")
        await take(5)
        assert got[4] == (0, b"echo me")
        await send(ws, 2, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await take(6)
        assert got[5][0] == 2 and got[5][1].startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Hello from pod web-1" in got[5][1]


async def test_port_forward_refused_port_and_spdy(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(
        url(server, "web-1", "portforward", "ports=9999"), protocols=[V4]
    ) as ws:
        got = await collect(ws)
        assert ws.close_code == 1000
    assert got[:2] == [(0, b"\x0f\x27"), (1, b"\x0f\x27")]
    assert b"error forwarding port 9999 to pod web-1" in channel(got[2:], 1)
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect(
            url(server, "web-1", "portforward", ""), protocols=["SPDY/3.1+nothing.k8s.io"]
        )
    assert exc.value.status == 403  # a tunnel, but to a protocol the kubelet lacks


async def test_log_websocket_client_close_ends_follow(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    ENDLESS_CLOSED.clear()
    async with session.ws_connect(
        url(server, "web-1", "log", "follow=true&endless=1"), protocols=["binary.k8s.io"]
    ) as ws:
        seen = b""
        async with asyncio.timeout(10):
            while b"follow line 3" not in seen:
                seen += (await ws.receive()).data
        await ws.close()
    # The server stopped reading the log source.
    await asyncio.wait_for(ENDLESS_CLOSED.wait(), 10)
