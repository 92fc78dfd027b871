"""The contract between the simulated shell and its built-in commands: what a command is
(`CommandFn`), the streams it gets (`IO`), what it may ask of the shell (`ShellApi`), and how it
ends the shell (`ExitShell`). Commands depend on this module only, never on `shell`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from .containers import ContainerInfo
from .fakefs import FakeFS
from .pipes import Reader, Writer

MAX_SLEEP = 600.0  # seconds; a simulated `sleep` never outlives a test session
CHUNK = 32 * 1024  # output write size; about what the apiserver translator forwards


class ExitShell(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class IO:
    stdin: Reader
    stdout: Writer
    stderr: Writer


@dataclass
class Context:
    """What the shell knows about its container and terminal (shared by sub-shells)."""

    info: ContainerInfo
    fs: FakeFS
    tty: bool = False
    term_size: Callable[[], tuple[int, int]] = lambda: (80, 24)  # (cols, rows)
    started: float = field(default_factory=time.time)
    # Who gets Ctrl-C: the innermost registered handler.
    interrupt_handlers: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class FileReader:
    data: bytes
    pos: int = 0

    async def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        chunk = self.data[self.pos : end]
        self.pos += len(chunk)
        return chunk

    async def readline(self) -> bytes:
        idx = self.data.find(b"\n", self.pos)
        end = len(self.data) if idx < 0 else idx + 1
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk


class ShellApi(Protocol):
    """The part of `shell.Shell` a command uses."""

    ctx: Context
    name: str
    env: dict[str, str]
    cwd: str
    status: int

    @property
    def fs(self) -> FakeFS: ...

    def child(self, name: str | None = None) -> ShellApi: ...

    def path(self, p: str) -> str: ...

    def resolves(self, name: str) -> bool: ...

    def command_names(self) -> list[str]: ...

    async def run_argv(self, argv: list[str], io: IO) -> int: ...

    async def run_script(self, text: str, io: IO) -> int: ...

    async def interactive(self, io: IO) -> int: ...


CommandFn = Callable[[ShellApi, list[str], IO], Awaitable[int]]


def registrar(table: dict[str, CommandFn]) -> Callable[..., Callable[[CommandFn], CommandFn]]:
    """A `@command("name", ...)` decorator that files commands into `table`."""

    def command(*names: str) -> Callable[[CommandFn], CommandFn]:
        def register(fn: CommandFn) -> CommandFn:
            for n in names:
                table[n] = fn
            return fn

        return register

    return command
