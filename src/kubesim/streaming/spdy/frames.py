"""SPDY/3.1 frames as plain data, and their encoding and incremental decoding (sans-IO).

Control frame: 1 bit C=1, 15-bit version (3), 16-bit type, 8-bit flags, 24-bit length.
Data frame: 1 bit C=0, 31-bit stream id, 8-bit flags, 24-bit length. Header blocks go
through the direction's shared zlib stream (`headers.py`), so the reader and writer are
stateful per connection. Facts: the SPDY/3.1 draft and moby/spdystream's framer, which
kubectl and the kubelet use.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from .headers import HeaderCompressor, HeaderDecompressor, HeaderError, Headers

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
FLAG_CLEAR_SETTINGS = 0x01
MAX_LENGTH = (1 << 24) - 1
STREAM_ID_MASK = 0x7FFFFFFF


class FrameType(enum.IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(enum.IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9
    FRAME_TOO_LARGE = 11


class GoAwayStatus(enum.IntEnum):
    OK = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


class SettingId(enum.IntEnum):
    MAX_CONCURRENT_STREAMS = 4
    INITIAL_WINDOW_SIZE = 7


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    fin: bool = False
    unidirectional: bool = False
    associated_to: int = 0
    priority: int = 0  # 3 bits, 0 is the highest


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = ()
    fin: bool = False


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Settings:
    values: tuple[tuple[int, int], ...]  # (setting id, value)
    clear: bool = False


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = GoAwayStatus.OK


@dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int  # 0: the whole session (SPDY/3.1)
    delta: int


@dataclass(frozen=True)
class Data:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True)
class UnknownControl:
    """A control type this version does not define: the spec says ignore it."""

    frame_type: int
    flags: int
    payload: bytes


Frame = (
    SynStream
    | SynReply
    | RstStream
    | Settings
    | Ping
    | GoAway
    | HeadersFrame
    | WindowUpdate
    | Data
    | UnknownControl
)


class FrameError(ValueError):
    """Bytes that are not SPDY/3: the session cannot go on (a GOAWAY, then close)."""


def _control(frame_type: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise FrameError(f"control frame payload of {len(payload)} bytes is too large")
    return struct.pack(">HHI", 0x8000 | VERSION, frame_type, (flags << 24) | len(payload)) + payload


def _check_id(stream_id: int, *, zero_ok: bool = False) -> None:
    if not (0 if zero_ok else 1) <= stream_id <= STREAM_ID_MASK:
        raise FrameError(f"stream id {stream_id} is out of range")


class FrameWriter:
    """Frames to bytes; owns this direction's header compression context."""

    def __init__(self) -> None:
        self._compressor = HeaderCompressor()

    def encode(self, frame: Frame) -> bytes:
        match frame:
            case Data(stream_id, data, fin):
                _check_id(stream_id)
                if len(data) > MAX_LENGTH:
                    raise FrameError(f"data frame of {len(data)} bytes is too large")
                return struct.pack(">II", stream_id, (int(fin) << 24) | len(data)) + data
            case SynStream(stream_id, headers, fin, uni, associated, priority):
                _check_id(stream_id)
                flags = (FLAG_FIN if fin else 0) | (FLAG_UNIDIRECTIONAL if uni else 0)
                head = struct.pack(">IIBB", stream_id, associated, (priority & 7) << 5, 0)
                return _control(
                    FrameType.SYN_STREAM, flags, head + self._compressor.compress(headers)
                )
            case SynReply(stream_id, headers, fin):
                _check_id(stream_id)
                body = struct.pack(">I", stream_id) + self._compressor.compress(headers)
                return _control(FrameType.SYN_REPLY, FLAG_FIN if fin else 0, body)
            case HeadersFrame(stream_id, headers, fin):
                _check_id(stream_id)
                body = struct.pack(">I", stream_id) + self._compressor.compress(headers)
                return _control(FrameType.HEADERS, FLAG_FIN if fin else 0, body)
            case RstStream(stream_id, status):
                _check_id(stream_id)
                return _control(FrameType.RST_STREAM, 0, struct.pack(">II", stream_id, status))
            case Settings(values, clear):
                body = struct.pack(">I", len(values)) + b"".join(
                    struct.pack(">II", sid & 0xFFFFFF, value) for sid, value in values
                )
                return _control(FrameType.SETTINGS, FLAG_CLEAR_SETTINGS if clear else 0, body)
            case Ping(ping_id):
                return _control(FrameType.PING, 0, struct.pack(">I", ping_id))
            case GoAway(last_good, status):
                _check_id(last_good, zero_ok=True)
                return _control(FrameType.GOAWAY, 0, struct.pack(">II", last_good, status))
            case WindowUpdate(stream_id, delta):
                _check_id(stream_id, zero_ok=True)
                if not 1 <= delta <= STREAM_ID_MASK:
                    raise FrameError(f"window delta {delta} is out of range")
                return _control(FrameType.WINDOW_UPDATE, 0, struct.pack(">II", stream_id, delta))
            case UnknownControl(frame_type, flags, payload):
                return _control(frame_type, flags, payload)
        raise TypeError(f"not a SPDY frame: {frame!r}")


class FrameReader:
    """Bytes in (any split), whole frames out; owns the peer's header decompression."""

    def __init__(self, max_frame: int = MAX_LENGTH) -> None:
        self._buffer = bytearray()
        self._decompressor = HeaderDecompressor()
        self._max = max_frame

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            first, flags_length = struct.unpack_from(">II", self._buffer)
            flags, length = flags_length >> 24, flags_length & 0xFFFFFF
            if first & 0x80000000 and (first >> 16) & 0x7FFF != VERSION:
                # Before waiting for a payload: garbage must not look like a long frame.
                raise FrameError(f"SPDY version {(first >> 16) & 0x7FFF} is not supported (only 3)")
            if length > self._max:
                raise FrameError(f"frame of {length} bytes is over this endpoint's {self._max}")
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if first & 0x80000000:
                frames.append(self._control((first >> 16) & 0x7FFF, first & 0xFFFF, flags, payload))
            else:
                stream_id = first & STREAM_ID_MASK
                if stream_id == 0:
                    raise FrameError("data frame on stream 0")
                frames.append(Data(stream_id, payload, bool(flags & FLAG_FIN)))
        return frames

    def _headers(self, data: bytes) -> Headers:
        try:
            return self._decompressor.decompress(data)
        except HeaderError as exc:
            raise FrameError(str(exc)) from None

    def _control(self, version: int, frame_type: int, flags: int, payload: bytes) -> Frame:
        if version != VERSION:
            raise FrameError(f"SPDY version {version} is not supported (only 3)")

        def need(n: int, *, exact: bool = True) -> None:
            if len(payload) != n if exact else len(payload) < n:
                name = FrameType(frame_type).name
                raise FrameError(f"{name} frame has {len(payload)} bytes of payload")

        fin = bool(flags & FLAG_FIN)
        if frame_type == FrameType.SYN_STREAM:
            need(10, exact=False)
            stream_id, associated, priority, _slot = struct.unpack_from(">IIBB", payload)
            stream_id &= STREAM_ID_MASK
            if stream_id == 0:
                raise FrameError("SYN_STREAM for stream 0")
            return SynStream(
                stream_id,
                self._headers(payload[10:]),
                fin,
                bool(flags & FLAG_UNIDIRECTIONAL),
                associated & STREAM_ID_MASK,
                priority >> 5,
            )
        if frame_type in (FrameType.SYN_REPLY, FrameType.HEADERS):
            need(4, exact=False)
            stream_id = struct.unpack_from(">I", payload)[0] & STREAM_ID_MASK
            if stream_id == 0:
                raise FrameError(f"{FrameType(frame_type).name} for stream 0")
            headers = self._headers(payload[4:])
            if frame_type == FrameType.SYN_REPLY:
                return SynReply(stream_id, headers, fin)
            return HeadersFrame(stream_id, headers, fin)
        if frame_type == FrameType.RST_STREAM:
            need(8)
            stream_id, status = struct.unpack(">II", payload)
            if stream_id & STREAM_ID_MASK == 0 or status == 0:
                raise FrameError("RST_STREAM with stream 0 or status 0")
            return RstStream(stream_id & STREAM_ID_MASK, status)
        if frame_type == FrameType.SETTINGS:
            need(4, exact=False)
            (count,) = struct.unpack_from(">I", payload)
            need(4 + 8 * count)
            values = tuple(
                (flag_id & 0xFFFFFF, value)
                for flag_id, value in struct.iter_unpack(">II", payload[4:])
            )
            return Settings(values, bool(flags & FLAG_CLEAR_SETTINGS))
        if frame_type == FrameType.PING:
            need(4)
            return Ping(struct.unpack(">I", payload)[0])
        if frame_type == FrameType.GOAWAY:
            need(8)
            last_good, status = struct.unpack(">II", payload)
            return GoAway(last_good & STREAM_ID_MASK, status)
        if frame_type == FrameType.WINDOW_UPDATE:
            need(8)
            stream_id, delta = struct.unpack(">II", payload)
            delta &= STREAM_ID_MASK
            if delta == 0:
                raise FrameError("WINDOW_UPDATE with a delta of 0")
            return WindowUpdate(stream_id & STREAM_ID_MASK, delta)
        return UnknownControl(frame_type, flags, payload)
