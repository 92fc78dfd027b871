"""Medians with their spread, percentiles, and the `median [min-max]` way of showing them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def spread(values: Sequence[float]) -> dict[str, Any]:
    """{median, min, max, n} of the values (empty: n 0 and no numbers)."""
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    vals = sorted(values)
    if not vals:
        return math.nan
    k = (len(vals) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def fmt(s: dict[str, Any] | None, digits: int = 2) -> str:
    """`1.23 [1.10-1.40]` (n shown when it is small), or `-` for nothing measured."""
    if not s or not s.get("n"):
        return "-"
    text = f"{s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}]"
    return text
