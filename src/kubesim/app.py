"""The simulator's aiohttp application: one catch-all handler that records the request, plays
the profile's front door (Rancher's path prefix and Origin rule, authentication), then serves
discovery, resources, watches, logs, and hands streaming subresources to `sim.streaming`."""

from __future__ import annotations

import logging

from aiohttp import web
from multidict import CIMultiDict

from .auth import authenticate, browser_origin_denied
from .config import SimConfig
from .profiles import SimProfile
from .routes import route
from .state import STATE_KEY, RecordedRequest, SimState, make_state
from .status import StatusError, status_response

log = logging.getLogger(__name__)

KUBE_UNAUTHORIZED = (
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
    '"message":"Unauthorized","reason":"Unauthorized","code":401}'
)
RANCHER_UNAUTHORIZED = (
    '{"type":"error","status":"401","message":"Unauthorized 401: must authenticate"}'
)
RANCHER_ORIGIN_DENIED = (
    '{"Code":{"Code":"PermissionDenied","Status":403},"Message":"origin not allowed",'
    '"Cause":null,"FieldName":""}'
)
RANCHER_NO_CLUSTER = (
    '{"Code":{"Code":"NotFound","Status":404},"Message":"No cluster available",'
    '"Cause":null,"FieldName":""}'
)


def make_app(config: SimConfig) -> web.Application:
    """A simulator app for `config` (sync: safe to call outside an event loop)."""
    state = make_state(config)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


def _headers(request: web.BaseRequest) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    rec = state.record(request)
    profile = state.profile
    headers = _headers(request)
    try:
        response = await _front_door(request, state, profile, headers, rec)
    except StatusError as err:
        response = err.response()
    except web.HTTPException:
        raise
    except ConnectionResetError:
        raise
    except Exception as exc:
        log.exception("simulator error on %s %s", request.method, request.path)
        response = status_response(500, f"simulator error: {type(exc).__name__}: {exc}")
    return response


async def _front_door(
    request: web.Request,
    state: SimState,
    profile: SimProfile,
    headers: list[tuple[str, str]],
    rec: RecordedRequest,
) -> web.StreamResponse:
    if profile.browser_origin_check and browser_origin_denied(headers):
        return _fixed(403, RANCHER_ORIGIN_DENIED, "application/json")
    path = request.path
    prefix = state.prefix
    if prefix:
        if not (path == prefix or path.startswith(prefix + "/")):
            if path.startswith("/k8s/clusters/"):
                # Right shape, unknown cluster: Rancher says so after authenticating.
                result = authenticate(profile, state.config, headers)
                if not result.ok:
                    return _unauthorized(profile)
            return _fixed(404, RANCHER_NO_CLUSTER, "text/plain")
        path = path[len(prefix) :] or "/"
    result = authenticate(profile, state.config, headers)
    rec.user, rec.via = result.user, result.via
    # Public paths admit requests without credentials; bad credentials are refused everywhere.
    anonymous_ok = path in profile.public_paths and result.error == "no credentials"
    if not result.ok and not anonymous_ok:
        return _unauthorized(profile)
    if result.protocols is not None:
        # kube-apiserver removes the token protocol before anything else sees the request.
        new_headers = CIMultiDict(request.headers)
        new_headers.popall("Sec-WebSocket-Protocol", None)
        new_headers["Sec-WebSocket-Protocol"] = ",".join(result.protocols)
        request = request.clone(headers=new_headers)
    user = result.user or "system:anonymous"
    impersonate = request.headers.get("Impersonate-User")
    if impersonate and result.ok:
        user = impersonate  # every simulated user may impersonate (kubectl --as, Rancher)
    response = await route(request, state, path, user)
    if profile.cattle_auth_header and not response.prepared:
        response.headers["X-Api-Cattle-Auth"] = "true"
    return response


def _fixed(status: int, body: str, content_type: str) -> web.Response:
    """A response with exactly this body and Content-Type (no charset parameter added)."""
    return web.Response(status=status, body=body.encode(), headers={"Content-Type": content_type})


def _unauthorized(profile: SimProfile) -> web.Response:
    if profile.rancher_errors:
        resp = _fixed(401, RANCHER_UNAUTHORIZED, "application/json")
    else:
        resp = _fixed(401, KUBE_UNAUTHORIZED, "application/json")
    if profile.cattle_auth_header:
        resp.headers["X-Api-Cattle-Auth"] = "false"
    return resp
