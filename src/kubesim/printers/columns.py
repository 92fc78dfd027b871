"""What every printer is made of: column definitions (`kubectl get` and `-o wide`), the
NAME and AGE cells, ages as apimachinery's HumanDuration prints them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..params import parse_rfc3339

JSON = dict[str, Any]
Cells = list[Any]
Printer = tuple[list[JSON], Callable[[JSON], Cells]]  # columns, and the cells of one object

INT = "integer"


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age(ts: str | None, now: dt.datetime | None = None) -> str:
    if not ts:
        return "<unknown>"
    try:
        t = parse_rfc3339(ts)
    except ValueError:
        return "<unknown>"
    now = now or dt.datetime.now(dt.UTC)
    return human_duration((now - t).total_seconds())


def col(name: str, type_: str = "string", priority: int = 0, fmt: str = "", desc: str = "") -> JSON:
    return {
        "name": name,
        "type": type_,
        "format": fmt,
        "description": desc or name,
        "priority": priority,
    }


def wide(name: str, type_: str = "string") -> JSON:
    """A column `kubectl get -o wide` adds."""
    return col(name, type_, priority=1)


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")


AGE = col(
    "Age",
    desc="CreationTimestamp is a timestamp representing the server time when this object "
    "was created.",
)


TEMPLATE_COLUMNS = [wide("Containers"), wide("Images"), wide("Selector")]


def meta_of(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def name_of(obj: JSON) -> str:
    return str(meta_of(obj).get("name", ""))


def age_of(obj: JSON) -> str:
    return age(meta_of(obj).get("creationTimestamp"))


def pairs(labels: JSON | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def template_cells(spec: JSON) -> Cells:
    """CONTAINERS, IMAGES, SELECTOR: the wide cells of every pod-template owner."""
    cs = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return [
        ",".join(c.get("name", "") for c in cs),
        ",".join(c.get("image", "") for c in cs),
        pairs((spec.get("selector") or {}).get("matchLabels")),
    ]
