"""The simulator's SPDY/3.1 on the wire, without kubectl: exact bytes on the error stream,
half-close, the v1 protocol, port-forward errors, and bad input (garbage after the 101,
streams that never come, a client that vanishes) ending cleanly with no task left over."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from kubesim.streaming.spdy import remotecommand
from kubesim.streaming.spdy.connection import SpdyConnection, SpdyStream
from kubesim.streaming.spdy.session import StreamClosedError
from tests.harness.pki import Pki
from tests.harness.spdyclient import Upgrade, spdy_upgrade
from tests.harness.stack import KUBE_TOKEN, SimCluster

V4 = "v4.channel.k8s.io"


async def _pods(sim: SimCluster, pki: Pki) -> list[dict[str, Any]]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{sim.base_url}/api/v1/pods",
            headers={"Authorization": f"Bearer {KUBE_TOKEN}"},
            ssl=pki.client_context(),
        ) as resp,
    ):
        return list((await resp.json())["items"])


async def shell_pod(sim: SimCluster, pki: Pki) -> tuple[str, str]:
    for pod in await _pods(sim, pki):
        image = pod["spec"]["containers"][0].get("image", "")
        if pod["status"].get("phase") == "Running" and "distroless" not in image:
            return pod["metadata"]["namespace"], pod["metadata"]["name"]
    raise AssertionError("no running pod with a shell")


async def echo_pod(sim: SimCluster, pki: Pki) -> tuple[str, str, int]:
    for pod in await _pods(sim, pki):
        if pod["status"].get("phase") != "Running":
            continue
        for c in pod["spec"]["containers"]:
            for port in c.get("ports") or []:
                if port["containerPort"] not in (80, 8080) and port.get("name") != "http":
                    return (
                        pod["metadata"]["namespace"],
                        pod["metadata"]["name"],
                        port["containerPort"],
                    )
    raise AssertionError("no echo port")


@pytest.fixture
async def kube(sims: dict[str, SimCluster], pki: Pki) -> AsyncIterator[tuple[SimCluster, Pki]]:
    sim = sims["kubernetes"]
    before = sim.server.call(_task_count())
    yield sim, pki
    # Every session the test opened has ended on the server: no task left behind.
    for _ in range(50):
        if sim.server.call(_task_count()) <= before:
            break
        await asyncio.sleep(0.1)
    assert sim.server.call(_task_count()) <= before


async def _task_count() -> int:
    return len(asyncio.all_tasks())


async def exec_upgrade(
    sim: SimCluster, pki: Pki, command: list[str], protocols: list[str], **flags: bool
) -> Upgrade:
    ns, pod = await shell_pod(sim, pki)
    query = [("command", c) for c in command]
    query += [(k, "true") for k, v in flags.items() if v]
    url = f"{sim.base_url}/api/v1/namespaces/{ns}/pods/{pod}/exec?{urlencode(query)}"
    return await spdy_upgrade(
        url, protocols=protocols, token=KUBE_TOKEN, ssl_context=pki.client_context()
    )


async def open_streams(conn: SpdyConnection, *kinds: str) -> dict[str, SpdyStream]:
    return {kind: await conn.open((("streamtype", kind),)) for kind in kinds}


async def test_exit_status_json_on_the_error_stream(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    command = ["sh", "-c", "echo out; echo err >&2; exit 3"]
    up = await exec_upgrade(sim, pki, command, ["v5.channel.k8s.io", V4], stdout=True, stderr=True)
    try:
        assert up.status == 101
        assert up.header("Upgrade") == "SPDY/3.1" and up.header("Connection") == "Upgrade"
        assert up.header("X-Stream-Protocol-Version") == V4  # v5 is WebSocket-only
        assert up.conn is not None
        s = await open_streams(up.conn, "error", "stdout", "stderr")
        out, err, status = await asyncio.wait_for(
            asyncio.gather(s["stdout"].read_all(), s["stderr"].read_all(), s["error"].read_all()),
            20,
        )
        assert (out, err) == (b"out\n", b"err\n")
        assert json.loads(status) == {
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command "
            "[sh -c echo out; echo err >&2; exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
        }
        await asyncio.wait_for(up.conn.closed.wait(), 10)  # GOAWAY, then the server hangs up
    finally:
        await up.aclose()


async def test_stdin_half_close_ends_cat(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    up = await exec_upgrade(sim, pki, ["cat"], [V4], stdin=True, stdout=True)
    try:
        assert up.conn is not None
        s = await open_streams(up.conn, "error", "stdin", "stdout")
        await s["stdin"].write(b"line one\n" * 1000)
        await s["stdin"].close()
        out = await asyncio.wait_for(s["stdout"].read_all(), 20)
        assert out == b"line one\n" * 1000
        assert json.loads(await s["error"].read_all()) == {"metadata": {}, "status": "Success"}
    finally:
        await up.aclose()


async def test_v1_protocol_writes_text_only_on_failure(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    for command, expected in ((["true"], b""), (["sh", "-c", "exit 4"], b"command terminated")):
        up = await exec_upgrade(sim, pki, command, ["channel.k8s.io"], stdout=True)
        try:
            assert up.header("X-Stream-Protocol-Version") == "channel.k8s.io"
            assert up.conn is not None
            s = await open_streams(up.conn, "error", "stdout")
            status = await asyncio.wait_for(s["error"].read_all(), 20)
            assert status.startswith(expected) and not status.startswith(b"{")
        finally:
            await up.aclose()


async def test_streams_that_never_come_end_the_session(
    kube: tuple[SimCluster, Pki], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, pki = kube
    monkeypatch.setattr(remotecommand, "STREAM_CREATION_TIMEOUT", 0.5)
    up = await exec_upgrade(sim, pki, ["echo", "x"], [V4], stdout=True)
    try:
        assert up.conn is not None
        await open_streams(up.conn, "error")  # stdout never opened
        await asyncio.wait_for(up.conn.closed.wait(), 10)
    finally:
        await up.aclose()


async def test_client_vanishing_mid_exec_stops_the_process(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    up = await exec_upgrade(sim, pki, ["sh", "-c", "yes"], [V4], stdout=True)
    assert up.conn is not None
    s = await open_streams(up.conn, "error", "stdout")
    assert await asyncio.wait_for(s["stdout"].read(), 10)
    assert up.writer is not None
    up.writer.transport.abort()  # no GOAWAY, no FIN: the TCP connection is just gone
    await up.aclose()


async def test_garbage_after_the_upgrade_gets_goaway(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    up = await exec_upgrade(sim, pki, ["sh"], [V4], stdin=True, stdout=True)
    try:
        assert up.conn is not None and up.writer is not None
        up.writer.write(b"\x80\x07\x00\x01this is not a SPDY/3 frame")
        await asyncio.wait_for(up.conn.closed.wait(), 10)
        assert up.conn.session.peer_going_away or up.conn.closed.is_set()
    finally:
        await up.aclose()


async def portforward_upgrade(sim: SimCluster, pki: Pki) -> tuple[Upgrade, int]:
    ns, pod, port = await echo_pod(sim, pki)
    url = f"{sim.base_url}/api/v1/namespaces/{ns}/pods/{pod}/portforward"
    up = await spdy_upgrade(
        url, protocols=["portforward.k8s.io"], token=KUBE_TOKEN, ssl_context=pki.client_context()
    )
    assert up.status == 101 and up.header("X-Stream-Protocol-Version") == "portforward.k8s.io"
    return up, port


def _pf_headers(kind: str, port: int, request_id: int) -> tuple[tuple[str, str], ...]:
    return (("streamtype", kind), ("port", str(port)), ("requestid", str(request_id)))


async def test_port_forward_echo_refusal_and_bad_headers(kube: tuple[SimCluster, Pki]) -> None:
    sim, pki = kube
    up, port = await portforward_upgrade(sim, pki)
    conn = up.conn
    assert conn is not None
    try:
        # Two connections at once on one session, each an error+data pair.
        pairs = []
        for rid in (0, 1):
            error = await conn.open(_pf_headers("error", port, rid))
            await error.close()  # kubectl never writes on it
            data = await conn.open(_pf_headers("data", port, rid))
            pairs.append((error, data))
        payloads = [bytes([i]) * 300_000 for i in (1, 2)]
        for (_, data), payload in zip(pairs, payloads, strict=True):
            await data.write(payload)
            await data.close()
        for (error, data), payload in zip(pairs, payloads, strict=True):
            assert await asyncio.wait_for(data.read_all(limit=1 << 20), 20) == payload
            assert await asyncio.wait_for(error.read_all(), 20) == b""
        # A port nobody listens on: the kubelet's message, then both streams reset.
        error = await conn.open(_pf_headers("error", 9, 5))
        data = await conn.open(_pf_headers("data", 9, 5))
        message = await asyncio.wait_for(error.read_all(), 20)
        assert message.startswith(b"error forwarding port 9 to pod ")
        assert b"connection refused" in message
        assert await data.read() == b"" and data.was_reset
        # Headers the kubelet rejects: the stream is reset, never answered.
        for bad in ((("streamtype", "data"),), (("streamtype", "bogus"), ("port", "80"))):
            with pytest.raises(StreamClosedError):
                await conn.open(bad, within=10)
    finally:
        await up.aclose()


async def test_websocket_client_vanishing_mid_exec_frees_the_loop(
    kube: tuple[SimCluster, Pki],
) -> None:
    """The same on the WebSocket path: `yes` to a client whose TLS connection is gone."""
    import aiohttp

    sim, pki = kube
    ns, pod = await shell_pod(sim, pki)
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            f"{sim.base_url}/api/v1/namespaces/{ns}/pods/{pod}/exec?command=yes&stdout=true",
            protocols=["v5.channel.k8s.io"],
            headers={"Authorization": f"Bearer {KUBE_TOKEN}"},
            ssl=pki.client_context(),
        )
        await ws.receive()  # the empty "connected" message
        await ws.receive()  # output is flowing
        connection = ws._response.connection
        assert connection is not None and connection.transport is not None
        connection.transport.abort()
    # The server's loop still answers (the fixture then checks no task is left).
    assert await asyncio.to_thread(sim.server.call, _task_count(), 10) >= 0
