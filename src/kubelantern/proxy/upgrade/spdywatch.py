"""*pure*: what an exec/attach SPDY/3.1 connection says, read from the bytes the tunnel
passes both ways (sans-IO: fed any split of the byte streams, returns events; never
changes, holds back or answers a byte — the splice forwards them untouched).

kubectl opens one SPDY stream per channel (a SYN_STREAM whose `streamtype` header is
stdin, stdout, stderr, error or resize; client-go's remotecommand), so the observer needs:
- the frame layout: 8-byte header (control: C=1, version 3, type, flags, 24-bit length;
  data: C=0, 31-bit stream id, flags, 24-bit length);
- the client's header blocks, which share one zlib context (`spdyheaders.py`): every
  SYN_STREAM, SYN_REPLY and HEADERS frame the client sends is read, in order;
- nothing of the upstream's control frames (their headers are never needed).

Events: `Output` (stdout and stderr data), `Input` (stdin), `Resize` (client-go's
TerminalSize JSON on the resize stream), `Exit` (the error stream's `metav1.Status` once it
ends: protocol v4/v5; older protocols carry a bare message and give no code).

Memory is bounded whatever the peers send: data passes through in chunks (never a whole
frame), a control frame is kept only when its header block must be read (at most
`MAX_CONTROL`), and the resize and error streams keep at most a few KiB. Bytes that are
not SPDY/3 make the observer stop (`broken` says why); the tunnel goes on regardless.

Unit- and property-tested in tests/unit/test_spdywatch.py.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

from kubelantern.proxy.execsession import exit_code, terminal_size
from kubelantern.proxy.upgrade.spdyheaders import HeaderError, HeaderReader, header_value

VERSION = 3
SYN_STREAM, SYN_REPLY, HEADERS = 1, 2, 8
FLAG_FIN = 0x01
MAX_CONTROL = 64 * 1024  # a header-carrying control frame larger than this stops the watch
MAX_RESIZE = 4 * 1024  # pending resize JSON (each message is ~30 bytes)
MAX_ERROR = 64 * 1024  # the error stream's Status


@dataclass(frozen=True)
class Output:
    data: bytes


@dataclass(frozen=True)
class Input:
    data: bytes


@dataclass(frozen=True)
class Resize:
    width: int
    height: int


@dataclass(frozen=True)
class Exit:
    code: int


Event = Output | Input | Resize | Exit


@dataclass
class _Direction:
    """Where one direction's byte stream is: in a frame header or in a payload."""

    from_client: bool
    head: bytearray = field(default_factory=bytearray)  # a partial 8-byte frame header
    remaining: int = 0  # payload bytes of the current frame still to come
    in_frame: bool = False
    stream: int = 0  # data frame: its stream id; 0 for a control frame
    fin: bool = False
    keep: bytearray | None = None  # a control frame's payload, when its headers are read


class SpdyWatch:
    """Both directions of one SPDY connection; `from_client`/`from_upstream` as bytes pass."""

    def __init__(self) -> None:
        self.streams: dict[int, str] = {}  # stream id → streamtype
        self.broken: str | None = None
        self._client = _Direction(from_client=True)
        self._upstream = _Direction(from_client=False)
        self._headers = HeaderReader()
        self._resize = bytearray()
        self._error = bytearray()
        self._exited = False

    def from_client(self, data: bytes) -> list[Event]:
        return self._walk(self._client, data)

    def from_upstream(self, data: bytes) -> list[Event]:
        return self._walk(self._upstream, data)

    def finish(self) -> list[Event]:
        """The connection is over: an error stream that never said FIN still counts."""
        out: list[Event] = []
        if self.broken is None:
            self._exit(out)
        return out

    def _stop(self, why: str) -> None:
        self.broken = why
        self._resize.clear()
        self._error.clear()

    def _walk(self, d: _Direction, data: bytes) -> list[Event]:
        out: list[Event] = []
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end and self.broken is None:
            if not d.in_frame:
                take = min(8 - len(d.head), end - pos)
                d.head += view[pos : pos + take]
                pos += take
                if len(d.head) < 8:
                    break
                self._start(d, bytes(d.head))
                d.head.clear()
            else:
                take = min(d.remaining, end - pos)
                self._payload(d, view[pos : pos + take], out)
                pos += take
                d.remaining -= take
            if d.in_frame and d.remaining == 0 and self.broken is None:
                self._end(d, out)
        return out

    def _start(self, d: _Direction, head: bytes) -> None:
        first, flags_length = struct.unpack(">II", head)
        d.in_frame = True
        d.remaining = flags_length & 0xFFFFFF
        d.fin = bool((flags_length >> 24) & FLAG_FIN)
        d.keep = None
        if not first & 0x80000000:
            d.stream = first & 0x7FFFFFFF
            if d.stream == 0:
                self._stop("a data frame on stream 0")
            return
        d.stream = 0
        version, frame_type = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            self._stop(f"SPDY version {version} on the wire, not 3")
        elif d.from_client and frame_type in (SYN_STREAM, SYN_REPLY, HEADERS):
            if d.remaining > MAX_CONTROL:
                self._stop(f"a header frame of {d.remaining} bytes (over {MAX_CONTROL})")
            else:
                d.keep = bytearray(struct.pack(">H", frame_type))

    def _payload(self, d: _Direction, chunk: memoryview, out: list[Event]) -> None:
        if d.keep is not None:
            d.keep += chunk
            return
        if not d.stream or not chunk:
            return
        kind = self.streams.get(d.stream)
        if d.from_client:
            if kind == "stdin":
                out.append(Input(bytes(chunk)))
            elif kind == "resize":
                self._resize += chunk
                self._resizes(out)
        elif kind in ("stdout", "stderr"):
            out.append(Output(bytes(chunk)))
        elif kind == "error" and len(self._error) < MAX_ERROR:
            self._error += chunk[: MAX_ERROR - len(self._error)]

    def _end(self, d: _Direction, out: list[Event]) -> None:
        d.in_frame = False
        if d.keep is not None:
            self._control(bytes(d.keep))
            d.keep = None
        elif d.stream and d.fin and not d.from_client and self.streams.get(d.stream) == "error":
            self._exit(out)

    def _control(self, kept: bytes) -> None:
        (frame_type,) = struct.unpack_from(">H", kept)
        payload = kept[2:]
        skip = 10 if frame_type == SYN_STREAM else 4  # ids (+ associated id, priority)
        if len(payload) < skip:
            self._stop(f"a control frame of type {frame_type} with {len(payload)} bytes")
            return
        try:
            headers = self._headers.read(payload[skip:])
        except HeaderError as e:
            self._stop(str(e))
            return
        if frame_type == SYN_STREAM:
            stream = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF
            self.streams[stream] = header_value(headers, "streamtype")

    def _resizes(self, out: list[Event]) -> None:
        decoder = json.JSONDecoder()
        text = self._resize.decode("utf-8", "replace")
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            try:
                _value, stop = decoder.raw_decode(text, pos)
            except ValueError:
                break  # incomplete (or not JSON: bounded below)
            size = terminal_size(text[pos:stop].encode())
            if size is not None:
                out.append(Resize(*size))
            pos = stop
        rest = text[pos:].encode()
        self._resize = bytearray(rest if len(rest) <= MAX_RESIZE else b"")

    def _exit(self, out: list[Event]) -> None:
        if self._exited or not self._error:
            return
        code = exit_code(bytes(self._error))
        if code is not None:
            self._exited = True
            out.append(Exit(code))
