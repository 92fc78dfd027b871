"""Is a cluster reachable, which version, which distribution? A cached, bounded probe.

`probe_cluster(cluster)` asks `/version` and `/apis` with the kubeconfig's credentials
and a short timeout, classifies the answer, and records the detected profile on the
cluster. `Prober` caches results (~30 s), runs probes in parallel and never makes a
caller wait longer than it asks: `/api/clusters` waits up to ~3 s, then answers
"unknown" while the probe finishes in the background. `kubelantern doctor` calls
`probe_cluster` directly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelantern.clusters.bodies import error_message
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.failures import ClusterUnreachable
from kubelantern.clusters.fetching import get_json
from kubelantern.clusters.profiles import detect_profile

if TYPE_CHECKING:
    from kubelantern.clusters.cluster import Cluster


log = logging.getLogger("kubelantern.probe")

PROBE_TIMEOUT = 5.0
CACHE_TTL = 30.0
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


async def probe_cluster(cluster: Cluster, limit: float = PROBE_TIMEOUT) -> ProbeResult:
    """One probe of `cluster` with its kubeconfig credentials; never raises."""
    if cluster.load_error is not None:
        return ProbeResult(ERROR, cluster.load_error)
    try:
        async with asyncio.timeout(limit):
            return await _probe(cluster)
    except TimeoutError:
        return ProbeResult(
            UNREACHABLE, f"cluster {cluster.name!r} did not answer within {limit:g}s"
        )
    except CredentialError as e:
        return ProbeResult(UNAUTHORIZED, str(e))
    except ClusterUnreachable as e:
        failure = e.failure
        return ProbeResult(UNREACHABLE if failure.reason != "tls" else ERROR, failure.message)


async def _probe(cluster: Cluster) -> ProbeResult:
    auth = await cluster.auth_headers()
    answer = await get_json(cluster, "/version", auth=auth, limit=256 * 1024)
    version_headers = dict(answer.headers)
    state, error = classify(answer.status, answer.body, cluster.name)
    status = answer.status
    version = None
    if state == OK and status == 200:
        found = answer.json()
        version = found.get("gitVersion") if isinstance(found, dict) else None
    groups: tuple[str, ...] = ()
    if state == OK:
        apis = await get_json(cluster, "/apis", auth=auth, limit=4 * 1024 * 1024)
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
    )


class Prober:
    """Cached probes, one in flight per cluster."""

    def __init__(
        self, ttl: float = CACHE_TTL, timeout: float = PROBE_TIMEOUT, at_once: int = PROBES_AT_ONCE
    ) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._slots = asyncio.Semaphore(at_once)
        self._results: dict[str, ProbeResult] = {}
        self._inflight: dict[str, asyncio.Task[ProbeResult]] = {}

    def forget(self, name: str | None = None) -> None:
        if name is None:
            self._results.clear()
        else:
            self._results.pop(name, None)

    def _fresh(self, name: str) -> ProbeResult | None:
        result = self._results.get(name)
        if result is not None and time.monotonic() - result.checked_at < self.ttl:
            return result
        return None

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
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
