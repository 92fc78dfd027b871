"""Exec/attach sessions that outlive their client's connection, and that can be recorded.

A session is one upstream exec/attach WebSocket (message mode) and, at any moment, zero or
one client WebSocket attached to it. Its output always goes through a small queue:

- attached: a writer task sends the queue to the client in order; the upstream pump waits
  while more than `HIGH_WATER` bytes are queued, so a slow client still throttles the
  upstream through TCP (as the plain relay does);
- detached (the client dropped without a close frame, or closed with 1001/1006): the
  upstream is kept for `--session-grace` seconds and its output queued up to
  `MAX_BUFFER` bytes; beyond that the oldest messages go and the count of their bytes is
  kept. A reattach gets, in this order: a stdout line saying how many bytes were lost
  (`execsession.LOST_NOTICE`, only if some were), the queued output, then live output.

A client close with 1000 (any code but 1001), the process ending, or the grace period
running out ends the session. The process ending while detached keeps the session (and
its last output and exit status) until the grace period ends, so a reattach still learns
how it ended.

Sessions without a `kubelantern.session.<id>` entry (kubectl, or any client when
`--record-sessions` is on) take the same path without the reattach part: a drop ends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from kubelantern.observe.metrics import Metrics
from kubelantern.observe.recordings import Recording
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy.execsession import (
    ERROR,
    RESIZE,
    STDERR,
    STDIN,
    STDOUT,
    decode_frame,
    exit_code,
    lost_notice,
    terminal_size,
)
from kubelantern.proxy.ws.dial import CLOSE_TIMEOUT

log = logging.getLogger(__name__)

MAX_BUFFER = 1 << 20  # bytes of output kept for a detached client; the oldest go first
HIGH_WATER = 256 * 1024  # attached: the upstream waits while this much is queued
_KEEP_ON = frozenset({WSCloseCode.GOING_AWAY, 1006})  # a client close that keeps the session

SessionKey = tuple[str, str, str]  # (cluster, API path and query, session id)
Message = bytes | str


def _size(message: Message) -> int:
    return len(message)


@dataclass(eq=False)
class ExecSession:
    cluster: str
    upstream: aiohttp.ClientWebSocketResponse
    protocol: str | None  # what the upstream chose; every attachment's 101 says the same
    owner: str
    key: SessionKey | None  # None: no reattach (no session entry offered)
    grace: float
    registry: SessionRegistry
    recording: Recording | None = None
    client: web.WebSocketResponse | None = None
    queue: deque[Message] = field(default_factory=deque)
    queued: int = 0
    dropped: int = 0  # output bytes dropped while detached, not yet reported
    hold: float = 0.0  # seconds before the first attachment gets output (handover.py)
    ended: tuple[int, bytes] | None = None  # the upstream's close, once it came
    abandoned: bool = False  # nobody will receive the end: finish as soon as it comes
    exit: int | None = None
    _status: bytearray = field(default_factory=bytearray)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _drained: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _expiry: asyncio.TimerHandle | None = None
    _closing: set[asyncio.Task[object]] = field(default_factory=set)

    # -- the session's life (a background task) -------------------------------------------

    async def run(self, streams: ActiveStreams) -> None:
        try:
            async with streams.track(self.cluster, "websocket", self.going_away):
                await self._pump()
                self._wake.set()
                if self.client is None and (self.abandoned or self.key is None):
                    self.finished.set()
                await self.finished.wait()
        finally:
            self.finished.set()
            if self._expiry is not None:
                self._expiry.cancel()
            self.registry.forget(self)
            if self.recording is not None:
                if self.exit is not None:
                    self.recording.exit(self.exit)
                self.recording.close()

    async def _pump(self) -> None:
        """Upstream → queue, until the upstream closes."""
        while True:
            msg = await self.upstream.receive()
            if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                self._observe_output(msg.data)
                await self._push(msg.data)
                continue
            if msg.type is WSMsgType.CLOSE:
                code = msg.data if isinstance(msg.data, int) else WSCloseCode.OK
                self.ended = _sendable(code, msg.extra or "")
            elif msg.type is WSMsgType.ERROR:
                self.ended = (WSCloseCode.INTERNAL_ERROR, b"upstream connection error")
            else:  # CLOSING / CLOSED
                self.ended = _sendable(self.upstream.close_code, "")
            return

    async def _push(self, message: Message) -> None:
        self.queue.append(message)
        self.queued += _size(message)
        self._wake.set()
        if self.client is None:
            self._trim()
            return
        while self.queued > HIGH_WATER and self.client is not None and not self.abandoned:
            self._drained.clear()
            await self._drained.wait()
        if self.client is None:
            self._trim()

    def _trim(self) -> None:
        while self.queued > MAX_BUFFER and self.queue:
            old = self.queue.popleft()
            self.queued -= _size(old)
            frame = decode_frame(self.protocol, old)
            self.dropped += len(frame.data) if frame is not None else _size(old)

    # -- what passes through ----------------------------------------------------------------

    def _observe_output(self, data: Message) -> None:
        frame = decode_frame(self.protocol, data)
        if frame is None:
            return
        if frame.channel in (STDOUT, STDERR) and self.recording is not None:
            self.recording.output(frame.data)
        elif frame.channel == ERROR and len(self._status) < 64 * 1024:
            self._status += frame.data
            code = exit_code(bytes(self._status))
            if code is not None:
                self.exit = code

    def _observe_input(self, data: Message) -> None:
        if self.recording is None:
            return
        frame = decode_frame(self.protocol, data)
        if frame is None:
            return
        if frame.channel == STDIN:
            self.recording.input(frame.data)
        elif frame.channel == RESIZE and (size := terminal_size(frame.data)) is not None:
            self.recording.resize(*size)

    # -- one client attached ------------------------------------------------------------------

    async def attach(self, ws: web.WebSocketResponse) -> None:
        """Serve `ws` until it drops, closes or the session ends."""
        old = self.client
        if old is not None:
            # The same client came back before we noticed its old connection die.
            self._later(old.close(code=WSCloseCode.GOING_AWAY, message=b"session reattached"))
        self.client = ws
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        writer = asyncio.create_task(self._write(ws), name=f"session-out:{self.cluster}")
        reader = asyncio.create_task(self._read(ws), name=f"session-in:{self.cluster}")
        try:
            done, _ = await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, reader):
                if not task.done():
                    task.cancel()
            await asyncio.gather(writer, reader, return_exceptions=True)
        if self.client is not ws:
            return  # replaced by a newer attachment
        self.client = None
        self._drained.set()
        outcome = reader.result() if reader in done and not reader.cancelled() else None
        if writer in done and not writer.cancelled() and writer.result() == "ended":
            self.finished.set()
        elif outcome is not None and outcome[0] == "end":
            # The client ended it (1000 or any code but 1001): end the process too.
            self.abandoned = True
            await self._close_upstream(outcome[1], outcome[2])
            if self.ended is not None:
                # The process ended while this client was attached (`run` saw a client then
                # and waits): nobody else will say it is over.
                self.finished.set()
        else:
            self._detached()

    def _detached(self) -> None:
        if self.abandoned or self.key is None or self.grace <= 0:
            self.abandoned = True
            if self.ended is not None:
                self.finished.set()
            else:
                self._later(self._close_upstream(WSCloseCode.GOING_AWAY, b"client went away"))
            return
        self.registry.metrics.sessions_kept += 1
        self._trim()
        log.info("cluster=%s client dropped; session kept for %.0f s", self.cluster, self.grace)
        self._expiry = asyncio.get_running_loop().call_later(self.grace, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        if self.client is not None:
            return
        self.abandoned = True
        self._drained.set()
        if self.ended is not None:
            self.finished.set()
        else:
            log.info(
                "cluster=%s no reattach within %.0f s: session ended", self.cluster, self.grace
            )
            self._later(self._close_upstream(WSCloseCode.OK, b"no client reattached in time"))

    async def _write(self, ws: web.WebSocketResponse) -> str:
        try:
            if self.hold > 0:
                hold, self.hold = self.hold, 0.0
                await asyncio.sleep(hold)
            if self.dropped:
                await _send(ws, lost_notice(self.protocol, self.dropped))
                self.dropped = 0
            while True:
                if self.queue:
                    item = self.queue[0]
                    await _send(ws, item)
                    if self.client is not ws:
                        return "replaced"
                    self.queue.popleft()
                    self.queued -= _size(item)
                    if self.queued <= HIGH_WATER // 2:
                        self._drained.set()
                    continue
                if self.ended is not None:
                    code, reason = self.ended
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(CLOSE_TIMEOUT):
                            await ws.close(code=code, message=reason)
                    return "ended"
                self._wake.clear()
                await self._wake.wait()
        except (ConnectionError, RuntimeError):
            return "dropped"

    async def _read(self, ws: web.WebSocketResponse) -> tuple[str, int, bytes]:
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                self._observe_input(msg.data)
                if self.ended is None:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await _send(self.upstream, msg.data)
                continue
            if msg.type is WSMsgType.CLOSE:
                code = msg.data if isinstance(msg.data, int) else WSCloseCode.OK
                if code in _KEEP_ON:
                    return ("drop", code, b"")
                sent_code, reason = _sendable(code, msg.extra or "")
                return ("end", sent_code, reason)
            if msg.type is WSMsgType.ERROR:
                if getattr(msg.data, "code", None) == WSCloseCode.MESSAGE_TOO_BIG:
                    return ("end", WSCloseCode.MESSAGE_TOO_BIG, b"message too big")
            # ERROR, CLOSING, CLOSED: the connection is gone without a close frame.
            return ("drop", 1006, b"")

    # -- ending ------------------------------------------------------------------------------

    async def _close_upstream(self, code: int, reason: bytes) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.upstream.close(code=code, message=reason)

    def _later(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def going_away(self) -> None:
        """Shutdown: 1001 to both legs."""
        self.abandoned = True
        self._drained.set()
        message = b"kubelantern is shutting down"
        for ws in (self.client, self.upstream):
            if ws is not None and not ws.closed:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await ws.close(code=WSCloseCode.GOING_AWAY, message=message)
        if self.ended is not None or self.upstream.closed:
            self.finished.set()


async def _send(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse, message: Message
) -> None:
    if isinstance(message, str):
        await ws.send_str(message)
    else:
        await ws.send_bytes(message)


def _sendable(code: int | None, reason: str) -> tuple[int, bytes]:
    """A close code/reason we may send for what we received (1005/1006/1015 are report-only)."""
    if code is None or code == 1005:
        return WSCloseCode.OK, reason.encode()[:123]
    if code in (1006, 1015):
        return WSCloseCode.INTERNAL_ERROR, b"peer connection lost"
    return code, reason.encode()[:123]


class SessionRegistry:
    """The sessions that can be reattached to, by (cluster, exec URL, session id)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._sessions: dict[SessionKey, ExecSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._sessions)

    def find(self, key: SessionKey) -> ExecSession | None:
        found = self._sessions.get(key)
        if found is None or found.abandoned or found.finished.is_set():
            return None
        return found

    def start(self, session: ExecSession, streams: ActiveStreams) -> None:
        if session.key is not None:
            self._sessions[session.key] = session
        task = asyncio.create_task(session.run(streams), name=f"session:{session.cluster}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def forget(self, session: ExecSession) -> None:
        if session.key is not None and self._sessions.get(session.key) is session:
            del self._sessions[session.key]

    async def close(self) -> None:
        """At cleanup: end whatever is left (shutdown already said 1001 to the clients)."""
        for session in list(self._sessions.values()):
            await session.going_away()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
