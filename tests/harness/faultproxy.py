"""A TCP fault proxy for tests: put it between kubelantern and a simulator (point the
kubeconfig's server URL at it) and break the path on demand.

It forwards bytes (TLS passes through untouched, so the simulator's certificate still
verifies) and can, at any moment:

- `cut()`      close both sides of every live connection (FIN: an upstream that restarts);
- `reset()`    close both sides with RST (SO_LINGER 0: a crash or a middlebox dropping state);
- `stall()`    stop forwarding but keep the sockets open (a hung peer; new connections
               are accepted and then stall too: "accepts TCP and never answers");
- `resume()`   forward again (what was held back is delivered, in order);
- `delay(s)`   hold every chunk `s` seconds before passing it on (0: off);
- `stop()`     stop listening (connections refused) and cut; `start()` listens again on the
               same port.

It runs on its own thread and loop (like `servers.ServerThread`), so sync and async tests
drive it alike; every control call is thread-safe and waits until done.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

CHUNK = 65536


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._conns: set[_Pair] = set()
        self._flowing: asyncio.Event | None = None  # set: forward; clear: stall
        self._delay = 0.0
        self.accepted = 0  # connections accepted since start (tests read it)

    # -- control (any thread) -------------------------------------------------------------

    def start(self) -> FaultProxy:
        if not self._thread.is_alive():
            self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        """Stop listening and cut every connection (the port refuses until `start`)."""
        self._call(self._stop_listening())
        self.cut()

    def cut(self) -> None:
        self._call(self._close_all(rst=False))

    def reset(self) -> None:
        self._call(self._close_all(rst=True))

    def stall(self) -> None:
        self._call(self._set_flow(False))

    def resume(self) -> None:
        self._call(self._set_flow(True))

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    @property
    def live(self) -> int:
        """Connections currently open through the proxy."""
        return len(self._conns)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    # -- the proxy's loop ------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    async def _listen(self) -> None:
        if self._flowing is None:
            self._flowing = asyncio.Event()
            self._flowing.set()
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            # wait_closed() also waits for handlers; ours are cut right after.

    async def _shutdown(self) -> None:
        await self._stop_listening()
        await self._close_all(rst=False)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _set_flow(self, on: bool) -> None:
        assert self._flowing is not None
        if on:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _close_all(self, *, rst: bool) -> None:
        for pair in list(self._conns):
            pair.close(rst=rst)
        # Let the forwarding tasks see their sockets closed.
        await asyncio.sleep(0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        pair = _Pair(writer)
        self._conns.add(pair)
        try:
            assert self._flowing is not None
            # A stalled proxy accepts and then holds the connection without dialling on.
            await self._flowing.wait()
            if pair.closed:
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                pair.close(rst=True)
                return
            pair.upstream = up_writer
            if pair.closed:  # cut while dialling
                pair.close(rst=False)
                return
            await asyncio.gather(
                self._pipe(reader, up_writer, pair), self._pipe(up_reader, writer, pair)
            )
        finally:
            pair.close(rst=False)
            self._conns.discard(pair)

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, pair: _Pair
    ) -> None:
        assert self._flowing is not None
        try:
            while not pair.closed:
                data = await src.read(CHUNK)
                if not data:
                    break
                if self._delay:
                    await asyncio.sleep(self._delay)
                await self._flowing.wait()
                if pair.closed:
                    return
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other (half-close is not something TLS peers use).
            pair.close(rst=False)


class _Pair:
    """The client side and (once dialled) the upstream side of one proxied connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.closed = False

    def close(self, *, rst: bool) -> None:
        if self.closed:
            return
        self.closed = True
        for w in (self.client, self.upstream):
            if w is None:
                continue
            if rst:
                sock = w.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                w.transport.abort()
            else:
                w.close()
