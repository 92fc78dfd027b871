"""GET of one object or a list: label/field selectors, `limit`/`continue` pagination, Table
output for kubectl."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from .kinds import ResourceType
from .responses import json_response
from .selectors import field_matcher, label_matcher
from .state import SimState
from .status import StatusError, not_found
from .tables import build_table, printer_for, wants_table
from .views import crd_for, to_view

JSON = dict[str, Any]


def get_or_404(state: SimState, rt: ResourceType, ns: str, name: str) -> JSON:
    obj = state.store.get(rt.key, ns, name)
    if obj is None:
        raise not_found(rt.plural, name, rt.group)
    return obj


def object_response(
    request: web.Request, state: SimState, rt: ResourceType, obj: JSON
) -> web.Response:
    view = to_view(rt, obj)
    if wants_table(request.headers.get("Accept", "")):
        printer = printer_for(rt.key, crd_for(state, rt), rt.version)
        table = build_table(
            [view],
            printer,
            include_object=request.query.get("includeObject", "Metadata"),
            resource_version=view["metadata"].get("resourceVersion", ""),
        )
        return json_response(table)
    return json_response(view)


def select(
    state: SimState,
    rt: ResourceType,
    namespace: str,
    request: web.Request,
    after: tuple[str, str] | None = None,
    limit: int = 0,
) -> tuple[list[JSON], int]:
    """The items a list answers (views), those after `after` (a continue token's start) and
    at most `limit` of them (0: all), with how many more match. Without selectors only the
    page is turned into views: a page of 500 out of 50,000 pods must not copy all 50,000."""
    raw = state.store.list(rt.key, namespace or None)
    if after is not None:
        raw = [
            o for o in raw if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after
        ]
    query = request.query
    if not query.get("labelSelector") and not query.get("fieldSelector"):
        page = raw[:limit] if 0 < limit < len(raw) else raw
        return [to_view(rt, o) for o in page], len(raw) - len(page)
    labels = label_matcher(query.get("labelSelector"))
    fields = field_matcher(query.get("fieldSelector"))
    items = [o for o in (to_view(rt, o) for o in raw) if labels(o) and fields(o)]
    page = items[:limit] if 0 < limit < len(items) else items
    return page, len(items) - len(page)


def list_response(
    request: web.Request, state: SimState, rt: ResourceType, namespace: str
) -> web.Response:
    rv = str(state.store.rv)
    query = request.query
    cont = query.get("continue", "")
    start: tuple[str, str] | None = None
    if cont:
        try:
            token = json.loads(base64.urlsafe_b64decode(cont.encode()))
            start = (str(token["start"][0]), str(token["start"][1]))
            rv = token["rv"]
        except (ValueError, KeyError, TypeError, IndexError):
            raise StatusError(
                400,
                "continue key is not valid: incorrect encoded start resourceVersion "
                "(version meta.k8s.io/v1)",
            ) from None
    limit = 0
    limit_raw = query.get("limit", "")
    if limit_raw:
        try:
            limit = int(limit_raw)
        except ValueError:
            raise StatusError(400, f"invalid limit {limit_raw!r}") from None
    items, remaining = select(state, rt, namespace, request, start, max(0, limit))
    next_token = ""
    if remaining and items:
        last = items[-1]["metadata"]
        token = {"rv": rv, "start": [last.get("namespace", ""), last["name"]]}
        next_token = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
    if wants_table(request.headers.get("Accept", "")):
        printer = printer_for(rt.key, crd_for(state, rt), rt.version)
        return json_response(
            build_table(
                items,
                printer,
                include_object=query.get("includeObject", "Metadata"),
                resource_version=rv,
                continue_token=next_token,
            )
        )
    builtin = not (crd_for(state, rt) is not None)
    meta: JSON = {"resourceVersion": rv}
    if next_token:
        meta["continue"] = next_token
        meta["remainingItemCount"] = remaining
    if builtin:
        # Typed lists from kube-apiserver carry no kind/apiVersion on their items.
        items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
    return json_response(
        {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}
    )
