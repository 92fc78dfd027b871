"""What the command families share: stdout/stderr lines, the clear-screen sequence, sizes
like `32K` (dd, head, firehose), and the endless devices `/dev/zero` and `/dev/urandom`."""

from __future__ import annotations

import random

from ..cmdapi import CHUNK, IO
from ..fakefs import DEV_ZERO


async def write_err(io: IO, text: str) -> None:
    await io.stderr.write(text.encode())


async def write_line(io: IO, text: str) -> None:
    """Write `text` and a newline on stdout."""
    await io.stdout.write((text + "\n").encode())


CLEAR_SCREEN = b"\x1b[H\x1b[2J"


def parse_size(text: str) -> int:
    """`32K`, `1M`, `2G`, `100` (bytes), like dd/head accept."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = 1
    if t and t[-1] in units:
        mult, t = units[t[-1]], t[:-1]
    value = int(t)
    if value < 0:
        raise ValueError(text)
    return value * mult


async def stream_device(path: str, io: IO, limit: int | None = None) -> None:
    """Endless devices: zeros or random bytes, until the reader stops or `limit` bytes."""
    sent = 0
    rng = random.Random()
    zero = bytes(CHUNK)
    while limit is None or sent < limit:
        n = CHUNK if limit is None else min(CHUNK, limit - sent)
        await io.stdout.write(zero[:n] if path == DEV_ZERO else rng.randbytes(n))
        sent += n
