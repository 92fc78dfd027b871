"""The fault proxy itself (tests/harness/faultproxy.py), against a TCP echo server: each
fault does what the fault tests rely on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.harness.faultproxy import FaultProxy


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def _open(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(proxy.host, proxy.port)


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"ping\n")
    async with asyncio.timeout(5):
        return await reader.readline()


async def test_forwards_then_cut_closes_with_fin(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await _open(proxy)
        assert await _roundtrip(reader, writer) == b"ping\n"
        await asyncio.to_thread(proxy.cut)
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # EOF, not an error
        writer.close()


async def test_reset_is_a_connection_reset(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await _open(proxy)
        assert await _roundtrip(reader, writer) == b"ping\n"
        await asyncio.to_thread(proxy.reset)
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(5):
                await reader.read()
        writer.close()


async def test_stall_holds_bytes_and_resume_delivers_them_in_order(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await _open(proxy)
        assert await _roundtrip(reader, writer) == b"ping\n"
        await asyncio.to_thread(proxy.stall)
        writer.write(b"one\ntwo\n")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await reader.readline()
        # A new connection is accepted and held too (a server that never answers).
        late_reader, late_writer = await _open(proxy)
        late_writer.write(b"late\n")
        await asyncio.to_thread(proxy.resume)
        async with asyncio.timeout(5):
            assert await reader.readline() == b"one\n"
            assert await reader.readline() == b"two\n"
            assert await late_reader.readline() == b"late\n"
        writer.close()
        late_writer.close()


async def test_delay_holds_each_chunk(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await _open(proxy)
        proxy.delay(0.3)
        start = time.monotonic()
        assert await _roundtrip(reader, writer) == b"ping\n"
        assert time.monotonic() - start >= 0.6  # both directions held
        writer.close()


async def test_stop_refuses_and_start_listens_on_the_same_port(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        port = proxy.port
        reader, writer = await _open(proxy)
        # A round trip first: the proxy knows the connection only once its accept
        # handler has run, which a loaded machine may delay past the client's connect.
        assert await _roundtrip(reader, writer) == b"ping\n"
        await asyncio.to_thread(proxy.stop)
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        with pytest.raises(ConnectionRefusedError):
            await _open(proxy)
        await asyncio.to_thread(proxy.start)
        assert proxy.port == port
        reader, writer = await _open(proxy)
        assert await _roundtrip(reader, writer) == b"ping\n"
        writer.close()
