"""A light blocking SPDY/3.1 client for the throughput loads: the upgrade by hand, control
frames through the simulator's own pure frame codec (the header blocks' zlib context must
see every one), data frames counted in place without a copy.

Light on purpose, like `_clients.py`: on 2 cores a heavy client would bound every path.
"""

from __future__ import annotations

import struct
from urllib.parse import urlencode

from bench import _clients as c
from kubesim.streaming.spdy import frames as f

CHUNK = 32 * 1024
WINDOW = 256 * 1024  # port-forward bytes in flight: bounded, so blocking writes never deadlock


class Session:
    def __init__(self, ep: c.Endpoint, path: str, protocol: str) -> None:
        self.sock = c.connect(ep)
        extra = {
            "Connection": "Upgrade",
            "Upgrade": "SPDY/3.1",
            "X-Stream-Protocol-Version": protocol,
            "Content-Length": "0",
        }
        self.sock.sendall(c.request_head(ep, "POST", path, extra))
        self.r = c.Reader(self.sock)
        status, headers = c.read_head(self.r)
        if status != 101:
            body = c.read_body(self.r, headers) if status else 0
            self.sock.close()
            raise RuntimeError(f"{ep.label}: SPDY upgrade answered {status} ({body} bytes)")
        self.out = f.FrameWriter()
        self.controls = f.FrameReader()

    def send(self, frame: f.Frame) -> None:
        self.sock.sendall(self.out.encode(frame))

    def open(
        self, stream_id: int, headers: tuple[tuple[str, str], ...], *, fin: bool = False
    ) -> None:
        self.send(f.SynStream(stream_id, headers, fin=fin))

    def next(self) -> tuple[int, int, bool] | None:
        """The next data frame as (stream, length, fin) — its payload is left to `skip` —
        or None after a control frame (replies, settings, pings answered)."""
        head = self.r.exact(8)
        first, flags_length = struct.unpack(">II", head)
        length = flags_length & 0xFFFFFF
        if not first & 0x80000000:
            return first & f.STREAM_ID_MASK, length, bool(flags_length >> 24 & f.FLAG_FIN)
        for frame in self.controls.feed(head + self.r.exact(length)):
            if isinstance(frame, f.Ping) and frame.ping_id % 2 == 0:
                self.send(frame)  # a server's ping: echo it
            elif isinstance(frame, f.RstStream | f.GoAway):
                raise RuntimeError(f"the server ended the session: {frame!r}")
        return None

    def skip(self, n: int) -> None:
        while n:
            got = self.r.consume(n)
            if not got:
                raise EOFError("connection closed mid-frame")
            n -= got

    def close(self) -> None:
        self.sock.close()


def exec_stdout(ep: c.Endpoint, shell: tuple[str, str, str], size: int) -> int:
    """`firehose SIZE 32K` on stdout (v4.channel.k8s.io): bytes of stdout received."""
    ns, pod, container = shell
    command = [("command", "firehose"), ("command", str(size)), ("command", "32K")]
    query = urlencode([*command, ("container", container), ("stdout", "true")])
    s = Session(ep, f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}", "v4.channel.k8s.io")
    got = 0
    try:
        s.open(1, (("streamtype", "error"),))
        s.open(3, (("streamtype", "stdout"),))
        while True:
            frame = s.next()
            if frame is None:
                continue
            stream, length, fin = frame
            s.skip(length)
            if stream == 3:
                got += length
                if fin:
                    break
    finally:
        s.close()
    if got != size:
        raise RuntimeError(f"{ep.label}: SPDY exec: {got} of {size} bytes")
    return got


def forward_echo(ep: c.Endpoint, echo: tuple[str, str, int], size: int) -> int:
    """`size` bytes through the pod's echo port on one data/error pair while the echo is
    read back (bounded in flight): bytes echoed."""
    ns, pod, port = echo
    s = Session(ep, f"/api/v1/namespaces/{ns}/pods/{pod}/portforward", "portforward.k8s.io")
    ids = (("port", str(port)), ("requestid", "0"))
    block = bytes(CHUNK)
    sent = got = 0
    try:
        s.open(1, (("streamtype", "error"), *ids), fin=True)  # kubectl never writes to it
        s.open(3, (("streamtype", "data"), *ids))
        frame_head = struct.pack(">II", 3, CHUNK)
        while got < size:
            if sent < size and sent - got < WINDOW:
                s.sock.sendall(frame_head + block)
                sent += CHUNK
                continue
            frame = s.next()
            if frame is None:
                continue
            stream, length, _ = frame
            s.skip(length)
            if stream == 3:
                got += length
    finally:
        s.close()
    return got


def echo_target(stack_api: object) -> tuple[str, str, int]:
    """A running pod with a declared non-HTTP port (the simulator echoes on those)."""
    items = stack_api("GET", "/api/v1/pods")["items"]  # type: ignore[operator,index]
    for pod in items:
        if pod["status"].get("phase") != "Running":
            continue
        for container in pod["spec"]["containers"]:
            for port in container.get("ports") or []:
                if port["containerPort"] not in (80, 8080) and port.get("name") != "http":
                    return (
                        pod["metadata"]["namespace"],
                        pod["metadata"]["name"],
                        port["containerPort"],
                    )
    raise RuntimeError("the simulator has no pod with an echo port")
