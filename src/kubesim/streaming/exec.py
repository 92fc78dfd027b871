"""exec and attach over WebSocket, as kube-apiserver (v5) and the kubelet (v1-v4) serve them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Any

from aiohttp import web

from . import protocol as p
from .attach import main_process
from .containers import ContainerError, check_running, container_info, select_container
from .fakefs import FakeFS, make_filesystem
from .pipes import BrokenPipe, WriteFn
from .process import Process, Program, shell_program
from .shell import Context, ExecNotFound, Shell
from .spdy.remotecommand import handle_spdy_exec
from .wsio import (
    bad_request,
    client_frame,
    is_spdy,
    is_websocket,
    log,
    negotiate,
    send_frame,
    upgrade,
)

# One filesystem per simulated container (pod uid + container), so a file written by one exec
# is seen by the next. Kept on the simulator's state object when it allows attributes.
_FS_ATTRIBUTE = "_kubelantern_streaming_fs"
_fallback_filesystems: dict[tuple[int, str, str], FakeFS] = {}


def supports_v5(state: Any) -> bool:
    """The profile says whether the apiserver's v5 translator exists (legacy: no)."""
    profile = getattr(state, "profile", None)
    flag = getattr(profile, "supports_v5", None)
    if isinstance(flag, bool):
        return flag
    name = profile if isinstance(profile, str) else getattr(profile, "name", "")
    return name != "legacy"


def _query(request: web.Request) -> dict[str, list[str]]:
    return {k: request.query.getall(k) for k in request.query}


def filesystem_for(state: Any, pod: dict[str, Any], container: str) -> FakeFS:
    meta = pod.get("metadata") or {}
    # A pod re-created under the same name is a new pod: new uid, fresh filesystem.
    pod_key = str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")
    registry: dict[tuple[int, str, str], FakeFS]
    try:
        registry = state.__dict__.setdefault(_FS_ATTRIBUTE, {})
    except AttributeError:  # a state object without __dict__ (slots)
        registry = _fallback_filesystems
    key = (id(state), pod_key, container)
    fs = registry.get(key)
    if fs is None:
        info = container_info(pod, select_container(pod, container))
        fs = registry[key] = make_filesystem(info)
    return fs


def _pod_started(pod: dict[str, Any]) -> float:
    started = (pod.get("status") or {}).get("startTime") or (pod.get("metadata") or {}).get(
        "creationTimestamp"
    )
    if isinstance(started, str):
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    return time.time()


async def handle_exec(
    request: web.Request, state: Any, pod: dict[str, Any], *, attach: bool
) -> web.StreamResponse:
    """GET/POST .../pods/{name}/exec or /attach, after auth and pod lookup (done by the app)."""
    spdy = is_spdy(request)
    if not spdy and not is_websocket(request):
        return bad_request("Upgrade request required")
    opts = p.parse_stream_options(_query(request))
    if not attach and not opts.command:
        return bad_request("you must specify at least one command for the container")
    if not (opts.stdin or opts.stdout or opts.stderr):
        return bad_request("you must specify at least 1 of stdin, stdout, stderr")
    try:
        spec = select_container(pod, opts.container)
        container = str(spec.get("name", ""))
        check_running(pod, container)
    except ContainerError as exc:
        return bad_request(str(exc))
    info = container_info(pod, spec)
    ctx = Context(info, filesystem_for(state, pod, container), tty=opts.tty)
    argv = list(opts.command)
    if attach:
        program: Program | None = main_process(ctx, stdin=opts.stdin, started=_pod_started(pod))
        runtime_error = ""
    elif Shell(ctx).resolves(argv[0]):
        program, runtime_error = shell_program(ctx, argv), ""
    else:
        # The runtime cannot start it: the UI's shell detection (bash, then sh) relies on
        # this Failure arriving on the error channel.
        program, runtime_error = None, ExecNotFound(argv[0]).runtime_message()
    if spdy:
        return await handle_spdy_exec(request, opts, ctx, program, argv, runtime_error)

    proto = negotiate(request, p.exec_protocols(supports_v5=supports_v5(state)))
    if not isinstance(proto, str):
        return proto
    ws = await upgrade(request, proto)
    session = _Session(ws, proto, opts)
    if program is None:
        with contextlib.suppress(BrokenPipe):
            await session.start()
            await session.finish(p.internal_error_status(runtime_error, protocol=proto))
        return ws
    process = Process(
        ctx,
        program,
        stdin=opts.stdin,
        out=session.writer(p.STDOUT) if opts.stdout else None,
        err=session.writer(p.STDERR) if opts.writes_stderr else None,
    )
    await session.run(process, argv)
    return ws


class _Session:
    """The channel multiplexing over one upgraded WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, proto: str, opts: p.StreamOptions) -> None:
        self.ws = ws
        self.proto = proto
        self.opts = opts
        self._resize = p.ResizeDecoder()

    async def send(self, channel: int, payload: bytes) -> None:
        if self.ws.closed:
            raise BrokenPipe()
        try:
            await send_frame(self.ws, self.proto, channel, payload)
        except (ConnectionError, RuntimeError) as exc:
            raise BrokenPipe() from exc

    def writer(self, channel: int) -> WriteFn:
        async def write(data: bytes) -> None:
            await self.send(channel, data)

        return write

    async def start(self) -> None:
        # The "connected" signal: one empty message on the lowest writable channel.
        await self.send(self.opts.first_writable_channel(), b"")

    async def finish(self, status: dict[str, Any]) -> None:
        payload = p.status_payload(status, protocol=self.proto)
        with contextlib.suppress(BrokenPipe):
            if payload is not None:
                await self.send(p.ERROR, payload)
        await self.ws.close(code=1000)

    async def run(self, process: Process, argv: list[str]) -> None:
        try:
            await self.start()
        except BrokenPipe:
            return
        reader = asyncio.ensure_future(self._read(process))
        runner = asyncio.ensure_future(process.run())
        try:
            done, _ = await asyncio.wait({reader, runner}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                try:
                    code = runner.result()
                except Exception as exc:  # a shell bug must not take the server down
                    log.exception("exec: simulated process failed: %s", argv)
                    status = p.internal_error_status(
                        f"simulator shell error: {type(exc).__name__}", protocol=self.proto
                    )
                else:
                    if code == 0:
                        status = p.success_status()
                    else:
                        status = p.exit_code_status(code, protocol=self.proto, argv=argv)
                # Stop reading first: aiohttp's close() with a receive() pending in another
                # task drops TCP without waiting for the client's Close reply.
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                await self.finish(status)
            else:
                # The client closed (or broke the protocol): the process goes with it.
                if not reader.cancelled() and reader.exception() is not None:
                    log.warning("exec: reading client messages failed: %r", reader.exception())
                process.close_stdin()
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await runner
                if not self.ws.closed:
                    await self.ws.close(code=1000)
        except BrokenPipe:
            pass
        finally:
            for task in (reader, runner):
                task.cancel()
            await asyncio.gather(reader, runner, return_exceptions=True)

    async def _read(self, process: Process) -> None:
        async for msg in self.ws:
            decoded = client_frame(self.proto, msg, "exec")
            if decoded is None:
                continue
            channel, payload = decoded
            if channel == p.CLOSE and self.proto == p.V5:
                kind, target = p.parse_close_signal(payload)
                if kind is p.Close.TERMINATE:
                    log.info("exec: malformed v5 CLOSE message, terminating the connection")
                    return
                if target == p.STDIN:
                    process.close_stdin()
                continue
            if channel == p.STDIN and self.opts.stdin:
                if payload:
                    await process.feed(payload)
            elif channel == p.RESIZE and self.opts.tty:
                try:
                    for size in self._resize.feed(payload):
                        process.resize(size)
                except ValueError as exc:
                    log.info("exec: bad resize message: %s", exc)
            # Anything else (unrequested channel, >= 5) is dropped, as the kubelet does.
