"""Label and field selectors, parsed as apimachinery does (the common subset)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .status import StatusError

JSON = dict[str, Any]


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # = != in notin exists !exists
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return has and value == self.values[0]
        if self.op == "!=":
            return not has or value != self.values[0]
        if self.op == "in":
            return has and value in self.values
        if self.op == "notin":
            return not has or value not in self.values
        if self.op == "exists":
            return has
        return not has  # !exists


_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$")


def _split_top(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in (x.strip() for x in parts) if p]


def parse_label_selector(selector: str) -> list[Requirement]:
    reqs: list[Requirement] = []
    for part in _split_top(selector):
        for op in ("!=", "==", "="):
            if op in part and "(" not in part:
                key, _, value = part.partition(op)
                key, value = key.strip(), value.strip()
                if not _KEY_RE.match(key):
                    raise StatusError(
                        400, f"unable to parse requirement: invalid label key {key!r}"
                    )
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
                break
        else:
            m = _SET_RE.match(part)
            if not m:
                raise StatusError(400, f"unable to parse requirement: {part!r}")
            neg, key, op, values = m.groups()
            if op:
                if neg:
                    raise StatusError(400, f"unable to parse requirement: {part!r}")
                vals = tuple(v.strip() for v in values.split(",") if v.strip())
                reqs.append(Requirement(key, op, vals))
            else:
                reqs.append(Requirement(key, "!exists" if neg else "exists"))
    return reqs


def label_matcher(selector: str | None) -> Callable[[JSON], bool]:
    if not selector:
        return lambda obj: True
    return _labels_match(parse_label_selector(selector))


def _labels_match(reqs: list[Requirement]) -> Callable[[JSON], bool]:
    """Does an object's metadata.labels meet every requirement."""

    def match(obj: JSON) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in reqs)

    return match


def field_value(obj: JSON, path: str) -> str:
    """The string form of a dotted field path; missing fields read as ""."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(selector: str) -> list[tuple[str, str, str]]:
    out = []
    for part in _split_top(selector):
        for op in ("!=", "==", "="):
            if op in part:
                key, _, value = part.partition(op)
                out.append((key.strip(), "!=" if op == "!=" else "=", value.strip()))
                break
        else:
            raise StatusError(400, f"invalid selector: '{selector}'; can't understand '{part}'")
    return out


def field_matcher(
    selector: str | None, allowed: frozenset[str] | None = None
) -> Callable[[JSON], bool]:
    if not selector:
        return lambda obj: True
    terms = parse_field_selector(selector)
    for key, _, _ in terms:
        if allowed is not None and key not in allowed:
            raise StatusError(400, f"field label not supported: {key}")

    def match(obj: JSON) -> bool:
        for key, op, value in terms:
            actual = field_value(obj, key)
            if (actual == value) != (op == "="):
                return False
        return True

    return match
