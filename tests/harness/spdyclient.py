"""A SPDY/3.1 client over a real socket for tests: the upgrade request by hand, then the
simulator's own session code in the client role (kubectl-independent wire checks)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kubesim.streaming.spdy.connection import SpdyConnection
from kubesim.streaming.spdy.session import Role


class StreamPipe:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._paused = asyncio.Event()
        self._paused.set()

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    def pause_reading(self) -> None:
        self._paused.clear()

    def resume_reading(self) -> None:
        self._paused.set()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


@dataclass
class Upgrade:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    conn: SpdyConnection | None = None
    writer: asyncio.StreamWriter | None = None
    _pump: asyncio.Task[None] | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    async def aclose(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        if self.writer is not None:
            self.writer.close()


async def spdy_upgrade(
    url: str,
    *,
    protocols: list[str],
    token: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    method: str = "POST",
    extra: list[tuple[str, str]] | None = None,
    before_101: bytes = b"",
) -> Upgrade:
    """POST `url` with `Upgrade: SPDY/3.1` (one X-Stream-Protocol-Version line per
    protocol, like client-go); a 101 gives a running client session."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    reader, writer = await asyncio.open_connection(
        host, port, ssl=ssl_context if parts.scheme == "https" else None
    )
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Connection: Upgrade",
        "Upgrade: SPDY/3.1",
        "Content-Length: 0",
    ]
    lines += [f"X-Stream-Protocol-Version: {p}" for p in protocols]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k}: {v}" for k, v in extra or []]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + before_101)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines if h)]
    result = Upgrade(status, headers, writer=writer)
    if status != 101:
        length = int(result.header("Content-Length") or 0)
        result.body = await asyncio.wait_for(reader.readexactly(length), 30) if length else b""
        writer.close()
        return result
    pipe = StreamPipe(writer)
    conn = SpdyConnection(pipe, role=Role.CLIENT)

    async def pump() -> None:
        try:
            while chunk := await reader.read(65536):
                await pipe._paused.wait()
                conn.feed(chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            conn.feed_eof()

    result.conn = conn
    result._pump = asyncio.ensure_future(pump())
    return result
