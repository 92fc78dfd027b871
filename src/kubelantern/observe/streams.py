"""Long-lived streams in flight, so shutdown can close them cleanly.

The HTTP proxy, the WebSocket bridge and the upgrade tunnel wrap each stream in
`track(...)` (kind "http", "websocket" or "tunnel"):

    async with request.app[keys.STREAMS].track(cluster.name, "websocket", close):
        ...  # pump until done

`close` is an async callable that ends the stream politely (the bridge sends close code
1001 "going away" on both legs; the HTTP proxy ends the chunked body; the tunnel closes
both sockets after flushing them). On SIGINT/SIGTERM
the app's on_shutdown calls `close_all()`. `track` also keeps the
`kubelantern_active_streams` gauge right, whatever way the stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from kubelantern.observe.metrics import Metrics

log = logging.getLogger("kubelantern.streams")

Closer = Callable[[], Awaitable[object]]


class ActiveStreams:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._closers: dict[int, tuple[str, str, Closer]] = {}
        self._ids = itertools.count()

    def __len__(self) -> int:
        return len(self._closers)

    @contextlib.asynccontextmanager
    async def track(self, cluster: str, kind: str, close: Closer) -> AsyncIterator[None]:
        sid = next(self._ids)
        self._closers[sid] = (cluster, kind, close)
        self._metrics.stream_started(cluster, kind)
        try:
            yield
        finally:
            self._closers.pop(sid, None)
            self._metrics.stream_ended(cluster, kind)

    async def close_all(self, limit: float = 5.0) -> None:
        """Ask every open stream to close; bounded in time."""
        closers = list(self._closers.values())
        if not closers:
            return
        log.info("closing %d open stream(s)", len(closers))

        async def one(cluster: str, kind: str, close: Closer) -> None:
            try:
                await close()
            except Exception as e:
                log.debug("closing %s stream of %s failed: %r", kind, cluster, e)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await asyncio.gather(*(one(*c) for c in closers))
