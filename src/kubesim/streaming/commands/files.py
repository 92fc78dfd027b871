"""Commands over the in-memory filesystem: `ls [-la] [PATH]`, `pwd`, `cd`, `mkdir`, `touch`,
`rm`, `test`/`[`."""

from __future__ import annotations

import posixpath

from ..cmdapi import IO, CommandFn, ShellApi, registrar
from ..fakefs import FakeFS, FsError
from .common import write_err, write_line

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


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
            await write_err(io, f"ls: cannot access '{p}': {exc}\n")
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
    await write_line(io, sh.cwd)
    return 0


@command("cd")
async def _cd(sh: ShellApi, args: list[str], io: IO) -> int:
    target = sh.path(args[0] if args else sh.env.get("HOME", "/"))
    if not sh.fs.is_dir(target):
        await write_err(io, f"{sh.name}: 1: cd: can't cd to {args[0] if args else target}\n")
        return 2
    sh.cwd = target
    sh.env["PWD"] = target
    return 0


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
            await write_err(io, f"rm: cannot remove '{a}': No such file or directory\n")
            status = 1
    return status


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
