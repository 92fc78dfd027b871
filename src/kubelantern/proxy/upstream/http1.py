"""*Pure* HTTP/1.1 for the upstream leg: the request's bytes, and a response parser fed
bytes in any split (sans-IO: `conn.py` does the sockets).

The parser yields events: one `ResponseHead`, then body pieces (`bytes`) as they arrive,
then `END`. Body framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304;
`Transfer-Encoding: chunked`; `Content-Length`; otherwise until the connection closes.
Anything a server could not have meant (a bad status line, a head over `MAX_HEAD`, a
chunk size that is not hex, two different lengths) raises `ProtocolError` with the
reason, and the connection is not used again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from multidict import CIMultiDict

MAX_HEAD: Final = 64 * 1024  # status line + headers; kube-apiserver's are a few hundred bytes
MAX_CHUNK_LINE: Final = 4096  # a chunk-size line with its extensions
MAX_TRAILERS: Final = 16 * 1024

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")  # 15 hex digits: under 2**60, no absurd sizes
_NO_BODY_STATUS = frozenset({204, 304})


class ProtocolError(Exception):
    """The upstream's bytes are not HTTP/1.1 as a server may send them."""


class END:  # a sentinel, used as a value
    """The body ended (the event after the last body piece)."""


@dataclass(slots=True)
class ResponseHead:
    status: int
    reason: str
    headers: CIMultiDict[str]
    # Length of the body; None: chunked or until close (then `content_length` is None too).
    content_length: int | None
    keep_alive: bool  # the connection may carry another request after this response


def serialize_request(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
) -> bytes:
    """The request line and headers. `headers` must hold Host and the body's framing
    (Content-Length or Transfer-Encoding); a CR, LF or NUL anywhere raises ValueError
    (a header must never smuggle a second request)."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    text = "\r\n".join(lines)
    breaks = len(lines) - 1
    if text.count("\r") != breaks or text.count("\n") != breaks or "\0" in text:
        raise ValueError("a CR, LF or NUL in the request line or a header")
    return (text + "\r\n\r\n").encode("utf-8", "surrogateescape")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked request body (empty `data`: the last chunk)."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n"


def parse_head(block: bytes, method: str) -> ResponseHead:
    """A response head (status line and header lines, without the blank line)."""
    if b"\0" in block or block.count(b"\r") != block.count(b"\n"):
        raise ProtocolError("a NUL, or a CR or LF outside a line end, in the response head")
    # One decode for the whole head (values as aiohttp's client decodes them); a name that
    # is not a token (non-ASCII included) is refused below.
    lines = block.decode("utf-8", "surrogateescape").split("\r\n")
    if len(lines) != block.count(b"\n") + 1:
        raise ProtocolError("a bare CR in the response head")
    status, reason, minor = _status_line(lines[0])
    pairs = []
    token = _TOKEN.fullmatch
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not token(name):
            raise ProtocolError(f"bad header line {_shown(line)}")
        pairs.append((name, value.strip(" \t")))
    headers = CIMultiDict(pairs)
    length, keep_alive = _framing(headers, status, method, minor)
    return ResponseHead(status, reason, headers, length, keep_alive)


def _status_line(line: str) -> tuple[int, str, int]:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if (
        version not in ("HTTP/1.1", "HTTP/1.0")
        or len(code) != 3
        or not code.isdigit()
        or not code.isascii()
    ):
        raise ProtocolError(f"bad status line {_shown(line)}")
    status = int(code)
    if status < 100:
        raise ProtocolError(f"bad status line {_shown(line)}")
    return status, reason, 1 if version == "HTTP/1.1" else 0


def _framing(
    headers: CIMultiDict[str], status: int, method: str, minor: int
) -> tuple[int | None, bool]:
    """(the body's length or None, keep-alive) — `-1` as length: until close; -2: chunked."""
    connection = headers.get("Connection", "").lower()
    keep_alive = minor == 1 and "close" not in connection
    if method == "HEAD" or status < 200 or status in _NO_BODY_STATUS:
        return 0, keep_alive
    te = headers.getall("Transfer-Encoding", None)
    if te is not None:
        codings = [c.strip().lower() for v in te for c in v.split(",")]
        if codings[-1] == "chunked":
            # A length beside it is ignored (RFC 9112 §6.3.3), but the connection is suspect.
            return -2, keep_alive and "Content-Length" not in headers
        return -1, False
    lengths = headers.getall("Content-Length", None)
    if lengths is None:
        return -1, False
    values = {v.strip() for line in lengths for v in line.split(",")}
    if len(values) != 1:
        raise ProtocolError(f"conflicting Content-Length values {sorted(values)}")
    value = values.pop()
    if not value.isdigit() or not value.isascii() or len(value) > 18:
        raise ProtocolError(f"bad Content-Length {value[:40]!r}")
    return int(value), keep_alive


def _shown(line: bytes | str) -> str:
    shown = repr(line[:60])
    return (shown[1:] if isinstance(line, bytes) else shown) + ("..." if len(line) > 60 else "")


# Parser states.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)
_CHUNKED = frozenset({_CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS})
# What ends a passed-through chunked body cleanly, by the state after the last byte handed
# out (a chunk's data cut in the middle cannot end cleanly: absent).
_CLEAN_END = {
    _CHUNK_SIZE: b"0\r\n\r\n",
    _CHUNK_END: b"\r\n0\r\n\r\n",
    _TRAILERS: b"\r\n",
    _DONE: b"",
}


class ResponseParser:
    """One response: `feed(data)` returns the events `data` completes; `feed_eof()` the
    events of the connection's end (`END` for a body that runs until close). Informational
    answers (1xx but 101) are skipped; a 101's head is returned and nothing after it parsed.

    `passthrough`: a chunked body is handed out with its framing, as the bytes came (one
    piece per `feed`, the very bytes given when they are all body: no copy), for a client
    that speaks HTTP/1.1 and gets them unchanged; sizes and chunk ends are checked all the
    same, to find the end (`chunked_raw` says whether this response's body is such)."""

    __slots__ = (
        "_buf",
        "_left",
        "_method",
        "_passthrough",
        "_state",
        "chunked_raw",
        "head",
        "surplus",
    )

    def __init__(self, method: str, *, passthrough: bool = False) -> None:
        self._method = method
        self._passthrough = passthrough
        self.chunked_raw = False
        self._state = _HEAD
        self._buf = b""
        self._left = 0  # body bytes still due (Content-Length or the current chunk)
        self.head: ResponseHead | None = None
        # Bytes came after the response (or after a 101): the connection must not be reused.
        self.surplus = False

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> list[object]:
        if self._state == _DONE:
            self.surplus = self.surplus or bool(data)
            return []
        if self._buf:
            data, self._buf = self._buf + data, b""
        events: list[object] = []
        if self.chunked_raw and self._state in _CHUNKED:
            self._feed_raw(data, 0, events)
            return events
        pos = 0
        end = len(data)
        while pos < end or self._state == _DONE:
            state = self._state
            if state == _HEAD:
                pos = self._feed_head(data, pos, events)
                if pos < 0:
                    return events
                if self.chunked_raw:
                    self._feed_raw(data, pos, events)
                    return events
            elif state == _LENGTH or state == _CHUNK_DATA:
                take = min(self._left, end - pos)
                events.append(data[pos : pos + take] if pos or take < end else data)
                pos += take
                self._left -= take
                if not self._left:
                    if state == _LENGTH:
                        self._state = _DONE
                        events.append(END)
                    else:
                        self._state = _CHUNK_END
            elif state == _UNTIL_CLOSE:
                events.append(data[pos:] if pos else data)
                return events
            elif state == _DONE:
                self.surplus = self.surplus or pos < end
                return events
            else:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    self._buf = data[pos:]
                    limit = MAX_TRAILERS if state == _TRAILERS else MAX_CHUNK_LINE
                    if len(self._buf) > limit:
                        raise ProtocolError("chunk-size line or trailers too long")
                    return events
                self._chunk_line(data[pos:line_end], events)
                pos = line_end + 2
        return events

    def _feed_head(self, data: bytes, pos: int, events: list[object]) -> int:
        """Parse the head from data[pos:]; the position after it, or -1: more bytes needed."""
        blank = data.find(b"\r\n\r\n", pos)
        if blank < 0:
            if len(data) - pos > MAX_HEAD:
                raise ProtocolError(f"response head over {MAX_HEAD // 1024} KiB")
            self._buf = data[pos:]
            return -1
        if blank - pos > MAX_HEAD:
            raise ProtocolError(f"response head over {MAX_HEAD // 1024} KiB")
        head = parse_head(data[pos:blank], self._method)
        pos = blank + 4
        if 100 <= head.status < 200 and head.status != 101:
            return pos  # 100 Continue, 103 Early Hints: the real answer follows
        self.head = head
        events.append(head)
        length = head.content_length
        if head.status == 101 or length == 0:
            self._state = _DONE
            events.append(END)
        elif length == -2:
            self._state = _CHUNK_SIZE
            head.content_length = None
            self.chunked_raw = self._passthrough
        elif length == -1:
            self._state = _UNTIL_CLOSE
            head.content_length = None
        else:
            assert length is not None
            self._state = _LENGTH
            self._left = length
        return pos

    def _feed_raw(self, data: bytes, pos: int, events: list[object]) -> None:
        """A passed-through chunked body: data[pos:] up to the body's end (or to a chunk
        line not complete yet, kept for the next feed) as one piece, then END if it ended."""
        start = pos
        end = len(data)
        tail: list[object] = []
        while pos < end and not tail:
            if self._state == _CHUNK_DATA:
                take = min(self._left, end - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _CHUNK_END
                continue
            line_end = data.find(b"\r\n", pos)
            if line_end < 0:
                self._buf = data[pos:]
                limit = MAX_TRAILERS if self._state == _TRAILERS else MAX_CHUNK_LINE
                if len(self._buf) > limit:
                    raise ProtocolError("chunk-size line or trailers too long")
                break
            self._chunk_line(data[pos:line_end], tail)  # END into `tail`: after the bytes
            pos = line_end + 2
        if pos > start:
            events.append(data if start == 0 and pos == end else data[start:pos])
        if tail:
            self.surplus = self.surplus or pos < end
            events.extend(tail)

    def clean_end(self) -> bytes | None:
        """For a passed-through body cut off by us (shutdown): the bytes that end what was
        handed out as a complete chunked body; None in the middle of a chunk's data."""
        return _CLEAN_END.get(self._state)

    def _chunk_line(self, line: bytes, events: list[object]) -> None:
        state = self._state
        if state == _CHUNK_END:
            if line:
                raise ProtocolError("chunk data longer than its size")
            self._state = _CHUNK_SIZE
        elif state == _CHUNK_SIZE:
            size = line.split(b";", 1)[0].strip(b" \t")
            if not _HEX.fullmatch(size):
                raise ProtocolError(f"bad chunk size {_shown(line)}")
            self._left = int(size, 16)
            self._state = _CHUNK_DATA if self._left else _TRAILERS
        elif line:  # a trailer field: dropped (kube-apiserver sends none)
            if b":" not in line:
                raise ProtocolError(f"bad trailer line {_shown(line)}")
        else:
            self._state = _DONE
            events.append(END)

    def feed_eof(self) -> list[object]:
        """The connection ended: `[END]` for a body that runs until close; raises
        ProtocolError where the response is not complete."""
        if self._state == _UNTIL_CLOSE:
            self._state = _DONE
            return [END]
        if self._state == _DONE:
            return []
        if self._state == _HEAD:
            raise ProtocolError(
                "connection closed before a response" if not self._buf else "response head cut off"
            )
        raise ProtocolError("connection closed before the end of the body")
