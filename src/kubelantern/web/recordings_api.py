"""Session recordings (`serve --record-sessions DIR`), read back for the UI:

    GET /api/recordings?cluster=&pod=&user=&day=   -> {enabled, recordInput, failures,
                                                       lastError, items: [...]}
    GET /api/recordings/status                     -> {enabled, recordInput, failures,
                                                       lastError, lastFailureAt} (cheap: no
                                                       folder walk; the UI's warning polls it)
    GET /api/recordings/file?path=<cluster>/<day>/<name>.cast -> the asciicast file

Behind the same Host/Origin/launch-token checks as every /api route. In team mode a user
sees only their own recordings (an auditor reads DIR on the server); paths are checked
component by component and must stay under DIR.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from kubelantern.identity.request import TRUSTED_USER, request_user
from kubelantern.observe.castindex import Filters, list_recordings, resolve
from kubelantern.status import status_response
from kubelantern.web import keys


def add_routes(app: web.Application, base: str) -> None:
    app.router.add_get(f"{base}/api/recordings", recordings)
    app.router.add_get(f"{base}/api/recordings/status", recordings_status)
    app.router.add_get(f"{base}/api/recordings/file", recording_file)


def _only_user(request: web.Request) -> str | None:
    """Team mode: whose recordings this request may see (None: everyone's, local mode)."""
    settings = request.app[keys.SETTINGS]
    if not (settings.oidc or settings.auth_header or settings.in_cluster):
        return None
    user = request_user(request)
    if user is not None:
        return user.email or user.name
    return request.get(TRUSTED_USER) or "\0nobody"


def _status(request: web.Request) -> dict[str, object]:
    """Whether recording is on and whether it is failing (the failures `/metrics` counts)."""
    recorder = request.app[keys.PROXY].recorder
    state = recorder.state
    return {
        "enabled": recorder.enabled,
        "recordInput": recorder.record_input,
        "failures": state.failures,
        "lastError": state.last_error,
        "lastFailureAt": state.last_failure_at,
    }


async def recordings_status(request: web.Request) -> web.Response:
    return web.json_response(_status(request), headers={"Cache-Control": "no-store"})


async def recordings(request: web.Request) -> web.Response:
    recorder = request.app[keys.PROXY].recorder
    body: dict[str, object] = {**_status(request), "items": []}
    if recorder.root is not None:
        q = request.query
        filters = Filters(
            cluster=q.get("cluster") or None,
            pod=q.get("pod") or None,
            user=q.get("user") or None,
            day=q.get("day") or None,
        )
        body["items"] = await asyncio.to_thread(
            list_recordings, recorder.root, filters, _only_user(request)
        )
    return web.json_response(body)


async def recording_file(request: web.Request) -> web.StreamResponse:
    recorder = request.app[keys.PROXY].recorder
    if recorder.root is None:
        return status_response(404, "session recording is off (serve --record-sessions DIR)")
    relative = request.query.get("path", "")
    path = await asyncio.to_thread(resolve, recorder.root, relative)
    if path is None:
        return status_response(404, f"no recording {relative[:200]!r}")
    only = _only_user(request)
    if only is not None:
        listed = await asyncio.to_thread(list_recordings, recorder.root, Filters(), only)
        if not any(item["path"] == relative for item in listed):
            return status_response(404, f"no recording {relative[:200]!r}")
    return web.FileResponse(
        path, headers={"Content-Type": "application/x-asciicast", "Cache-Control": "no-store"}
    )
