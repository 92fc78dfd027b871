"""The command interpreter inside a simulated container. Never runs a real process.

A small POSIX-ish shell over the in-memory filesystem (`fakefs`): quoting, `$VAR`, `${VAR}`,
`$?`, `$(...)`, `~`, leading `NAME=value`, `;` `&&` `||` `|` and newlines, redirections
(`>`, `>>`, `<`, `2>`, `2>&1`, `>&2`, `/dev/null`). The commands are looked up in
`builtins.COMMANDS`; what they may ask of the shell is `cmdapi.ShellApi`.

It is async (sleep, stdin, pipelines) but socket-free: IO is `pipes.Reader`/`Writer`.
"""

from __future__ import annotations

import asyncio
import itertools
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, replace

from .builtins import COMMANDS, SHELL_ONLY_BUILTINS
from .cmdapi import CHUNK, IO, MAX_SLEEP, Context, ExitShell, FileReader
from .containers import ContainerInfo
from .fakefs import DEV_NULL, FakeFS, FsError, normalize
from .pipes import (
    BrokenPipe,
    EmptyReader,
    Interrupted,
    NullWriter,
    Pipe,
    Reader,
    Writer,
)
from .shellparse import (
    AndOr,
    Pipeline,
    Redirect,
    ShellSyntaxError,
    SimpleCommand,
    closing_paren,
    parse,
)

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExecNotFound(Exception):
    """The runtime cannot start argv[0] (exec, not a shell lookup): an InternalError."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def runtime_message(self, exec_id: str = "0f3c9a") -> str:
        return (
            "error executing command in container: failed to exec in container: failed to "
            f'start exec "{exec_id}": OCI runtime exec failed: exec failed: unable to start '
            f'container process: exec: "{self.name}": executable file not found in $PATH: unknown'
        )


# --- the shell -------------------------------------------------------------------------------


def default_env(info: ContainerInfo, *, tty: bool = False) -> dict[str, str]:
    env = {
        "PATH": PATH,
        "HOSTNAME": info.pod_name,
        "HOME": "/root",
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    }
    if tty:
        env["TERM"] = "xterm"  # the runtime sets it for a terminal session
    env.update(dict(info.env))
    return env


_PIDS = itertools.count(100)


class Shell:
    def __init__(
        self,
        ctx: Context,
        *,
        name: str = "sh",
        env: dict[str, str] | None = None,
        cwd: str = "/",
        pid: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name
        # `$$`: one per shell process, shared by its subshells (as sh does), so a client can
        # tell whether it reached the same process again (reattached terminals).
        self.pid = pid if pid is not None else next(_PIDS)
        self.env = dict(env) if env is not None else default_env(ctx.info, tty=ctx.tty)
        self.cwd = cwd
        self.status = 0

    @property
    def fs(self) -> FakeFS:
        return self.ctx.fs

    def child(self, name: str | None = None) -> Shell:
        return Shell(self.ctx, name=name or self.name, env=self.env, cwd=self.cwd, pid=self.pid)

    def not_found_message(self, cmd: str) -> bytes:
        if self.name == "bash":
            return f"bash: {cmd}: command not found\n".encode()
        return f"sh: {cmd}: not found\n".encode()

    def command_names(self) -> list[str]:
        return sorted(COMMANDS)

    def path(self, p: str) -> str:
        return normalize(self.cwd, p)

    # -- expansion --

    async def expand(self, raw: str, io: IO) -> str:
        out: list[str] = []
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "'":
                j = raw.find("'", i + 1)
                if j < 0:  # unbalanced inside a $(...) the lexer kept whole
                    j = n
                out.append(raw[i + 1 : j])
                i = j + 1
            elif c == '"':
                j = i + 1
                while j < n and raw[j] != '"':
                    if raw[j] == "\\" and j + 1 < n and raw[j + 1] in '$`"\\\n':
                        out.append(raw[j + 1])
                        j += 2
                    elif raw[j] == "$":
                        text, j = await self._dollar(raw, j, io)
                        out.append(text)
                    else:
                        out.append(raw[j])
                        j += 1
                i = j + 1
            elif c == "\\":
                out.append(raw[i + 1 : i + 2])
                i += 2
            elif c == "$":
                text, i = await self._dollar(raw, i, io)
                out.append(text)
            elif c == "~" and i == 0 and (n == 1 or raw[1] == "/"):
                out.append(self.env.get("HOME", "/root"))
                i += 1
            else:
                out.append(c)
                i += 1
        return "".join(out)

    async def _dollar(self, raw: str, i: int, io: IO) -> tuple[str, int]:
        """Expand the `$...` at raw[i]; return (text, index after it)."""
        n = len(raw)
        if raw.startswith("$(", i):
            j = closing_paren(raw, i)
            if j >= n:
                return "$", i + 1  # unbalanced: the lexer kept it literal
            from .pipes import BufferWriter

            buf = BufferWriter(limit=1024 * 1024)
            sub = self.child()
            await sub.run_script(raw[i + 2 : j], IO(EmptyReader(), buf, io.stderr))
            self.status = sub.status
            return bytes(buf.data).decode(errors="replace").rstrip("\n"), j + 1
        if raw.startswith("${", i):
            j = raw.find("}", i)
            if j < 0:
                return "$", i + 1
            return self._var(raw[i + 2 : j]), j + 1
        if i + 1 < n and raw[i + 1] in "?$#0":
            return self._var(raw[i + 1]), i + 2
        j = i + 1
        while j < n and (raw[j].isalnum() or raw[j] == "_"):
            j += 1
        if j == i + 1:
            return "$", i + 1
        return self._var(raw[i + 1 : j]), j

    def _var(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.pid)
        if name == "#":
            return "0"
        if name == "0":
            return self.name
        return self.env.get(name, "")

    # -- execution --

    async def run_script(self, text: str, io: IO) -> int:
        try:
            script = parse(text)
        except ShellSyntaxError as exc:
            await io.stderr.write(f"{self.name}: 1: {exc}\n".encode())
            self.status = 2
            return 2
        for andor in script:
            await self._run_andor(andor, io)
        return self.status

    async def _run_andor(self, andor: AndOr, io: IO) -> None:
        for link, pipeline in andor:
            if link == "&&" and self.status != 0:
                continue
            if link == "||" and self.status == 0:
                continue
            self.status = await self._run_pipeline(pipeline, io)

    async def _run_pipeline(self, pipeline: Pipeline, io: IO) -> int:
        if len(pipeline) == 1:
            return await self._run_simple(pipeline[0], io)
        pipes = [Pipe() for _ in pipeline[:-1]]

        async def stage(k: int) -> int:
            stdin: Reader = io.stdin if k == 0 else pipes[k - 1]
            stdout: Writer = io.stdout if k == len(pipeline) - 1 else pipes[k]
            # Each stage is its own process: `cd` or `exit` in it does not touch us.
            sub = self.child()
            try:
                return await sub._run_simple(pipeline[k], IO(stdin, stdout, io.stderr))
            except ExitShell as exc:
                return exc.code
            finally:
                if k < len(pipes):
                    pipes[k].close()
                if k > 0:
                    pipes[k - 1].close_reader()

        results = await asyncio.gather(*(stage(k) for k in range(len(pipeline))))
        return results[-1]

    async def _run_simple(self, cmd: SimpleCommand, io: IO) -> int:
        words = [await self.expand(w, io) for w in cmd.words]
        # Leading NAME=value words are assignments (kept in the shell, as for a builtin).
        while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
            name, value = words.pop(0).split("=", 1)
            self.env[name] = value
        try:
            io = await self._redirect(cmd.redirects, io)
        except FsError as exc:
            await io.stderr.write(f"{self.name}: 1: cannot open: {exc}\n".encode())
            return 2
        if not words:
            return 0
        return await self.run_argv(words, io)

    async def _redirect(self, redirects: list[Redirect], io: IO) -> IO:
        for r in redirects:
            if r.mode == ">&":
                source = io.stderr if r.target == "2" else io.stdout
                io = replace(io, stdout=source) if r.fd == 1 else replace(io, stderr=source)
                continue
            path = self.path(await self.expand(r.target, io))
            if r.mode == "<":
                io = replace(io, stdin=FileReader(self.fs.read(path)))
                continue
            if path != DEV_NULL:
                self.fs.write(path, b"", append=r.mode == ">>")
            writer: Writer = NullWriter() if path == DEV_NULL else FileWriter(self.fs, path)
            io = replace(io, stdout=writer) if r.fd == 1 else replace(io, stderr=writer)
        return io

    async def run_argv(self, argv: list[str], io: IO) -> int:
        name = posixpath.basename(argv[0]) if "/" in argv[0] else argv[0]
        fn = COMMANDS.get(name)
        if fn is None or (name in ("sh", "bash", "ash") and name not in self._shells()):
            await io.stderr.write(self.not_found_message(argv[0]))
            return 127
        try:
            return await fn(self, argv[1:], io)
        except BrokenPipe:
            return 141
        except FsError as exc:
            await io.stderr.write(f"{name}: {exc}\n".encode())
            return 1

    def _shells(self) -> set[str]:
        shells = set(self.ctx.info.shells)
        if "sh" in shells:
            shells.add("ash")
        return shells

    def resolves(self, name: str) -> bool:
        """Would the runtime find this executable in the image?"""
        base = posixpath.basename(name)
        if not self.ctx.info.has_userland:
            return False
        if base in ("sh", "bash", "ash"):
            return base in self._shells()
        return base in COMMANDS and base not in SHELL_ONLY_BUILTINS

    def prompt(self) -> bytes:
        where = self.cwd if self.cwd != self.env.get("HOME") else "~"
        return f"root@{self.ctx.info.pod_name}:{where}# ".encode()

    async def interactive(self, io: IO) -> int:
        """A terminal session: prompt, read a cooked line, run it, until exit or Ctrl-D."""
        stdin = io.stdin
        handlers = self.ctx.interrupt_handlers
        interrupt_stdin: Callable[[], None] = getattr(stdin, "interrupt", lambda: None)
        while True:
            await io.stdout.write(self.prompt())
            handlers.append(interrupt_stdin)
            try:
                line = await stdin.readline()
            except Interrupted:
                continue
            finally:
                handlers.remove(interrupt_stdin)
            if not line:
                await io.stdout.write(b"exit\n")
                return self.status
            task = asyncio.ensure_future(self.run_script(line.decode(errors="replace"), io))
            interrupted = False

            def interrupt_job(task: asyncio.Future[int] = task) -> None:
                nonlocal interrupted
                interrupted = True
                task.cancel()

            handlers.append(interrupt_job)
            try:
                await task
            except ExitShell as exc:
                return exc.code
            except asyncio.CancelledError:
                if not interrupted:
                    raise  # we are being cancelled ourselves
                self.status = 130
            finally:
                handlers.remove(interrupt_job)


@dataclass
class FileWriter:
    fs: FakeFS
    path: str

    async def write(self, data: bytes) -> None:
        self.fs.write(self.path, data, append=True)


# The names attach/exec/process (and tests) take from here; they live in cmdapi.
__all__ = [
    "CHUNK",
    "IO",
    "MAX_SLEEP",
    "Context",
    "ExecNotFound",
    "ExitShell",
    "FileReader",
    "FileWriter",
    "Shell",
    "ShellSyntaxError",
    "default_env",
    "parse",
]
