"""SPDY/3 header blocks: the name/value layout and its zlib compression (sans-IO).

A header block is a 32-bit count, then per pair a 32-bit length + lowercase name and a
32-bit length + value; several values of one name are joined with NUL. Each direction of a
connection has ONE zlib stream (primed with the SPDY/3 dictionary) that every block is
flushed through with Z_SYNC_FLUSH, so a block can only be read by the context that read
all earlier blocks. Facts: the SPDY/3 draft (section 2.6.10) and moby/spdystream's framer.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

Headers = tuple[tuple[str, str], ...]

# The SPDY/3 zlib dictionary (draft 3, 2.6.10.1): these words, each behind its 32-bit
# length, then one run of common status codes, dates and media types.
_DICTIONARY_WORDS = [
    *(
        "options head post put delete trace accept accept-charset accept-encoding "
        "accept-language accept-ranges age allow authorization cache-control connection "
        "content-base content-encoding content-language content-length content-location "
        "content-md5 content-range content-type date etag expect expires from host if-match "
        "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
        "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
        "server te trailer transfer-encoding upgrade user-agent vary via warning "
        "www-authenticate method get status"
    ).split(),
    *("200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"),
]
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
    "505203 Non-Authoritative Information204 No Content301 Moved Permanently"
    "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
    "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov "
    "Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
    "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
    "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = (
    b"".join(struct.pack(">I", len(w)) + w.encode() for w in _DICTIONARY_WORDS)
    + _DICTIONARY_TAIL.encode()
)
# zlib puts the dictionary's Adler-32 in the stream header; peers check it.
DICTIONARY_ADLER32 = 0xE3C6A7C2

# A decompressed block larger than this is refused (a small frame can inflate hugely).
MAX_HEADER_BLOCK = 256 * 1024


class HeaderError(ValueError):
    """A header block that cannot be decoded: the connection cannot go on (shared zlib)."""


def encode_block(headers: Iterable[tuple[str, str]]) -> bytes:
    """The uncompressed block; repeated names are merged (NUL-joined) in first-seen order."""
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), []).append(value)
    out = [struct.pack(">I", len(merged))]
    for name, values in merged.items():
        raw_name, raw_value = name.encode("latin-1"), "\x00".join(values).encode("latin-1")
        out += [struct.pack(">I", len(raw_name)), raw_name]
        out += [struct.pack(">I", len(raw_value)), raw_value]
    return b"".join(out)


def decode_block(block: bytes) -> Headers:
    """Pairs from an uncompressed block; NUL-joined values come out as separate pairs."""
    view = memoryview(block)
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(view):
            raise HeaderError("header block is truncated")
        chunk = bytes(view[pos : pos + n])
        pos += n
        return chunk

    def length() -> int:
        return int(struct.unpack(">I", take(4))[0])

    count = length()
    if count > len(block) // 8:  # every pair needs at least two lengths
        raise HeaderError(f"header block claims {count} pairs in {len(block)} bytes")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(count):
        name = take(length()).decode("latin-1")
        value = take(length()).decode("latin-1")
        if not name:
            raise HeaderError("header block has an empty name")
        if name != name.lower():
            raise HeaderError(f"header name {name!r} is not lowercase")
        if name in seen:
            raise HeaderError(f"header {name!r} appears twice (values must be NUL-joined)")
        seen.add(name)
        pairs.extend((name, v) for v in value.split("\x00"))
    if pos != len(block):
        raise HeaderError(f"{len(block) - pos} stray bytes after the header block")
    return tuple(pairs)


class HeaderCompressor:
    """One direction's zlib stream: each call returns one frame's compressed block."""

    def __init__(self, level: int = zlib.Z_BEST_COMPRESSION) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)

    def compress(self, headers: Iterable[tuple[str, str]]) -> bytes:
        return self._z.compress(encode_block(headers)) + self._z.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    """The peer's zlib stream, read block by block (bounded: no zlib bomb)."""

    def __init__(self, max_block: int = MAX_HEADER_BLOCK) -> None:
        self._z = zlib.decompressobj(15, DICTIONARY)
        self._max = max_block

    def decompress(self, data: bytes) -> Headers:
        try:
            block = self._z.decompress(data, self._max + 1)
        except zlib.error as exc:
            raise HeaderError(f"header block does not decompress: {exc}") from None
        if len(block) > self._max or self._z.unconsumed_tail:
            raise HeaderError(f"header block is larger than {self._max} bytes")
        if self._z.eof:
            raise HeaderError("header compression stream ended (a peer must never finish it)")
        return decode_block(block)


def header_values(headers: Headers, name: str) -> list[str]:
    name = name.lower()
    return [v for n, v in headers if n == name]


def header_value(headers: Headers, name: str) -> str:
    """The first value of `name`, or "" (Go's http.Header.Get)."""
    values = header_values(headers, name)
    return values[0] if values else ""
