"""One simulated process attached to a client: stdin feeding, terminal handling, exit code.

Socket-free. The WebSocket session (`session.py`) feeds client bytes in and passes
`out`/`err` callbacks; tests drive it with buffers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .pipes import (
    Echo,
    EmptyReader,
    EndOfFile,
    FnWriter,
    Interrupt,
    Line,
    LineDiscipline,
    NullWriter,
    Pipe,
    Reader,
    TtyInput,
    TtyWriter,
    WriteFn,
    Writer,
)
from .protocol import TerminalSize
from .shell import IO, Context, ExitShell, Shell

Program = Callable[[IO], Awaitable[int]]


class Process:
    def __init__(
        self,
        ctx: Context,
        program: Program,
        *,
        stdin: bool,
        out: WriteFn | None,
        err: WriteFn | None,
    ) -> None:
        self.ctx = ctx
        self.tty = ctx.tty
        self.size = TerminalSize(80, 24)
        ctx.term_size = lambda: (self.size.width, self.size.height)
        self._program = program
        self._out = out
        self._interrupted = False
        self._discipline = LineDiscipline()
        self._tty_in: TtyInput | None = None
        self._pipe: Pipe | None = None
        reader: Reader
        if not stdin:
            reader = EmptyReader()
        elif self.tty:
            reader = self._tty_in = TtyInput()
        else:
            reader = self._pipe = Pipe()
        stdout: Writer = FnWriter(out) if out else NullWriter()
        stderr: Writer = FnWriter(err) if err else NullWriter()
        if self.tty:
            # One terminal: stderr lands on it too, through ONLCR.
            stdout = stderr = TtyWriter(stdout)
        self.io = IO(reader, stdout, stderr)

    async def feed(self, data: bytes) -> None:
        """Bytes the client typed or piped (channel 0)."""
        if self._pipe is not None:
            if not self._pipe.closed:
                await self._pipe.write(data)
            return
        if self._tty_in is None:
            return
        for event in self._discipline.feed(data):
            if isinstance(event, Echo):
                if self._out is not None:
                    await self._out(event.data)
            elif isinstance(event, Line):
                self._tty_in.put(event.data)
            elif isinstance(event, Interrupt):
                self.interrupt()
            elif isinstance(event, EndOfFile):
                self._tty_in.eof()

    def close_stdin(self) -> None:
        """EOF on stdin (v5 CLOSE of channel 0, or the client went away)."""
        if self._pipe is not None:
            self._pipe.close()
        if self._tty_in is not None:
            self._tty_in.hangup()

    def resize(self, size: TerminalSize) -> None:
        self.size = size

    def interrupt(self) -> None:
        """Ctrl-C: the innermost foreground job (or the prompt) gets it."""
        if self.ctx.interrupt_handlers:
            self.ctx.interrupt_handlers[-1]()

    async def run(self) -> int:
        main = asyncio.ensure_future(self._program(self.io))

        def interrupt_main() -> None:
            self._interrupted = True
            main.cancel()

        self.ctx.interrupt_handlers.append(interrupt_main)
        try:
            return await main
        except ExitShell as exc:
            return exc.code
        except asyncio.CancelledError:
            if self._interrupted and main.cancelled():
                return 130
            raise
        finally:
            self.ctx.interrupt_handlers.clear()


def shell_program(ctx: Context, argv: list[str]) -> Program:
    """`exec argv` in the container: argv[0] resolved by the runtime, not by a shell."""

    async def run(io: IO) -> int:
        return await Shell(ctx).run_argv(argv, io)

    return run
