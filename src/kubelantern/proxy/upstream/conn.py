"""One kept-alive HTTP/1.1 connection to a cluster, as an `asyncio.Protocol`, and the
response it is reading.

Bytes go straight from `data_received` into the sans-IO parser (`http1.py`) and its events
into the `LeanResponse`: no stream reader, no tasks, no per-chunk futures unless someone
waits. A streamed body (watch, logs -f) is handed out piece by piece as it arrives, or
`pump`ed into the client's connection from `data_received` itself; reading pauses while
more than `HIGH_WATER` bytes wait for a slow client (or while the client's is full).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable
from typing import Protocol

from multidict import CIMultiDict

from kubelantern.proxy.upstream.errors import BadResponse, ClosedByUs, ResponseBroken
from kubelantern.proxy.upstream.http1 import END, ProtocolError, ResponseHead, ResponseParser


class Owner(Protocol):
    """Where an idle connection goes back to (`pool.Pool`)."""

    def put(self, conn: Http1Connection) -> None: ...
    def forget(self, conn: Http1Connection) -> None: ...


HIGH_WATER = 256 * 1024  # buffered body bytes at which reading from the cluster pauses


class Http1Connection(asyncio.Protocol):
    """A connection carries one request at a time; `pool` takes it back when it is idle."""

    def __init__(self, pool: Owner) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.response: LeanResponse | None = None
        self.closed = False
        self.idle_since = 0.0
        self.uploading: asyncio.Task[None] | None = None  # a streamed request body
        self._drain: asyncio.Future[None] | None = None
        self._write_paused = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # bytes nobody asked for on an idle connection: not reusable
            self.close()
            return
        response.received = True
        try:
            events = response.parser.feed(data)
        except ProtocolError as e:
            response.fail(BadResponse(str(e)))
            self.close()
            return
        for event in events:
            if event is END:
                response.end()
            elif type(event) is ResponseHead:
                response.set_head(event)
            else:
                response.data(event)  # type: ignore[arg-type]

    def eof_received(self) -> bool:
        self.closed = True  # the cluster is done with it: never handed out again
        self._ended(None)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._ended(exc)
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(ConnectionResetError("connection lost"))
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- for the client --------------------------------------------------------------------

    def start(self, method: str, data: bytes, *, passthrough: bool = False) -> LeanResponse:
        """Send a request (its head, maybe its whole body); the response to wait on
        (`passthrough`: a chunked body comes with its framing, see `ResponseParser`)."""
        assert self.transport is not None and self.response is None
        parser = ResponseParser(method, passthrough=passthrough)
        response = self.response = LeanResponse(self, parser)
        self.transport.write(data)
        return response

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("connection to the cluster closed")
        if self._write_paused:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    def close(self) -> None:
        """Drop the connection now (nothing of it is reused)."""
        self.closed = True
        if self.uploading is not None:
            self.uploading.cancel()
            self.uploading = None
        if self.transport is not None:
            self.transport.abort()

    def finished(self, response: LeanResponse) -> None:
        """`response` was released: back to the pool if it ended cleanly, else closed."""
        if self.response is not response:
            return
        self.response = None
        parser = response.parser
        head = parser.head
        if (
            self.closed
            or not parser.done
            or parser.surplus
            or head is None
            or not head.keep_alive
            or head.status == 101
            or self.uploading is not None
        ):
            self.close()
        else:
            self.pool.put(self)

    def _ended(self, exc: Exception | None) -> None:
        response = self.response
        if response is None or response.parser.done:
            return
        try:
            events = response.parser.feed_eof()
        except ProtocolError as e:
            started = response.parser.head is not None or response.received
            detail = str(e) if exc is None else f"{e}: {exc}"
            response.fail(ResponseBroken(detail, clean_start=not started))
        else:
            for event in events:
                if event is END:
                    response.end()


class Sink(Protocol):
    """Where `LeanResponse.pump` writes the body: the client's connection."""

    def write(self, data: bytes) -> None: ...
    def full(self) -> bool: ...  # over its high-water mark (or closing): stop writing
    def drain(self) -> Awaitable[None]: ...  # until it takes more; raises when it is gone


class LeanResponse:
    """The answer to one request: head, then the body as it comes."""

    __slots__ = (
        "_chunks",
        "_exc",
        "_head_waiter",
        "_paused",
        "_sink",
        "_size",
        "_waiter",
        "_whole",
        "conn",
        "content_length",
        "eof",
        "headers",
        "parser",
        "reason",
        "received",
        "status",
    )

    def __init__(self, conn: Http1Connection, parser: ResponseParser) -> None:
        self.conn = conn
        self.parser = parser
        self.status = 0
        self.reason = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.content_length: int | None = None
        self.eof = False
        self.received = False  # any byte of the response arrived
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._head_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._whole = False  # read() wants it all: never pause
        self._sink: Sink | None = None  # pump(): body pieces go straight there

    # -- fed by the connection -------------------------------------------------------------

    def set_head(self, head: ResponseHead) -> None:
        self.received = True
        self.status, self.reason, self.headers = head.status, head.reason, head.headers
        self.content_length = head.content_length
        self._wake_head()

    def data(self, data: bytes) -> None:
        sink = self._sink
        if sink is not None:  # pump(): to the client now, no task switch
            sink.write(data)
            if sink.full():  # the client is slow: stop reading until it drained
                self._sink = None
                self._pause()
                self._wake()
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size > HIGH_WATER and not self._whole:
            self._pause()
        self._wake()

    def _pause(self) -> None:
        transport = self.conn.transport
        if transport is not None and not self._paused:
            self._paused = True
            transport.pause_reading()

    def end(self) -> None:
        self.eof = True
        self._wake()
        if self._paused:  # keep the connection readable for the pool
            self._resume()

    def fail(self, exc: BaseException) -> None:
        if self._exc is None and not self.eof:
            self._exc = exc
        self._wake_head()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _wake_head(self) -> None:
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resume(self) -> None:
        self._paused = False
        transport = self.conn.transport
        if transport is not None and not self.conn.closed:
            transport.resume_reading()

    # -- for the proxy ---------------------------------------------------------------------

    async def wait_head(self) -> None:
        """Until the head arrived; raises the connection's failure."""
        if not self.status and self._exc is None:
            self._head_waiter = asyncio.get_running_loop().create_future()
            await self._head_waiter
        if not self.status:
            assert self._exc is not None
            raise self._exc

    def body_complete(self) -> bool:
        return self.eof

    @property
    def chunked_raw(self) -> bool:
        """The body pieces are chunked framing, passed through (`ResponseParser`)."""
        return self.parser.chunked_raw

    def clean_end(self) -> bytes | None:
        return self.parser.clean_end()

    async def read(self) -> bytes:
        """The whole body (the caller bounds its size by the Content-Length)."""
        self._whole = True
        if self._paused:
            self._resume()
        while not self.eof:
            if self._exc is not None:
                raise self._exc
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks.popleft()
        data = b"".join(chunks)
        chunks.clear()
        return data

    def chunks(self) -> LeanResponse:
        return self

    def __aiter__(self) -> LeanResponse:
        return self

    async def __anext__(self) -> bytes:
        """What has arrived since the last call (one watch event, one log line, as sent)."""
        chunks = self._chunks
        while not chunks:
            if self._exc is not None:
                raise self._exc
            if self.eof:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._size = 0
        if self._paused:
            self._resume()
        return data

    async def pump(self, sink: Sink) -> None:
        """The rest of the body to `sink`, written from `data_received` itself while the
        client takes it (no future, task switch or await per piece; each read's bytes go
        out at once: a watch event or log line is never held back). When the client's
        buffer is full, reading from the cluster pauses until it drained. Raises as
        `__anext__` does; returns at the body's end."""
        chunks = self._chunks
        loop = asyncio.get_running_loop()
        while True:
            if chunks:
                data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._size = 0
                sink.write(data)
            if self._exc is not None:
                raise self._exc
            if self.eof:
                return
            if sink.full():
                await sink.drain()
                continue
            if self._paused:
                self._resume()
            self._sink = sink
            self._waiter = loop.create_future()
            try:
                await self._waiter  # woken by the end, a failure, or a full client
            finally:
                self._sink = None

    def close(self) -> None:
        """Drop the upstream now; a read in progress raises ClosedByUs."""
        self.fail(ClosedByUs("closed"))
        self.conn.close()
        self.conn.finished(self)

    def release(self) -> None:
        """Done with it: the connection goes back to the pool if the body ended cleanly."""
        self.conn.finished(self)
