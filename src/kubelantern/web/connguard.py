"""The edge of the listener: which client connections are served, and for how long they
may keep a descriptor without asking for anything (issue 10, defect 4).

- A connection that has not sent complete request headers within `header_timeout` seconds
  (from its start, or from the first byte of a later request on a kept-alive connection)
  gets a 408 and is closed: slowloris clients trickling headers byte by byte hold nothing
  for long. aiohttp has no such timer; its keep-alive timer (`keepalive_timeout`, passed
  to the runner) closes connections idle between requests.
- At most `max_connections` client connections are served at once; one more gets an
  immediate 503 with a JSON `Status` naming the limit. The default cap is sized from the
  open-file limit (filelimits.py) so that accept() keeps clear of EMFILE, which asyncio
  would log once a second for as long as it lasts.
- Both answers (408, 503) are followed by a short linger in which the client's bytes are
  ignored, so that it reads the answer rather than a reset.

`GuardedSite` is aiohttp's `TCPSite` with the guard as its protocol factory: each accepted
socket gets a `GuardedHandler` (web/runner.py's handler with the header timer and the
book-keeping) or a `_Drain` (the 503). Upgraded connections (WebSocket, SPDY tunnels) stay
counted until they close: the splice hands `connection_lost` back to the handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

from aiohttp import web

from kubelantern.filelimits import ACCEPT_BATCH
from kubelantern.settings import Settings
from kubelantern.status import status_body
from kubelantern.web import keys
from kubelantern.web.runner import GenericErrorHandler, make_runner

log = logging.getLogger("kubelantern.connections")

LINGER = 1.0  # seconds a refused connection is read (and ignored) before it is closed
# A timed-out connection already holds its descriptor inside the cap (it stays counted until
# it closes), so it lingers outside the refusals' budget and for longer: closing on a client
# still trickling resets the connection, and the reset can destroy the 408 unread.
TIMED_OUT_LINGER = 5.0
MAX_LINGERING = 256  # refused connections lingering at once (at most a quarter of the cap)
WARN_EVERY = 10.0  # seconds between warnings about refused or timed-out connections


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    max_connections: int


def _raw_response(code: int, phrase: str, message: str, extra: str = "") -> bytes:
    body = json.dumps(status_body(code, message)).encode()
    head = (
        f"HTTP/1.1 {code} {phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nX-Kubelantern-Error: 1\r\n"
        f"{extra}\r\n"
    )
    return head.encode() + body


class ConnectionGuard:
    """The protocol factory of kubelantern's listeners, and the books of what it let in."""

    def __init__(self, server: web.Server, limits: ConnectionLimits) -> None:
        self.server = server
        self.limits = limits
        self.open: set[GuardedHandler] = set()
        # Made by the factory, not yet connected: asyncio calls the factory for a whole batch
        # of accepted sockets before any connection_made, and TLS ones only connect after
        # their handshake (or never, when it fails: hence the time, to forget them).
        self.pending: dict[GuardedHandler, float] = {}
        self.lingering = 0
        # Lingering refusals hold descriptors too: keep them well inside the cap's reserve.
        self.max_lingering = max(4, min(MAX_LINGERING, limits.max_connections // 4))
        self.refused = 0
        self.timed_out = 0
        self.loop = asyncio.get_running_loop()
        self._warned_at = float("-inf")
        self._warned_counts = (0, 0)
        self._summary: asyncio.TimerHandle | None = None
        self._busy = _raw_response(
            503,
            "Service Unavailable",
            f"kubelantern is serving its maximum of {limits.max_connections} client "
            "connections (--max-connections); close idle tabs or clients, or raise the limit",
            "Retry-After: 5\r\n",
        )
        self.timeout_answer = _raw_response(
            408,
            "Request Timeout",
            f"request headers not complete within {limits.header_timeout:g} s "
            "(--header-timeout); connection closed",
        )

    def __call__(self) -> asyncio.Protocol:
        if self.count() >= self.limits.max_connections:
            self._forget_stale()
        if self.count() >= self.limits.max_connections:
            self.refused += 1
            self.note()
            return _Drain(self)
        # What the runner's Server.__call__ builds, with the guard's additions.
        kwargs: dict[str, Any] = dict(getattr(self.server, "_kwargs", {}))
        handler = GuardedHandler(self.server, guard=self, loop=self.loop, **kwargs)
        self.pending[handler] = self.loop.time()
        return handler

    def count(self) -> int:
        """Client connections served now (connected or on their way)."""
        return len(self.open) + len(self.pending)

    def _forget_stale(self) -> None:
        """Forget pending connections older than a TLS handshake may take."""
        oldest = self.loop.time() - self.limits.header_timeout - 1.0
        for handler in [h for h, made in self.pending.items() if made < oldest]:
            del self.pending[handler]

    def note(self) -> None:
        """One warning per WARN_EVERY seconds at most, with the counts since the last (the
        counts of a quiet spell are told when it ends)."""
        now = time.monotonic()
        if now - self._warned_at < WARN_EVERY:
            if self._summary is None:
                wait = WARN_EVERY - (now - self._warned_at)
                self._summary = self.loop.call_later(wait, self._summarize)
            return
        refused = self.refused - self._warned_counts[0]
        timed_out = self.timed_out - self._warned_counts[1]
        self._warned_at, self._warned_counts = now, (self.refused, self.timed_out)
        if refused:
            log.warning(
                "refused %d client connection(s): %d open, the maximum (--max-connections)",
                refused,
                self.count(),
            )
        if timed_out:
            log.warning(
                "closed %d client connection(s) whose request headers took longer than "
                "%g s (--header-timeout)",
                timed_out,
                self.limits.header_timeout,
            )

    def _summarize(self) -> None:
        self._summary = None
        self.note()

    def refused_answer(self) -> bytes:
        return self._busy


class _Drain(asyncio.Protocol):
    """The end of a connection kubelantern answered without serving (503 over the cap, 408
    on slow headers): what the client still sends is read and ignored until it closes or
    LINGER passes, since closing with unread data would reset the connection and could
    destroy the answer before the client read it. `handler`: the aiohttp protocol the
    connection had, told of the end (its books, the guard's count)."""

    def __init__(self, guard: ConnectionGuard, handler: GuardedHandler | None = None) -> None:
        self.guard = guard
        self.handler = handler
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self.guard.refused_answer())
        self.linger(transport, budgeted=True, seconds=LINGER)

    def linger(self, transport: asyncio.WriteTransport, *, budgeted: bool, seconds: float) -> None:
        """`budgeted`: the connection is beyond the cap, so it lingers only while the
        refusals' budget lasts (a flood must not take every descriptor)."""
        guard = self.guard
        if budgeted and guard.lingering >= guard.max_lingering:
            transport.close()
            return
        if transport.can_write_eof():
            transport.write_eof()  # the answer is complete: the client may read it now
        if budgeted:
            guard.lingering += 1
            self.counted = True
        self.timer = guard.loop.call_later(seconds, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the client is done: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.guard.lingering -= 1
            self.counted = False
        if self.handler is not None:
            self.handler.connection_lost(exc)


class GuardedHandler(GenericErrorHandler):
    """kubelantern's per-connection protocol (aiohttp's, with bare parser-error answers:
    web/runner.py) with a request-header deadline and the guard's
    count of open connections. Leans on `_request_count` (messages parsed so far),
    `_waiter` (pending while waiting for the next request) and `_upgraded`: aiohttp's own
    names since 3.8; tests/integration/test_connection_limits.py fails if they change."""

    def __init__(self, manager: web.Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._header_timer: asyncio.TimerHandle | None = None
        self._armed_count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._guard.pending.pop(self, None)
        self._guard.open.add(self)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._awaiting_request():
            # The first bytes of a later request on a kept-alive connection. Usually they
            # hold the whole head: the deadline is armed only when they do not (a timer
            # armed and cancelled per request cost each one a heap entry).
            count = self._request_count
            super().data_received(data)
            if self._request_count == count and self._awaiting_request():
                self._arm()
            return
        super().data_received(data)
        if self._header_timer is not None and self._request_count != self._armed_count:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._guard.pending.pop(self, None)
        self._guard.open.discard(self)
        super().connection_lost(exc)

    def _awaiting_request(self) -> bool:
        waiter = self._waiter
        return waiter is not None and not waiter.done() and not self._upgraded

    def _arm(self) -> None:
        self._armed_count = self._request_count
        self._header_timer = self._loop.call_later(
            self._guard.limits.header_timeout, self._headers_late
        )

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._request_count != self._armed_count or self._upgraded:
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._guard.timed_out += 1
        self._guard.note()
        transport.write(self._guard.timeout_answer)
        drain = _Drain(self._guard, self)  # from now on the client's bytes are ignored
        transport.set_protocol(drain)
        drain.linger(transport, budgeted=False, seconds=TIMED_OUT_LINGER)


class GuardedSite(web.TCPSite):
    """`web.TCPSite` whose accepted connections go through a `ConnectionGuard`."""

    __slots__ = ("_guard",)

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        *,
        ssl_context: SSLContext | None = None,
    ) -> None:
        super().__init__(
            runner,
            host,
            port,
            ssl_context=ssl_context,
            reuse_address=True,
            backlog=ACCEPT_BATCH,  # also the most accepted in one go (filelimits)
        )
        self._guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            # A TLS handshake is part of sending the request headers.
            ssl_handshake_timeout=(
                self._guard.limits.header_timeout if self._ssl_context is not None else None
            ),
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def guard_for(runner: web.BaseRunner, limits: ConnectionLimits) -> ConnectionGuard:
    """The guard of `runner`'s server (after `runner.setup()`), shared by its sites."""
    server = runner.server
    if server is None:
        raise RuntimeError("runner.setup() first")
    return ConnectionGuard(server, limits)


def guarded_sites(
    runner: web.BaseRunner, settings: Settings
) -> Callable[[str, int, SSLContext | None], GuardedSite]:
    """`make_site(host, port, ssl_context)` for `runner`'s listeners (after its setup()):
    one guard, so the cap counts the connections of every listener together."""
    assert settings.max_connections is not None, "sized at serve start (filelimits)"
    guard = guard_for(runner, ConnectionLimits(settings.header_timeout, settings.max_connections))
    app = getattr(runner, "app", None)
    if app is not None and keys.METRICS in app:
        app[keys.METRICS].connection_stats = lambda: (guard.count(), guard.refused, guard.timed_out)

    def make_site(host: str, port: int, ssl_context: SSLContext | None) -> GuardedSite:
        return GuardedSite(runner, host, port, guard, ssl_context=ssl_context)

    return make_site


def runner_for(app: web.Application, settings: Settings) -> web.AppRunner:
    """The runner `serve` uses (web/runner.py's), idle keep-alive connections closed after
    `settings.keepalive_timeout` (aiohttp's timer)."""
    return make_runner(
        app,
        handle_signals=False,
        access_log=None,
        shutdown_timeout=5.0,
        keepalive_timeout=settings.keepalive_timeout,
    )
