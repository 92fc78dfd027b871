"""Reading the recordings back (`/api/recordings`): the list with each header's metadata,
and one file by its relative path — refusing any path that would leave the folder.

Blocking file IO: callers run these in a thread.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_LISTED = 1000  # newest first; older ones stay on disk
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A path component as recordings.safe_name makes them: never empty, never "." or "..".
_COMPONENT = re.compile(r"[A-Za-z0-9_%-][A-Za-z0-9_%.-]{0,199}")


@dataclass(frozen=True)
class Filters:
    cluster: str | None = None
    pod: str | None = None
    user: str | None = None
    day: str | None = None


def _header(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            first = f.readline(64 * 1024)
            size = f.seek(0, 2)
            f.seek(max(0, size - 4096))
            tail = f.read().splitlines()
    except OSError:
        return None
    try:
        header = json.loads(first)
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(header.get("kubelantern"), dict):
        return None
    exit_code: int | None = None
    if tail:
        try:
            last = json.loads(tail[-1])
            if isinstance(last, list) and len(last) == 3 and last[1] == "m":
                exit_code = int(str(last[2]).removeprefix("exit "))
        except ValueError:
            pass
    meta = header["kubelantern"]
    return {
        "timestamp": header.get("timestamp"),
        "width": header.get("width"),
        "height": header.get("height"),
        "size": size,
        "exit": exit_code,
        **{k: meta.get(k) for k in ("cluster", "namespace", "pod", "container", "command")},
        **{k: meta.get(k) for k in ("user", "client", "kind")},
    }


def list_recordings(root: Path, filters: Filters, user: str | None = None) -> list[dict[str, Any]]:
    """Recordings under `root`, newest first; `user` (team mode) keeps only that user's."""
    found: list[tuple[float, Path, str]] = []
    if not root.is_dir():
        return []
    for cluster_dir in root.iterdir():
        if not cluster_dir.is_dir():
            continue
        for day_dir in cluster_dir.iterdir():
            if not day_dir.is_dir() or not _DAY.fullmatch(day_dir.name):
                continue
            if filters.day and day_dir.name != filters.day:
                continue
            for cast in day_dir.glob("*.cast"):
                try:
                    found.append((cast.stat().st_mtime, cast, day_dir.name))
                except OSError:
                    continue
    found.sort(key=lambda item: item[0], reverse=True)
    items: list[dict[str, Any]] = []
    for _, cast, day in found:
        meta = _header(cast)
        if meta is None:
            continue
        if user is not None and meta.get("user") != user:
            continue
        if filters.cluster and meta.get("cluster") != filters.cluster:
            continue
        if filters.pod and filters.pod not in str(meta.get("pod") or ""):
            continue
        if filters.user and meta.get("user") != filters.user:
            continue
        items.append({"path": cast.relative_to(root).as_posix(), "day": day, **meta})
        if len(items) >= MAX_LISTED:
            break
    return items


def resolve(root: Path, relative: str) -> Path | None:
    """The file `relative` (`<cluster>/<day>/<name>.cast`) names under `root`, or None."""
    parts = relative.split("/")
    if len(parts) != 3 or not all(_COMPONENT.fullmatch(p) for p in parts):
        return None
    if not _DAY.fullmatch(parts[1]) or not parts[2].endswith(".cast"):
        return None
    path = root.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root.resolve(strict=True)) or not real.is_file():
            return None
    except OSError:
        return None
    return real
