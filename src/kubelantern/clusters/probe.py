"""Is a cluster reachable, which version, which distribution? A cached, bounded probe.

`probe_cluster(cluster)` asks `/version` and `/apis` with the kubeconfig's credentials
and a short timeout, classifies the answer, and records the detected profile on the
cluster. `Prober` caches results (~30 s), runs probes in parallel and never makes a
caller wait longer than it asks: `/api/clusters` waits up to ~3 s, then answers
"unknown" while the probe finishes in the background. `kubelantern doctor` calls
`probe_cluster` directly. For a cluster the user logged in to with a token, `user_result`
probes with that token (cached per cluster and token digest), so the login state shown is
the user's own, not the kubeconfig's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelantern.clusters.bodies import error_message
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.failures import ClusterUnreachable
from kubelantern.clusters.fetching import get_json
from kubelantern.clusters.profiles import detect_profile

if TYPE_CHECKING:
    from kubelantern.clusters.cluster import Cluster, Transport


log = logging.getLogger("kubelantern.probe")

PROBE_TIMEOUT = 5.0
CACHE_TTL = 30.0
# Failures that asking again will not fix (a rejected credential, a missing or failing exec
# plugin, a TLS mismatch, a broken kubeconfig) are not re-probed every 30 s — that would re-run
# a failing plugin forever — but kept until someone checks again (`forget`) or this long.
HOPELESS = frozenset({"rejected", "exec-plugin", "credentials", "tls", "config"})
HOPELESS_TTL = 600.0
# Probes in flight at once: a first /api/clusters over a hundred contexts would otherwise
# start a hundred TLS handshakes and exec plugins together, holding up proxied requests.
PROBES_AT_ONCE = 8

# state values reported by /api/clusters
OK = "ok"
UNREACHABLE = "unreachable"
UNAUTHORIZED = "unauthorized"
ERROR = "error"
UNKNOWN = "unknown"


@dataclass
class ProbeResult:
    state: str
    error: str | None = None
    version: str | None = None
    checked_at: float = field(default_factory=time.monotonic)
    profile_reason: str | None = None
    api_groups: tuple[str, ...] = ()
    status: int | None = None  # the HTTP status that decided the state, if any
    # Why it is not ok, for the page to explain and offer the fix: rejected (401), exec-plugin,
    # credentials, tls, timeout, unreachable, protocol, config, error.
    reason: str | None = None


def classify(status: int, body: bytes, cluster: str) -> tuple[str, str | None]:
    """State and error text for a `/version` answer."""
    if 200 <= status < 300:
        return OK, None
    message = error_message(body, 300)
    if status == 401:
        return UNAUTHORIZED, (
            f"cluster {cluster!r} rejected the credentials (401"
            + (f": {message}" if message else "")
            + "); refresh them (kubectl login / exec plugin) or log in"
        )
    if status == 403:
        # Authenticated but not allowed to read /version: the cluster is there and knows us.
        return OK, None
    return ERROR, f"cluster {cluster!r} answered {status}" + (f": {message}" if message else "")


def api_groups_of(apis_json: Any) -> tuple[str, ...]:
    """Group names from an APIGroupList (or an aggregated APIGroupDiscoveryList)."""
    if not isinstance(apis_json, dict):
        return ()
    out: list[str] = []
    for item in apis_json.get("groups") or apis_json.get("items") or []:
        if isinstance(item, dict):
            name = item.get("name") or (item.get("metadata") or {}).get("name")
            if isinstance(name, str):
                out.append(name)
    return tuple(out)


async def probe_cluster(
    cluster: Cluster,
    limit: float = PROBE_TIMEOUT,
    *,
    auth: Mapping[str, str] | None = None,
    tls: Transport | None = None,
) -> ProbeResult:
    """One probe of `cluster`; never raises. `auth`/`tls` None: the kubeconfig's credentials;
    given: a user's own credential (then without the kubeconfig's client certificate)."""
    await cluster.ensure_tls()  # a first use: unusable TLS material becomes the load error
    if cluster.load_error is not None:
        return ProbeResult(ERROR, cluster.load_error, reason="config")
    try:
        async with asyncio.timeout(limit):
            return await _probe(cluster, auth, tls)
    except TimeoutError:
        return ProbeResult(
            UNREACHABLE,
            f"cluster {cluster.name!r} did not answer within {limit:g}s",
            reason="timeout",
        )
    except CredentialError as e:
        why = "exec-plugin" if cluster.credentials.uses_exec and auth is None else "credentials"
        return ProbeResult(UNAUTHORIZED, str(e), reason=why)
    except ClusterUnreachable as e:
        failure = e.failure
        state = UNREACHABLE if failure.reason != "tls" else ERROR
        return ProbeResult(state, failure.message, reason=failure.reason)


async def _probe(
    cluster: Cluster, auth: Mapping[str, str] | None, tls: Transport | None
) -> ProbeResult:
    mine = auth is not None
    if auth is None:
        auth = await cluster.auth_headers()
    answer = await get_json(cluster, "/version", auth=auth, tls=tls, limit=256 * 1024)
    version_headers = dict(answer.headers)
    state, error = classify(answer.status, answer.body, cluster.name)
    if mine and state == UNAUTHORIZED:
        error = (
            f"cluster {cluster.name!r} rejected the token you logged in with (401); "
            "log in again with a fresh token"
        )
    status = answer.status
    version = None
    if state == OK and status == 200:
        found = answer.json()
        version = found.get("gitVersion") if isinstance(found, dict) else None
    groups: tuple[str, ...] = ()
    if state == OK:
        apis = await get_json(cluster, "/apis", auth=auth, tls=tls, limit=4 * 1024 * 1024)
        if apis.status == 200:
            groups = api_groups_of(apis.json())  # a cut (too large) body is not JSON
        version_headers.update(apis.headers)
    profile, reason = detect_profile(str(cluster.server_url), version_headers, groups)
    cluster.set_detected_profile(profile)
    return ProbeResult(
        state,
        error,
        version if isinstance(version, str) else None,
        profile_reason=reason,
        api_groups=groups,
        status=status,
        reason=None if state == OK else "rejected" if state == UNAUTHORIZED else "error",
    )


def credential_key(cluster: str, token: str) -> str:
    """The cache key of a user's probe: a digest, so no token is kept as a key."""
    return cluster + "\0" + hashlib.sha256(token.encode()).hexdigest()


class Prober:
    """Cached probes, one in flight per cluster (and per user credential)."""

    # Users' probes are cached too, bounded: the oldest go first.
    MAX_USER_RESULTS = 1024

    def __init__(
        self, ttl: float = CACHE_TTL, timeout: float = PROBE_TIMEOUT, at_once: int = PROBES_AT_ONCE
    ) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._slots = asyncio.Semaphore(at_once)
        self._results: dict[str, ProbeResult] = {}
        self._inflight: dict[str, asyncio.Task[ProbeResult]] = {}
        self._user_results: dict[str, ProbeResult] = {}
        self._user_inflight: dict[str, asyncio.Task[ProbeResult]] = {}

    def forget(self, name: str | None = None) -> None:
        if name is None:
            self._results.clear()
            self._user_results.clear()
        else:
            self._results.pop(name, None)
            for key in [k for k in self._user_results if k.split("\0", 1)[0] == name]:
                del self._user_results[key]

    async def user_result(
        self,
        cluster: Cluster,
        token: str,
        tls: Transport | None,
        wait: float = 3.0,
    ) -> ProbeResult:
        """The state of `cluster` as the holder of `token` sees it (the login state of the
        user's own credential, not the kubeconfig's). Cached like `results`."""
        key = credential_key(cluster.name, token)
        cached = self._user_results.get(key)
        if cached is not None and time.monotonic() - cached.checked_at < self.ttl:
            return cached
        task = self._user_inflight.get(key)
        if task is None:
            auth = {"Authorization": f"Bearer {token}"}
            task = asyncio.get_running_loop().create_task(
                probe_cluster(cluster, self.timeout, auth=auth, tls=tls)
            )
            self._user_inflight[key] = task
            task.add_done_callback(lambda t: self._user_done(key, t))
        await asyncio.wait({task}, timeout=wait)
        if task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
        return cached if cached is not None else ProbeResult(UNKNOWN)

    def _user_done(self, key: str, task: asyncio.Task[ProbeResult]) -> None:
        self._user_inflight.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._user_results.pop(key, None)
        self._user_results[key] = task.result()
        while len(self._user_results) > self.MAX_USER_RESULTS:
            del self._user_results[next(iter(self._user_results))]

    def _fresh(self, name: str) -> ProbeResult | None:
        result = self._results.get(name)
        if result is None:
            return None
        ttl = max(self.ttl, HOPELESS_TTL) if result.reason in HOPELESS else self.ttl
        return result if time.monotonic() - result.checked_at < ttl else None

    def start(self, cluster: Cluster) -> asyncio.Task[ProbeResult]:
        task = self._inflight.get(cluster.name)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._run(cluster))
            self._inflight[cluster.name] = task
        return task

    async def _run(self, cluster: Cluster) -> ProbeResult:
        try:
            async with self._slots:  # the timeout counts from the probe's start, not the queue
                result = await probe_cluster(cluster, self.timeout)
            self._results[cluster.name] = result
            if result.error and cluster.load_error is None:  # load errors are logged once
                log.info("probe of cluster %r: %s: %s", cluster.name, result.state, result.error)
            return result
        finally:
            self._inflight.pop(cluster.name, None)

    async def results(self, clusters: list[Cluster], wait: float = 3.0) -> dict[str, ProbeResult]:
        """Fresh or cached results for `clusters`, waiting at most `wait` seconds for
        probes that are due; a probe still running after that answers "unknown"."""
        out: dict[str, ProbeResult] = {}
        due: dict[str, asyncio.Task[ProbeResult]] = {}
        for cluster in clusters:
            fresh = self._fresh(cluster.name)
            if fresh is not None:
                out[cluster.name] = fresh
            else:
                due[cluster.name] = self.start(cluster)
        if due:
            await asyncio.wait(set(due.values()), timeout=wait)
            for name, task in due.items():
                if task.done() and not task.cancelled() and task.exception() is None:
                    out[name] = task.result()
                else:
                    stale = self._results.get(name)
                    out[name] = stale if stale is not None else ProbeResult(UNKNOWN)
        return out

    async def close(self) -> None:
        tasks = list(self._inflight.values()) + list(self._user_inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
