"""serve's event loop: TLS read buffers sized by use, over real TLS sockets on 127.0.0.1.
The control (asyncio's own loop) shows the 256 KiB a connection otherwise keeps."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelantern.eventloop import IDLE_AFTER, MAX_BUFFER, LeanSSLProtocol, new_event_loop
from tests.harness.pki import make_pki


class Client(asyncio.Protocol):
    def __init__(self, on_data: Callable[[], None]) -> None:
        self.data = bytearray()
        self.got = asyncio.Event()
        self.closed = asyncio.Event()
        self.on_data = on_data

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.on_data()
        self.got.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def exchange(tmp_path: Path, reply: bytes) -> dict[str, Any]:
    """A TLS server on this loop answers `reply` to one line, then closes; the client's
    SSL protocol buffer sizes are observed while data arrives and once it is idle."""
    pki = make_pki(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(reply)
        await writer.drain()
        await reader.read()  # until the client closes
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    seen: list[int] = []
    proto_ref: list[Any] = []
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(
        lambda: Client(lambda: seen.append(len(proto_ref[0]._ssl_buffer))),
        "127.0.0.1",
        port,
        ssl=pki.client_context(),
        server_hostname="127.0.0.1",
    )
    ssl_proto = transport._ssl_protocol  # type: ignore[attr-defined]
    proto_ref.append(ssl_proto)
    transport.write(b"go\n")
    while len(client.data) < len(reply):
        client.got.clear()
        await asyncio.wait_for(client.got.wait(), 30)
    await asyncio.sleep(0.05)
    idle = len(ssl_proto._ssl_buffer)
    await asyncio.sleep(IDLE_AFTER * 2.5)  # the idle check may look once more before
    idle_later = len(ssl_proto._ssl_buffer)
    peercert_kept = "peercert" in ssl_proto._extra
    peercert = transport.get_extra_info("peercert")
    transport.close()
    await asyncio.wait_for(client.closed.wait(), 10)
    server.close()
    await server.wait_closed()
    return {
        "lean": isinstance(ssl_proto, LeanSSLProtocol),
        "idle": idle,
        "idle_later": idle_later,
        "max_seen": max(seen),
        "peercert_kept": peercert_kept,
        "peercert": peercert,
        "intact": hashlib.sha256(client.data).digest() == hashlib.sha256(reply).digest(),
    }


def run_on(loop: asyncio.AbstractEventLoop, coro: Any) -> dict[str, Any]:
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        result: dict[str, Any] = runner.run(coro)
        return result


def test_asyncio_loop_keeps_256_kib_per_idle_tls_connection(tmp_path: Path) -> None:
    got = run_on(new_event_loop({"KUBELANTERN_TLS_BUFFERS": "asyncio"}), exchange(tmp_path, b"hi"))
    assert not got["lean"] and got["idle"] == got["idle_later"] == 256 * 1024
    assert got["peercert_kept"]  # the control: the decoded certificate lives with the socket


def test_idle_tls_connection_holds_no_read_buffer(tmp_path: Path) -> None:
    got = run_on(new_event_loop({}), exchange(tmp_path, b"hello\n"))
    assert got["lean"] and got["intact"]
    assert got["idle"] == 0  # a short read lets it go at once
    assert got["max_seen"] <= 4 * 1024


def test_peer_certificate_is_decoded_when_asked_not_kept(tmp_path: Path) -> None:
    got = run_on(new_event_loop({}), exchange(tmp_path, b"hello\n"))
    assert got["lean"] and not got["peercert_kept"]
    issuer = {pair for rdn in got["peercert"]["issuer"] for pair in rdn}
    assert ("commonName", "kubelantern-test-ca") in issuer


@pytest.mark.parametrize("size", [8 * 1024 * 1024])
def test_bulk_tls_stream_grows_the_buffer_and_arrives_intact(tmp_path: Path, size: int) -> None:
    reply = bytes(range(256)) * (size // 256)
    got = run_on(new_event_loop({}), exchange(tmp_path, reply))
    assert got["lean"] and got["intact"]
    assert got["max_seen"] == MAX_BUFFER
    assert got["idle_later"] == 0  # let go once the stream has been quiet a while
