"""SPDY/3.1 codec and session of the simulator, without sockets."""

from __future__ import annotations

import struct
import zlib

import pytest

from kubesim.streaming.spdy import frames as f
from kubesim.streaming.spdy.events import (
    DataReceived,
    GoAwayReceived,
    PingAnswered,
    StreamOpened,
    StreamReplied,
    StreamReset,
    WindowOpened,
)
from kubesim.streaming.spdy.handshake import Refusal, negotiate, split_protocols
from kubesim.streaming.spdy.headers import (
    DICTIONARY,
    DICTIONARY_ADLER32,
    HeaderCompressor,
    HeaderDecompressor,
    HeaderError,
    decode_block,
    encode_block,
    header_value,
)
from kubesim.streaming.spdy.session import (
    Role,
    Session,
    SessionError,
    StreamClosedError,
)

# --- header blocks -------------------------------------------------------------------------


def test_dictionary_is_the_spdy3_one() -> None:
    # zlib writes the dictionary's Adler-32 into the stream; spdystream checks it.
    assert len(DICTIONARY) == 1423
    assert zlib.adler32(DICTIONARY) == DICTIONARY_ADLER32
    assert DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert DICTIONARY.endswith(b",utf-,*,enq=0.")


def test_block_layout_and_multi_values() -> None:
    block = encode_block([("streamType", "error"), ("x", "a"), ("x", "b")])
    assert block[:4] == struct.pack(">I", 2)
    assert b"\x00\x00\x00\nstreamtype\x00\x00\x00\x05error" in block
    assert b"a\x00b" in block
    assert decode_block(block) == (("streamtype", "error"), ("x", "a"), ("x", "b"))


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (struct.pack(">I", 1) + struct.pack(">I", 4) + b"Port" + struct.pack(">I", 0), "lowercase"),
        (encode_block([("a", "1")])[:-1], "truncated"),
        (encode_block([("a", "1")]) + b"x", "stray"),
        (struct.pack(">I", 1000), "claims"),
        (struct.pack(">I", 1) + struct.pack(">I", 0) + struct.pack(">I", 0), "empty name"),
    ],
)
def test_bad_blocks_are_refused(block: bytes, problem: str) -> None:
    with pytest.raises(HeaderError, match=problem):
        decode_block(block)


def test_duplicate_names_are_refused() -> None:
    one = encode_block([("a", "1")])[4:]
    with pytest.raises(HeaderError, match="twice"):
        decode_block(struct.pack(">I", 2) + one + one)


def test_one_zlib_stream_per_direction() -> None:
    c, d = HeaderCompressor(), HeaderDecompressor()
    blocks = [c.compress([("streamtype", kind), ("port", "80")]) for kind in ("error", "data")]
    assert blocks[0][:2] == b"\x78\xf9"  # zlib header with FDICT (a preset dictionary)
    assert zlib.adler32(DICTIONARY).to_bytes(4, "big") == blocks[0][2:6]
    assert len(blocks[1]) < len(blocks[0])  # the second block reuses the first's history
    assert header_value(d.decompress(blocks[0]), "streamType") == "error"
    assert header_value(d.decompress(blocks[1]), "streamtype") == "data"
    # A fresh context cannot read the second block alone.
    with pytest.raises(HeaderError):
        HeaderDecompressor().decompress(blocks[1])


def test_decompression_is_bounded() -> None:
    c = HeaderCompressor()
    big = c.compress([("x", "y" * 300_000)])
    assert len(big) < 2000
    with pytest.raises(HeaderError, match="larger than"):
        HeaderDecompressor(max_block=64 * 1024).decompress(big)


# --- frames --------------------------------------------------------------------------------

ALL_FRAMES: list[f.Frame] = [
    f.SynStream(1, (("streamtype", "error"),), fin=False, priority=2),
    f.SynStream(3, (("streamtype", "stdin"),), fin=True, unidirectional=True, associated_to=1),
    f.SynReply(1, ()),
    f.SynReply(3, (("a", "b"),), fin=True),
    f.HeadersFrame(5, (("k", "v"),), fin=True),
    f.RstStream(1, f.RstStatus.CANCEL),
    f.Settings(((f.SettingId.INITIAL_WINDOW_SIZE, 1 << 20),), clear=True),
    f.Ping(7),
    f.GoAway(5, f.GoAwayStatus.PROTOCOL_ERROR),
    f.WindowUpdate(0, 4096),
    f.Data(1, b"hello", fin=False),
    f.Data(1, b"", fin=True),
    f.UnknownControl(99, 0, b"ignored"),
]


def test_every_frame_round_trips_fed_byte_by_byte() -> None:
    writer, reader = f.FrameWriter(), f.FrameReader()
    wire = b"".join(writer.encode(frame) for frame in ALL_FRAMES)
    got: list[f.Frame] = []
    for i in range(len(wire)):
        got += reader.feed(wire[i : i + 1])
    assert got == ALL_FRAMES
    assert reader.buffered == 0


def test_wire_layout_of_control_and_data_frames() -> None:
    writer = f.FrameWriter()
    assert writer.encode(f.Ping(1)) == bytes.fromhex("80030006 00000004 00000001")
    assert writer.encode(f.RstStream(3, 5)) == bytes.fromhex("80030003 00000008 00000003 00000005")
    assert writer.encode(f.Data(5, b"ab", fin=True)) == bytes.fromhex("00000005 01000002 6162")
    syn = writer.encode(f.SynStream(1, (), priority=7))
    assert syn[:4] == bytes.fromhex("80030001") and syn[8:18] == bytes.fromhex(
        "00000001 00000000 e000"
    )


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        (bytes.fromhex("80020006 00000004 00000001"), "version 2"),
        (bytes.fromhex("00000000 00000001 00"), "stream 0"),
        (bytes.fromhex("80030006 00000003 000000"), "PING"),
        (bytes.fromhex("80030003 00000008 00000001 00000000"), "status 0"),
        (bytes.fromhex("80030009 00000008 00000001 00000000"), "delta of 0"),
        (bytes.fromhex("80030001 0000000a 00000001 00000000 0000"), "truncated"),
        (bytes.fromhex("80030001 0000000c 00000001 00000000 0000 abcd"), "does not decompress"),
    ],
)
def test_malformed_frames(wire: bytes, problem: str) -> None:
    with pytest.raises(f.FrameError, match=problem):
        f.FrameReader().feed(wire)


def test_oversized_frames_are_refused_before_buffering() -> None:
    reader = f.FrameReader(max_frame=1024)
    with pytest.raises(f.FrameError, match="over this endpoint"):
        reader.feed(bytes.fromhex("00000001 00100000"))


# --- sessions ------------------------------------------------------------------------------


def pair(**server_options: bool) -> tuple[Session, Session]:
    return Session(Role.CLIENT), Session(Role.SERVER, **server_options)


def exchange(src: Session, dst: Session) -> list[object]:
    return list(dst.receive(src.data_to_send()))


def test_exec_like_conversation() -> None:
    client, server = pair()
    error = client.open_stream((("streamtype", "error"),))
    stdin = client.open_stream((("streamtype", "stdin"),))
    assert (error, stdin) == (1, 3)
    opened = exchange(client, server)
    assert opened == [
        StreamOpened(1, (("streamtype", "error"),), False),
        StreamOpened(3, (("streamtype", "stdin"),), False),
    ]
    server.reply(1)
    server.reply(3)
    assert exchange(server, client) == [StreamReplied(1, (), False), StreamReplied(3, (), False)]
    client.send_data(3, b"input")
    client.close_stream(3)
    assert exchange(client, server) == [
        DataReceived(3, b"input", False),
        DataReceived(3, b"", True),
    ]
    big = bytes(range(256)) * 300
    server.send_data(1, big, fin=True)
    got = exchange(server, client)
    assert b"".join(e.data for e in got if isinstance(e, DataReceived)) == big
    assert isinstance(got[-1], DataReceived) and got[-1].fin
    assert len(got) == 3  # split into 32 KiB frames
    with pytest.raises(StreamClosedError):
        server.send_data(1, b"more")


def test_pings_are_echoed_only_for_the_peer() -> None:
    client, server = pair()
    ping = client.ping()
    assert ping % 2 == 1
    assert exchange(client, server) == []  # echoed, not reported
    assert exchange(server, client) == [PingAnswered(ping)]
    own = server.ping()
    assert own % 2 == 0
    exchange(server, client)
    assert exchange(client, server) == [PingAnswered(own)]


def test_stream_ids_must_be_new_and_the_peers() -> None:
    client, server = pair()
    client.open_stream(())
    exchange(client, server)
    # A replayed id and a server-parity id get RST PROTOCOL_ERROR; the session lives on.
    wire = f.FrameWriter()
    raw = wire.encode(f.SynStream(1, ())) + wire.encode(f.SynStream(2, ()))
    probe = Session(Role.SERVER)
    assert probe.receive(f.FrameWriter().encode(f.SynStream(1, ()))) != []
    events = probe.receive(raw[len(f.FrameWriter().encode(f.SynStream(1, ()))) :] or b"")
    assert events == []
    resets = f.FrameReader().feed(probe.data_to_send())
    assert resets == [f.RstStream(2, f.RstStatus.PROTOCOL_ERROR)]


def test_data_on_unknown_and_finished_streams() -> None:
    client, server = pair()
    writer = f.FrameWriter()
    assert server.receive(writer.encode(f.Data(9, b"x"))) == []
    assert f.FrameReader().feed(server.data_to_send()) == [
        f.RstStream(9, f.RstStatus.INVALID_STREAM)
    ]
    client.open_stream((), fin=True)  # the client will send nothing
    exchange(client, server)
    late = client._writer.encode(f.Data(1, b"late"))
    assert server.receive(late) == [StreamReset(1, f.RstStatus.STREAM_ALREADY_CLOSED)]


def test_reset_and_goaway() -> None:
    client, server = pair()
    client.open_stream(())
    exchange(client, server)
    client.reset_stream(1)
    assert exchange(client, server) == [StreamReset(1, f.RstStatus.CANCEL)]
    with pytest.raises(StreamClosedError):
        server.send_data(1, b"x")
    server.go_away()
    assert exchange(server, client) == [GoAwayReceived(1, f.GoAwayStatus.OK)]
    with pytest.raises(StreamClosedError, match="going away"):
        client.open_stream(())


def test_garbage_ends_the_session_with_goaway() -> None:
    server = Session(Role.SERVER)
    with pytest.raises(SessionError):
        server.receive(b"\x80\x63 not SPDY at all")
    assert f.FrameReader().feed(server.data_to_send()) == [
        f.GoAway(0, f.GoAwayStatus.PROTOCOL_ERROR)
    ]


def test_flow_control_when_asked() -> None:
    client = Session(Role.CLIENT, flow_control=True)
    server = Session(Role.SERVER, flow_control=True)
    client.open_stream(())
    exchange(client, server)
    server.reply(1)
    exchange(server, client)
    assert server.send_window(1) == 64 * 1024
    server.send_data(1, b"x" * 60_000)
    with pytest.raises(StreamClosedError, match="send window"):
        server.send_data(1, b"x" * 10_000)
    exchange(server, client)
    client.acknowledge(1, 60_000)  # the reader consumed it: WINDOW_UPDATE (session+stream)
    assert exchange(client, server) == [WindowOpened(0), WindowOpened(1)]
    assert server.send_window(1) == 64 * 1024
    # SETTINGS INITIAL_WINDOW_SIZE moves every open stream's window.
    settings = client._writer.encode(f.Settings(((f.SettingId.INITIAL_WINDOW_SIZE, 1 << 20),)))
    server.receive(settings)
    assert server.streams[1].send_window == 64 * 1024 + (1 << 20) - 64 * 1024


def test_flow_control_violation_resets_the_stream() -> None:
    client, server = Session(Role.CLIENT), Session(Role.SERVER, flow_control=True)
    client.open_stream(())
    exchange(client, server)
    client.send_data(1, b"x" * (64 * 1024 + 1))  # the client does not enforce
    events = exchange(client, server)
    assert StreamReset(1, f.RstStatus.FLOW_CONTROL_ERROR) in events


def test_without_flow_control_nothing_is_announced_or_enforced() -> None:
    # What spdystream (kubectl, kubelet) does: no SETTINGS, no WINDOW_UPDATE.
    client, server = pair()
    client.open_stream(())
    exchange(client, server)
    server.reply(1)
    server.send_data(1, b"x" * 200_000)
    assert all(
        not isinstance(fr, f.WindowUpdate) for fr in f.FrameReader().feed(server.data_to_send())
    )
    server.acknowledge(1, 200_000)
    assert server.data_to_send() == b""


# --- handshake -----------------------------------------------------------------------------


def test_negotiation_in_the_clients_order() -> None:
    supported = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
    kubectl = [
        "v5.channel.k8s.io",
        "v4.channel.k8s.io",
        "v3.channel.k8s.io",
        "v2.channel.k8s.io",
        "channel.k8s.io",
    ]
    assert negotiate(kubectl, supported, 9) == "v4.channel.k8s.io"
    assert negotiate(["channel.k8s.io, v4.channel.k8s.io"], supported, 9) == "channel.k8s.io"
    assert split_protocols([" a ,, b", "c"]) == ["a", "b", "c"]
    missing = negotiate([], supported, 7)
    assert isinstance(missing, Refusal) and missing.status == 400
    assert "does not exist in request with 7 headers" in missing.text
    refused = negotiate(["v5.channel.k8s.io"], supported, 9)
    assert isinstance(refused, Refusal) and refused.status == 403
    assert refused.accepted == supported
    assert refused.text.endswith(
        "client supports [v5.channel.k8s.io], server accepts [v4.channel.k8s.io "
        "v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]"
    )
