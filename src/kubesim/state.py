"""`SimState`: everything one running simulator holds (config, profile, store, resource types,
controllers, the requests it received), how a new one is made, and the per-user verb denials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .auth import is_denied
from .config import SimConfig
from .controller import Controllers
from .kinds import BUILTIN, Registry, crd_types
from .profiles import SimProfile, get_profile
from .seed import seed
from .seed.many import many_pods
from .status import forbidden
from .store import Store

STATE_KEY: web.AppKey[SimState] = web.AppKey("kubelantern_sim_state")


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
    # How many requests were ever recorded: a mark that keeps counting once `requests`
    # is trimmed to its history (len(requests) stops growing at the cap).
    recorded: int = 0

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
        self.recorded += 1
        excess = len(self.requests) - self.config.request_history
        if excess > 0:
            del self.requests[:excess]
        return rec

    def requests_since(self, mark: int) -> list[RecordedRequest]:
        """The requests recorded after `mark` (an earlier `recorded`), as far as the history
        still holds them."""
        newer = self.recorded - mark
        return self.requests[-newer:] if newer > 0 else []

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
    return not any(b.group == rt.group and b.plural == rt.plural for b in BUILTIN)


def state_of(app: web.Application) -> SimState:
    return app[STATE_KEY]


def make_state(config: SimConfig) -> SimState:
    """A simulator's state for `config`, seeded with the demo objects unless told not to."""
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
    many_pods(store, config.bulk_pods, config.bulk_namespaces, now)
    state.sync_crds()
    return state


def extra_headers(state: SimState) -> dict[str, str]:
    """Headers to set on streamed responses before prepare()."""
    return {"X-Api-Cattle-Auth": "true"} if state.profile.cattle_auth_header else {}


def check_allowed(
    state: SimState, user: str, verb: str, resource: str, group: str, ns: str, name: str
) -> None:
    """Enforce SimConfig.denied_verbs with the apiserver's 403 text."""
    rules = state.config.denied_verbs.get(user, ())
    if rules and is_denied(rules, verb, resource):
        plural, _, sub = resource.partition("/")
        raise forbidden(user, verb, plural, sub, group, ns, name)
