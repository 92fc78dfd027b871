"""The byte tunnel's hold after the 101 (what `handover.decide` asked for, done).

Stands in as the upstream socket's parser while the hold lasts: upstream bytes (and its
EOF) are kept in order, reading pauses past `max_bytes`, and on release they are replayed
into the tunnel's down leg, which then becomes the parser itself. The release comes
`plan.release_after(...)` after the client answered (our ping's pong, or any frame of its
own), or at `max_hold` seconds after the 101, whichever is first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kubelantern.proxy.ws.frames import OP_PING, control_frame
from kubelantern.proxy.ws.handover import Handover, HoldMode

log = logging.getLogger(__name__)

PING_PAYLOAD = b"kubelantern-handover"


class HeldDown:
    """Upstream→client bytes kept back until the client's reader is known to run."""

    def __init__(self, leg: Any, upstream: Any, plan: Handover, name: str) -> None:
        assert plan.mode is HoldMode.UNTIL_PONG
        self.leg = leg  # the tunnel's down leg (feed_data / feed_eof / inject)
        self.upstream = upstream  # aiohttp's ResponseHandler of the upstream socket
        self.plan = plan
        self.name = name
        self.chunks: list[bytes] = []
        self.size = 0
        self.eof = False
        self.paused = False
        self.released = False
        self.started = time.monotonic()
        self.held_for: float | None = None  # seconds, once released
        self._timer: asyncio.TimerHandle | None = None
        self._answered: float | None = None  # seconds after the 101 the client answered

    def start(self) -> None:
        """Right after the client's 101: ping it, become the upstream's parser."""
        self.leg.inject(control_frame(OP_PING, PING_PAYLOAD, masked=False))
        self._timer = asyncio.get_running_loop().call_later(self.plan.max_hold, self.release)
        self.upstream.set_parser(self, None)  # replays what came after the upstream's 101

    def client_answered(self) -> None:
        """A pong or a frame of its own came from the client: its reader runs."""
        if self._answered is not None or self.released:
            return
        self._answered = time.monotonic() - self.started
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(
            self.plan.release_after(self._answered), self.release
        )

    # aiohttp parser interface ------------------------------------------------------
    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.released:  # data_received was already running when we swapped
            return self.leg.feed_data(data)  # type: ignore[no-any-return]
        self.chunks.append(bytes(data))
        self.size += len(data)
        if self.size >= self.plan.max_bytes and not self.paused:
            self.paused = True
            self.upstream.pause_reading()
        return False, b""

    def feed_eof(self) -> None:
        if self.released:
            self.leg.feed_eof()
        else:
            self.eof = True

    # ---------------------------------------------------------------------------------
    def release(self) -> None:
        if self.released:
            return
        self.released = True
        self.held_for = time.monotonic() - self.started
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._answered is not None:
            log.debug(
                "cluster=%s output held %.1f ms (client answered after %.1f ms)",
                self.name,
                self.held_for * 1000,
                self._answered * 1000,
            )
        else:
            log.info(
                "cluster=%s client did not answer the handover ping in %.1f s: forwarding",
                self.name,
                self.plan.max_hold,
            )
        chunks, self.chunks = self.chunks, []
        if not self.eof and self.upstream.transport is not None:
            # Resuming first is safe: new bytes arrive in a later loop turn, after the
            # replay below; the leg may pause again for its own backpressure.
            self.upstream.set_parser(self.leg, None)
            if self.paused:
                self.upstream.resume_reading(resume_parser=False)
        for chunk in chunks:
            self.leg.feed_data(chunk)
        if self.eof:
            self.leg.feed_eof()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
