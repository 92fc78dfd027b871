"""The handover hold over real sockets: an "API server" that writes its whole exec (the
empty first message, output, status, Close) right behind its 101, kubelantern in front,
and a raw WebSocket client that timestamps every frame.

client-go < 1.34 (by its User-Agent) gets a ping right after the 101 and nothing else
until it answers (byte tunnel), then the output `AFTER_PONG` later; if it never answers,
at `MAX_HOLD`. The message relay holds `FIXED_HOLD`. Browsers, the Python client, no
User-Agent and kubectl 1.34 get the output at once, with no ping in front.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubelantern.proxy.ws.handover import AFTER_PONG, FIXED_HOLD, MAX_HELD_BYTES, MAX_HOLD
from kubelantern.proxy.ws.hold import PING_PAYLOAD
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.rawws import RawUpstream, RawUpstreamThread, close_payload, frame
from tests.harness.servers import ServerThread

KUBECTL_131 = "kubectl.1.31/v1.31.9 (linux/amd64) kubernetes/8f38003"
UNAFFECTED = {
    "browser": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "python client": "OpenAPI-Generator/31.0.0/python",
    "no User-Agent": None,
    "kubectl 1.34": "kubectl/v1.34.1 (linux/amd64) kubernetes/0123456",
}
STATUS = b'\x03{"metadata":{},"status":"Success"}'
EXEC = (
    frame(0x2, b"\x01", masked=False)
    + frame(0x2, b"\x01hi\n", masked=False)
    + frame(0x2, STATUS, masked=False)
    + frame(0x8, close_payload(1000), masked=False)
)
TARGET = "/clusters/raw/api/v1/namespaces/ns/pods/p/exec?command=echo&command=hi&stdout=true"
# Output larger than the hold keeps in memory (MAX_HELD_BYTES): reading the upstream pauses.
BIG_TARGET = TARGET.replace("/pods/p/", "/pods/big/")
CHUNK = 32 * 1024
BIG = [bytes([65 + i % 26]) * CHUNK for i in range(2 * MAX_HELD_BYTES // CHUNK + 3)]
BIG_EXEC = (
    frame(0x2, b"\x01", masked=False)
    + b"".join(frame(0x2, b"\x01" + chunk, masked=False) for chunk in BIG)
    + frame(0x2, STATUS, masked=False)
    + frame(0x8, close_payload(1000), masked=False)
)
Frame = tuple[int, bytes, float]  # opcode, payload, seconds since the 101


@pytest.fixture(scope="module")
def raw_upstream(pki: Pki) -> Iterator[RawUpstream]:
    script = lambda target: BIG_EXEC if "/pods/big/" in target else EXEC  # noqa: E731
    runner = RawUpstreamThread(RawUpstream(script, pki.server_context()))
    yield runner.start()
    runner.stop()


@pytest.fixture(scope="module")
def raw_config(
    pki: Pki, raw_upstream: RawUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    context = Context("raw", f"https://127.0.0.1:{raw_upstream.port}", pki.ca_pem, "t")
    return write_kubeconfig(tmp_path_factory.mktemp("handover") / "config", [context])


@pytest.fixture(params=["tunnel", "relay", "recorded"])
def lantern(
    request: pytest.FixtureRequest,
    raw_config: Path,
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
) -> tuple[ServerThread, str]:
    """kubelantern in front of the raw upstream, and which path its WebSockets take
    (recorded: exec sessions, proxy/ws/sessions.py)."""
    settings = Settings(
        kubeconfigs=(raw_config,),
        launch_token=None,
        ws_fast_path=request.param == "tunnel",
        record_sessions=tmp_path / "recordings" if request.param == "recorded" else None,
    )
    return lantern_factory(settings), request.param


class Client:
    """A raw WebSocket client: frames with the time they arrived after the 101."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.upgraded = 0.0

    @classmethod
    async def open(
        cls, server: ServerThread, user_agent: str | None, target: str = TARGET
    ) -> Client:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        ua = f"User-Agent: {user_agent}\r\n" if user_agent else ""
        writer.write(
            (
                f"GET {target} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                f"{ua}\r\n"
            ).encode()
        )
        client = cls(reader, writer)
        async with asyncio.timeout(20):
            head = await reader.readuntil(b"\r\n\r\n")
        client.upgraded = time.monotonic()
        assert head.startswith(b"HTTP/1.1 101"), head
        assert b"\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n" in head, head
        return client

    async def frame(self, limit: float = 10) -> Frame:
        async with asyncio.timeout(limit):
            head = await self.reader.readexactly(2)
            n = head[1] & 0x7F
            assert n < 127 and not head[1] & 0x80, head  # < 64 KiB, unmasked server frames
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            payload = await self.reader.readexactly(n)
        return head[0] & 0x0F, payload, time.monotonic() - self.upgraded

    async def rest(self, first: Frame | None = None) -> list[Frame]:
        """Frames up to and including the Close."""
        frames = [first or await self.frame()]
        while frames[-1][0] != 0x8:
            frames.append(await self.frame())
        return frames

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


def the_exec(frames: list[Frame]) -> list[tuple[int, bytes]]:
    return [(op, data) for op, data, _ in frames]


EXPECTED = [(0x2, b"\x01"), (0x2, b"\x01hi\n"), (0x2, STATUS), (0x8, close_payload(1000))]


async def test_affected_kubectl_gets_output_only_after_its_pong(
    lantern: tuple[ServerThread, str],
) -> None:
    server, path = lantern
    client = await Client.open(server, KUBECTL_131)
    try:
        if path == "tunnel":
            op, payload, _ = await client.frame()
            assert (op, payload) == (0x9, PING_PAYLOAD), "the handover ping comes first"
            # Not answered yet: the output waits (the raw upstream sent it all at once).
            pending = asyncio.create_task(client.frame())
            done, _ = await asyncio.wait({pending}, timeout=0.3)
            assert not done, f"output before the pong: {pending.result()}"
            answered = time.monotonic() - client.upgraded
            client.send(frame(0xA, PING_PAYLOAD))
            frames = await client.rest(await pending)
            assert the_exec(frames) == EXPECTED
            assert frames[0][2] - answered >= AFTER_PONG * 0.9, frames
            assert frames[0][2] < MAX_HOLD, frames
        else:
            frames = await client.rest()
            assert the_exec(frames) == EXPECTED  # aiohttp's heartbeat pings come later
            assert frames[0][2] >= FIXED_HOLD * 0.9, frames
    finally:
        client.close()


async def test_a_client_that_never_answers_gets_output_at_max_hold(
    lantern: tuple[ServerThread, str],
) -> None:
    server, path = lantern
    if path != "tunnel":
        pytest.skip("the relay's hold is fixed (the previous test)")
    client = await Client.open(server, KUBECTL_131)
    try:
        op, _, _ = await client.frame()
        assert op == 0x9
        frames = await client.rest()
        assert the_exec(frames) == EXPECTED
        assert MAX_HOLD * 0.95 <= frames[0][2] < MAX_HOLD + 1.0, frames
    finally:
        client.close()


@pytest.mark.parametrize("who", list(UNAFFECTED))
async def test_unaffected_clients_get_output_at_once(
    lantern: tuple[ServerThread, str], who: str
) -> None:
    client = await Client.open(lantern[0], UNAFFECTED[who])
    try:
        frames = await client.rest()  # we never send anything
        assert the_exec(frames) == EXPECTED, "no ping in front, nothing missing"
        # Far below any hold (FIXED_HOLD is the smallest); on an idle box it is ~1 ms.
        assert frames[-1][2] < FIXED_HOLD, frames
    finally:
        client.close()


async def test_output_beyond_the_hold_buffer_waits_in_the_socket_and_arrives_whole(
    lantern: tuple[ServerThread, str],
) -> None:
    server, path = lantern
    if path != "tunnel":
        pytest.skip("the relay's hold is a sleep before reading")
    client = await Client.open(server, KUBECTL_131, BIG_TARGET)
    try:
        op, _, _ = await client.frame()
        assert op == 0x9
        await asyncio.sleep(0.5)  # the upstream wrote 2 MiB meanwhile; the hold keeps 1 MiB
        client.send(frame(0xA, PING_PAYLOAD))
        frames = await client.rest()
        assert the_exec(frames) == [
            (0x2, b"\x01"),
            *((0x2, b"\x01" + chunk) for chunk in BIG),
            (0x2, STATUS),
            (0x8, close_payload(1000)),
        ]
    finally:
        client.close()
