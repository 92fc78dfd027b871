"""The SPDY observer of the upgrade tunnel (`proxy/upgrade/spdywatch.py`), without sockets:
sessions built with the simulator's SPDY framer (a separate implementation), fed in any
split, both directions interleaved; and what makes it stop (never the tunnel)."""

from __future__ import annotations

import itertools
import json
import struct
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kubelantern.observe.metrics import Metrics
from kubelantern.observe.recordings import Recorder, RecordingMeta
from kubelantern.proxy.upgrade import spdywatch
from kubelantern.proxy.upgrade.record import RecordingTap
from kubelantern.proxy.upgrade.spdyheaders import DICTIONARY, HeaderReader
from kubelantern.proxy.upgrade.spdywatch import Exit, Input, Output, Resize, SpdyWatch
from kubesim.streaming.spdy import frames as f
from kubesim.streaming.spdy.headers import DICTIONARY as SIM_DICTIONARY

SUCCESS = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Success"}).encode()


def exit_status(code: int) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    ).encode()


def session(
    code: int = 3, *, tty: bool = True, stdin: list[bytes] | None = None
) -> tuple[list[bytes], list[bytes]]:
    """(client → upstream frames, upstream → client frames) of an exec like kubectl's:
    the streams opened by the client with their headers, a resize, stdin, output on
    stdout/stderr, pings and window updates, the Status on the error stream."""
    cw, uw = f.FrameWriter(), f.FrameWriter()
    up: list[bytes] = []
    down: list[bytes] = []
    kinds = ["error", "stdin", "stdout", "resize"] + ([] if tty else ["stderr"])
    ids = {}
    for n, kind in enumerate(kinds):
        sid = 1 + 2 * n
        ids[kind] = sid
        up.append(cw.encode(f.SynStream(sid, (("streamtype", kind), ("port", "")))))
        down.append(uw.encode(f.SynReply(sid, (("x-reply", kind),))))
    up.append(cw.encode(f.Data(ids["resize"], b'{"Width":100,"Height":30}\n')))
    up.append(cw.encode(f.Ping(1)))
    down.append(uw.encode(f.Ping(1)))
    for chunk in stdin if stdin is not None else [b"echo hi\n", "é€".encode()]:
        up.append(cw.encode(f.Data(ids["stdin"], chunk)))
    down.append(uw.encode(f.Data(ids["stdout"], b"# hi\r\n")))
    up.append(cw.encode(f.Data(ids["resize"], b'{"Width":120,')))
    up.append(cw.encode(f.Data(ids["resize"], b'"Height":40}\n')))
    up.append(cw.encode(f.HeadersFrame(ids["stdin"], (("x-more", "1"),))))
    down.append(uw.encode(f.WindowUpdate(0, 1000)))
    if not tty:
        down.append(uw.encode(f.Data(ids["stderr"], b"oops\n")))
    down.append(uw.encode(f.Data(ids["stdout"], b"x" * 70_000)))
    down.append(uw.encode(f.Data(ids["stdout"], b"", fin=True)))
    status = SUCCESS if code == 0 else exit_status(code)
    down.append(uw.encode(f.Data(ids["error"], status[:10])))
    down.append(uw.encode(f.Data(ids["error"], status[10:], fin=True)))
    up.append(cw.encode(f.RstStream(ids["stdin"], f.RstStatus.CANCEL)))
    down.append(uw.encode(f.GoAway(7)))
    return up, down


def merged(events: list[spdywatch.Event]) -> list[spdywatch.Event]:
    """Adjacent Output (and Input) chunks joined: how a split falls is not an event."""
    out: list[spdywatch.Event] = []
    for e in events:
        if out and type(e) is type(out[-1]) and isinstance(e, Output | Input):
            out[-1] = type(e)(out[-1].data + e.data)  # type: ignore[union-attr]
        else:
            out.append(e)
    return out


def whole(up: list[bytes], down: list[bytes]) -> list[spdywatch.Event]:
    w = SpdyWatch()
    events = w.from_client(b"".join(up)) + w.from_upstream(b"".join(down)) + w.finish()
    assert w.broken is None
    return merged(events)


def test_dictionary_matches_the_simulators() -> None:
    assert DICTIONARY == SIM_DICTIONARY
    assert zlib.adler32(DICTIONARY) == 0xE3C6A7C2  # what every SPDY/3 peer checks


def test_an_exec_session_is_read_stream_by_stream() -> None:
    up, down = session(3, tty=False)
    events = whole(up, down)
    inputs = [e for e in events if isinstance(e, Input)]
    assert inputs == [Input(b"echo hi\n" + "é€".encode())]
    assert [e for e in events if isinstance(e, Resize)] == [Resize(100, 30), Resize(120, 40)]
    output = b"".join(e.data for e in events if isinstance(e, Output))
    assert output == b"# hi\r\noops\n" + b"x" * 70_000
    assert [e for e in events if isinstance(e, Exit)] == [Exit(3)]


def test_success_is_exit_0() -> None:
    assert [e for e in whole(*session(0)) if isinstance(e, Exit)] == [Exit(0)]


def test_error_stream_without_fin_counts_when_the_connection_ends() -> None:
    cw, uw = f.FrameWriter(), f.FrameWriter()
    w = SpdyWatch()
    w.from_client(cw.encode(f.SynStream(1, (("streamtype", "error"),))))
    assert w.from_upstream(uw.encode(f.Data(1, exit_status(7)))) == []
    assert w.finish() == [Exit(7)]


def test_old_protocol_message_gives_no_exit_code() -> None:
    cw, uw = f.FrameWriter(), f.FrameWriter()
    w = SpdyWatch()
    w.from_client(cw.encode(f.SynStream(1, (("streamtype", "error"),))))
    events = w.from_upstream(uw.encode(f.Data(1, b"command terminated", fin=True)))
    assert events + w.finish() == [] and w.broken is None


def test_client_data_on_output_streams_and_unknown_streams_is_not_recorded() -> None:
    cw, uw = f.FrameWriter(), f.FrameWriter()
    w = SpdyWatch()
    w.from_client(cw.encode(f.SynStream(1, (("streamtype", "stdout"),))))
    assert w.from_client(cw.encode(f.Data(1, b"client side"))) == []
    assert w.from_client(cw.encode(f.Data(9, b"no such stream"))) == []
    assert w.from_upstream(uw.encode(f.Data(9, b"no such stream"))) == []
    assert w.from_upstream(uw.encode(f.Data(1, b"out"))) == [Output(b"out")]


@settings(max_examples=150, deadline=None)
@given(
    code=st.integers(0, 255),
    tty=st.booleans(),
    stdin=st.lists(st.binary(min_size=1, max_size=40), max_size=4),
    cuts=st.lists(st.integers(0, 1 << 20), max_size=40),
    order=st.lists(st.booleans(), max_size=80),
)
def test_any_split_and_interleaving_reads_the_same(
    code: int, tty: bool, stdin: list[bytes], cuts: list[int], order: list[bool]
) -> None:
    up, down = session(code, tty=tty, stdin=stdin)
    expected = whole(up, down)
    down_bytes = b"".join(down)

    def pieces(data: bytes, salt: int) -> list[bytes]:
        points = sorted({(c * (salt + 1)) % (len(data) + 1) for c in cuts})
        bounds = [0, *points, len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]

    downs = pieces(down_bytes, 1)
    w = SpdyWatch()
    events: list[spdywatch.Event] = []
    # Client bytes that opened a stream come before the upstream's data on it in any real
    # run (the upstream answers streams it was told of); keep per-direction order and
    # interleave the two only after the client's opening frames.
    opening = sum(1 for p in up if p[2:4] == b"\x00\x01")  # SYN_STREAMs lead the list
    events += w.from_client(b"".join(up[:opening]))
    rest_up = pieces(b"".join(up[opening:]), 0)
    for pick in order:
        if pick and rest_up:
            events += w.from_client(rest_up.pop(0))
        elif downs:
            events += w.from_upstream(downs.pop(0))
    for p in rest_up:
        events += w.from_client(p)
    for p in downs:
        events += w.from_upstream(p)
    events += w.finish()
    assert w.broken is None
    got = merged(events)
    # Interleaving moves input/resize against output; per kind, order and content hold.
    for kind in (Output, Input, Resize, Exit):
        assert merged([e for e in got if isinstance(e, kind)]) == merged(
            [e for e in expected if isinstance(e, kind)]
        )


def test_bytes_that_are_not_spdy_stop_the_watch_not_the_caller() -> None:
    w = SpdyWatch()
    assert w.from_client(b"\x80\x02\x00\x01\x00\x00\x00\x00") == []  # SPDY/2
    assert w.broken is not None and "version 2" in w.broken
    assert w.from_upstream(b"\x00\x00\x00\x01\x00\x00\x00\x03abc") == []
    assert w.finish() == []
    w = SpdyWatch()
    w.from_upstream(b"\x00\x00\x00\x00\x00\x00\x00\x00")
    assert w.broken == "a data frame on stream 0"


def test_a_corrupt_header_block_stops_the_watch() -> None:
    w = SpdyWatch()
    bad = struct.pack(">HHI", 0x8003, 1, 10 + 5) + struct.pack(">IIBB", 1, 0, 0, 0) + b"\xff" * 5
    w.from_client(bad)
    assert w.broken is not None and "decompress" in w.broken


def test_an_oversized_header_frame_is_not_buffered() -> None:
    w = SpdyWatch()
    head = struct.pack(">HHI", 0x8003, 1, spdywatch.MAX_CONTROL + 1)
    w.from_client(head + b"\x00" * 1000)
    assert w.broken is not None and "header frame" in w.broken
    assert w._client.keep is None


def test_a_zlib_bomb_is_refused() -> None:
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
    bomb = z.compress(b"\x00" * 10_000_000) + z.flush(zlib.Z_SYNC_FLUSH)
    try:
        HeaderReader().read(bomb)
    except ValueError as e:
        assert "larger than" in str(e)
    else:
        raise AssertionError("a 10 MB header block was accepted")


def test_upstream_control_frames_are_skipped_unread() -> None:
    # The upstream's header blocks use its own zlib context: the watch never needs them,
    # so garbage in them changes nothing.
    cw = f.FrameWriter()
    w = SpdyWatch()
    w.from_client(cw.encode(f.SynStream(1, (("streamtype", "stdout"),))))
    junk = struct.pack(">HHI", 0x8003, 2, 8) + b"\x00\x00\x00\x01junk"
    assert w.from_upstream(junk + f.FrameWriter().encode(f.Data(1, b"ok"))) == [Output(b"ok")]
    assert w.broken is None


def test_the_tap_writes_the_recording_and_stops_it_on_garbage(tmp_path: Path) -> None:
    metrics = Metrics()
    recorder = Recorder(tmp_path, True, metrics)
    meta = RecordingMeta("dev", "ns", "p", "c", ("sh",), "local", "127.0.0.1", "exec")
    rec = recorder.open(meta)
    assert rec is not None
    tap = RecordingTap(rec)
    up, down = session(4, stdin=[b"ls\n"])
    tap.from_client(b"".join(up))
    tap.from_upstream(b"".join(down))
    tap.close()
    [path] = list(tmp_path.rglob("*.cast"))
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert (lines[0]["width"], lines[0]["height"]) == (100, 30)
    kinds = [e[1] for e in lines[1:]]
    assert kinds[0] == "r" and "i" in kinds and "o" in kinds
    assert lines[-1][1:] == ["m", "exit 4"]
    assert recorder.state.failures == 0

    broken = recorder.open(meta)
    assert broken is not None
    tap = RecordingTap(broken)
    tap.from_client(b"\x80\x02\x00\x01\x00\x00\x00\x00")
    tap.from_upstream(b"".join(down))  # nothing more is read
    tap.close()
    [other] = [p for p in tmp_path.rglob("*.cast") if p != path]
    events = [json.loads(x) for x in other.read_text().splitlines()[1:]]
    assert [e[1:] for e in events] == [
        ["m", "recording stopped: SPDY version 2 on the wire, not 3"]
    ]
    assert recorder.state.failures == 1
    assert 'kubelantern_recording_failures_total{cluster="dev"} 1' in metrics.render()
