"""The response parser's passthrough of a chunked body (proxy/upstream/http1.py): the
framing is handed out as it came, checked all the same, in any split; and `clean_end`
ends a body cut off by us as a complete chunked body, or says it cannot."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelantern.proxy.upstream.http1 import END, ProtocolError, ResponseHead, ResponseParser

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
BODY = b"5\r\nhello\r\n1;ext=1\r\n \r\nb\r\nworld\r\n\r\n!!\r\n0\r\nTrailer-X: y\r\n\r\n"


def feed(data: bytes, cuts: list[int], passthrough: bool = True) -> tuple[ResponseParser, list]:
    parser = ResponseParser("GET", passthrough=passthrough)
    events: list[object] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += parser.feed(data[last:cut])
        last = cut
    return parser, events


def body(events: list[object]) -> bytes:
    return b"".join(e for e in events if isinstance(e, bytes))


@settings(max_examples=300, deadline=None)
@given(cuts=st.lists(st.integers(0, len(HEAD + BODY)), max_size=12))
def test_chunked_framing_passes_through_in_any_split(cuts: list[int]) -> None:
    parser, events = feed(HEAD + BODY, cuts)
    assert isinstance(events[0], ResponseHead) and events[0].content_length is None
    assert parser.chunked_raw and body(events) == BODY
    assert events[-1] is END and events.count(END) == 1 and not parser.surplus


def test_a_read_of_body_bytes_is_handed_out_as_it_came() -> None:
    parser, _ = feed(HEAD, [])
    piece = b"4\r\nabcd\r\n3\r\nxyz\r\n"
    assert parser.feed(piece)[0] is piece  # no copy


def test_bytes_after_the_last_chunk_are_not_body() -> None:
    parser, events = feed(HEAD + BODY + b"HTTP/1.1", [len(HEAD) + 3])
    assert body(events) == BODY and events[-1] is END and parser.surplus


def test_only_chunked_bodies_pass_through() -> None:
    length = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    parser, events = feed(length, [])
    assert not parser.chunked_raw and body(events) == b"abc"
    parser, events = feed(HEAD + BODY, [], passthrough=False)
    assert not parser.chunked_raw and body(events) == b"hello world\r\n\r\n!!"


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        (b"zz\r\n", "chunk size"),
        (b"-1\r\n", "chunk size"),
        (b"1\r\nabc\r\n", "longer"),
        (b"0\r\nno colon\r\n", "trailer"),
        (b"1" * 5000, "too long"),
    ],
)
def test_bad_framing_is_refused_before_it_is_handed_out(wire: bytes, why: str) -> None:
    parser, _ = feed(HEAD, [])
    with pytest.raises(ProtocolError, match=why):
        parser.feed(wire)


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(0, len(BODY)), cuts=st.lists(st.integers(0, len(BODY)), max_size=6))
def test_clean_end_completes_what_was_handed_out(cut: int, cuts: list[int]) -> None:
    parser, events = feed(HEAD + BODY[:cut], [len(HEAD) + c for c in cuts if c < cut])
    sent = body(events)
    last = parser.clean_end()
    if last is None:  # only inside a chunk's data
        assert parser._state == 3  # _CHUNK_DATA
        return
    # What the client got, ended so, is a complete chunked body with a prefix of the data.
    check, out = feed(HEAD + sent + last, [], passthrough=False)
    assert out[-1] is END and not check.surplus
    assert b"hello world\r\n\r\n!!".startswith(body(out))
