"""*pure*: SPDY/3 header blocks as the tunnel's observer reads them (`spdywatch.py`).

A header block is a 32-bit count, then per pair a 32-bit length + lowercase name and a
32-bit length + value (several values of one name NUL-joined). Each direction of a
connection has ONE zlib stream, primed with the SPDY/3 dictionary and flushed per block
(Z_SYNC_FLUSH), so a block can only be read by the context that read all earlier blocks of
that direction: the observer must see every header block the client sends. Facts: the
SPDY/3 draft, section 2.6.10, and moby/spdystream's framer (what kubectl and kubelets use).
"""

from __future__ import annotations

import struct
import zlib

Headers = tuple[tuple[str, str], ...]

# The SPDY/3 zlib dictionary (draft 3, 2.6.10.1): these words, each behind its 32-bit
# length, then one run of common status codes, dates and media types.
_WORDS = [
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
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
    "505203 Non-Authoritative Information204 No Content301 Moved Permanently"
    "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
    "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov "
    "Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
    "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
    "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()

# A block that inflates past this is refused (a small frame can inflate hugely); client-go's
# stream headers are a few hundred bytes.
MAX_BLOCK = 64 * 1024


class HeaderError(ValueError):
    """A block that cannot be read: the direction's zlib context is lost for good."""


def decode_block(block: bytes) -> Headers:
    """Pairs from an uncompressed block; NUL-joined values come out as separate pairs."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(block):
            raise HeaderError("header block is truncated")
        chunk = block[pos : pos + n]
        pos += n
        return chunk

    def length() -> int:
        return int(struct.unpack(">I", take(4))[0])

    count = length()
    if count > len(block) // 8:  # every pair needs at least two lengths
        raise HeaderError(f"header block claims {count} pairs in {len(block)} bytes")
    pairs: list[tuple[str, str]] = []
    for _ in range(count):
        name = take(length()).decode("latin-1").lower()
        value = take(length()).decode("latin-1")
        pairs.extend((name, v) for v in value.split("\x00"))
    return tuple(pairs)


class HeaderReader:
    """One direction's zlib stream, read block by block (bounded: no zlib bomb)."""

    def __init__(self, max_block: int = MAX_BLOCK) -> None:
        self._z = zlib.decompressobj(15, DICTIONARY)
        self._max = max_block

    def read(self, data: bytes) -> Headers:
        try:
            block = self._z.decompress(data, self._max + 1)
        except zlib.error as exc:
            raise HeaderError(f"header block does not decompress: {exc}") from None
        if len(block) > self._max or self._z.unconsumed_tail:
            raise HeaderError(f"header block is larger than {self._max} bytes")
        return decode_block(block)


def header_value(headers: Headers, name: str) -> str:
    """The first value of `name` (lowercase), or ""."""
    return next((v for n, v in headers if n == name), "")
