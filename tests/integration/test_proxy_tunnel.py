"""The upgrade tunnel (SPDY/3.1) through kubelantern over real sockets: the simulator's
SPDY exec and port-forward end to end, refusals passed back with status and body, the
one refresh after a 401, and bad input (unknown Upgrade values, bytes before the 101, an
upstream that hangs up mid-handshake or switches to something else, a 101 to a plain
request) ending with a clear answer and no task or socket left behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.proxy import cluster_base, exec_path, find_pod
from tests.harness.servers import ServerThread
from tests.harness.spdyclient import Upgrade, spdy_upgrade

V4 = "v4.channel.k8s.io"


async def _tasks() -> int:
    return len(asyncio.all_tasks())


def _sockets(ports: set[int]) -> int:
    """This process's open TCP sockets (not listeners) with an end on one of `ports`: the
    client ↔ kubelantern connections, and kubelantern ↔ a fake upstream. (Connections to
    the simulators are left out: their keep-alive pool comes and goes on its own.)"""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                ours.add(target[8:-1])
    count = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(path) as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split()
                local, remote = (int(c.rsplit(":", 1)[1], 16) for c in cols[1:3])
                if cols[3] != "0A" and cols[9] in ours and {local, remote} & ports:
                    count += 1
    return count


async def settled(server: ServerThread, tasks: int, socks: int, ports: set[int]) -> None:
    """kubelantern's loop is back to `tasks` tasks and no socket on `ports` was left."""
    for _ in range(100):
        if server.call(_tasks()) <= tasks and _sockets(ports) <= socks:
            return
        await asyncio.sleep(0.1)
    assert server.call(_tasks()) <= tasks, "a task was left behind"
    assert _sockets(ports) <= socks, "a socket was left open"


@contextlib.asynccontextmanager
async def baseline(server: ServerThread, *upstream_ports: int) -> AsyncIterator[None]:
    ports = {server.port, *upstream_ports}
    await asyncio.sleep(0.2)
    tasks, socks = server.call(_tasks()), _sockets(ports)
    yield
    await settled(server, tasks, socks, ports)


async def exec_upgrade(
    server: ServerThread, profile: str, command: list[str], **flags: bool
) -> Upgrade:
    async with aiohttp.ClientSession() as http:
        ns, pod, container = await find_pod(http, cluster_base(server, profile))
    flags.setdefault("stderr", False)
    url = cluster_base(server, profile) + exec_path(ns, pod, container, command, **flags)
    return await spdy_upgrade(url, protocols=[V4, "v3.channel.k8s.io"])


async def run_exec(up: Upgrade, stdin: bytes | None = None) -> tuple[bytes, dict[str, object]]:
    assert up.status == 101, (up.status, up.body)
    assert up.conn is not None
    kinds = ["error", *(["stdin"] if stdin is not None else []), "stdout"]
    streams = {k: await up.conn.open((("streamtype", k),)) for k in kinds}
    if stdin is not None:
        await streams["stdin"].write(stdin)
        await streams["stdin"].close()
    out, status = await asyncio.wait_for(
        asyncio.gather(streams["stdout"].read_all(), streams["error"].read_all()), 30
    )
    return out, json.loads(status)


async def metric(server: ServerThread, name: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/metrics") as resp:
        text = await resp.text()
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(rf"^{name}(\{{[^}}]*\}}) (\S+)$", text, re.M)
    }


@pytest.mark.parametrize("profile", ["kubernetes", "rancher", "legacy"])
async def test_spdy_exec_through_the_tunnel(lantern: ServerThread, profile: str) -> None:
    before = await metric(lantern, "kubelantern_tunnel_bytes_total")
    async with baseline(lantern):
        up = await exec_upgrade(lantern, profile, ["sh", "-c", "cat; exit 3"], stdin=True)
        try:
            assert up.header("Upgrade") == "SPDY/3.1" and up.header("Connection") == "Upgrade"
            assert up.header("X-Stream-Protocol-Version") == V4  # the upstream's choice
            assert up.header("Set-Cookie") is None
            live = await metric(lantern, "kubelantern_active_streams")
            assert any('kind="tunnel"' in k and v >= 1 for k, v in live.items()), live
            out, status = await run_exec(up, stdin=b"through the tunnel\n" * 500)
            assert out == b"through the tunnel\n" * 500
            assert status["reason"] == "NonZeroExitCode"
            assert status["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}
        finally:
            await up.aclose()
    after = await metric(lantern, "kubelantern_tunnel_bytes_total")
    moved = {k: v - before.get(k, 0) for k, v in after.items()}
    assert max(v for k, v in moved.items() if 'direction="up"' in k) >= 9500
    assert max(v for k, v in moved.items() if 'direction="down"' in k) >= 9500


async def test_upstream_refusal_passes_back_with_status_and_body(lantern: ServerThread) -> None:
    async with baseline(lantern):
        url = cluster_base(lantern, "kubernetes") + "/api/v1/namespaces/default/pods/nope/exec"
        up = await spdy_upgrade(url + "?command=true&stdout=true", protocols=[V4])
        assert up.status == 404
        body = json.loads(up.body)
        assert body["kind"] == "Status" and "nope" in body["message"]


async def test_unknown_upgrade_values_are_a_clear_400(lantern: ServerThread) -> None:
    url = cluster_base(lantern, "kubernetes") + "/api/v1/namespaces/default/pods/x/exec"
    async with aiohttp.ClientSession() as http:
        for value in ("h2c", "tcp", "SPDY/2"):
            async with http.post(url, headers={"Connection": "Upgrade", "Upgrade": value}) as r:
                assert r.status == 400
                assert "unsupported Upgrade" in (await r.json())["message"]


# --- a fake upstream, for what no simulator does --------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def fake_upstream(handle: Handler) -> AsyncIterator[tuple[int, list[bytes]]]:
    heads: list[bytes] = []
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith((b"GET /version ", b"GET /api ", b"GET /apis ")):
                # kubelantern's reachability probe: a server of some version
                body = b'{"major":"1","minor":"30","gitVersion":"v1.30.0"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
                return
            heads.append(head)
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], heads
    finally:
        server.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def plain_lantern(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path, port: int, **user: object
) -> ServerThread:
    ctx = Context("fake", f"http://127.0.0.1:{port}", token=None if user else "tok", user=user)
    kc = write_kubeconfig(tmp_path / "config", [ctx])
    return lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))


SWITCH = (
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
    b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
)


async def raw_upgrade(
    server: ServerThread, *, send: bytes = b"", extra: bytes = b""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /clusters/fake/api/v1/namespaces/a/pods/b/exec HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        + extra
        + b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n"
        + send
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    return reader, writer, head


async def test_half_close_keeps_the_other_direction(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    async def echo_then_bye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SWITCH + b"hello")  # bytes right behind the 101 reach the client too
        got = await reader.read()  # until the client's FIN
        writer.write(got + b"|bye")
        await writer.drain()

    async with fake_upstream(echo_then_bye) as (port, heads):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port):
            reader, writer, head = await raw_upgrade(server)
            assert head.startswith(b"HTTP/1.1 101")
            writer.write(b"ping" * 1000)
            writer.write_eof()  # half-close: the answer must still come back
            data = await asyncio.wait_for(reader.read(), 30)
            assert data == b"hello" + b"ping" * 1000 + b"|bye"
            writer.close()
        sent = heads[0].decode().lower()
        assert "upgrade: spdy/3.1" in sent and "authorization: bearer tok" in sent
        assert "x-stream-protocol-version: v4.channel.k8s.io" in sent
        assert "content-type" not in sent and "accept-encoding" not in sent  # no body


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (b"", 502, "cluster 'fake' unreachable"),  # hangs up mid-handshake
        (
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            502,
            "cluster 'fake' answered wrongly: upstream switched to 'h2c'",
        ),
        (
            SWITCH.replace(b"v4.channel", b"v9.channel"),
            502,
            "answered wrongly: upstream chose stream protocol 'v9.channel.k8s.io'",
        ),
        (
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: 17\r\n"
            b'\r\n{"why":"no exec"}',
            403,
            "no exec",
        ),
    ],
)
async def test_bad_upstream_answers(
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    answer: bytes,
    status: int,
    words: str,
) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(0.2)

    async with fake_upstream(reply) as (port, _):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port):
            reader, writer, head = await raw_upgrade(server)
            assert head.split(b" ")[1] == str(status).encode(), head
            body = await asyncio.wait_for(reader.read(), 30)
            assert words in body.decode(), body
            writer.close()


async def test_a_101_to_a_plain_request_is_not_spliced(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SWITCH + b"secret bytes of another protocol")
        await writer.drain()
        await asyncio.sleep(0.5)

    async with fake_upstream(reply) as (port, _):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port), aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/clusters/fake/api/v1/pods") as resp:
                body = await resp.read()
            assert resp.status == 502, (resp.status, body)
            assert b"secret" not in body


async def test_401_refreshes_the_credential_and_retries_once(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    async def only_fresh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SWITCH + b"ok")
        await writer.drain()
        await reader.read()

    seen: list[str] = []

    async def gate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = heads[-1].decode()
        token = re.search(r"Authorization: Bearer (\S+)", head, re.I)
        seen.append(token.group(1) if token else "")
        if token and token.group(1) == "rotating-2":
            await only_fresh(reader, writer)
        else:
            writer.write(
                b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )
            await writer.drain()

    count = tmp_path / "runs"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_COUNT_FILE": str(count), "FAKE_PLUGIN_TOKEN": "rotating"},
        interactiveMode="Never",
    )
    async with fake_upstream(gate) as (port, heads):
        server = plain_lantern(lantern_factory, tmp_path, port, exec=exec_cfg)
        async with baseline(server, port):
            reader, writer, head = await raw_upgrade(server)
            assert head.startswith(b"HTTP/1.1 101"), head
            assert await asyncio.wait_for(reader.readexactly(2), 30) == b"ok"
            writer.close()
    assert seen[-2:] == ["rotating-1", "rotating-2"]


async def test_client_leaving_during_the_dial_cancels_it(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    hung_up = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when kubelantern hangs up
        hung_up.set()

    async with fake_upstream(slow) as (port, heads):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port):
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                b"POST /clusters/fake/api/v1/namespaces/a/pods/b/exec HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\n"
                b"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n"
            )
            await writer.drain()
            for _ in range(100):
                if heads:
                    break
                await asyncio.sleep(0.05)
            assert heads, "the upgrade never reached the upstream"
            writer.close()
            await asyncio.wait_for(hung_up.wait(), 30)  # the dial was cancelled


async def test_shutdown_closes_live_tunnels(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Path
) -> None:
    server = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
    up = await exec_upgrade(server, "kubernetes", ["sh"], stdin=True)
    try:
        assert up.status == 101 and up.conn is not None
        await up.conn.open((("streamtype", "error"),))
        await up.conn.open((("streamtype", "stdin"),))
        await up.conn.open((("streamtype", "stdout"),))
        await asyncio.to_thread(server.stop)
        await asyncio.wait_for(up.conn.closed.wait(), 15)
    finally:
        await up.aclose()


async def test_bytes_before_the_101_are_refused_and_go_nowhere(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    after_head: list[bytes] = []

    async def slow_switch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(1)
        writer.write(SWITCH)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            after_head.append(await asyncio.wait_for(reader.read(), 5))

    async with fake_upstream(slow_switch) as (port, heads):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                b"POST /clusters/fake/api/v1/namespaces/a/pods/b/exec HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\n"
                b"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n"
            )
            await writer.drain()
            for _ in range(100):
                if heads:
                    break
                await asyncio.sleep(0.05)
            writer.write(b"\x80\x03\x00\x01 not waiting for the 101")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            assert head.startswith(b"HTTP/1.1 400"), head
            body = await asyncio.wait_for(reader.read(), 30)
            assert b"before the upgrade was answered" in body
            writer.close()
    assert after_head in ([], [b""]), after_head  # the upstream got none of those bytes


async def test_the_clients_own_credential_goes_instead_of_the_kubeconfigs(
    lantern_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    async def switch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SWITCH)
        await writer.drain()
        await reader.read()

    async with fake_upstream(switch) as (port, heads):
        server = plain_lantern(lantern_factory, tmp_path, port)
        async with baseline(server, port):
            _, writer, head = await raw_upgrade(
                server, extra=b"Authorization: Bearer mine\r\nCookie: kl-launch-x=1\r\n"
            )
            assert head.startswith(b"HTTP/1.1 101"), head
            writer.close()
        sent = heads[0].decode().lower()
        assert "authorization: bearer mine" in sent and "bearer tok" not in sent
        assert "cookie" not in sent
