"""`metav1.Status` error bodies, shaped like kube-apiserver's (`apimachinery/pkg/api/errors`)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    501: "NotImplemented",
}


class StatusError(Exception):
    """An API error that becomes a Status response (or a watch ERROR event)."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: JSON | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "Unknown")
        self.details = details

    def body(self) -> JSON:
        return status_body(self.code, self.message, self.reason, self.details)

    def response(self) -> web.Response:
        return status_response(self.code, self.message, self.reason, self.details)


def status_body(
    code: int, message: str, reason: str | None = None, details: JSON | None = None
) -> JSON:
    body: JSON = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def status_response(
    code: int, message: str, reason: str | None = None, details: JSON | None = None
) -> web.Response:
    return web.Response(
        status=code,
        body=json.dumps(status_body(code, message, reason, details), separators=(",", ":")),
        content_type="application/json",
    )


def success_status(details: JSON | None = None) -> JSON:
    body: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        body["details"] = details
    return body


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def _details(name: str, plural: str, group: str, **more: Any) -> JSON:
    """StatusDetails in metav1's field order (name, group, kind, ...); no empty group."""
    details: JSON = {"name": name, "group": group, "kind": plural, **more}
    if not group:
        del details["group"]
    return details


def not_found(plural: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        404,
        f'{_qualified(plural, group)} "{name}" not found',
        details=_details(name, plural, group),
    )


def already_exists(plural: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        409,
        f'{_qualified(plural, group)} "{name}" already exists',
        "AlreadyExists",
        _details(name, plural, group),
    )


def conflict(plural: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        409,
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again",
        "Conflict",
        _details(name, plural, group),
    )


def invalid(kind: str, name: str, group: str, causes: list[tuple[str, str]]) -> StatusError:
    """422 with field causes: [(field, message)], the message as apiserver joins them."""
    joined = ", ".join(f"{field}: {msg}" for field, msg in causes)
    if len(causes) > 1:
        joined = "[" + joined + "]"
    details = _details(
        name,
        kind,
        group,
        causes=[
            {"reason": "FieldValueInvalid", "message": msg, "field": field} for field, msg in causes
        ],
    )
    return StatusError(422, f'{kind} "{name}" is invalid: {joined}', "Invalid", details)


def forbidden(
    user: str, verb: str, plural: str, sub: str, group: str, ns: str, name: str
) -> StatusError:
    resource = f"{plural}/{sub}" if sub else plural
    where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
    subject = f'{_qualified(plural, group)} "{name}"' if name else _qualified(plural, group)
    return StatusError(
        403,
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group '
        f'"{group}"{where}',
        details=_details(name, plural, group),
    )


def not_found_path() -> StatusError:
    """The apiserver's 404 for a path it does not serve (no group, version or resource)."""
    return StatusError(404, "the server could not find the requested resource")


def method_not_allowed() -> StatusError:
    """The apiserver's 405 for a verb a resource does not take."""
    return StatusError(405, "the server does not allow this method on the requested resource")
