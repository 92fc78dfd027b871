"""Throughput sources for benchmarks: `firehose SIZE [CHUNK]` writes SIZE bytes (`100M`,
`32K`...) of printable text in CHUNK-byte writes (default 32 KiB, like the apiserver's copy);
`dd if=/dev/zero bs=N count=M` (stats on stderr like GNU dd); `yes`. (`cat /dev/zero` is
`text.py`'s.)"""

from __future__ import annotations

import random
import time

from ..cmdapi import CHUNK, IO, CommandFn, FileReader, ShellApi, registrar
from ..fakefs import DEV_URANDOM, DEV_ZERO, FsError
from ..pipes import NullWriter, Reader
from .common import parse_size, write_err

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


@command("dd")
async def _dd(sh: ShellApi, args: list[str], io: IO) -> int:
    opts = dict(a.split("=", 1) for a in args if "=" in a)
    try:
        bs = parse_size(opts.get("bs", "512"))
        count = int(opts["count"]) if "count" in opts else None
    except ValueError:
        await write_err(io, "dd: invalid number\n")
        return 1
    bs = max(1, min(bs, 16 * 1024 * 1024))
    source = sh.path(opts.get("if", "-")) if opts.get("if", "-") != "-" else "-"
    sink = opts.get("of")
    out = io if sink is None else IO(io.stdin, NullWriter(), io.stderr)
    start = time.monotonic()
    blocks = 0
    rng = random.Random()
    reader: Reader | None = None
    if source == "-":
        reader = io.stdin
    elif source not in (DEV_ZERO, DEV_URANDOM):
        try:
            reader = FileReader(sh.fs.read(source))
        except FsError as exc:
            await write_err(io, f"dd: failed to open '{opts['if']}': {exc}\n")
            return 1
    total = 0
    zero = bytes(bs)
    while count is None or blocks < count:
        if reader is None:
            block = zero if source == DEV_ZERO else rng.randbytes(bs)
        else:
            block = await reader.read(bs)
            if not block:
                break
        await out.stdout.write(block)
        total += len(block)
        blocks += 1
    elapsed = max(time.monotonic() - start, 1e-6)
    await write_err(
        io,
        f"{blocks}+0 records in\n{blocks}+0 records out\n"
        f"{total} bytes copied, {elapsed:.4f} s, {total / elapsed / 1e6:.1f} MB/s\n",
    )
    return 0


@command("firehose")
async def _firehose(sh: ShellApi, args: list[str], io: IO) -> int:
    """firehose SIZE [CHUNK]: SIZE bytes of printable data in CHUNK-byte writes (benchmarks)."""
    try:
        total = parse_size(args[0]) if args else 1024 * 1024
        chunk = max(1, min(parse_size(args[1]) if len(args) > 1 else CHUNK, 4 * 1024 * 1024))
    except ValueError:
        await write_err(io, "firehose: usage: firehose SIZE [CHUNK]  (sizes like 100M, 32K)\n")
        return 2
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/\n"
    block = (line * (chunk // len(line) + 1))[:chunk]
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        await io.stdout.write(block if n == chunk else block[:n])
        sent += n
    return 0


@command("yes")
async def _yes(sh: ShellApi, args: list[str], io: IO) -> int:
    line = ((" ".join(args) if args else "y") + "\n").encode()
    block = line * max(1, CHUNK // len(line))
    while True:  # until the reader goes away or Ctrl-C / disconnect cancels us
        await io.stdout.write(block)
