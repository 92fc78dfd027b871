"""Terminals that survive a dropped connection (issue 10 §1), over real sockets: an aiohttp
client through kubelantern to the simulator; a "drop" aborts the client's TCP transport
(no close frame), as a Wi-Fi blip or a laptop lid does."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import aiohttp
import pytest

from kubelantern.settings import Settings
from kubesim.state import RecordedRequest
from tests.harness.proxy import V4, V5, cluster_base, eventually, exec_path, find_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN, SimCluster

LOST = b"bytes of output were lost while disconnected]"


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def served(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Any
) -> Callable[..., ServerThread]:
    def make(**changes: Any) -> ServerThread:
        return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None), **changes)

    return make


class Terminal(NamedTuple):
    lantern: ServerThread
    url: str  # the exec of `command` in a running pod, through `lantern`
    pod: str


@pytest.fixture
def terminal(
    served: Callable[..., ServerThread], http: aiohttp.ClientSession
) -> Callable[..., Awaitable[Terminal]]:
    """A fresh kubelantern (Settings `changes`) and the URL of an exec through it."""

    async def make(command: list[str], stdin: bool = False, **changes: Any) -> Terminal:
        lantern = served(**changes)
        base = cluster_base(lantern, "kubernetes")
        ns, pod, container = await find_pod(http, base)
        return Terminal(lantern, base + exec_path(ns, pod, container, command, stdin=stdin), pod)

    return make


Open = Callable[..., Awaitable[Terminal]]


async def end_input(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """v5: close stdin (cat ends), then all the rest the session sends."""
    await ws.send_bytes(b"\xff\x00")
    return await read_until_close(ws)


def entry() -> str:
    return "kubelantern.session." + secrets.token_urlsafe(24)


def drop(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Lose the connection without a close frame."""
    ws._writer.transport.abort()


def exec_requests(sim: SimCluster, pod: str, since: int) -> list[RecordedRequest]:
    """The exec requests for `pod` after the mark `since` (a `state.recorded`): counted from a
    mark, not over the history, which stops growing at its cap on a busy session simulator."""
    return [r for r in sim.state.requests_since(since) if r.path.endswith(f"/pods/{pod}/exec")]


async def read_until_close(
    ws: aiohttp.ClientWebSocketResponse, limit: float = 30
) -> dict[str, Any]:
    """stdout bytes, channel-3 status text, close code."""
    out = bytearray()
    status = bytearray()
    async with asyncio.timeout(limit):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.CLOSE:
                return {"stdout": bytes(out), "status": bytes(status), "code": msg.data}
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return {"stdout": bytes(out), "status": bytes(status), "code": None}
            data: bytes = msg.data
            if data[:1] in (b"\x01", b"\x02"):
                out += data[1:]
            elif data[:1] == b"\x03":
                status += data[1:]


async def test_reattach_gets_buffered_output_in_order_and_no_new_exec(
    terminal: Open, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    lantern, url, pod = await terminal(["sh", "-c", "sleep 1; seq 1 40000"])
    sid = entry()
    before = sims["kubernetes"].state.recorded
    ws = await http.ws_connect(url, protocols=(V5, V4, sid))
    # The 101 carries the Kubernetes protocol, never ours.
    assert ws.protocol == V5
    drop(ws)
    deps = lantern_deps(lantern)
    await eventually(lambda: len(deps.sessions) == 1)
    # The process runs on while nobody is attached, to its end; its output is kept.
    await eventually(lambda: all(s.ended for s in deps.sessions._sessions.values()), 30)
    again = await http.ws_connect(url, protocols=(V5, V4, sid))
    assert again.protocol == V5
    got = await read_until_close(again)
    expected = "".join(f"{i}\n" for i in range(1, 40001)).encode()
    assert got["stdout"] == expected
    assert b'"Success"' in got["status"]
    assert got["code"] == 1000
    (upstream,) = exec_requests(sims["kubernetes"], pod, before)
    offered = upstream.header("Sec-WebSocket-Protocol") or ""
    assert "kubelantern.session" not in offered and V5 in offered


def lantern_deps(server: ServerThread) -> Any:
    from kubelantern.web import keys

    assert server.app is not None
    return server.app[keys.PROXY]


async def test_stdin_after_reattach_reaches_the_same_process(
    terminal: Open, http: aiohttp.ClientSession
) -> None:
    lantern, url, _ = await terminal(["cat"], stdin=True)
    sid = entry()
    ws = await http.ws_connect(url, protocols=(V5, sid))
    await ws.send_bytes(b"\x00before\n")
    async with asyncio.timeout(20):
        seen = b""
        while b"before\n" not in seen:
            msg = await ws.receive()
            seen += msg.data[1:] if msg.data[:1] == b"\x01" else b""
    drop(ws)
    await eventually(lambda: lantern_deps(lantern).metrics.sessions_kept == 1)
    again = await http.ws_connect(url, protocols=(V5, sid))
    await again.send_bytes(b"\x00after\n")
    got = await end_input(again)
    assert got["stdout"] == b"after\n"  # the same cat: nothing before, nothing twice
    assert b'"Success"' in got["status"]
    assert lantern_deps(lantern).metrics.sessions_resumed == 1


async def test_another_identity_gets_403(terminal: Open, http: aiohttp.ClientSession) -> None:
    lantern, url, _ = await terminal(["cat"], stdin=True)
    sid = entry()
    mine = {"Authorization": f"Bearer {KUBE_TOKEN}"}
    ws = await http.ws_connect(url, protocols=(V5, sid), headers=mine)
    drop(ws)
    await eventually(lambda: lantern_deps(lantern).metrics.sessions_kept == 1)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, protocols=(V5, sid))  # no credential: someone else
    assert refused.value.status == 403
    # The owner still gets in.
    again = await http.ws_connect(url, protocols=(V5, sid), headers=mine)
    got = await end_input(again)
    assert got["code"] == 1000


async def test_close_1000_ends_and_expired_entry_opens_a_new_session(
    terminal: Open, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    lantern, url, pod = await terminal(["cat"], stdin=True, session_grace=1.0)
    sid = entry()
    sessions = lantern_deps(lantern).sessions

    ws = await http.ws_connect(url, protocols=(V5, sid))
    await ws.close(code=1000)
    await eventually(lambda: len(sessions) == 0)
    before = sims["kubernetes"].state.recorded
    ws = await http.ws_connect(url, protocols=(V5, sid))  # a new session, a new exec
    assert len(exec_requests(sims["kubernetes"], pod, before)) == 1

    drop(ws)
    await eventually(lambda: lantern_deps(lantern).metrics.sessions_kept == 1)
    await eventually(lambda: len(sessions) == 0)  # the grace period ran out
    ws = await http.ws_connect(url, protocols=(V5, sid))
    assert len(exec_requests(sims["kubernetes"], pod, before)) == 2
    await ws.send_bytes(b"\x00fresh\n")
    got = await end_input(ws)
    assert got["stdout"] == b"fresh\n"


async def test_close_1001_keeps_the_session(terminal: Open, http: aiohttp.ClientSession) -> None:
    lantern, url, _ = await terminal(["cat"], stdin=True)
    sid = entry()
    ws = await http.ws_connect(url, protocols=(V5, sid))
    await ws.close(code=1001)  # a browser leaving the page
    await eventually(lambda: lantern_deps(lantern).metrics.sessions_kept == 1)
    again = await http.ws_connect(url, protocols=(V5, sid))
    await again.send_bytes(b"\x00still here\n")
    got = await end_input(again)
    assert got["stdout"] == b"still here\n"


async def test_overflow_drops_the_oldest_and_says_how_much(
    terminal: Open, http: aiohttp.ClientSession
) -> None:
    size = 3 << 20
    lantern, url, _ = await terminal(["sh", "-c", f"sleep 1; firehose {size} 4096"])
    sid = entry()
    ws = await http.ws_connect(url, protocols=(V5, sid))
    drop(ws)
    deps = lantern_deps(lantern)
    await eventually(lambda: deps.metrics.sessions_kept == 1)
    # The process ends while detached; the session keeps its tail and status.
    await eventually(lambda: all(s.ended for s in deps.sessions._sessions.values()), 30)
    again = await http.ws_connect(url, protocols=(V5, sid))
    got = await read_until_close(again)
    out: bytes = got["stdout"]
    assert out.startswith(b"\r\n[kubelantern: ")
    notice, _, rest = out.partition(b"]\r\n")
    dropped = int(notice.split()[1])
    assert (notice + b"]").endswith(LOST)
    assert dropped > 0
    assert dropped + len(rest) == size  # every byte is either delivered or counted
    assert len(rest) <= 1 << 20
    assert b'"Success"' in got["status"]


async def test_session_entry_is_validated(terminal: Open, http: aiohttp.ClientSession) -> None:
    _, url, _ = await terminal(["cat"], stdin=True)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, protocols=(V5, "kubelantern.session.short"))
    assert refused.value.status == 400


@pytest.mark.parametrize("close_first", [True, False])
async def test_a_session_whose_process_ends_while_attached_is_let_go(
    terminal: Open, http: aiohttp.ClientSession, close_first: bool
) -> None:
    """The UI closing a terminal: stdin closed (v5), then close 1000 at once, or after the
    process's own end. Either way the session leaves the registry (it once stayed forever
    when the client's close answered kubelantern's own close of the ended process)."""
    lantern, url, _ = await terminal(["cat"], stdin=True)
    sessions = lantern_deps(lantern).sessions
    for _ in range(5):
        ws = await http.ws_connect(url, protocols=(V5, entry()))
        await ws.send_bytes(b"\xff\x00")
        if close_first:
            await ws.close(code=1000)
        else:
            assert (await read_until_close(ws))["code"] == 1000
    await eventually(lambda: len(sessions) == 0)
    await eventually(lambda: len(lantern_deps(lantern).streams) == 0)
