"""Raw HTTP/1.1 over a socket, for requests no client library would send as written
(odd request targets, conflicting framing headers, huge or broken header lines)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class RawAnswer:
    status: int  # 0: the server closed without an answer
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    raw: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def parse_answer(raw: bytes) -> RawAnswer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1."):
        return RawAnswer(0, raw=raw)
    status = int(lines[0].split(" ", 2)[1])
    headers = [
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:] if line)
    ]
    return RawAnswer(status, headers, body, raw)


async def raw_request(
    host: str, port: int, data: bytes, *, limit: float = 20, read_all: bool = False
) -> RawAnswer:
    """Send `data` as is, read the first answer (headers + Content-Length body, or until
    the server closes when `read_all`)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        got = b""
        async with asyncio.timeout(limit):
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                got += chunk
                if read_all or b"\r\n\r\n" not in got:
                    continue
                answer = parse_answer(got)
                length = answer.header("Content-Length")
                if length is not None and len(answer.body) >= int(length):
                    break
                if length is None and answer.header("Transfer-Encoding") is None:
                    break
                if answer.header("Transfer-Encoding") and got.endswith(b"0\r\n\r\n"):
                    break
        return parse_answer(got)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


def get(target: str, host: str = "127.0.0.1", extra: str = "") -> bytes:
    """A GET request with `target` written byte for byte."""
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n").encode(
        "latin-1"
    )
