"""Request bodies as the apiserver decodes them: JSON, YAML or protobuf objects, and the four
patch media types (415 for anything else)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from . import protobuf
from .patch import PATCH_TYPES
from .status import StatusError

JSON = dict[str, Any]


def media_type(request: web.Request, default: str = "") -> str:
    return request.headers.get("Content-Type", default).split(";")[0].strip()


async def read_patch(request: web.Request) -> tuple[str, Any]:
    """(patch kind, decoded patch) of a PATCH request; 415 for a media type that is no patch."""
    kind = PATCH_TYPES.get(media_type(request))
    if kind is None:
        raise StatusError(
            415,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml, application/strategic-merge-patch+json",
        )
    raw = await request.read()
    try:
        return kind, yaml.safe_load(raw) if kind == "apply" else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise StatusError(400, f"error decoding patch: {exc}") from None


async def read_body(request: web.Request) -> JSON:
    raw = await request.read()
    ctype = media_type(request, "application/json")
    if ctype == protobuf.MEDIA_TYPE:
        try:
            return protobuf.decode_object(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StatusError(415, f"the body of the request could not be decoded: {exc}") from None
    if ctype not in ("application/json", "application/yaml", "application/x-yaml", "text/yaml", ""):
        # Like an apiserver without that serializer: 415 makes client-go retry with JSON.
        raise StatusError(
            415,
            f"the body of the request was in an unknown format - accepted media types include: "
            f'application/json, application/yaml (got "{ctype}")',
        )
    try:
        body = yaml.safe_load(raw) if "yaml" in ctype else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise StatusError(400, f"the body of the request could not be decoded: {exc}") from None
    if not isinstance(body, dict):
        raise StatusError(400, "the body of the request must be a JSON object")
    return body
