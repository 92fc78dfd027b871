"""Light clients: blocking sockets, one preallocated buffer, just enough HTTP/1.1 and
WebSocket framing to count and check what arrives.

The same client reads every path (direct over TLS, kubelantern, kubectl proxy), and it is
light on purpose: on a 2-core machine a heavy client (aiohttp over TLS) would itself bound
the direct path and make "x of direct" meaningless.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BUFFER = 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    """Where one path reaches the cluster's API: `base` is the API root as a URL."""

    label: str
    base: str
    headers: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    pid: int | None = None  # the proxy process (None: direct)

    @property
    def host(self) -> str:
        return urlsplit(self.base).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.base)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def prefix(self) -> str:
        return urlsplit(self.base).path.rstrip("/")


def connect(ep: Endpoint, timeout: float = 120.0) -> socket.socket:
    sock = socket.create_connection((ep.host, ep.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ep.tls is not None:
        return ep.tls.wrap_socket(sock, server_hostname=ep.host)
    return sock


class Reader:
    """Buffered reads from a socket into one reused buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray(BUFFER)
        self.view = memoryview(self.buf)
        self.start = self.end = 0

    def fill(self) -> int:
        if self.start == self.end:
            self.start = self.end = 0
        elif self.end == len(self.buf):
            n = self.end - self.start
            self.buf[:n] = self.buf[self.start : self.end]
            self.start, self.end = 0, n
        n = self.sock.recv_into(self.view[self.end :])
        self.end += n
        return n

    def line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n", self.start, self.end)
            if i >= 0:
                out = bytes(self.buf[self.start : i])
                self.start = i + 2
                return out
            if not self.fill():
                raise EOFError("connection closed mid-line")

    def exact(self, n: int) -> bytes:
        while self.end - self.start < n:
            if not self.fill():
                raise EOFError(f"connection closed, {n} bytes expected")
        out = bytes(self.buf[self.start : self.start + n])
        self.start += n
        return out

    def consume(self, n: int, sink: Callable[[memoryview], None] | None = None) -> int:
        """Pass up to n buffered bytes to `sink` (reading if none are buffered); 0 at EOF."""
        if self.start == self.end and not self.fill():
            return 0
        k = min(n, self.end - self.start)
        if sink is not None:
            sink(self.view[self.start : self.start + k])
        self.start += k
        return k


def request_head(ep: Endpoint, method: str, path: str, extra: dict[str, str]) -> bytes:
    headers = {"Host": f"{ep.host}:{ep.port}", **ep.headers, **extra}
    lines = [f"{method} {ep.prefix}{path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(r: Reader) -> tuple[int, dict[str, str]]:
    status_line = r.line().decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise RuntimeError(f"not an HTTP response: {status_line!r}")
    headers: dict[str, str] = {}
    while line := r.line():
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def read_body(
    r: Reader, headers: dict[str, str], sink: Callable[[memoryview], None] | None = None
) -> int:
    """Read a body framed by chunked encoding, Content-Length or the connection's end."""
    total = 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int(r.line().split(b";")[0], 16)
            if size == 0:
                while r.line():  # trailers
                    pass
                return total
            left = size
            while left:
                n = r.consume(left, sink)
                if not n:
                    raise EOFError("connection closed mid-chunk")
                left -= n
            total += size
            if r.line():
                raise RuntimeError("chunk not followed by CRLF")
    if "content-length" in headers:
        left = int(headers["content-length"])
        while left:
            n = r.consume(left, sink)
            if not n:
                raise EOFError("connection closed before Content-Length")
            left -= n
            total += n
        return total
    while n := r.consume(BUFFER, sink):
        total += n
    return total


def get(
    ep: Endpoint, path: str, sink: Callable[[memoryview], None] | None = None
) -> tuple[int, int]:
    """One GET on its own connection: (status, body bytes)."""
    with connect(ep) as sock:
        sock.sendall(request_head(ep, "GET", path, {"Connection": "close"}))
        r = Reader(sock)
        status, headers = read_head(r)
        return status, read_body(r, headers, sink)


class KeepAlive:
    """Small requests one after another on one connection (reconnecting when it closes)."""

    def __init__(self, ep: Endpoint) -> None:
        self.ep = ep
        self.sock: socket.socket | None = None
        self.reader: Reader | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.sock is None or self.reader is None:
            self.sock = connect(self.ep)
            self.reader = Reader(self.sock)
        self.sock.sendall(request_head(self.ep, "GET", path, {}))
        status, headers = read_head(self.reader)
        body = bytearray()
        read_body(self.reader, headers, body.extend)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, bytes(body)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None


# -- WebSocket -------------------------------------------------------------------------


def upgrade_request(ep: Endpoint, path: str, protocol: str) -> bytes:
    return request_head(
        ep,
        "GET",
        path,
        {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Protocol": protocol,
        },
    )


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask); payloads here are small (close, pong)."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + body


@dataclass
class WsResult:
    status: int = 0
    messages: int = 0
    payload: int = 0  # data bytes, channel bytes excluded when `channels`
    by_channel: dict[int, int] = field(default_factory=dict)
    close_code: int | None = None
    last: bytes = b""  # the last message on channel 3 (exec status) when `channels`


def websocket(
    ep: Endpoint,
    path: str,
    protocol: str,
    *,
    channels: bool,
    sink: Callable[[memoryview], None] | None = None,
) -> WsResult:
    """Read one WebSocket stream to its close, counting data bytes (per channel for the
    `channel.k8s.io` protocols, whose messages start with the channel byte)."""
    out = WsResult()
    with connect(ep) as sock:
        sock.sendall(upgrade_request(ep, path, protocol))
        r = Reader(sock)
        out.status, headers = read_head(r)
        if out.status != 101:
            read_body(r, headers)
            return out
        channel = -1
        while True:
            try:
                b0, b1 = r.exact(2)
            except EOFError:
                return out
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", r.exact(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", r.exact(8))
            if b1 & 0x80:
                raise RuntimeError("the server masked a frame")
            if opcode >= 8:  # control
                payload = r.exact(n)
                if opcode == 8:
                    out.close_code = struct.unpack("!H", payload[:2])[0] if n >= 2 else 1005
                    sock.sendall(masked_frame(8, payload[:2]))
                    return out
                if opcode == 9:
                    sock.sendall(masked_frame(10, payload))
                continue
            if opcode != 0:  # a new message
                out.messages += 1
                channel = -1
                if channels and n:
                    channel = r.exact(1)[0]
                    n -= 1
                    if channel == 3:
                        out.last = b""
            left = n
            while left:
                k = r.consume(left, sink if channel != 3 else None)
                if not k:
                    return out
                left -= k
            out.payload += n
            if channels and channel >= 0:
                out.by_channel[channel] = out.by_channel.get(channel, 0) + n
