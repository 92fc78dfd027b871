"""The sockets inside a simulated pod that port-forwards reach, sans-IO: an HTTP responder
on 80/8080 (or a port named http*), an echo server on any other declared containerPort,
"connection refused" elsewhere. Shared by the WebSocket (`portforward.py`) and SPDY
(`spdy/portforward.py`) port-forwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .containers import ContainerInfo

HTTP_PORTS = (80, 8080)


class PodServer(Protocol):
    """A simulated socket server inside the pod, sans-IO: bytes in, (bytes out, closed)."""

    def receive(self, data: bytes) -> tuple[bytes, bool]: ...


class EchoServer:
    def receive(self, data: bytes) -> tuple[bytes, bool]:
        return data, False


@dataclass
class HttpResponder:
    """Answers each request with 200 and a body naming the pod, then closes (Connection: close)."""

    pod: str
    namespace: str
    port: int
    _buffer: bytearray = field(default_factory=bytearray)

    def receive(self, data: bytes) -> tuple[bytes, bool]:
        self._buffer += data
        if b"\r\n\r\n" not in self._buffer and b"\n\n" not in self._buffer:
            if len(self._buffer) > 64 * 1024:
                return b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n", True
            return b"", False
        request_line = bytes(self._buffer).split(b"\n", 1)[0].decode(errors="replace").strip()
        body = (
            f"Hello from pod {self.pod} (namespace {self.namespace}), port {self.port}.\n"
            f"You asked: {request_line}\n"
            "This answer comes from the kubelantern simulator.\n"
        ).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Server: kubelantern-sim\r\n\r\n"
        ).encode()
        return head + body, True


def server_for(info: ContainerInfo | None, pod: str, namespace: str, port: int) -> PodServer | None:
    declared = {} if info is None else dict(info.ports)
    if port in HTTP_PORTS or declared.get(port, "").startswith("http"):
        return HttpResponder(pod, namespace, port)
    if port in declared:
        return EchoServer()
    return None


def refused_message(pod: str, uid: str, port: int) -> str:
    return (
        f"error forwarding port {port} to pod {pod}, uid {uid}: failed to connect to "
        f"localhost:{port} inside namespace, IPv4: dial tcp4 127.0.0.1:{port}: connect: "
        "connection refused"
    )
