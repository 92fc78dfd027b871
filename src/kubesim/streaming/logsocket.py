"""Pod logs over WebSocket (`wsstream.NewReader`, reference 2.3)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from . import protocol as p
from .wsio import log, negotiate, upgrade

READ_SIZE = 2048  # wsstream's messageCopy buffer: one message per read of at most this


def split_chunks(data: bytes, size: int = READ_SIZE) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def log_message(protocol: str, chunk: bytes) -> tuple[bool, bytes]:
    """(is_text, message) for one read: raw bytes, or base64 text for base64.binary.k8s.io."""
    if protocol == p.LOG_BASE64:
        return True, base64.b64encode(chunk)
    return False, chunk


async def handle_log_websocket(
    request: web.Request, state: Any, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """Upgrade a `/log` request and stream `chunks` (the same bytes the HTTP body would carry)."""
    proto = negotiate(request, p.LOG_PROTOCOLS)
    if not isinstance(proto, str):
        return proto
    ws = await upgrade(request, proto)

    async def send(chunk: bytes) -> None:
        text, message = log_message(proto, chunk)
        if text:
            await ws.send_str(message.decode("ascii"))
        else:
            await ws.send_bytes(message)

    async def pump() -> None:
        await send(b"")  # the empty first message
        async for data in chunks:
            for piece in split_chunks(data):
                await send(piece)

    async def drain_client() -> None:
        async for _ in ws:  # client messages are ignored; the loop ends when it closes
            pass

    writer = asyncio.ensure_future(pump())
    reader = asyncio.ensure_future(drain_client())
    try:
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        if writer.done() and not writer.cancelled() and writer.exception() is not None:
            log.warning("log websocket: the log source failed: %r", writer.exception())
        elif writer.done() and not writer.cancelled():
            reader.cancel()  # see exec.py: close() must not race a pending receive()
            await asyncio.gather(reader, return_exceptions=True)
            await ws.close(code=1000)  # EOF
    except (ConnectionError, RuntimeError, TimeoutError):
        pass
    finally:
        for task in (writer, reader):
            task.cancel()
        await asyncio.gather(writer, reader, return_exceptions=True)
        closer = getattr(chunks, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close(code=1000)
    return ws
