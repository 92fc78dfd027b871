"""Error bodies in the `metav1.Status` shape, so kubectl and client-go print them nicely."""

from __future__ import annotations

from typing import Any

from aiohttp import web

# HTTP status -> metav1.StatusReason (the ones we produce).
_REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    500: "InternalError",
    501: "NotImplemented",
    502: "ServiceUnavailable",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(code: int, message: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
        "code": code,
    }


def status_response(
    code: int, message: str, reason: str | None = None, *, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON `Status` response; the one way kubelantern itself reports an error."""
    return web.json_response(status_body(code, message, reason), status=code, headers=headers)
