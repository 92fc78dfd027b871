"""What an idle proxied WebSocket keeps alive (issue 12: ≤ 30 KiB per idle WebSocket).

aiohttp keeps the request handler's coroutine chain (middlewares → proxy_handler → bridge →
tunnel) for the session's whole life; those frames must not keep what only the handshake
needed: the request's plan (URL, upstream headers, offer) and its view of the request.
"""

from __future__ import annotations

import asyncio
import gc
import secrets
from typing import Any

import aiohttp
import pytest

from kubelantern.web import keys
from tests.harness.proxy import V5, cluster_base, exec_path, find_pod
from tests.harness.servers import ServerThread


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


async def _kept() -> dict[str, int]:
    """Plans and request views alive on the server (after a collection)."""
    from kubelantern.proxy.plan import RequestView, UpstreamPlan

    gc.collect()
    kept = {"UpstreamPlan": 0, "RequestView": 0}
    for o in gc.get_objects():
        if isinstance(o, (UpstreamPlan, RequestView)):
            kept[type(o).__name__] += 1
    return kept


async def _echo(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_bytes(b"\x00hi\n")
    out = b""
    while b"hi\n" not in out:
        msg = await asyncio.wait_for(ws.receive(), 30)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        out += msg.data[1:] if msg.data[:1] == b"\x01" else b""


@pytest.mark.parametrize("path", ["bytes", "messages", "session"])
async def test_idle_websocket_keeps_no_plan_or_request_view(
    lantern: ServerThread,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    """Every bridge path (byte tunnel, message relay, exec session) lets the plan and the
    request view go once the session runs (before: one of each per session, held by the
    waiting frames of proxy_handler and bridge)."""
    monkeypatch.setattr(lantern.app[keys.SETTINGS], "ws_fast_path", path == "bytes")
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["cat"], stdin=True)

    def protocols() -> tuple[str, ...]:
        if path == "session":
            return (V5, "kubelantern.session." + secrets.token_urlsafe(24))
        return (V5,)

    sessions = [await http.ws_connect(url, protocols=protocols()) for _ in range(3)]
    try:
        for ws in sessions:  # each session carries bytes both ways, then idles
            await _echo(ws)
        kept = lantern.call(_kept())
        assert kept == {"UpstreamPlan": 0, "RequestView": 0}, kept
        for ws in sessions:  # and still works
            await _echo(ws)
    finally:
        for ws in sessions:
            await ws.close()
