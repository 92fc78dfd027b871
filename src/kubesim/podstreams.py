"""A pod's streams: `log` over HTTP (chunked, flushed like the apiserver's) or WebSocket, and
`exec`, `attach`, `portforward`, which `streaming` serves."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import streaming
from .auth import is_websocket_upgrade
from .podlogs import parse_log_options, prepare_pod_log
from .state import SimState, extra_headers
from .status import method_not_allowed

JSON = dict[str, Any]


async def pod_stream(
    request: web.Request, state: SimState, pod: JSON, sub: str
) -> web.StreamResponse:
    headers = [(k, v) for k, v in request.headers.items()]
    if sub == "log":
        if request.method != "GET":
            raise method_not_allowed()
        options = parse_log_options(request.query, pod["metadata"]["name"])
        plan = prepare_pod_log(state, pod, options)
        if is_websocket_upgrade(headers):
            return await streaming.handle_log_websocket(request, state, plan.chunks())
        return await _http_log(request, state, plan)
    if request.method not in ("GET", "POST"):
        raise method_not_allowed()
    if sub == "portforward":
        return await streaming.handle_portforward(request, state, pod)
    return await streaming.handle_exec(request, state, pod, attach=sub == "attach")


async def _http_log(request: web.Request, state: SimState, plan: Any) -> web.StreamResponse:
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "text/plain", **extra_headers(state)}
    )
    resp.enable_chunked_encoding()
    await resp.prepare(request)  # headers go out before the body, as the apiserver flushes them
    try:
        async for chunk in plan.chunks():
            if request.transport is None or request.transport.is_closing():
                break
            await resp.write(chunk)
        await resp.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass
    return resp
