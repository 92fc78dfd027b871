"""exec and attach over SPDY/3.1, as the kubelet serves them (kubectl < 1.30, and kubectl
1.30+ after a refused WebSocket).

The client opens one stream per channel, each tagged `streamType`: error, stdin, stdout,
stderr, resize (v3+ with a tty). The server answers each with SYN_REPLY, waits (30 s) for
all it expects, runs the process, writes the exit status on the error stream (v4: Status
JSON, always; v1-v3: the error text, only on failure), half-closes everything and says
GOAWAY. stdin EOF is the client's FIN on the stdin stream, so `exec -i` ends cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import hdrs, web

from .. import protocol as p
from ..pipes import BrokenPipe, WriteFn
from ..process import Process, Program
from ..shell import Context
from .connection import SpdyConnection, SpdyStream, log
from .frames import RstStatus
from .handshake import EXEC_PROTOCOLS, PROTOCOL_HEADER, Refusal, missing_upgrade_headers, negotiate
from .session import StreamClosedError
from .upgrade import upgrade_spdy

STREAM_CREATION_TIMEOUT = 30.0
V4 = "v4.channel.k8s.io"
RESIZE_PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io")
assert set(RESIZE_PROTOCOLS) <= set(EXEC_PROTOCOLS)


def expected_streams(opts: p.StreamOptions, protocol: str) -> set[str]:
    wanted = {"error"}
    if opts.stdin:
        wanted.add("stdin")
    if opts.stdout:
        wanted.add("stdout")
    if opts.writes_stderr:
        wanted.add("stderr")
    if opts.tty and protocol in RESIZE_PROTOCOLS:
        wanted.add("resize")
    return wanted


def status_bytes(status: dict[str, Any], protocol: str) -> bytes | None:
    """v4 writes the Status JSON always; older protocols only the message of a failure."""
    if protocol == V4:
        return p.status_payload(status, protocol=V4)
    if status.get("status") == "Success":
        return None
    return str(status.get("message", "")).encode()


class SpdyExec:
    def __init__(self, conn: SpdyConnection, protocol: str, opts: p.StreamOptions) -> None:
        self.conn = conn
        self.protocol = protocol
        self.opts = opts
        self.streams: dict[str, SpdyStream] = {}
        self._extra: list[SpdyStream] = []

    async def wait_for_streams(self, within: float | None = None) -> bool:
        wanted = expected_streams(self.opts, self.protocol)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (STREAM_CREATION_TIMEOUT if within is None else within)
        while not wanted <= set(self.streams):
            stream = await self.conn.accept(max(0.0, deadline - loop.time()))
            if stream is None:
                log.info(
                    "spdy exec: timed out waiting for client to create streams (have %s, want %s)",
                    sorted(self.streams),
                    sorted(wanted),
                )
                return False
            kind = stream.header("streamtype")
            await stream.reply()
            if kind in wanted and kind not in self.streams:
                self.streams[kind] = stream
            else:
                log.info("spdy exec: unexpected stream type %r", kind)
                self._extra.append(stream)
        return True

    def writer(self, kind: str) -> WriteFn | None:
        stream = self.streams.get(kind)
        if stream is None:
            return None

        async def write(data: bytes) -> None:
            try:
                await stream.write(data)
            except StreamClosedError as exc:
                raise BrokenPipe() from exc

        return write

    async def _pump_stdin(self, process: Process) -> None:
        stream = self.streams["stdin"]
        while chunk := await stream.read():
            await process.feed(chunk)
        process.close_stdin()

    async def _pump_resize(self, process: Process) -> None:
        decoder = p.ResizeDecoder()
        stream = self.streams["resize"]
        while chunk := await stream.read():
            try:
                for size in decoder.feed(chunk):
                    process.resize(size)
            except ValueError as exc:
                log.info("spdy exec: bad resize message: %s", exc)
                return

    async def _drain(self, stream: SpdyStream) -> None:
        while await stream.read():
            pass

    async def run(self, process: Process, argv: list[str]) -> None:
        helpers = []
        if "stdin" in self.streams:
            helpers.append(asyncio.ensure_future(self._pump_stdin(process)))
        if "resize" in self.streams:
            helpers.append(asyncio.ensure_future(self._pump_resize(process)))
        # Nothing comes on the error/output streams, but a reader keeps them flowing.
        for kind in ("error", "stdout", "stderr"):
            if kind in self.streams:
                helpers.append(asyncio.ensure_future(self._drain(self.streams[kind])))
        helpers.extend(asyncio.ensure_future(self._drain(s)) for s in self._extra)
        runner = asyncio.ensure_future(process.run())
        gone = asyncio.ensure_future(self.conn.closed.wait())
        try:
            await asyncio.wait({runner, gone}, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                try:
                    code = runner.result()
                except BrokenPipe:
                    return  # the client went away mid-output
                except Exception as exc:  # a shell bug must not take the server down
                    log.exception("spdy exec: simulated process failed: %s", argv)
                    status = p.internal_error_status(
                        f"simulator shell error: {type(exc).__name__}", protocol=V4
                    )
                else:
                    status = (
                        p.success_status()
                        if code == 0
                        else p.exit_code_status(code, protocol=V4, argv=argv)
                    )
                await self.finish(status)
        finally:
            process.close_stdin()
            for task in (runner, gone, *helpers):
                task.cancel()
            await asyncio.gather(runner, gone, *helpers, return_exceptions=True)
            await self.conn.close()

    async def finish(self, status: dict[str, Any]) -> None:
        payload = status_bytes(status, self.protocol)
        error = self.streams.get("error")
        with contextlib.suppress(StreamClosedError):
            if error is not None and payload:
                await error.write(payload)
        for stream in (*self.streams.values(), *self._extra):
            await stream.close()

    async def refuse(self, runtime_error: str) -> None:
        """The runtime could not start the command: an InternalError on the error stream."""
        await self.finish(p.internal_error_status(runtime_error, protocol=V4))
        await self.conn.close()


async def serve_exec(
    conn: SpdyConnection,
    protocol: str,
    opts: p.StreamOptions,
    ctx: Context,
    program: Program | None,
    argv: list[str],
    runtime_error: str = "",
) -> None:
    """The session after the 101: streams, the process (or the runtime's refusal), status."""
    session = SpdyExec(conn, protocol, opts)
    try:
        if not await session.wait_for_streams():
            await conn.close()
            return
        if program is None:
            await session.refuse(runtime_error)
            return
        process = Process(
            ctx,
            program,
            stdin=opts.stdin,
            out=session.writer("stdout"),
            err=session.writer("stderr"),
        )
        await session.run(process, argv)
    except (ConnectionError, StreamClosedError) as exc:
        log.info("spdy exec: connection ended: %s", exc)
    finally:
        if not conn.closed.is_set():
            for stream in session.streams.values():
                await stream.reset(RstStatus.CANCEL)
            await conn.close()


def plain_refusal(status: int, text: str, accepted: tuple[str, ...] = ()) -> web.Response:
    """Go's http.Error body (text + newline, nosniff), the kubelet's handshake refusals."""
    response = web.Response(
        status=status,
        text=text + "\n",
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )
    for proto in accepted:
        response.headers.add("X-Accepted-Stream-Protocol-Versions", proto)
    return response


async def handle_spdy_exec(
    request: web.Request,
    opts: p.StreamOptions,
    ctx: Context,
    program: Program | None,
    argv: list[str],
    runtime_error: str,
) -> web.StreamResponse:
    """The kubelet's SPDY path: negotiate `X-Stream-Protocol-Version`, 101, then the session."""
    chosen = negotiate(
        request.headers.getall(PROTOCOL_HEADER, []), EXEC_PROTOCOLS, len(request.headers)
    )
    if isinstance(chosen, Refusal):
        return plain_refusal(chosen.status, chosen.text, chosen.accepted)
    if missing_upgrade_headers(
        request.headers.get(hdrs.CONNECTION, ""), request.headers.get(hdrs.UPGRADE, "")
    ):
        return plain_refusal(400, "unable to upgrade: missing upgrade headers in request")
    conn, response = await upgrade_spdy(request, chosen)
    await serve_exec(conn, chosen, opts, ctx, program, argv, runtime_error)
    return response
