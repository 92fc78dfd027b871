"""WebSocket frames written byte for byte, for frames no client library would send
(reserved opcodes, unmasked client frames, invalid UTF-8, lying lengths), and a tiny raw
WebSocket upstream over TLS that answers the handshake and then sends what a test says."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: int | None = None,
) -> bytes:
    """One frame; `length` overrides the payload length written in the header (to lie)."""
    n = len(payload) if length is None else length
    head = bytes(((0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0x0F,))
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes((mask_bit | n,))
    elif n < 1 << 16:
        head += bytes((mask_bit | 126,)) + struct.pack("!H", n)
    else:
        head += bytes((mask_bit | 127,)) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


@dataclass
class Received:
    status: int = 0
    protocol: str | None = None
    frames: list[tuple[int, bytes]] = field(default_factory=list)  # (opcode, payload)
    eof: bool = False

    @property
    def close_code(self) -> int | None:
        for opcode, payload in self.frames:
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        return None


async def read_frames(
    reader: asyncio.StreamReader,
    got: Received,
    limit: float,
    writer: asyncio.StreamWriter | None = None,
    answer: bytes | None = None,
) -> None:
    """Frames until a Close, EOF or `limit` seconds (then the caller decides). `answer`
    is written once after the first frame (e.g. the Close a strict client would send)."""
    with contextlib.suppress(TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        async with asyncio.timeout(limit):
            while True:
                head = await reader.readexactly(2)
                n = head[1] & 0x7F
                if n == 126:
                    n = struct.unpack("!H", await reader.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", await reader.readexactly(8))[0]
                key = await reader.readexactly(4) if head[1] & 0x80 else b""
                data = await reader.readexactly(n)
                if key:
                    data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
                got.frames.append((head[0] & 0x0F, data))
                if head[0] & 0x0F == 0x8:
                    return
                if answer is not None and writer is not None:
                    writer.write(answer)
                    answer = None
    got.eof = reader.at_eof()


async def ws_client(
    host: str,
    port: int,
    target: str,
    headers: str,
    send: bytes,
    *,
    limit: float = 20,
    answer: bytes | None = None,
) -> Received:
    """Upgrade, send `send` as is, read what comes back until a Close, EOF or `limit`
    (writing `answer` after the first frame that is not a Close)."""
    reader, writer = await asyncio.open_connection(host, port)
    got = Received()
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{headers}\r\n"
            ).encode("latin-1")
        )
        async with asyncio.timeout(limit):
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        got.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-protocol":
                got.protocol = value.strip()
        if got.status != 101:
            return got
        writer.write(send)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        await read_frames(reader, got, limit, writer, answer)
        return got
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


@dataclass
class RawUpstream:
    """A WebSocket "API server" on TLS: 101 with the first offered channel protocol, then
    `script(path)`'s bytes; records what the proxy sent back and whether it hung up."""

    script: Callable[[str], bytes]
    ssl_context: ssl.SSLContext
    hang_up: Callable[[str], bool] = lambda target: False  # close right after the script
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> RawUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got = Received()
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            target = head.split(" ", 2)[1]
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])
            }
            if fields.get("upgrade", "").lower() != "websocket":
                body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}'
                writer.write(
                    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                )
                await writer.drain()
                return
            offered = [p.strip() for p in fields.get("sec-websocket-protocol", "").split(",")]
            protocol = next(p for p in offered if p.endswith(".channel.k8s.io"))
            accept = base64.b64encode(
                hashlib.sha1(fields["sec-websocket-key"].encode() + GUID).digest()
            ).decode()
            writer.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                    f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
                ).encode()
            )
            writer.write(self.script(target))
            await writer.drain()
            got.status = 101
            if self.hang_up(target):
                got.eof = True
                return
            await read_frames(reader, got, 20)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            got.eof = True
        finally:
            self.received.append(got)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
                await writer.wait_closed()


class RawUpstreamThread:
    """A `RawUpstream` on its own event loop in a thread, to outlive one test's loop."""

    def __init__(self, upstream: RawUpstream) -> None:
        import threading

        self.upstream = upstream
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> RawUpstream:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.upstream.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.upstream.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
