"""The fast path's frame-boundary tracker and control frames (pure)."""

from __future__ import annotations

import struct

from kubelantern.proxy.ws.frames import (
    OP_CLOSE,
    OP_PING,
    FrameTracker,
    close_payload,
    control_frame,
)


def frame(payload: bytes, opcode: int = 0x2, *, masked: bool = False) -> bytes:
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes((0x80 | opcode, mask_bit | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, mask_bit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((0x80 | opcode, mask_bit | 127)) + struct.pack("!Q", n)
    if masked:
        key = b"\x01\x02\x03\x04"
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + payload


def test_boundaries_across_frame_sizes_and_masks() -> None:
    frames = [frame(b"\x01"), frame(b"x" * 300, masked=True), frame(b"y" * 70000), frame(b"")]
    stream = b"".join(frames)
    tracker = FrameTracker(max_payload=1 << 20)
    ends = []
    total = 0
    for f in frames:
        total += len(f)
        ends.append(total)
    assert tracker.feed(stream) == ends
    assert tracker.at_boundary


def test_byte_by_byte_feeding_finds_the_same_boundaries() -> None:
    stream = frame(b"abc") + frame(b"z" * 200, masked=True) + frame(b"q" * 70000)
    tracker = FrameTracker(max_payload=1 << 20)
    ends = []
    for i in range(len(stream)):
        for b in tracker.feed(stream[i : i + 1]):
            ends.append(i + b)
        if i == 2:  # inside the first frame: not a boundary
            assert not tracker.at_boundary
    assert ends == [5, 5 + 2 + 2 + 4 + 200, len(stream)]


def test_oversized_header_is_flagged_before_the_payload() -> None:
    tracker = FrameTracker(max_payload=1000)
    data = frame(b"ok") + frame(b"x" * 2000)
    assert tracker.feed(data) == [4]
    assert tracker.oversized


def test_close_frames_are_noticed() -> None:
    tracker = FrameTracker(max_payload=1000)
    tracker.feed(frame(close_payload(1000, "bye"), OP_CLOSE))
    assert tracker.close_seen


def test_control_frames_are_valid_both_ways() -> None:
    plain = control_frame(OP_PING, b"hi", masked=False)
    assert plain == b"\x89\x02hi"
    masked = control_frame(OP_CLOSE, close_payload(1001, "going away"), masked=True)
    assert masked[0] == 0x88 and masked[1] & 0x80
    key, body = masked[2:6], masked[6:]
    unmasked = bytes(b ^ key[i % 4] for i, b in enumerate(body))
    assert struct.unpack("!H", unmasked[:2])[0] == 1001 and unmasked[2:] == b"going away"
    tracker = FrameTracker(max_payload=125)
    assert tracker.feed(masked) == [len(masked)]
