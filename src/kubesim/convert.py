"""Views of one stored object in another API version: core/v1 Event <-> events.k8s.io/v1 Event."""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]


def core_to_events_v1(e: JSON) -> JSON:
    src = e.get("source") or {}
    out: JSON = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": copy.deepcopy(e.get("metadata") or {}),
        "eventTime": e.get("eventTime"),
        "reportingController": e.get("reportingComponent") or src.get("component", ""),
        "reportingInstance": e.get("reportingInstance") or src.get("host", ""),
        "action": e.get("action", ""),
        "reason": e.get("reason", ""),
        "regarding": copy.deepcopy(e.get("involvedObject") or {}),
        "note": e.get("message", ""),
        "type": e.get("type", ""),
        "deprecatedSource": copy.deepcopy(src),
        "deprecatedFirstTimestamp": e.get("firstTimestamp"),
        "deprecatedLastTimestamp": e.get("lastTimestamp"),
        "deprecatedCount": e.get("count", 0),
    }
    if e.get("related"):
        out["related"] = copy.deepcopy(e["related"])
    if e.get("series"):
        out["series"] = copy.deepcopy(e["series"])
    return {k: v for k, v in out.items() if v not in ("", None) or k in ("eventTime",)}


def events_v1_to_core(e: JSON) -> JSON:
    out: JSON = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": copy.deepcopy(e.get("metadata") or {}),
        "involvedObject": copy.deepcopy(e.get("regarding") or {}),
        "reason": e.get("reason", ""),
        "message": e.get("note", ""),
        "type": e.get("type", ""),
        "source": copy.deepcopy(e.get("deprecatedSource") or {}),
        "firstTimestamp": e.get("deprecatedFirstTimestamp"),
        "lastTimestamp": e.get("deprecatedLastTimestamp"),
        "count": e.get("deprecatedCount") or 1,
        "eventTime": e.get("eventTime"),
        "reportingComponent": e.get("reportingController", ""),
        "reportingInstance": e.get("reportingInstance", ""),
        "action": e.get("action", ""),
    }
    if e.get("related"):
        out["related"] = copy.deepcopy(e["related"])
    return out


# (group, version, plural) of a view -> (to view, from view)
VIEWS = {
    ("events.k8s.io", "v1", "events"): (core_to_events_v1, events_v1_to_core),
}
