"""The WebSocket bridge against the simulator profiles, with aiohttp as the client."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
from typing import Any

import aiohttp
import pytest

from kubelantern.proxy.subprotocols import BEARER_PREFIX, encode_bearer
from kubelantern.web import keys
from tests.harness.proxy import (
    EXEC_OFFER,
    V4,
    V5,
    cluster_base,
    exec_path,
    exec_session,
    find_pod,
    upgrade_headers,
)
from tests.harness.servers import ServerThread
from tests.harness.stack import RANCHER_TOKEN, SimCluster

PROFILES = ("kubernetes", "rancher", "legacy")
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131"


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


async def test_a_v5_offer_is_answered_v5_without_an_overlap_warning(
    lantern: ServerThread, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The handshake check before dialing must not call the client's protocols unknown: it
    once did (aiohttp's warning "Client protocols [...] don't overlap server-known ones ()",
    one per upgrade, in every log) while the answer itself carried the upstream's choice."""
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    with caplog.at_level(logging.WARNING, logger="aiohttp.websocket"):
        got = await exec_session(
            http, base + exec_path(ns, pod, container, ["echo", "hi"]), protocols=(V5,)
        )
    assert got.protocol == V5 and got.stdout == b"hi\n"
    assert [r.getMessage() for r in caplog.records if "overlap" in r.getMessage()] == []


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
        # Wait for a line of stdin, which the client sends after the resize on the same
        # socket: the size is read after the resize got through, however slow the relay.
        ["sh", "-c", "head -n 1; stty size"],
        stdin=True,
        tty=True,
        stderr=False,
    )
    got = await exec_session(http, url, resize=(132, 43), stdin=b"go\r")
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
    upgrade = upgrade_headers(V5, headers)
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
    upgrade = upgrade_headers("v9.channel.k8s.io")
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
    upgrade = upgrade_headers(protocols)
    async with http.get(url, headers=upgrade) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["kind"] == "Status" and body["message"]
    assert "notbase64" not in body["message"]
    async with http.get(f"{lantern.url}/healthz") as resp:  # still up
        assert resp.status == 200


async def _live_upgrade_responses(lantern_port: int) -> int:
    """aiohttp ClientResponses of 101 answers from upstreams still alive (this process is
    kubelantern's too; the test's own responses, from kubelantern's port, do not count)."""
    gc.collect()
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, aiohttp.ClientResponse) and o.status == 101 and o.url.port != lantern_port
    )


async def test_idle_bridged_session_keeps_no_upstream_response(
    lantern: ServerThread, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The byte tunnel keeps the upstream socket, not the 101's ClientResponse (its headers,
    request and the handshake's ClientSession): a few KiB per idle WebSocket (issue 12)."""
    # The byte tunnel, whatever KUBELANTERN_WS_FASTPATH says (the message relay keeps its
    # aiohttp ClientWebSocketResponse, response included, by design).
    monkeypatch.setattr(lantern.app[keys.SETTINGS], "ws_fast_path", True)
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["cat"], stdin=True)
    # Other tests' sessions in this shared process may still hold theirs (until collected):
    # only growth counts.
    before = lantern.call(_live_upgrade_responses(lantern.port))
    sessions = [await http.ws_connect(url, protocols=(V5,)) for _ in range(3)]
    try:
        for ws in sessions:  # each tunnel carries bytes both ways
            await ws.send_bytes(b"\x00hi\n")
            out = b""
            while b"hi\n" not in out:
                msg = await asyncio.wait_for(ws.receive(), 30)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                out += msg.data[1:] if msg.data[:1] == b"\x01" else b""
        assert lantern.call(_live_upgrade_responses(lantern.port)) <= before
    finally:
        for ws in sessions:
            await ws.close()


async def _parsers_kept_by_tunnels() -> tuple[int, int]:
    """(live byte tunnels, HTTP parsers their two protocols still hold)."""
    from kubelantern.proxy.ws.tunnel import RawTunnel

    tunnels = [o for o in gc.get_objects() if isinstance(o, RawTunnel) and not o.finished]
    kept = sum(
        getattr(proto, "_parser", None) is not None
        for t in tunnels
        for proto in (t.client, t.upstream)
    )
    return len(tunnels), kept


async def test_idle_bridged_session_keeps_no_http_parser(
    lantern: ServerThread, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once frames pass as bytes, neither leg's aiohttp protocol keeps its HTTP parser (each
    held the last message's headers: ~4.6 KiB per idle WebSocket by tracemalloc, issue 12)."""
    monkeypatch.setattr(lantern.app[keys.SETTINGS], "ws_fast_path", True)
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["cat"], stdin=True)
    sessions = [await http.ws_connect(url, protocols=(V5,)) for _ in range(3)]
    try:
        for ws in sessions:  # each tunnel carries bytes both ways
            await ws.send_bytes(b"\x00hi\n")
            out = b""
            while b"hi\n" not in out:
                msg = await asyncio.wait_for(ws.receive(), 30)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                out += msg.data[1:] if msg.data[:1] == b"\x01" else b""
        tunnels, kept = lantern.call(_parsers_kept_by_tunnels())
        assert tunnels >= 3 and kept == 0, (tunnels, kept)
    finally:
        for ws in sessions:
            await ws.close()
