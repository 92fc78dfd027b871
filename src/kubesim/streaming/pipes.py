"""In-memory byte streams for simulated processes: pipes, a terminal, and a line discipline.

Bounded buffers give back-pressure the way a kernel pipe does: a fast writer waits for a
slow reader, so a simulated `yes` cannot grow memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

WriteFn = Callable[[bytes], Awaitable[None]]


class BrokenPipe(Exception):
    """The reading end is gone (like EPIPE): the writer should stop."""


class Interrupted(Exception):
    """Ctrl-C reached a reader waiting at a terminal."""


class Reader(Protocol):
    async def read(self, n: int = -1) -> bytes: ...

    async def readline(self) -> bytes: ...


class Writer(Protocol):
    async def write(self, data: bytes) -> None: ...


class _Waitable:
    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def _wait(self) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        await fut


class Pipe(_Waitable):
    """One writer, one reader; EOF once the writer closes."""

    def __init__(self, limit: int = 256 * 1024) -> None:
        super().__init__()
        self._buf = bytearray()
        self._eof = False
        self._reader_closed = False
        self.limit = limit

    async def write(self, data: bytes) -> None:
        if self._reader_closed:
            raise BrokenPipe()
        if self._eof:
            raise BrokenPipe()
        view = memoryview(data)
        while view:
            while len(self._buf) >= self.limit and not self._reader_closed:
                await self._wait()
            if self._reader_closed:
                raise BrokenPipe()
            room = self.limit - len(self._buf)
            self._buf += view[:room]
            view = view[room:]
            self._wake()

    def close(self) -> None:
        """The writer is done: readers see EOF after the buffered bytes."""
        self._eof = True
        self._wake()

    def close_reader(self) -> None:
        """The reader is gone: writers get BrokenPipe."""
        self._reader_closed = True
        self._buf.clear()
        self._wake()

    @property
    def closed(self) -> bool:
        return self._eof

    async def read(self, n: int = -1) -> bytes:
        while not self._buf and not self._eof:
            await self._wait()
        if n < 0:
            n = len(self._buf)
        data = bytes(self._buf[:n])
        del self._buf[:n]
        self._wake()
        return data

    async def readline(self) -> bytes:
        while True:
            idx = self._buf.find(b"\n")
            if idx >= 0:
                return await self.read(idx + 1)
            if self._eof:
                return await self.read()
            await self._wait()


_EOF = object()
_INTR = object()


class TtyInput(_Waitable):
    """What a program reads from a terminal: cooked lines, one-shot EOF (Ctrl-D), Ctrl-C."""

    def __init__(self) -> None:
        super().__init__()
        self._items: deque[bytes | object] = deque()
        self._hangup = False

    def put(self, data: bytes) -> None:
        self._items.append(data)
        self._wake()

    def eof(self) -> None:
        self._items.append(_EOF)
        self._wake()

    def interrupt(self) -> None:
        self._items.append(_INTR)
        self._wake()

    def hangup(self) -> None:
        """The terminal is gone for good: every read returns EOF."""
        self._hangup = True
        self._wake()

    async def _next(self) -> bytes | object:
        while not self._items:
            if self._hangup:
                return _EOF
            await self._wait()
        return self._items[0]

    async def read(self, n: int = -1) -> bytes:
        item = await self._next()
        if item is _EOF:
            if self._items:
                self._items.popleft()
            return b""
        if item is _INTR:
            self._items.popleft()
            raise Interrupted()
        assert isinstance(item, bytes)
        if n < 0 or n >= len(item):
            self._items.popleft()
            return item
        self._items[0] = item[n:]
        return item[:n]

    async def readline(self) -> bytes:
        # Cooked mode delivers whole lines already (or a partial line at Ctrl-D).
        return await self.read()


class NullWriter:
    async def write(self, data: bytes) -> None:
        return None


@dataclass
class BufferWriter:
    """Collects output (tests, command substitution)."""

    data: bytearray = field(default_factory=bytearray)
    limit: int = 16 * 1024 * 1024

    async def write(self, data: bytes) -> None:
        if len(self.data) + len(data) > self.limit:
            raise BrokenPipe()
        self.data += data


@dataclass
class FnWriter:
    fn: WriteFn

    async def write(self, data: bytes) -> None:
        if data:
            await self.fn(data)


@dataclass
class TtyWriter:
    """Output through a terminal: ONLCR turns "\\n" into "\\r\\n"."""

    inner: Writer

    async def write(self, data: bytes) -> None:
        await self.inner.write(data.replace(b"\n", b"\r\n"))


class EmptyReader:
    async def read(self, n: int = -1) -> bytes:
        return b""

    async def readline(self) -> bytes:
        return b""


# --- line discipline -------------------------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    data: bytes


@dataclass(frozen=True)
class Line:
    data: bytes  # with the trailing "\n", or without it for a Ctrl-D flush


@dataclass(frozen=True)
class Interrupt:
    pass


@dataclass(frozen=True)
class EndOfFile:
    pass


TtyEvent = Echo | Line | Interrupt | EndOfFile


@dataclass
class LineDiscipline:
    """A cooked-mode terminal (ICANON, ECHO, ICRNL, ISIG), sans-IO: bytes in, events out.

    One convenience a real tty lacks (bash's readline provides it): Up/Down recall the lines
    entered before, so the simulated shell feels usable in a browser terminal. Other escape
    sequences (Left/Right, Home, F-keys) are swallowed.
    """

    _line: bytearray = field(default_factory=bytearray)
    _esc: str = ""  # "" | "esc" | "csi" | "ss3": inside an escape sequence (arrow keys...)
    _history: list[bytes] = field(default_factory=list)
    _recall: int = 0  # index into _history while browsing with Up/Down
    max_line: int = 4096
    max_history: int = 200

    def feed(self, data: bytes) -> list[TtyEvent]:
        events: list[TtyEvent] = []
        for byte in data:
            events.extend(self._byte(byte))
        # Merge adjacent echoes: one write per burst of typing.
        merged: list[TtyEvent] = []
        for ev in events:
            if isinstance(ev, Echo) and merged and isinstance(merged[-1], Echo):
                merged[-1] = Echo(merged[-1].data + ev.data)
            else:
                merged.append(ev)
        return merged

    def _browse(self, step: int) -> list[TtyEvent]:
        target = self._recall + step
        if not 0 <= target <= len(self._history):
            return []
        self._recall = target
        erase = b"\b \b" * len(self._line.decode("utf-8", errors="replace"))
        self._line = bytearray(self._history[target] if target < len(self._history) else b"")
        return [Echo(erase + bytes(self._line))]

    def _byte(self, b: int) -> list[TtyEvent]:
        if self._esc == "esc":
            self._esc = "csi" if b == 0x5B else ("ss3" if b == 0x4F else "")
            return []
        if self._esc == "csi":
            if 0x40 <= b <= 0x7E:
                self._esc = ""
                if b in (0x41, 0x42):  # ESC [ A / ESC [ B: Up / Down
                    return self._browse(-1 if b == 0x41 else 1)
            return []
        if self._esc == "ss3":
            self._esc = ""
            if b in (0x41, 0x42):  # ESC O A / ESC O B (application cursor mode)
                return self._browse(-1 if b == 0x41 else 1)
            return []
        if b == 0x1B:
            self._esc = "esc"
            return []
        if b in (0x0D, 0x0A):  # Enter (ICRNL)
            line = bytes(self._line) + b"\n"
            if self._line.strip() and (not self._history or self._history[-1] != self._line):
                self._history = [*self._history, bytes(self._line)][-self.max_history :]
            self._recall = len(self._history)
            self._line.clear()
            return [Echo(b"\r\n"), Line(line)]
        if b == 0x03:  # Ctrl-C
            self._line.clear()
            return [Echo(b"^C\r\n"), Interrupt()]
        if b == 0x04:  # Ctrl-D: EOF on an empty line, else flush the line without newline
            if not self._line:
                return [EndOfFile()]
            line = bytes(self._line)
            self._line.clear()
            return [Line(line)]
        if b in (0x7F, 0x08):  # Backspace / DEL: remove one UTF-8 character
            if not self._line:
                return []
            while self._line and (self._line[-1] & 0xC0) == 0x80:
                self._line.pop()
            if self._line:
                self._line.pop()
            return [Echo(b"\b \b")]
        if b == 0x15:  # Ctrl-U: kill the line
            n = len(self._line.decode("utf-8", errors="replace"))
            self._line.clear()
            return [Echo(b"\b \b" * n)] if n else []
        if b < 0x20 and b != 0x09:
            return []  # other control keys do nothing here
        if len(self._line) >= self.max_line:
            return []
        self._line.append(b)
        return [Echo(bytes([b]))]
