"""The event loop `serve` runs on: asyncio's, with TLS read buffers sized by use.

Why: asyncio's SSLProtocol allocates a 256 KiB read buffer per TLS connection for its whole
life, so every idle proxied WebSocket (one TLS connection upstream) held ~242 KiB of RSS
(issue 12). Here the buffer starts at 4 KiB and grows fourfold while reads fill it (bulk
streams reach 256 KiB within three reads). A 4 KiB buffer is let go after each short read
(an idle connection holds none; making one again is cheap). A bigger one is kept while
reads go on and let go only once a second passed without any: letting it go on a short
read made a busy stream allocate (and zero) 4 + 16 + 64 + 256 KiB over and over, +20 % CPU
per GB on WebSocket exec with page faults (issue 12). The decision is `after_read`, pure;
the decrypted data path (SSLObject, the app protocol) is asyncio's own.

`KUBELANTERN_TLS_BUFFERS=asyncio` keeps asyncio's fixed buffers (for the benchmark's
before/after). This leans on two private asyncio names (`_make_ssl_transport`,
`SSLProtocol._ssl_buffer*`), stable since 3.11; tests/unit/test_eventloop.py would fail if
they changed.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import ssl
from asyncio import sslproto
from collections.abc import Mapping
from typing import Any

MIN_BUFFER = 4 * 1024
MAX_BUFFER = sslproto.SSLProtocol.max_size  # 256 KiB: asyncio's own, the ceiling
IDLE_AFTER = 1.0  # seconds without reads after which a big buffer is let go
ENV = "KUBELANTERN_TLS_BUFFERS"
_EMPTY = memoryview(bytearray())


def after_read(size: int, nbytes: int) -> tuple[int, bool]:
    """Pure: after a read of `nbytes` into a buffer of `size`, the size of the buffer for
    the next read and whether this one is kept for it (else it is let go now and the next
    read gets a fresh one of that size)."""
    if nbytes >= size and size < MAX_BUFFER:
        # Full: more is waiting. A bigger buffer next time (a fresh one: reusing would
        # need a copy-free resize bytearray does not have).
        return min(size * 4, MAX_BUFFER), False
    if size <= MIN_BUFFER:
        # Small: cheap to make again, and an idle connection then holds no buffer at all.
        return MIN_BUFFER, False
    # Big and in use: kept for the next read; the idle check lets it go (`release_idle`).
    return size, True


def release_idle(reads_at_last_check: int, reads_now: int) -> bool:
    """Pure: the idle check lets a kept buffer go when no read happened since the last."""
    return reads_at_last_check == reads_now


class LeanSSLProtocol(sslproto.SSLProtocol):
    """SSLProtocol whose encrypted-bytes read buffer grows on full reads and is let go when
    the connection is idle (`after_read`, `release_idle`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl_buffer = bytearray()
        self._ssl_buffer_view = _EMPTY
        self._next_size = MIN_BUFFER
        self._reads = 0
        self._idle_check: asyncio.TimerHandle | None = None

    def get_buffer(self, n: int) -> memoryview:
        if not len(self._ssl_buffer_view):
            self._ssl_buffer = bytearray(self._next_size)
            self._ssl_buffer_view = memoryview(self._ssl_buffer)
        return self._ssl_buffer_view

    def buffer_updated(self, nbytes: int) -> None:
        size = len(self._ssl_buffer_view)
        self._reads += 1
        super().buffer_updated(nbytes)  # copies the bytes into the SSL object's BIO
        self._next_size, keep = after_read(size, nbytes)
        if not keep:
            self._release()
        elif self._idle_check is None:
            # One timer per busy connection (not one per read): it looks again each
            # IDLE_AFTER seconds while reads go on, and stops once the buffer is let go.
            self._idle_check = self._loop.call_later(IDLE_AFTER, self._release_if_idle, self._reads)

    def _release_if_idle(self, reads: int) -> None:
        self._idle_check = None
        if not len(self._ssl_buffer_view):
            return
        if release_idle(reads, self._reads):
            self._next_size = MIN_BUFFER
            self._release()
        else:
            self._idle_check = self._loop.call_later(IDLE_AFTER, self._release_if_idle, self._reads)

    def _release(self) -> None:
        self._ssl_buffer = bytearray()
        self._ssl_buffer_view = _EMPTY

    # The peer certificate as a dict (~1.6 KiB of Python objects per connection) is made
    # when asked for, not kept from the handshake: nobody asks on a proxied connection.
    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        super()._on_handshake_complete(handshake_exc)
        self._extra.pop("peercert", None)

    def _get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peercert":
            sslobj = self._extra.get("ssl_object")
            if sslobj is not None:
                try:
                    return sslobj.getpeercert()
                except ValueError:  # the handshake did not finish
                    return default
        return super()._get_extra_info(name, default)


class LeanTLSEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, its TLS transports built on LeanSSLProtocol."""

    def _make_ssl_transport(
        self,
        rawsock: Any,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        waiter: asyncio.Future[Any] | None = None,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        extra: Mapping[str, Any] | None = None,
        server: Any = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.Transport:
        ssl_protocol = LeanSSLProtocol(
            self,
            protocol,
            sslcontext,
            waiter,
            server_side,
            server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
        asyncio.selector_events._SelectorSocketTransport(  # type: ignore[attr-defined]
            self, rawsock, ssl_protocol, extra=extra, server=server
        )
        transport: asyncio.Transport = ssl_protocol._app_transport
        return transport


def new_event_loop(env: Mapping[str, str] = os.environ) -> asyncio.AbstractEventLoop:
    """The loop for `serve` (asyncio's own when KUBELANTERN_TLS_BUFFERS=asyncio; uvloop's,
    when installed (the `uvloop` extra), with KUBELANTERN_LOOP=uvloop: less CPU per GB
    streamed, more memory per idle connection; the default is the lean loop)."""
    if env.get("KUBELANTERN_LOOP") == "uvloop":
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    if env.get(ENV, "lean") == "asyncio":
        return asyncio.new_event_loop()
    return LeanTLSEventLoop(selectors.DefaultSelector())
