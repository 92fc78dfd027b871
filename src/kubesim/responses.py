"""JSON responses with the apiserver's compact encoding."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    obj: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(obj, separators=(",", ":")).encode(),
        headers={"Content-Type": content_type},
    )
