"""Reading whole upstream bodies with a bound.

`StreamReader.read(n)` returns what has arrived so far (up to n bytes), not the whole
body: a JSON list larger than one TCP read would be cut short. This reads to the end or
to the bound, whichever comes first.
"""

from __future__ import annotations

import contextlib
import json

import aiohttp


class BodyTooLarge(ValueError):
    """The body did not end within the bound."""


async def read_bounded(
    content: aiohttp.StreamReader, limit: int, *, truncate: bool = False
) -> bytes:
    """The whole body, at most `limit` bytes: past it, raise `BodyTooLarge` (or cut it
    when `truncate`, for bodies only shown to people, such as error messages)."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await content.read(limit + 1 - size)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
    if truncate:
        return b"".join(parts)[:limit]
    raise BodyTooLarge(f"body larger than {limit} bytes")


def error_message(body: bytes, limit: int) -> str | None:
    """What an error body says, for a person: the `message` of a JSON error (a Status, or
    Rancher's `Message`), else the body's text; at most `limit` characters, None if empty."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            for key in ("message", "Message"):
                if isinstance(data.get(key), str):
                    return str(data[key])[:limit]
    return text[:limit]
