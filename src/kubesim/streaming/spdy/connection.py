"""A SPDY/3.1 session on asyncio over any byte pipe (raw upgraded HTTP, or WebSocket tunnel).

The pipe pushes bytes in with `feed()`/`feed_eof()` and takes bytes out through `write()`;
everything protocol-shaped is decided by `session.Session`. One lock serializes the
output, so frames leave in the order the session queued them. Incoming data waits in
per-stream queues; above `max_buffered` bytes the pipe is paused until readers catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from .events import (
    DataReceived,
    Event,
    GoAwayReceived,
    StreamOpened,
    StreamReplied,
    StreamReset,
)
from .frames import GoAwayStatus, RstStatus
from .headers import Headers, header_value
from .session import (
    Role,
    Session,
    SessionError,
    StreamClosedError,
)

log = logging.getLogger("kubesim.streaming.spdy")

MAX_BUFFERED = 4 * 1024 * 1024


class Pipe(Protocol):
    async def write(self, data: bytes) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    async def close(self) -> None: ...


class SpdyStream:
    def __init__(self, conn: SpdyConnection, stream_id: int, headers: Headers) -> None:
        self.conn = conn
        self.stream_id = stream_id
        self.headers = headers
        self._chunks: deque[bytes] = deque()
        self._eof = False
        self.was_reset = False
        self._readable = asyncio.Event()
        self.replied: asyncio.Future[Headers] = asyncio.get_running_loop().create_future()

    def header(self, name: str) -> str:
        return header_value(self.headers, name)

    # --- fed by the connection -------------------------------------------------------------

    def _push(self, data: bytes, fin: bool) -> None:
        if data:
            self._chunks.append(data)
        if fin:
            self._eof = True
        self._readable.set()

    def _end(self, *, reset: bool) -> None:
        if not self.replied.done():
            self.replied.set_exception(StreamClosedError(f"stream {self.stream_id} was refused"))
            self.replied.exception()  # retrieved: nobody may be waiting
        self.was_reset = self.was_reset or reset
        self._eof = True
        self._readable.set()

    # --- API -------------------------------------------------------------------------------

    async def read(self) -> bytes:
        """The next chunk the peer sent; b"" once it half-closed, reset, or left."""
        while not self._chunks:
            if self._eof:
                return b""
            self._readable.clear()
            await self._readable.wait()
        chunk = self._chunks.popleft()
        self.conn._consumed(self.stream_id, len(chunk))
        return chunk

    async def read_all(self, limit: int = 1024 * 1024) -> bytes:
        out = bytearray()
        while chunk := await self.read():
            out += chunk
            if len(out) > limit:
                raise ValueError(f"stream {self.stream_id} sent more than {limit} bytes")
        return bytes(out)

    async def reply(self) -> None:
        await self.conn._act(lambda s: s.reply(self.stream_id))

    async def write(self, data: bytes) -> None:
        """Raises StreamClosedError when the stream is reset or closed (a broken pipe)."""
        if data:
            await self.conn._act(lambda s: s.send_data(self.stream_id, data))

    async def close(self) -> None:
        """Half-close: the peer reads EOF; we may still read."""
        await self.conn._act(lambda s: s.close_stream(self.stream_id), quiet=True)

    async def reset(self, status: int = RstStatus.CANCEL) -> None:
        self._end(reset=True)
        await self.conn._act(lambda s: s.reset_stream(self.stream_id, status), quiet=True)


class SpdyConnection:
    def __init__(
        self, pipe: Pipe, *, role: Role = Role.SERVER, max_buffered: int = MAX_BUFFERED
    ) -> None:
        self.pipe = pipe
        self.session = Session(role)
        self._streams: dict[int, SpdyStream] = {}
        self._accepted: asyncio.Queue[SpdyStream | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._buffered = 0
        self._max_buffered = max_buffered
        self._paused = False
        self.closed = asyncio.Event()
        self.error: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- input from the pipe (synchronous: called from data_received) -----------------------

    def feed(self, data: bytes) -> None:
        if self.closed.is_set():
            return
        try:
            events = self.session.receive(data)
        except SessionError as exc:
            log.info("spdy: closing the connection: %s", exc)
            self.error = str(exc)
            self._spawn(self._flush_and_close())
            return
        for event in events:
            self._dispatch(event)
        self._forget_finished()
        if self.session.has_output:
            self._spawn(self._flush())

    def feed_eof(self) -> None:
        self._shutdown()

    def _dispatch(self, event: Event) -> None:
        match event:
            case StreamOpened(stream_id, headers, fin):
                stream = SpdyStream(self, stream_id, headers)
                if fin:
                    stream._end(reset=False)
                self._streams[stream_id] = stream
                self._accepted.put_nowait(stream)
            case DataReceived(stream_id, data, fin):
                stream_or_none = self._streams.get(stream_id)
                if stream_or_none is not None:
                    stream_or_none._push(data, fin)
                    self._buffered += len(data)
                    if self._buffered > self._max_buffered and not self._paused:
                        self._paused = True
                        self.pipe.pause_reading()
            case StreamReset(stream_id):
                stream_or_none = self._streams.pop(stream_id, None)
                if stream_or_none is not None:
                    stream_or_none._end(reset=True)
            case GoAwayReceived():
                self._accepted.put_nowait(None)
            case StreamReplied(stream_id, headers):
                stream_or_none = self._streams.get(stream_id)
                if stream_or_none is not None and not stream_or_none.replied.done():
                    stream_or_none.replied.set_result(headers)
            case _:
                pass

    def _forget_finished(self) -> None:
        # Streams the session closed both ways get no more events; their readers keep
        # what is queued.
        for stream_id in [i for i in self._streams if i not in self.session.streams]:
            del self._streams[stream_id]

    def _consumed(self, stream_id: int, n: int) -> None:
        self._buffered -= n
        self.session.acknowledge(stream_id, n)
        if self._paused and self._buffered <= self._max_buffered // 2:
            self._paused = False
            self.pipe.resume_reading()

    # --- output ----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        async with self._lock:
            data = self.session.data_to_send()
            if data and not self.closed.is_set():
                try:
                    await self.pipe.write(data)
                except (ConnectionError, RuntimeError) as exc:
                    log.info("spdy: writing failed: %s", exc)
                    self._shutdown()

    async def _act(self, action: Callable[[Session], None], *, quiet: bool = False) -> None:
        if self.closed.is_set():
            if quiet:
                return
            raise StreamClosedError("the connection is closed")
        try:
            action(self.session)
        except StreamClosedError:
            if not quiet:
                raise
        self._forget_finished()
        await self._flush()
        if self.closed.is_set() and not quiet:
            raise StreamClosedError("the connection is closed")

    # --- API -------------------------------------------------------------------------------

    async def accept(self, within: float | None = None) -> SpdyStream | None:
        """The next stream the peer opens; None when the connection ends or times out."""
        if self.closed.is_set() and self._accepted.empty():
            return None
        try:
            return await asyncio.wait_for(self._accepted.get(), within)
        except TimeoutError:
            return None

    async def open(self, headers: Headers, within: float = 30.0) -> SpdyStream:
        """Open a stream (client role) and wait for its SYN_REPLY, like spdystream's
        CreateStream + WaitTimeout; raises StreamClosedError when refused or reset."""
        holder: list[SpdyStream] = []

        def action(session: Session) -> None:
            # Registered before any await: the reply may arrive while we flush.
            stream = SpdyStream(self, session.open_stream(headers), headers)
            self._streams[stream.stream_id] = stream
            holder.append(stream)

        await self._act(action)
        stream = holder[0]
        try:
            await asyncio.wait_for(asyncio.shield(stream.replied), within)
        except TimeoutError:
            raise StreamClosedError(
                f"no reply for stream {stream.stream_id} in {within}s"
            ) from None
        return stream

    async def close(self, status: int = GoAwayStatus.OK) -> None:
        """GOAWAY, then the pipe is closed (every stream reads EOF)."""
        if self.closed.is_set():
            return
        self.session.go_away(status)
        await self._flush()
        await self._close_pipe()

    async def _flush_and_close(self) -> None:
        await self._flush()
        await self._close_pipe()

    async def _close_pipe(self) -> None:
        self._shutdown()
        with contextlib.suppress(Exception):
            await self.pipe.close()

    def _shutdown(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for stream in self._streams.values():
            stream._end(reset=False)
        self._streams.clear()
        self._accepted.put_nowait(None)
        if self._paused:
            self._paused = False
            with contextlib.suppress(Exception):
                self.pipe.resume_reading()
