"""`?watch=true`: chunked JSON lines of watch events, resumable from a resourceVersion."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import web

from .kinds import ResourceType
from .params import parse_bool
from .selectors import field_matcher, label_matcher
from .state import SimState, extra_headers
from .status import StatusError, status_body
from .store import Event, Gone, meta_key
from .tables import build_table, printer_for, wants_table
from .views import crd_for, to_view

JSON = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0
POLL = 0.5  # how often an idle watch checks for a gone client


def _line(event_type: str, obj: JSON) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


async def serve_watch(
    request: web.Request, state: SimState, rt: ResourceType, namespace: str, name: str
) -> web.StreamResponse:
    query = request.query
    labels = label_matcher(query.get("labelSelector"))
    fields = field_matcher(query.get("fieldSelector"))
    if name:
        by_name = field_matcher(f"metadata.name={name}")
    else:
        by_name = None
    rv_raw = query.get("resourceVersion", "")
    try:
        rv = int(rv_raw) if rv_raw not in ("", "0") else None
    except ValueError:
        raise StatusError(400, f"invalid resource version {rv_raw!r}") from None
    bookmarks = parse_bool(query.get("allowWatchBookmarks"))
    send_initial = parse_bool(query.get("sendInitialEvents"))
    try:
        timeout = float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    except ValueError:
        raise StatusError(400, "invalid timeoutSeconds") from None
    table = wants_table(request.headers.get("Accept", ""))
    printer = printer_for(rt.key, crd_for(state, rt), rt.version) if table else None
    include_object = query.get("includeObject", "Metadata")
    store = state.store
    ns_filter = namespace or None

    def matches(view: JSON) -> bool:
        return labels(view) and fields(view) and (by_name is None or by_name(view))

    first_table = [True]

    def render(view: JSON) -> JSON:
        if printer is None:
            return view
        out = build_table(
            [view],
            printer,
            include_object=include_object,
            resource_version=view["metadata"].get("resourceVersion", ""),
            column_definitions=first_table[0],
        )
        first_table[0] = False
        return out

    watcher = store.subscribe(rt.key, ns_filter)
    resp = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-cache, private",
            **extra_headers(state),
        },
    )
    resp.enable_chunked_encoding()
    try:
        await resp.prepare(request)
        visible: set[tuple[str, str]] = set()
        last_rv = store.rv
        pending: list[Event] = []
        if rv is None or send_initial:
            for obj in store.list(rt.key, ns_filter):
                view = to_view(rt, obj)
                if matches(view):
                    visible.add(meta_key(obj))
                    await resp.write(_line("ADDED", render(view)))
            if send_initial and bookmarks:
                mark = {
                    "kind": rt.kind,
                    "apiVersion": rt.api_version,
                    "metadata": {
                        "resourceVersion": str(last_rv),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }
                await resp.write(_line("BOOKMARK", mark))
        else:
            try:
                pending = store.events_since(rt.key, rv, ns_filter)
            except Gone:
                oldest = store.history[0].rv if store.history else store.rv
                status = status_body(
                    410, f"too old resource version: {rv} ({oldest - 1})", "Expired"
                )
                await resp.write(_line("ERROR", status))
                await resp.write_eof()
                return resp
            for obj in store.list(rt.key, ns_filter):
                view = to_view(rt, obj)
                if matches(view):
                    visible.add(meta_key(obj))
            last_rv = max(rv, 0)
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + state.config.bookmark_interval

        async def emit(event: Event) -> None:
            nonlocal last_rv
            if event.rv <= last_rv:
                return
            last_rv = event.rv
            view = to_view(rt, event.object)
            key = meta_key(event.object)
            now_match = matches(view)
            if event.type == "DELETED":
                if key in visible or (now_match and key not in visible):
                    visible.discard(key)
                    await resp.write(_line("DELETED", render(view)))
                return
            if now_match:
                kind = "MODIFIED" if key in visible else "ADDED"
                if event.type == "ADDED":
                    kind = "ADDED"
                visible.add(key)
                await resp.write(_line(kind, render(view)))
            elif key in visible:
                visible.discard(key)
                await resp.write(_line("DELETED", render(view)))

        for e in pending:
            await emit(e)
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if request.transport is None or request.transport.is_closing():
                break
            if watcher.overflowed:
                break
            if bookmarks and now >= next_bookmark:
                mark = {
                    "kind": rt.kind,
                    "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": str(store.rv)},
                }
                await resp.write(_line("BOOKMARK", mark))
                next_bookmark = now + state.config.bookmark_interval
            wait = min(POLL, deadline - now)
            if bookmarks:
                wait = min(wait, max(next_bookmark - now, 0.0))
            try:
                event = await asyncio.wait_for(watcher.queue.get(), timeout=max(wait, 0.001))
            except TimeoutError:
                continue
            if event is None:
                break
            await emit(event)
        with contextlib.suppress(ConnectionError):
            await resp.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        store.unsubscribe(watcher)
    return resp
