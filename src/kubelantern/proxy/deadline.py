"""Long deadlines that are nearly always met, without a timer per request.

`asyncio.timeout(60)` arms a timer and cancels it when the answer comes: for a small
proxied GET that is a heap push, a cancel and a later clean-up, all for nothing (~4 % of
the request's CPU, issue 12). `CoarseDeadlines` keeps the deadlines in a dict, and one
timer checks them every `tick` seconds while any are pending. A late block is cancelled
the way `asyncio.timeout` does it (TimeoutError out of the block, a cancel from elsewhere
still propagates), up to `tick` seconds after its deadline.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class CoarseDeadlines:
    """`async with deadlines.within(60): ...` — one instance per event loop (ProxyDeps)."""

    def __init__(self, tick: float = 1.0) -> None:
        self.tick = tick
        self._pending: dict[Within, float] = {}  # block → its deadline (loop time)
        self._timer: asyncio.TimerHandle | None = None

    def within(self, seconds: float) -> Within:
        return Within(self, seconds)

    def _start(self, block: Within, loop: asyncio.AbstractEventLoop) -> None:
        self._pending[block] = loop.time() + block.seconds
        if self._timer is None:
            self._timer = loop.call_later(self.tick, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        late = [block for block, when in self._pending.items() if when <= now]
        for block in late:
            del self._pending[block]
            block.expire()
        if self._pending:
            self._timer = loop.call_later(self.tick, self._sweep, loop)


class Within:
    __slots__ = ("_cancelling", "_deadlines", "_expired", "_task", "seconds")

    def __init__(self, deadlines: CoarseDeadlines, seconds: float) -> None:
        self._deadlines = deadlines
        self.seconds = seconds
        self._task: asyncio.Task[object] | None = None
        self._expired = False
        self._cancelling = 0

    def expire(self) -> None:
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> Within:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("CoarseDeadlines.within() must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._deadlines._start(self, task.get_loop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._deadlines._pending.pop(self, None)
        task, self._task = self._task, None
        if self._expired and exc_type is asyncio.CancelledError and task is not None:
            if task.uncancel() <= self._cancelling:  # our cancel only: the deadline passed
                raise TimeoutError from exc
