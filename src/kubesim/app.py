"""The simulator's aiohttp application: one catch-all handler that records the request, plays
the profile's front door (Rancher's path prefix and Origin rule, authentication), then serves
discovery, resources, watches, logs, and hands streaming subresources to `sim.streaming`."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from . import discovery
from .auth import AuthResult, authenticate, browser_origin_denied, is_denied
from .config import SimConfig
from .controller import Controllers
from .kinds import Registry, crd_types
from .profiles import SimProfile, get_profile
from .status import StatusError, status_response
from .store import Store

log = logging.getLogger(__name__)

JSON = dict[str, Any]

STATE_KEY: web.AppKey[SimState] = web.AppKey("kubelantern_sim_state")

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


@dataclass
class RecordedRequest:
    method: str
    path: str  # as received, prefix included, percent-decoding not applied
    query_string: str
    headers: tuple[tuple[str, str], ...]  # as received, in order
    # Who the front door took the request for, and how (bearer, oidc, basic, ...).
    user: str | None = None
    via: str = ""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def header_values(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]


@dataclass
class SimState:
    config: SimConfig
    profile: SimProfile
    store: Store
    registry: Registry
    controllers: Controllers
    started_at: dt.datetime
    requests: list[RecordedRequest] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.config.version or self.profile.default_version

    @property
    def prefix(self) -> str:
        return self.profile.prefix(self.config.cluster_id)

    def record(self, request: web.BaseRequest) -> RecordedRequest:
        rec = RecordedRequest(
            request.method,
            request.raw_path.split("?", 1)[0],
            request.query_string,
            tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers),
        )
        self.requests.append(rec)
        excess = len(self.requests) - self.config.request_history
        if excess > 0:
            del self.requests[:excess]
        return rec

    def sync_crds(self) -> None:
        """Register the resource types of every stored CRD (and drop deleted ones)."""
        wanted = {}
        for crd in self.store.list("customresourcedefinitions.apiextensions.k8s.io"):
            for rt in crd_types(crd):
                wanted[(rt.group, rt.version, rt.plural)] = rt
        for k, rt in list(self.registry.types.items()):
            if rt.group and k not in wanted and rt.has_generation and _is_custom(rt):
                del self.registry.types[k]
        for rt in wanted.values():
            self.registry.add(rt)


def _is_custom(rt: Any) -> bool:
    from .kinds import BUILTIN

    return not any(b.group == rt.group and b.plural == rt.plural for b in BUILTIN)


def state_of(app: web.Application) -> SimState:
    return app[STATE_KEY]


def make_state(config: SimConfig) -> SimState:
    from .seed import seed

    profile = get_profile(config.profile)
    store = Store(history=config.watch_history, uid_seed=config.seed)
    registry = Registry(profile.name)
    controllers = Controllers(
        store,
        config.seed,
        startup_seconds=config.pod_startup_seconds,
        termination_seconds=config.pod_termination_seconds,
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    state = SimState(config, profile, store, registry, controllers, now)
    if config.demo_data:
        seed(store, controllers, now, profile.name)
    state.sync_crds()
    return state


def make_app(config: SimConfig) -> web.Application:
    """A simulator app for `config` (sync: safe to call outside an event loop)."""
    state = make_state(config)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


def json_response(
    obj: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(obj, separators=(",", ":")).encode(),
        headers={"Content-Type": content_type},
    )


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
    from .handlers import route

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


def check_allowed(
    state: SimState, user: str, verb: str, resource: str, group: str, ns: str, name: str
) -> None:
    """Enforce SimConfig.denied_verbs with the apiserver's 403 text."""
    rules = state.config.denied_verbs.get(user, ())
    if rules and is_denied(rules, verb, resource):
        from .status import forbidden

        plural, _, sub = resource.partition("/")
        raise forbidden(user, verb, plural, sub, group, ns, name)


__all__ = [
    "AuthResult",
    "RecordedRequest",
    "SimState",
    "discovery",
    "json_response",
    "make_app",
    "state_of",
]
