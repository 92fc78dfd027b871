"""WebSocket frames as bytes, pure: the fast path's frame-boundary tracker (O(1) work per
frame, never per byte) and the control frames kubelantern injects (ping, close)."""

from __future__ import annotations

import os
import struct

OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


class FrameTracker:
    """Follows frame boundaries in one direction's byte stream (pure, no IO)."""

    # Two per idle WebSocket: slots instead of an instance dict each (issue 12).
    __slots__ = ("_header", "_left", "answered", "close_seen", "max_payload", "oversized")

    def __init__(self, max_payload: int) -> None:
        self.max_payload = max_payload
        self._header = bytearray()  # a header split across reads
        self._left = 0  # payload bytes of the current frame still to come
        self.oversized = False
        self.close_seen = False
        # A pong or a data frame came: the peer's reader runs (the handover hold, hold.py).
        self.answered = False

    @property
    def at_boundary(self) -> bool:
        return self._left == 0 and not self._header

    def feed(self, data: bytes) -> list[int]:
        """Consume `data`; return the offsets in it where a frame ends."""
        bounds: list[int] = []
        i, n = 0, len(data)
        while i < n:
            if self._left:
                take = min(self._left, n - i)
                i += take
                self._left -= take
                if not self._left:
                    bounds.append(i)
                continue
            # Collect a complete header: 2 bytes, then the extended length and mask key.
            need = 2
            while True:
                if len(self._header) < need:
                    take = min(need - len(self._header), n - i)
                    self._header += data[i : i + take]
                    i += take
                    if len(self._header) < need:
                        return bounds  # the rest of the header comes with the next read
                full = _header_length(self._header)
                if full == need:
                    break
                need = full
            opcode = self._header[0] & 0x0F
            length = _payload_length(self._header)
            self._header.clear()
            if opcode == OP_CLOSE:
                self.close_seen = True
            elif opcode == OP_PONG or opcode < OP_CLOSE:
                self.answered = True
            if length > self.max_payload:
                self.oversized = True
                return bounds
            self._left = length
            if not length:
                bounds.append(i)
        return bounds


def _header_length(header: bytes | bytearray) -> int:
    length7 = header[1] & 0x7F
    ext = 2 if length7 == 126 else 8 if length7 == 127 else 0
    return 2 + ext + (4 if header[1] & 0x80 else 0)


def _payload_length(header: bytes | bytearray) -> int:
    length7 = header[1] & 0x7F
    if length7 == 126:
        return int(struct.unpack_from("!H", header, 2)[0])
    if length7 == 127:
        return int(struct.unpack_from("!Q", header, 2)[0])
    return length7


def control_frame(opcode: int, payload: bytes, *, masked: bool) -> bytes:
    """A control frame (payload ≤ 125 bytes); masked when we speak as a client."""
    payload = payload[:125]
    if not masked:
        return bytes((0x80 | opcode, len(payload))) + payload
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + key + body


def close_payload(code: int, reason: str) -> bytes:
    return struct.pack("!H", code) + reason.encode()[:123]
