"""The shell's own commands and what a container reports about itself: `true`, `false`, `:`,
`whoami`, `id`, `clear`, `exit [N]`, `exec`, `env`, `printenv [NAME]`, `export`, `unset`,
`hostname`, `date [+FMT]`, `uname [-a|-r|-m|-n]`, `ps`, `sleep N` (async, capped at
MAX_SLEEP), `stty size`, `tput cols|lines|clear`, `which`, `command -v`, `help`, and
`sh`/`ash`/`bash` (`-c SCRIPT`, a script file, a script on stdin, or an interactive prompt on
a terminal; the shell offers them only when the image has that shell)."""

from __future__ import annotations

import asyncio
import datetime as dt
import posixpath

from ..cmdapi import IO, MAX_SLEEP, CommandFn, ExitShell, ShellApi, registrar
from ..fakefs import FsError
from .common import CLEAR_SCREEN, write_err, write_line

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


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
    (("clear",), 0, CLEAR_SCREEN),
):
    command(*_names)(_fixed(_status, _output))


@command("exit")
async def _exit(sh: ShellApi, args: list[str], io: IO) -> int:
    code = sh.status
    if args:
        try:
            code = int(args[0]) & 0xFF
        except ValueError:
            await write_err(io, f"{sh.name}: 1: exit: Illegal number: {args[0]}\n")
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
            await write_line(io, sh.env[args[0]])
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


@command("hostname")
async def _hostname(sh: ShellApi, args: list[str], io: IO) -> int:
    await write_line(io, sh.ctx.info.pod_name)
    return 0


@command("date")
async def _date(sh: ShellApi, args: list[str], io: IO) -> int:
    now = dt.datetime.now(dt.UTC)
    text = now.strftime("%a %b %d %H:%M:%S UTC %Y")
    if args and args[0].startswith("+"):
        text = now.strftime(args[0][1:])
    await write_line(io, text)
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
    await write_line(io, text)
    return 0


@command("sleep")
async def _sleep(sh: ShellApi, args: list[str], io: IO) -> int:
    try:
        seconds = sum(float(a.rstrip("s")) for a in args) if args else -1.0
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        await write_err(io, f"sleep: invalid time interval '{' '.join(args)}'\n")
        return 1
    await asyncio.sleep(min(seconds, MAX_SLEEP))
    return 0


@command("stty")
async def _stty(sh: ShellApi, args: list[str], io: IO) -> int:
    if not sh.ctx.tty:
        await write_err(io, "stty: 'standard input': Inappropriate ioctl for device\n")
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
        await write_line(io, str(cols))
    elif what == "lines":
        await write_line(io, str(rows))
    elif what == "clear":
        await io.stdout.write(CLEAR_SCREEN)
    else:
        await write_err(io, f"tput: unknown terminfo capability '{what}'\n")
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


async def _shell_cmd(sh: ShellApi, args: list[str], io: IO, name: str) -> int:
    child = sh.child(name)
    interactive = "-i" in args
    args = [a for a in args if a not in ("-i", "-l", "--login", "-e", "-x")]
    try:
        if args and args[0] == "-c":
            if len(args) < 2:
                await write_err(io, f"{name}: -c: option requires an argument\n")
                return 2
            return await child.run_script(args[1], io)
        if args:
            path = child.path(args[0])
            try:
                script = child.fs.read(path).decode(errors="replace")
            except FsError:
                await write_err(io, f"{name}: 0: cannot open {args[0]}: No such file\n")
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
