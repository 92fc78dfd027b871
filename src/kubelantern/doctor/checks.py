"""`kubelantern doctor`: probe each cluster directly (no kubelantern server in between).

Per cluster: reachability and auth (`/version` with the kubeconfig credentials), version,
profile and why, then exec (`echo kubelantern-doctor`) and logs over WebSocket with each
strategy of the profile, using the same handshake code the bridge uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any, TextIO
from urllib.parse import quote, urlencode

import aiohttp

from kubelantern.clusters.bodies import error_message
from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.fetching import get_json
from kubelantern.clusters.kubeconfig import shown_url
from kubelantern.clusters.profiles import STRATEGIES, Strategy
from kubelantern.doctor.report import (
    ClusterReport,
    StrategyResult,
    judge,
    render_json,
    render_table,
)
from kubelantern.proxy.handshake import build_handshake
from kubelantern.proxy.subprotocols import Offer
from kubelantern.proxy.ws.dial import UpstreamRefused, open_upstream
from kubelantern.settings import Settings
from kubelantern.status import KubelanternError

EXEC_MARKER = "kubelantern-doctor"
STREAM_TIMEOUT = 10.0  # seconds for one exec or logs session
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
LOG_PROTOCOLS = ("binary.k8s.io",)


async def run_doctor(
    settings: Settings, cluster: str | None, as_json: bool, out: TextIO = sys.stdout
) -> int:
    """Check every cluster (or the named one), print a table or JSON; 0 if all work."""
    from kubelantern.clusters.registry import load_registry

    registry = await load_registry(settings)
    try:
        await registry.build_tls()  # what a build finds, reported before any probe
        clusters = list(registry)
        if cluster is not None:
            clusters = [c for c in clusters if c.name == cluster]
            if not clusters:
                known = ", ".join(c.name for c in registry) or "none"
                print(f"unknown cluster {cluster!r}; known clusters: {known}", file=out)
                return 1
        if not clusters:
            errors = "; ".join(registry.errors) or "no kubeconfig contexts found"
            print(f"no clusters to check: {errors}", file=out)
            return 1
        reports = await asyncio.gather(*(check_cluster(c) for c in clusters))
    finally:
        await registry.close()
    print(render_json(reports) if as_json else render_table(reports), file=out)
    return 0 if all(r.ok for r in reports) else 1


async def check_cluster(cluster: Cluster) -> ClusterReport:
    """Everything doctor knows about one cluster. Never raises."""
    from kubelantern.clusters.probe import OK, UNAUTHORIZED, probe_cluster

    # Doctor output gets pasted into issues: no password from the server URL.
    report = ClusterReport(cluster.name, shown_url(str(cluster.server_url)))
    with contextlib.suppress(Exception):
        report.credentials = cluster.credentials.describe()
    started = time.monotonic()
    probe = await probe_cluster(cluster)
    report.auth_latency_ms = (time.monotonic() - started) * 1000
    report.auth_status = probe.status
    report.version = probe.version
    report.profile = cluster.profile.name
    report.profile_reason = (
        "set by --profile or the kubeconfig extension"
        if cluster.profile_source == "override"
        else probe.profile_reason or "default"
    )
    report.reachable = probe.state in (OK, UNAUTHORIZED) and probe.status is not None
    if probe.state == UNAUTHORIZED and probe.status is None:
        report.reachable = True  # credentials could not even be obtained
    if probe.state != OK:
        report.error = probe.error
        return judge(report, uses_exec_plugin=cluster.credentials.uses_exec)
    try:
        auth = dict(await cluster.auth_headers())
        pod = await _find_pod(cluster, auth)
    except KubelanternError as e:  # CredentialError, ClusterUnreachable
        report.pod_note = f"listing pods failed: {e}"
        return judge(report, uses_exec_plugin=cluster.credentials.uses_exec)
    if isinstance(pod, str):
        report.pod_note = pod
        return judge(report, uses_exec_plugin=cluster.credentials.uses_exec)
    namespace, name, container = pod
    report.pod = f"{namespace}/{name} (container {container})"
    in_profile = list(cluster.profile.strategies)
    extras = [s for s in STRATEGIES.values() if s not in in_profile]
    for strategy in [*in_profile, *extras]:
        result = await _check_strategy(cluster, strategy, auth, namespace, name, container)
        result.in_profile = strategy in in_profile
        report.strategies.append(result)
    return judge(report, uses_exec_plugin=cluster.credentials.uses_exec)


async def _find_pod(cluster: Cluster, auth: dict[str, str]) -> tuple[str, str, str] | str:
    """(namespace, pod, container) of a Running pod, or why there is none."""
    answer = await get_json(
        cluster,
        "/api/v1/pods",
        "limit=500",
        auth=auth,
        limit=32 * 1024 * 1024,
        answer_within=STREAM_TIMEOUT,
    )
    if answer.status != 200:
        return f"listing pods answered {answer.status}"
    data = answer.json()
    if not isinstance(data, dict):
        return "listing pods answered something that is not a JSON object"
    candidates: list[tuple[int, str, str, str]] = []
    for item in data.get("items") or []:
        status = item.get("status") or {}
        if status.get("phase") != "Running":
            continue
        containers = (item.get("spec") or {}).get("containers") or []
        if not containers:
            continue
        meta = item.get("metadata") or {}
        ready = {c.get("name"): bool(c.get("ready")) for c in status.get("containerStatuses") or []}
        first = containers[0]
        if first.get("name") == "firehose":  # the simulator's benchmark pod: huge logs
            continue
        image = str(first.get("image", "")).lower()
        # Prefer a ready container with a userland: `echo` needs one.
        score = (0 if ready.get(first.get("name"), True) else 2) + (
            1 if any(m in image for m in ("distroless", "scratch", "pause")) else 0
        )
        candidates.append(
            (score, str(meta.get("namespace", "default")), str(meta["name"]), str(first["name"]))
        )
    if not candidates:
        return "no running pod to test exec"
    candidates.sort(key=lambda c: c[0])
    _, namespace, name, container = candidates[0]
    return namespace, name, container


async def _check_strategy(
    cluster: Cluster,
    strategy: Strategy,
    auth: dict[str, str],
    namespace: str,
    pod: str,
    container: str,
) -> StrategyResult:
    result = StrategyResult(strategy.name)
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}"
    exec_query = urlencode(
        [
            ("command", "echo"),
            ("command", EXEC_MARKER),
            ("container", container),
            ("stderr", "true"),
            ("stdout", "true"),
        ]
    )
    started = time.monotonic()
    ok, status, detail = await _session(
        cluster, strategy, auth, base + "/exec", exec_query, EXEC_PROTOCOLS, _exec_reader
    )
    result.exec_ok, result.exec_status = ok, status
    result.latency_ms = (time.monotonic() - started) * 1000
    logs_query = urlencode([("container", container), ("tailLines", "5")])
    ok, status, logs_detail = await _session(
        cluster, strategy, auth, base + "/log", logs_query, LOG_PROTOCOLS, _logs_reader
    )
    result.logs_ok, result.logs_status = ok, status
    result.detail = detail or logs_detail
    return result


async def _session(
    cluster: Cluster,
    strategy: Strategy,
    auth: dict[str, str],
    path: str,
    query: str,
    protocols: tuple[str, ...],
    reader: Any,
) -> tuple[bool, int | None, str]:
    url = cluster.upstream_url(path, query)
    handshake = build_handshake(
        strategy, upstream_url=str(url), offer=Offer(protocols), auth_headers=auth
    )
    try:
        ws = await open_upstream(cluster, url, handshake, handshake_timeout=STREAM_TIMEOUT)
    except UpstreamRefused as e:
        return False, e.status, error_message(e.body, 80) or "no body"
    except (aiohttp.ClientError, OSError) as e:
        return False, None, f"{e.__class__.__name__}: {e}"[:120]
    except TimeoutError:
        return False, None, "no answer to the upgrade"
    try:
        async with asyncio.timeout(STREAM_TIMEOUT):
            ok, detail = await reader(ws)
        return ok, 101, detail
    except TimeoutError:
        return False, 101, f"no end of stream within {STREAM_TIMEOUT:g} s"
    finally:
        await ws.close()


async def _messages(ws: aiohttp.ClientWebSocketResponse) -> tuple[list[bytes], int | None]:
    """All data messages until the server's Close, and its code.

    kube-apiserver (x/net) drops TCP right after its Close frame, so aiohttp's own close
    reply fails and `ws.close_code` reads 1006: the received frame is what counts.
    """
    out: list[bytes] = []
    while True:
        msg = await ws.receive()
        if msg.type is aiohttp.WSMsgType.BINARY:
            out.append(msg.data)
        elif msg.type is aiohttp.WSMsgType.TEXT:
            out.append(msg.data.encode())
        elif msg.type is aiohttp.WSMsgType.CLOSE:
            return out, msg.data
        elif msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            return out, ws.close_code
        elif msg.type is aiohttp.WSMsgType.ERROR:
            return out, ws.close_code or 1006


async def _exec_reader(ws: aiohttp.ClientWebSocketResponse) -> tuple[bool, str]:
    stdout = b""
    status: dict[str, Any] | None = None
    messages, close_code = await _messages(ws)
    for data in messages:
        if not data:
            continue
        channel, payload = data[0], data[1:]
        if channel == 1:
            stdout += payload
        elif channel == 3:
            with contextlib.suppress(ValueError):
                status = json.loads(payload)
    if close_code != 1000:
        return False, f"closed with {close_code}"
    if status is None:
        # v1 protocols send no status on success; then the output is the proof.
        return EXEC_MARKER.encode() in stdout, "" if stdout else "no output and no status"
    if status.get("status") == "Success":
        return True, ""
    # The stream worked; the command did not (no `echo` in a distroless image, ...).
    return True, f"exec ran but: {str(status.get('message', ''))[:60]}"


async def _logs_reader(ws: aiohttp.ClientWebSocketResponse) -> tuple[bool, str]:
    _, close_code = await _messages(ws)
    if close_code != 1000:
        return False, f"closed with {close_code}"
    return True, ""
