"""Errors as kubelantern reports them: `metav1.Status` bodies, and the one error base type.

Every error kubelantern answers with is a `KubelanternError` (or a `Refusal` of the proxy
plan); `error_response(e)` is where one becomes an HTTP answer, a JSON `Status` that
kubectl and client-go print nicely.
"""

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


class KubelanternError(Exception):
    """Something kubelantern could not do; `str(e)` says what, to which cluster, what to do.

    `status` is the HTTP status a client gets for it (callers may answer another one where
    the same failure means something else, e.g. credentials at a WebSocket upgrade).
    """

    status: int = 500
    reason: str | None = None  # None: the usual reason for `status`

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason


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


def error_response(error: KubelanternError, status: int | None = None) -> web.Response:
    """`error` as the client sees it (`status` overrides the error's own)."""
    code = status or error.status
    reason = error.reason if status is None or status == error.status else None
    return status_response(code, str(error), reason)
