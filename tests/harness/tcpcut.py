"""A TCP relay on 127.0.0.1 whose live connections a test can cut (RST both ways) or
freeze (stop relaying, keep the sockets open): an upstream that crashes or hangs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from tests.harness.servers import ServerThread


class TcpCut:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.frozen = False
        self._pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> TcpCut:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await self._relay(reader, writer)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._pairs.append((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    if self.frozen:
                        await asyncio.Event().wait()  # forever: a hung peer
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def freeze(self) -> None:
        """Stop relaying in both directions; the sockets stay open (a hung upstream)."""
        self.frozen = True

    def cut(self) -> None:
        """Reset every live connection, both sides (the upstream process died)."""
        for a, b in self._pairs:
            for w in (a, b):
                sock = w.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                w.transport.abort()
        self._pairs.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


def start_cutter(thread: ServerThread, host: str, port: int) -> TcpCut:
    """A TcpCut running on `thread`'s loop (so tests in any loop can use it)."""
    return thread.call(TcpCut(host, port).start())
