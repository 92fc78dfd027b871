"""The built-in commands of the simulated container shell (`shell.Shell`). All in memory.

Commands: `echo [-n]`, `printf`, `cat [FILE|-]...`, `head [-n N|-c N]`, `wc [-lwc]`,
`grep [-iv] FIXED`, `ls [-la] [PATH]`, `pwd`, `cd`, `mkdir`, `touch`, `rm`, `env`,
`printenv [NAME]`, `export`, `unset`, `hostname`, `whoami`, `id`, `date [+FMT]`,
`uname [-a|-r|-m|-n]`, `ps`, `sleep N` (async, capped at MAX_SLEEP), `true`, `false`, `:`,
`test`/`[`, `which`, `command -v`, `exec`, `seq`, `stty size`, `tput cols|lines|clear`, `clear`,
`tar c|x|t[z]f - [-C DIR]` (what `kubectl cp` runs), `exit [N]`, `help`, and
`sh`/`ash`/`bash` (`-c SCRIPT`, a script file, a script on stdin, or an interactive prompt
on a terminal) when the image has that shell.
Unknown commands: `sh: X: not found` (bash: `bash: X: command not found`), exit 127.

Throughput sources (for benchmarks): `firehose SIZE [CHUNK]` writes SIZE bytes (`100M`,
`32K`...) of printable text in CHUNK-byte writes (default 32 KiB, like the apiserver's
copy); `dd if=/dev/zero bs=N count=M` (stats on stderr like GNU dd); `yes`; `cat /dev/zero`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import posixpath
import random
import time

from .cmdapi import CHUNK, IO, MAX_SLEEP, CommandFn, ExitShell, FileReader, ShellApi, registrar
from .fakefs import DEV_URANDOM, DEV_ZERO, FakeFS, FsError, normalize
from .pipes import NullWriter, Reader

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


async def _err(io: IO, text: str) -> None:
    await io.stderr.write(text.encode())


async def _line(io: IO, text: str) -> None:
    """Write `text` and a newline on stdout."""
    await io.stdout.write((text + "\n").encode())


_CLEAR_SCREEN = b"\x1b[H\x1b[2J"


def _fixed(status: int, output: bytes = b"") -> CommandFn:
    """A command that ignores its arguments: the same output and exit status every time."""

    async def run(sh: ShellApi, args: list[str], io: IO) -> int:
        if output:
            await io.stdout.write(output)
        return status

    return run


# name(s), exit status, stdout
for _names, _status, _output in (
    (("true", ":"), 0, b""),
    (("false",), 1, b""),
    (("whoami",), 0, b"root\n"),
    (("id",), 0, b"uid=0(root) gid=0(root) groups=0(root)\n"),
    (("clear",), 0, _CLEAR_SCREEN),
):
    command(*_names)(_fixed(_status, _output))


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
        await _err(io, "printf: usage: printf format [arguments]\n")
        return 2
    await io.stdout.write(_printf_format(args[0], args[1:]).encode())
    return 0


async def _stream_device(path: str, io: IO, limit: int | None = None) -> None:
    """Endless devices: zeros or random bytes, until the reader stops or `limit` bytes."""
    sent = 0
    rng = random.Random()
    zero = bytes(CHUNK)
    while limit is None or sent < limit:
        n = CHUNK if limit is None else min(CHUNK, limit - sent)
        await io.stdout.write(zero[:n] if path == DEV_ZERO else rng.randbytes(n))
        sent += n


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
            await _stream_device(path, io)
            continue
        try:
            await io.stdout.write(sh.fs.read(path))
        except FsError as exc:
            await _err(io, f"cat: {f}: {exc}\n")
            status = 1
    return status


@command("exit")
async def _exit(sh: ShellApi, args: list[str], io: IO) -> int:
    code = sh.status
    if args:
        try:
            code = int(args[0]) & 0xFF
        except ValueError:
            await _err(io, f"{sh.name}: 1: exit: Illegal number: {args[0]}\n")
            code = 2
    raise ExitShell(code)


@command("exec")
async def _exec(sh: ShellApi, args: list[str], io: IO) -> int:
    """`exec CMD...`: the command replaces the shell, whose exit status becomes CMD's."""
    if not args:
        return 0
    raise ExitShell(await sh.run_argv(args, io))


@command("env", "printenv")
async def _env(sh: ShellApi, args: list[str], io: IO) -> int:
    if args:
        if args[0] in sh.env:
            await _line(io, sh.env[args[0]])
            return 0
        return 1
    await io.stdout.write("".join(f"{k}={v}\n" for k, v in sh.env.items()).encode())
    return 0


@command("export")
async def _export(sh: ShellApi, args: list[str], io: IO) -> int:
    for a in args:
        if "=" in a:
            name, value = a.split("=", 1)
            sh.env[name] = value
    return 0


@command("unset")
async def _unset(sh: ShellApi, args: list[str], io: IO) -> int:
    for a in args:
        sh.env.pop(a, None)
    return 0


def _mode(fs: FakeFS, path: str) -> str:
    if fs.is_dir(path):
        return "drwxr-xr-x"
    if path.startswith("/dev/"):
        return "crw-rw-rw-"
    if path.startswith("/bin/"):
        return "-rwxr-xr-x"
    return "-rw-r--r--"


@command("ls")
async def _ls(sh: ShellApi, args: list[str], io: IO) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-"))
    paths = [a for a in args if not a.startswith("-")] or ["."]
    status = 0
    for p in paths:
        path = sh.path(p)
        try:
            names = sh.fs.listdir(path)
        except FsError as exc:
            await _err(io, f"ls: cannot access '{p}': {exc}\n")
            status = 2
            continue
        if "a" not in flags:
            names = [n for n in names if not n.startswith(".")]
        if len(paths) > 1:
            await io.stdout.write(f"{p}:\n".encode())
        if "l" in flags:
            lines = [f"total {len(names)}"]
            for n in names:
                full = (
                    path
                    if sh.fs.exists(path) and not sh.fs.is_dir(path)
                    else (posixpath.join(path, n))
                )
                lines.append(
                    f"{_mode(sh.fs, full)} 1 root root {sh.fs.size(full):>8} Jan  1 00:00 {n}"
                )
            await io.stdout.write(("\n".join(lines) + "\n").encode())
        elif names:
            await io.stdout.write(("\n".join(names) + "\n").encode())
    return status


@command("pwd")
async def _pwd(sh: ShellApi, args: list[str], io: IO) -> int:
    await _line(io, sh.cwd)
    return 0


@command("cd")
async def _cd(sh: ShellApi, args: list[str], io: IO) -> int:
    target = sh.path(args[0] if args else sh.env.get("HOME", "/"))
    if not sh.fs.is_dir(target):
        await _err(io, f"{sh.name}: 1: cd: can't cd to {args[0] if args else target}\n")
        return 2
    sh.cwd = target
    sh.env["PWD"] = target
    return 0


@command("hostname")
async def _hostname(sh: ShellApi, args: list[str], io: IO) -> int:
    await _line(io, sh.ctx.info.pod_name)
    return 0


@command("date")
async def _date(sh: ShellApi, args: list[str], io: IO) -> int:
    now = dt.datetime.now(dt.UTC)
    text = now.strftime("%a %b %d %H:%M:%S UTC %Y")
    if args and args[0].startswith("+"):
        text = now.strftime(args[0][1:])
    await _line(io, text)
    return 0


@command("uname")
async def _uname(sh: ShellApi, args: list[str], io: IO) -> int:
    if "-a" in args:
        text = (
            f"Linux {sh.ctx.info.pod_name} 6.1.0-kubelantern #1 SMP PREEMPT_DYNAMIC "
            "x86_64 GNU/Linux"
        )
    elif "-r" in args:
        text = "6.1.0-kubelantern"
    elif "-m" in args:
        text = "x86_64"
    elif "-n" in args:
        text = sh.ctx.info.pod_name
    else:
        text = "Linux"
    await _line(io, text)
    return 0


@command("sleep")
async def _sleep(sh: ShellApi, args: list[str], io: IO) -> int:
    try:
        seconds = sum(float(a.rstrip("s")) for a in args) if args else -1.0
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        await _err(io, f"sleep: invalid time interval '{' '.join(args)}'\n")
        return 1
    await asyncio.sleep(min(seconds, MAX_SLEEP))
    return 0


async def _shell_cmd(sh: ShellApi, args: list[str], io: IO, name: str) -> int:
    child = sh.child(name)
    interactive = "-i" in args
    args = [a for a in args if a not in ("-i", "-l", "--login", "-e", "-x")]
    try:
        if args and args[0] == "-c":
            if len(args) < 2:
                await _err(io, f"{name}: -c: option requires an argument\n")
                return 2
            return await child.run_script(args[1], io)
        if args:
            path = child.path(args[0])
            try:
                script = child.fs.read(path).decode(errors="replace")
            except FsError:
                await _err(io, f"{name}: 0: cannot open {args[0]}: No such file\n")
                return 2
            return await child.run_script(script, io)
        if sh.ctx.tty or interactive:
            return await child.interactive(io)
        # Non-interactive: a script on stdin, run line by line as it arrives.
        while True:
            line = await io.stdin.readline()
            if not line:
                return child.status
            await child.run_script(line.decode(errors="replace"), io)
    except ExitShell as exc:
        return exc.code


@command("sh", "ash")
async def _sh(sh: ShellApi, args: list[str], io: IO) -> int:
    return await _shell_cmd(sh, args, io, "sh")


@command("bash")
async def _bash(sh: ShellApi, args: list[str], io: IO) -> int:
    return await _shell_cmd(sh, args, io, "bash")


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
            await _stream_device(path, io, nbytes if nbytes is not None else 0)
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
        await _err(io, "Usage: grep [OPTION]... PATTERNS [FILE]...\n")
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


@command("dd")
async def _dd(sh: ShellApi, args: list[str], io: IO) -> int:
    opts = dict(a.split("=", 1) for a in args if "=" in a)
    try:
        bs = parse_size(opts.get("bs", "512"))
        count = int(opts["count"]) if "count" in opts else None
    except ValueError:
        await _err(io, "dd: invalid number\n")
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
            await _err(io, f"dd: failed to open '{opts['if']}': {exc}\n")
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
    await _err(
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
        await _err(io, "firehose: usage: firehose SIZE [CHUNK]  (sizes like 100M, 32K)\n")
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


@command("seq")
async def _seq(sh: ShellApi, args: list[str], io: IO) -> int:
    try:
        nums = [int(a) for a in args]
    except ValueError:
        await _err(io, "seq: invalid argument\n")
        return 1
    first, last = (1, nums[0]) if len(nums) == 1 else (nums[0], nums[1]) if nums else (1, 0)
    last = min(last, first + 1_000_000)
    for start in range(first, last + 1, 1000):
        chunk = "".join(f"{i}\n" for i in range(start, min(start + 1000, last + 1)))
        await io.stdout.write(chunk.encode())
    return 0


@command("stty")
async def _stty(sh: ShellApi, args: list[str], io: IO) -> int:
    if not sh.ctx.tty:
        await _err(io, "stty: 'standard input': Inappropriate ioctl for device\n")
        return 1
    cols, rows = sh.ctx.term_size()
    if args and args[0] == "size":
        await io.stdout.write(f"{rows} {cols}\n".encode())
    return 0


@command("tput")
async def _tput(sh: ShellApi, args: list[str], io: IO) -> int:
    cols, rows = sh.ctx.term_size()
    what = args[0] if args else ""
    if what == "cols":
        await _line(io, str(cols))
    elif what == "lines":
        await _line(io, str(rows))
    elif what == "clear":
        await io.stdout.write(_CLEAR_SCREEN)
    else:
        await _err(io, f"tput: unknown terminfo capability '{what}'\n")
        return 4
    return 0


@command("which")
async def _which(sh: ShellApi, args: list[str], io: IO) -> int:
    status = 0
    for a in args:
        if sh.resolves(a):
            await io.stdout.write(f"/bin/{posixpath.basename(a)}\n".encode())
        else:
            status = 1
    return status


@command("command")
async def _command(sh: ShellApi, args: list[str], io: IO) -> int:
    if args and args[0] == "-v":
        return await _which(sh, args[1:], io)
    return await sh.run_argv(args, io) if args else 0


@command("test", "[")
async def _test(sh: ShellApi, args: list[str], io: IO) -> int:
    if args and args[-1] == "]":
        args = args[:-1]
    if len(args) == 2 and args[0] in ("-e", "-f", "-d", "-n", "-z"):
        op, arg = args
        if op == "-n":
            return 0 if arg else 1
        if op == "-z":
            return 0 if not arg else 1
        path = sh.path(arg)
        ok = {"-e": sh.fs.exists(path), "-d": sh.fs.is_dir(path), "-f": path in sh.fs.files}[op]
        return 0 if ok else 1
    if len(args) == 3 and args[1] in ("=", "!="):
        return 0 if (args[0] == args[2]) == (args[1] == "=") else 1
    if len(args) == 1:
        return 0 if args[0] else 1
    return 2


@command("mkdir")
async def _mkdir(sh: ShellApi, args: list[str], io: IO) -> int:
    for a in args:
        if not a.startswith("-"):
            sh.fs.mkdir(sh.path(a))
    return 0


@command("touch")
async def _touch(sh: ShellApi, args: list[str], io: IO) -> int:
    for a in args:
        path = sh.path(a)
        if path not in sh.fs.files:
            sh.fs.write(path, b"", append=True)
    return 0


@command("rm")
async def _rm(sh: ShellApi, args: list[str], io: IO) -> int:
    status = 0
    for a in args:
        if a.startswith("-"):
            continue
        path = sh.path(a)
        if sh.fs.files.pop(path, None) is None:
            await _err(io, f"rm: cannot remove '{a}': No such file or directory\n")
            status = 1
    return status


@command("ps")
async def _ps(sh: ShellApi, args: list[str], io: IO) -> int:
    await io.stdout.write(
        f"PID   USER     TIME  COMMAND\n    1 root      0:00 /app/{sh.ctx.info.name}\n"
        f"   42 root      0:00 {sh.name}\n   43 root      0:00 ps\n".encode()
    )
    return 0


@command("help")
async def _help(sh: ShellApi, args: list[str], io: IO) -> int:
    names = " ".join(sh.command_names())
    await io.stdout.write(f"kubelantern simulated container shell. Commands:\n{names}\n".encode())
    return 0


def _tar_args(args: list[str]) -> tuple[str, bool, str, str, list[str]]:
    """(mode c|x|t, gzip, archive, directory, operands) from GNU-style tar arguments."""
    mode, gz, archive, directory = "", False, "-", "/"
    operands: list[str] = []
    it = iter(args)
    first = True
    for a in it:
        if a.startswith("--"):
            if a.startswith("--directory="):
                directory = a.split("=", 1)[1]
            continue  # --no-same-owner, --no-same-permissions, --verbose...
        if a.startswith("-") or (first and a and set(a) <= set("cxtvzfmpoO")):
            flags = a.lstrip("-")
            for k, flag in enumerate(flags):
                if flag in "cxt":
                    mode = flag
                elif flag == "z":
                    gz = True
                elif flag == "f":
                    archive = flags[k + 1 :] or next(it, "-")
                    break
                elif flag == "C":
                    directory = flags[k + 1 :] or next(it, "/")
                    break
        else:
            operands.append(a)
        first = False
    return mode, gz, archive, directory, operands


@command("tar")
async def _tar(sh: ShellApi, args: list[str], io: IO) -> int:
    """Enough tar for `kubectl cp`: c/x/t on the in-memory filesystem, archive on stdio."""
    import io as _io
    import tarfile

    mode, gz, archive, directory, operands = _tar_args(args)
    if not mode:
        await _err(io, "tar: You must specify one of the '-Acdtrux' options\n")
        return 2
    if archive != "-":
        await _err(io, "tar: only archives on stdin/stdout are simulated (use f -)\n")
        return 2
    base = sh.path(directory)
    if mode == "c":
        buf = _io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
            for op in operands:
                path = sh.path(op) if op.startswith("/") else normalize(base, op)
                if not sh.fs.exists(path):
                    await _err(io, f"tar: {op}: Cannot stat: No such file or directory\n")
                    return 2
                if op.startswith("/"):
                    await _err(io, "tar: Removing leading `/' from member names\n")
                for p in sorted([path] + [f for f in sh.fs.files if f.startswith(path + "/")]):
                    rel = (
                        op.lstrip("/") + p[len(path) :]
                        if op.startswith("/")
                        else (posixpath.relpath(p, base))
                    )
                    info = tarfile.TarInfo(rel)
                    if sh.fs.is_dir(p):
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tf.addfile(info)
                    else:
                        data = sh.fs.read(p)
                        info.size, info.mode, info.mtime = len(data), 0o644, int(sh.ctx.started)
                        tf.addfile(info, _io.BytesIO(data))
        await io.stdout.write(buf.getvalue())
        return 0
    received = bytearray()
    while chunk := await io.stdin.read(CHUNK):
        received += chunk
        if len(received) > sh.fs.max_total_size:
            await _err(io, "tar: archive too large for the simulated filesystem\n")
            return 2
    try:
        with tarfile.open(fileobj=_io.BytesIO(bytes(received)), mode="r:*") as tf:
            for member in tf.getmembers():
                target = normalize(base, member.name)
                if mode == "t":
                    await io.stdout.write(f"{member.name}\n".encode())
                elif member.isdir():
                    sh.fs.mkdir(target)
                elif member.isfile():
                    extracted = tf.extractfile(member)
                    content = extracted.read() if extracted else b""
                    sh.fs.mkdir(posixpath.dirname(target))
                    sh.fs.write(target, content, append=False)
    except tarfile.TarError as exc:
        await _err(io, f"tar: This does not look like a tar archive ({exc})\n")
        return 2
    return 0
