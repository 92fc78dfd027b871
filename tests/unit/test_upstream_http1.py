"""The lean client's HTTP/1.1 bytes without sockets: the request serializer, and the
response parser fed the same bytes in every split (proxy/upstream/http1.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelantern.proxy.upstream.http1 import (
    END,
    MAX_HEAD,
    ProtocolError,
    ResponseHead,
    ResponseParser,
    chunk,
    serialize_request,
)


def run(data: bytes, cuts: list[int], method: str = "GET", eof: bool = False) -> tuple:
    """Feed `data` split at `cuts`; (head, body, ended, surplus)."""
    parser = ResponseParser(method)
    events: list[object] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += parser.feed(data[last:cut])
        last = cut
    if eof:
        events += parser.feed_eof()
    heads = [e for e in events if isinstance(e, ResponseHead)]
    body = b"".join(e for e in events if isinstance(e, bytes))
    assert len(heads) <= 1
    assert events.count(END) <= 1
    if END in events:
        assert events[-1] is END
    return (heads[0] if heads else None), body, END in events, parser.surplus


def splits(data: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, len(data)), max_size=12)


LENGTH = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"kind":1}\n'
)
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
    b"5\r\nhello\r\n1;ext=1\r\n \r\nb\r\nworld\r\n\r\n!!\r\n0\r\nTrailer-X: y\r\n\r\n"
)
UNTIL_CLOSE = b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nline one\nline two\n"


@settings(max_examples=200, deadline=None)
@given(cuts=splits(LENGTH))
def test_content_length_in_any_split(cuts: list[int]) -> None:
    head, body, ended, surplus = run(LENGTH, cuts)
    assert head is not None and head.status == 200 and head.reason == "OK"
    assert head.headers["content-type"] == "application/json"
    assert head.content_length == 11 and head.keep_alive
    assert body == b'{"kind":1}\n' and ended and not surplus


@settings(max_examples=300, deadline=None)
@given(cuts=splits(CHUNKED))
def test_chunked_in_any_split(cuts: list[int]) -> None:
    head, body, ended, surplus = run(CHUNKED, cuts)
    assert head is not None and head.content_length is None and head.keep_alive
    assert body == b"hello world\r\n\r\n!!" and ended and not surplus


@settings(max_examples=200, deadline=None)
@given(cuts=splits(UNTIL_CLOSE))
def test_until_close_in_any_split(cuts: list[int]) -> None:
    head, body, ended, _ = run(UNTIL_CLOSE, cuts)
    assert head is not None and not head.keep_alive and not ended
    assert body == b"line one\nline two\n"
    assert run(UNTIL_CLOSE, cuts, eof=True)[2]


@given(
    pieces=st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_any_chunked_body_round_trips(pieces: list[bytes], data: st.DataObject) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire += b"".join(chunk(p) for p in pieces) + chunk(b"")
    _, body, ended, _ = run(wire, data.draw(splits(wire)))
    assert body == b"".join(pieces) and ended


@given(garbage=st.binary(max_size=300), data=st.data())
@settings(max_examples=300, deadline=None)
def test_garbage_raises_protocol_error_or_waits(garbage: bytes, data: st.DataObject) -> None:
    """Hostile bytes: ProtocolError or a wait for more, never another exception."""
    try:
        run(garbage, data.draw(splits(garbage)), eof=True)
    except ProtocolError:
        pass


def test_informational_answers_are_skipped_but_101_is_returned() -> None:
    head, body, ended, _ = run(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + LENGTH, [])
    assert head is not None and head.status == 200 and body.startswith(b"{") and ended
    head, _, ended, surplus = run(b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x82\x00", [])
    assert head is not None and head.status == 101 and ended and surplus


@pytest.mark.parametrize(
    ("method", "wire"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
    ],
)
def test_no_body_answers(method: str, wire: bytes) -> None:
    head, body, ended, surplus = run(wire, [], method)
    assert head is not None and body == b"" and ended and not surplus and head.keep_alive


def test_keep_alive_rules() -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    assert not run(close, [])[0].keep_alive
    assert not run(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", [])[0].keep_alive
    both = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    head, body, ended, _ = run(both, [])
    assert body == b"" and ended and not head.keep_alive  # chunked wins; not reused


def test_bytes_after_the_response_mark_the_connection() -> None:
    assert run(LENGTH + b"HTTP/1.1 200 OK\r\n", [])[3]
    assert run(LENGTH + b"x", [len(LENGTH)])[3]


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "status line"),
        (b"HTTP/2 200\r\n\r\n", "status line"),
        (b"HTTP/1.1 099 Low\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "CR"),
        (b"HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n", "CR"),
        (b"HTTP/1.1 200 OK\r\nX: \0\r\n\r\n", "NUL"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", "longer"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
            "chunk size",
        ),
    ],
)
def test_hostile_bytes_are_protocol_errors(wire: bytes, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        run(wire, [])


def test_huge_head_and_endless_chunk_line_are_refused() -> None:
    with pytest.raises(ProtocolError, match="KiB"):
        run(b"HTTP/1.1 200 OK\r\nX: " + b"a" * MAX_HEAD, [10, 5000])
    endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 5000
    with pytest.raises(ProtocolError, match="too long"):
        run(endless, [])


def test_cut_off_answers() -> None:
    with pytest.raises(ProtocolError, match="before a response"):
        ResponseParser("GET").feed_eof()
    with pytest.raises(ProtocolError, match="head cut off"):
        run(LENGTH[:10], [], eof=True)
    with pytest.raises(ProtocolError, match="end of the body"):
        run(LENGTH[:-2], [], eof=True)
    with pytest.raises(ProtocolError, match="end of the body"):
        run(CHUNKED[:-6], [], eof=True)


def test_request_bytes() -> None:
    wire = serialize_request(
        "GET", "/api/v1/pods?watch=1", [("Host", "h:6443"), ("Authorization", "Bearer t")]
    )
    assert wire == (
        b"GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: h:6443\r\nAuthorization: Bearer t\r\n\r\n"
    )
    assert chunk(b"abc") == b"3\r\nabc\r\n" and chunk(b"") == b"0\r\n\r\n"


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"])
def test_request_smuggling_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        serialize_request("GET", "/", [("Host", "h"), ("X-Thing", bad)])
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        serialize_request("GET", "/" + bad, [("Host", "h")])
