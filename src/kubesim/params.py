"""Query parameters as the apiserver reads them: booleans, RFC 3339 times, dryRun, orphaning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .status import StatusError


def parse_bool(value: str | None) -> bool:
    """apimachinery's rule: absent, "0" or any case of "false" is false; anything else true."""
    if value is None:
        return False
    return value != "0" and value.lower() != "false"


def parse_rfc3339(value: str) -> dt.datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 cannot take nanoseconds; trim the fraction to microseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("no timezone")
    return parsed.astimezone(dt.UTC)


def format_rfc3339_nano(t: dt.datetime, nanos: int = 0) -> str:
    """Go's time.RFC3339Nano: fraction with trailing zeros trimmed, `Z` for UTC."""
    t = t.astimezone(dt.UTC)
    frac = f"{t.microsecond * 1000 + nanos % 1000:09d}".rstrip("0")
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def dry_run(query: Any) -> bool:
    """`?dryRun=All` (the only value the apiserver takes); 400 for any other value."""
    values = query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise StatusError(
                400, f'unsupported dry run value "{v}"; the only supported value is "All"'
            )
    return bool(values)


def orphan(query: Any) -> bool:
    """Whether a delete leaves the object's dependents behind."""
    return bool(
        query.get("propagationPolicy") == "Orphan" or query.get("orphanDependents") == "true"
    )
