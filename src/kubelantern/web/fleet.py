"""`GET /api/clusters/{name}/summary`: the fleet table's counts for one cluster, on demand.

The home page asks for a row's counts only when the row is on screen (and the cluster
answered its probe), so a kubeconfig of a hundred contexts never lists pods on a hundred
clusters at once. Here the answers are cached per cluster and credential (`TTL`), one
fetch in flight per key, at most `AT_ONCE` clusters listed together; a cluster whose probe
failed is not asked at all (its exec plugin is not re-run for a count).

The lists are read with the credential a proxied request from this browser would use
(`proxy/plan.py`: a login cookie, the signed-in user's token, else the kubeconfig's), so
nobody sees counts of a cluster they could not list themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlencode

from aiohttp import web

from kubelantern.clusters.fetching import get_json
from kubelantern.clusters.probe import OK, UNKNOWN
from kubelantern.clusters.summary import (
    ClusterSummary,
    continue_token,
    count_listed,
    count_nodes,
    count_pods,
)
from kubelantern.identity.request import TRUSTED_USER, request_user
from kubelantern.proxy.auth import upstream_auth
from kubelantern.proxy.plan import Refusal, RequestView, plan
from kubelantern.status import KubelanternError, error_response, status_response
from kubelantern.web import keys, team
from kubelantern.web.api import cluster_from

if TYPE_CHECKING:
    from kubelantern.clusters.cluster import Cluster
    from kubelantern.clusters.fetching import Answer
    from kubelantern.clusters.probe import Prober

TTL = 30.0
AT_ONCE = 8
PAGE = 500
MAX_POD_PAGES = 20  # 10,000 pods; beyond, the count is a lower bound (`complete: false`)
ANSWER_WITHIN = 15.0
MAX_ENTRIES = 2048


class Summaries:
    """Cached summaries, one fetch in flight per (cluster, credential)."""

    def __init__(self, ttl: float = TTL, at_once: int = AT_ONCE) -> None:
        self.ttl = ttl
        self._slots = asyncio.Semaphore(at_once)
        self._cached: dict[str, tuple[float, ClusterSummary]] = {}
        self._inflight: dict[str, asyncio.Task[ClusterSummary]] = {}
        self.running = 0  # fetches in progress now (and the most seen, for tests/metrics)
        self.most = 0

    async def get(self, key: str, fetch: Any) -> ClusterSummary:
        hit = self._cached.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._run(key, fetch))
            self._inflight[key] = task
        return await asyncio.shield(task)

    async def _run(self, key: str, fetch: Any) -> ClusterSummary:
        try:
            async with self._slots:
                self.running += 1
                self.most = max(self.most, self.running)
                try:
                    summary: ClusterSummary = await fetch()
                finally:
                    self.running -= 1
            self._cached.pop(key, None)
            self._cached[key] = (time.monotonic(), summary)
            while len(self._cached) > MAX_ENTRIES:
                del self._cached[next(iter(self._cached))]
            return summary
        finally:
            self._inflight.pop(key, None)

    def forget(self, name: str) -> None:
        for key in [k for k in self._cached if k.split("\0", 1)[0] == name]:
            del self._cached[key]

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


SUMMARIES: Final = web.AppKey("summaries", Summaries)


async def _fetch(cluster: Cluster, auth: Mapping[str, str], tls: Any) -> ClusterSummary:
    out = ClusterSummary(cluster.name)

    async def get(path: str, query: str) -> Answer | None:
        answer = await get_json(
            cluster, path, query, auth=auth, tls=tls, answer_within=ANSWER_WITHIN
        )
        if answer.status != 200:
            out.notes.append(f"{path}: {answer.status} {answer.message() or ''}".strip())
            return None
        return answer

    if (nodes := await get("/api/v1/nodes", urlencode({"limit": 5000}))) is not None:
        out.nodes, out.nodes_ready = count_nodes(nodes.json())
    query = {"fieldSelector": "type=Warning", "limit": PAGE}
    if (events := await get("/api/v1/events", urlencode(query))) is not None:
        out.warnings = count_listed(events.json())
    pods = not_ready = 0
    token: str | None = None
    for _ in range(MAX_POD_PAGES):
        page_query = {"limit": PAGE} | ({"continue": token} if token else {})
        page = await get("/api/v1/pods", urlencode(page_query, quote_via=quote))
        if page is None:
            return out
        doc = page.json()
        n, bad = count_pods(doc)
        pods, not_ready = pods + n, not_ready + bad
        token = continue_token(doc)
        if token is None:
            break
    out.pods, out.pods_not_ready, out.complete = pods, not_ready, token is None
    return out


def _view(request: web.Request, cluster: Cluster) -> RequestView:
    """The request as the proxy would see a `GET /api/v1/nodes` from this browser."""
    user = request_user(request)
    return RequestView(
        method="GET",
        api_path="/api/v1/nodes",
        raw_query="",
        headers=request.headers,
        cookies=request.cookies,
        open_login=team.login_opener(request.app[keys.SEALER], cluster.name),
        session_bearer=user.bearer if user is not None else None,
        trusted_user=request.get(TRUSTED_USER),
    )


async def _probe_state(prober: Prober, cluster: Cluster) -> tuple[str, str | None]:
    result = (await prober.results([cluster], wait=3.0)).get(cluster.name)
    return (result.state, result.reason) if result is not None else (UNKNOWN, None)


async def summary(request: web.Request) -> web.Response:
    found = cluster_from(request)
    if isinstance(found, web.Response):
        return found
    cluster = found
    await cluster.ensure_tls()  # first use: unusable TLS material is a load error (503)
    decided = plan(_view(request, cluster), cluster, request.app[keys.SETTINGS])
    if isinstance(decided, Refusal):
        return status_response(decided.status, decided.message)
    if decided.user is None:
        # The kubeconfig's credential: only once its probe said the cluster answers, so a
        # failing exec plugin is not re-run (nor a dead host dialled) for a count.
        state, reason = await _probe_state(request.app[keys.PROBER], cluster)
        if state != OK:
            body = ClusterSummary(cluster.name).to_json() | {"state": state, "reason": reason}
            return web.json_response(body, headers={"Cache-Control": "no-store"})
    # Impersonate-* the plan lets through (an identity-aware proxy's user) go too, and are
    # part of the key: one user's counts are never another's.
    impersonate = sorted((k, v) for k, v in decided.headers.items() if k.startswith("Impersonate-"))
    credential = decided.user.authorization if decided.user is not None else "kubeconfig"
    key = cluster.name + "\0" + hashlib.sha256(f"{credential}\0{impersonate}".encode()).hexdigest()

    async def fetch() -> ClusterSummary:
        auth = await upstream_auth(cluster, decided.user, request.app[keys.METRICS])
        headers = dict(auth.headers)
        headers.update(impersonate)
        return await _fetch(cluster, headers, auth.tls)

    try:
        found_summary = await request.app[SUMMARIES].get(key, fetch)
    except KubelanternError as e:  # ClusterUnreachable, CredentialError
        return error_response(e)
    body = found_summary.to_json() | {"state": OK}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def _close(app: web.Application) -> None:
    await app[SUMMARIES].close()


def add_routes(app: web.Application, base: str) -> None:
    app[SUMMARIES] = Summaries()
    app.on_cleanup.append(_close)
    app.router.add_get(f"{base}/api/clusters/{{name:.+}}/summary", summary)
