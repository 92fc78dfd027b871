"""Text commands: `echo [-n]`, `printf`, `cat [FILE|-]...`, `head [-n N|-c N]`, `wc [-lwc]`,
`grep [-iv] FIXED`, `seq`."""

from __future__ import annotations

from ..cmdapi import CHUNK, IO, CommandFn, FileReader, ShellApi, registrar
from ..fakefs import DEV_URANDOM, DEV_ZERO, FsError
from ..pipes import Reader
from .common import parse_size, stream_device, write_err

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


@command("echo")
async def _echo(sh: ShellApi, args: list[str], io: IO) -> int:
    newline = True
    while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
        if "n" in args[0]:
            newline = False
        args = args[1:]
    await io.stdout.write((" ".join(args) + ("\n" if newline else "")).encode())
    return 0


def _printf_format(fmt: str, args: list[str]) -> str:
    out: list[str] = []
    i, k = 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c == "\\" and i + 1 < len(fmt):
            out.append(
                {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "e": "\x1b"}.get(
                    fmt[i + 1], "\\" + fmt[i + 1]
                )
            )
            i += 2
        elif c == "%" and i + 1 < len(fmt):
            spec = fmt[i + 1]
            if spec == "%":
                out.append("%")
            else:
                arg = args[k] if k < len(args) else ""
                k += 1
                if spec == "d":
                    try:
                        out.append(str(int(arg or "0")))
                    except ValueError:
                        out.append("0")
                else:
                    out.append(arg)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@command("printf")
async def _printf(sh: ShellApi, args: list[str], io: IO) -> int:
    if not args:
        await write_err(io, "printf: usage: printf format [arguments]\n")
        return 2
    await io.stdout.write(_printf_format(args[0], args[1:]).encode())
    return 0


async def _copy(reader: Reader, io: IO) -> None:
    while True:
        data = await reader.read(CHUNK)
        if not data:
            return
        await io.stdout.write(data)


@command("cat")
async def _cat(sh: ShellApi, args: list[str], io: IO) -> int:
    files = [a for a in args if not a.startswith("-") or a == "-"] or ["-"]
    status = 0
    for f in files:
        if f == "-":
            await _copy(io.stdin, io)
            continue
        path = sh.path(f)
        if path in (DEV_ZERO, DEV_URANDOM):
            await stream_device(path, io)
            continue
        try:
            await io.stdout.write(sh.fs.read(path))
        except FsError as exc:
            await write_err(io, f"cat: {f}: {exc}\n")
            status = 1
    return status


@command("head")
async def _head(sh: ShellApi, args: list[str], io: IO) -> int:
    lines, nbytes, files = 10, None, []
    it = iter(args)
    for a in it:
        if a == "-n":
            lines = int(next(it, "10"))
        elif a.startswith("-n"):
            lines = int(a[2:])
        elif a == "-c":
            nbytes = parse_size(next(it, "0"))
        elif a.startswith("-c"):
            nbytes = parse_size(a[2:])
        elif a.startswith("-") and a[1:].isdigit():
            lines = int(a[1:])
        else:
            files.append(a)
    reader: Reader = io.stdin
    if files:
        path = sh.path(files[0])
        if path in (DEV_ZERO, DEV_URANDOM):
            await stream_device(path, io, nbytes if nbytes is not None else 0)
            return 0
        reader = FileReader(sh.fs.read(path))
    if nbytes is not None:
        left = nbytes
        while left > 0:
            data = await reader.read(min(left, CHUNK))
            if not data:
                break
            await io.stdout.write(data)
            left -= len(data)
        return 0
    for _ in range(lines):
        line = await reader.readline()
        if not line:
            break
        await io.stdout.write(line)
    return 0


@command("wc")
async def _wc(sh: ShellApi, args: list[str], io: IO) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-")) or "lwc"
    files = [a for a in args if not a.startswith("-")]
    counts = [0, 0, 0]  # lines, words, bytes
    in_word = False
    reader: Reader = FileReader(sh.fs.read(sh.path(files[0]))) if files else io.stdin
    while True:
        data = await reader.read(CHUNK)
        if not data:
            break
        counts[0] += data.count(b"\n")
        counts[2] += len(data)
        words = len(data.split())
        if in_word and not data[:1].isspace():
            words -= 1  # a word spanning two reads was already counted
        counts[1] += max(0, words)
        in_word = not data[-1:].isspace()
    parts = [str(v) for k, v in zip("lwc", counts, strict=True) if k in flags]
    suffix = f" {files[0]}" if files else ""
    await io.stdout.write((" ".join(parts) + suffix + "\n").encode())
    return 0


@command("grep")
async def _grep(sh: ShellApi, args: list[str], io: IO) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
    rest = [a for a in args if not (a.startswith("-") and len(a) > 1)]
    if not rest:
        await write_err(io, "Usage: grep [OPTION]... PATTERNS [FILE]...\n")
        return 2
    pattern = rest[0]
    reader: Reader = FileReader(sh.fs.read(sh.path(rest[1]))) if len(rest) > 1 else io.stdin
    found = False
    needle = pattern.lower() if "i" in flags else pattern
    while True:
        line = await reader.readline()
        if not line:
            break
        text = line.decode(errors="replace")
        hit = needle in (text.lower() if "i" in flags else text)
        if hit != ("v" in flags):
            found = True
            await io.stdout.write(line)
    return 0 if found else 1


@command("seq")
async def _seq(sh: ShellApi, args: list[str], io: IO) -> int:
    try:
        nums = [int(a) for a in args]
    except ValueError:
        await write_err(io, "seq: invalid argument\n")
        return 1
    first, last = (1, nums[0]) if len(nums) == 1 else (nums[0], nums[1]) if nums else (1, 0)
    last = min(last, first + 1_000_000)
    for start in range(first, last + 1, 1000):
        chunk = "".join(f"{i}\n" for i in range(start, min(start + 1000, last + 1)))
        await io.stdout.write(chunk.encode())
    return 0
