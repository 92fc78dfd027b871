"""Deterministic, believable container logs, and the pod-log options of `GET .../pods/x/log`.

The entry points other modules use:

- `parse_log_options(query)` -> `LogOptions` (400/422 Status errors like the apiserver's).
- `prepare_pod_log(state, pod, options)` -> `PodLog`: validates everything up front and raises
  `StatusError` for the apiserver's 400s (unknown or unspecified container, no previous
  instance, container still waiting), so a handler can answer before upgrading or streaming.
  `PodLog.chunks()` then async-iterates the body bytes (the HTTP `/log` body; the WebSocket log
  handler sends the same chunks).

A container's log is a fixed sequence of lines: line k has a timestamp and text computed from
(seed, namespace, pod, container, instance, k). History lines are spread between the
container's start and the simulator's start; afterwards a running container writes
`log_lines_per_second` new lines, so every request (and every reconnect with `sinceTime`) sees
the same lines at the same times.

Benchmark mode: a container named `firehose` (the seeded pod `bench/bulk`) streams
`SimConfig.firehose_bytes` bytes of log lines as fast as the socket takes them; the pod
annotation `sim.kubelantern.io/firehose-bytes` overrides the size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .loglines import Instance, line_style, render_line
from .params import format_rfc3339_nano, parse_bool, parse_rfc3339
from .pods import container_spec, container_status, select_container
from .state import SimState
from .status import StatusError, invalid

JSON = dict[str, Any]

FIREHOSE_CONTAINER = "firehose"
FIREHOSE_ANNOTATION = "sim.kubelantern.io/firehose-bytes"
MAX_HISTORY_LINES = 400


@dataclass(frozen=True)
class LogOptions:
    container: str | None = None
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: dt.datetime | None = None
    limit_bytes: int | None = None


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise StatusError(
            400, f'strconv.ParseInt: parsing "{raw}": invalid syntax', "BadRequest"
        ) from None


def parse_log_options(query: Mapping[str, str], pod_name: str = "") -> LogOptions:
    since_time: dt.datetime | None = None
    if query.get("sinceTime"):
        try:
            since_time = parse_rfc3339(query["sinceTime"])
        except ValueError:
            raise StatusError(
                400, f'parsing time "{query["sinceTime"]}" as RFC3339: cannot parse'
            ) from None
    opts = LogOptions(
        container=query.get("container") or None,
        follow=parse_bool(query.get("follow")),
        previous=parse_bool(query.get("previous")),
        timestamps=parse_bool(query.get("timestamps")),
        tail_lines=_int_param(query, "tailLines"),
        since_seconds=_int_param(query, "sinceSeconds"),
        since_time=since_time,
        limit_bytes=_int_param(query, "limitBytes"),
    )
    causes: list[tuple[str, str]] = []
    if opts.tail_lines is not None and opts.tail_lines < 0:
        causes.append(
            ("tailLines", f"Invalid value: {opts.tail_lines}: must be greater than or equal to 0")
        )
    if opts.limit_bytes is not None and opts.limit_bytes < 1:
        causes.append(("limitBytes", f"Invalid value: {opts.limit_bytes}: must be greater than 0"))
    if opts.since_seconds is not None and opts.since_seconds < 1:
        causes.append(
            ("sinceSeconds", f"Invalid value: {opts.since_seconds}: must be greater than 0")
        )
    if opts.since_seconds is not None and opts.since_time is not None:
        causes.append(
            ("", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")
        )
    if causes:
        raise invalid("PodLogOptions", pod_name, "", causes)
    return opts


def _ts(value: Any, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str) and value:
        try:
            return parse_rfc3339(value)
        except ValueError:
            pass
    return fallback


def _history_size(key: str, span_s: float) -> int:
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    # About one line a minute, at most MAX_HISTORY_LINES; a container that just started has
    # only printed its start-up lines.
    if span_s < 600:
        return 6 + digest % 6
    return max(25, min(MAX_HISTORY_LINES, int(span_s / 60) + digest % 40))


@dataclass(frozen=True)
class PodLog:
    """A validated log request: what to send and how."""

    pod_name: str
    namespace: str
    uid: str
    container: str
    options: LogOptions
    instance: Instance | None  # None: nothing to show (pod not scheduled)
    follow: bool  # follow and the container is running
    firehose_bytes: int | None
    is_alive: Callable[[], bool]

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.firehose_bytes is not None:
            async for chunk in _firehose(self.firehose_bytes, self.options):
                yield chunk
            return
        inst = self.instance
        if inst is None:
            return
        opts = self.options
        now = dt.datetime.now(dt.UTC)
        total = inst.count_until(now)
        first = 0
        since = opts.since_time
        if opts.since_seconds is not None:
            since = now - dt.timedelta(seconds=opts.since_seconds)
        if since is not None:
            first = _first_at_or_after(inst, since, total)
        if opts.tail_lines is not None:
            first = max(first, total - opts.tail_lines)
        budget = opts.limit_bytes
        batch: list[bytes] = []
        size = 0
        k = first
        while k < total:
            data = self._render(inst, k)
            if budget is not None:
                if budget <= 0:
                    break
                data = data[:budget]
                budget -= len(data)
            batch.append(data)
            size += len(data)
            k += 1
            if size >= 32 * 1024:
                yield b"".join(batch)
                batch, size = [], 0
        if batch:
            yield b"".join(batch)
        if not self.follow or (budget is not None and budget <= 0):
            return
        while self.is_alive():
            wait = (inst.time_of(k) - dt.datetime.now(dt.UTC)).total_seconds()
            if wait > 0:
                # Wake at least once a second to notice a deleted pod.
                await asyncio.sleep(min(wait, 1.0))
                continue
            data = self._render(inst, k)
            if budget is not None:
                data = data[:budget]
                budget -= len(data)
            yield data
            k += 1
            if budget is not None and budget <= 0:
                return

    def _render(self, inst: Instance, k: int) -> bytes:
        t, text = inst.line(k)
        if self.options.timestamps:
            nanos = random.Random(f"{inst.key}/{k}/ns").randint(0, 999)
            text = f"{format_rfc3339_nano(t, nanos)} {text}"
        return (text + "\n").encode()


def _first_at_or_after(inst: Instance, since: dt.datetime, total: int) -> int:
    lo, hi = 0, total
    while lo < hi:
        mid = (lo + hi) // 2
        if inst.time_of(mid) < since:
            lo = mid + 1
        else:
            hi = mid
    return lo


async def _firehose(size: int, opts: LogOptions) -> AsyncIterator[bytes]:
    rng = random.Random(7)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lines = []
    for i in range(600):
        text = render_line("app", rng, start + dt.timedelta(milliseconds=i))
        if opts.timestamps:
            text = f"{format_rfc3339_nano(start + dt.timedelta(milliseconds=i))} {text}"
        lines.append(text + "\n")
    block = "".join(lines).encode()
    while len(block) < 64 * 1024:
        block += block
    block = block[: 64 * 1024]
    if opts.limit_bytes is not None:
        size = min(size, opts.limit_bytes)
    sent = 0
    while sent < size:
        chunk = block[: size - sent]
        sent += len(chunk)
        yield chunk
        # Yield to the loop now and then without slowing the stream down.
        if sent % (1024 * 1024) < len(chunk):
            await asyncio.sleep(0)


def prepare_pod_log(state: SimState, pod: JSON, options: LogOptions) -> PodLog:
    """Validate a log request against the pod (400s as Status errors) and plan the stream."""
    meta = pod.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace", "")
    uid = meta.get("uid", "")
    container = select_container(pod, options.container)
    store = state.store

    def alive() -> bool:
        current = store.get("pods", namespace, name)
        return current is not None and (current.get("metadata") or {}).get("uid") == uid

    annotations = meta.get("annotations") or {}
    if container == FIREHOSE_CONTAINER or FIREHOSE_ANNOTATION in annotations:
        try:
            size = int(annotations.get(FIREHOSE_ANNOTATION, state.config.firehose_bytes))
        except ValueError:
            size = state.config.firehose_bytes
        return PodLog(name, namespace, uid, container, options, None, False, size, alive)

    if not (pod.get("spec") or {}).get("nodeName"):
        # kube-apiserver's LogLocation: no host yet, so an empty log (200, no body).
        return PodLog(name, namespace, uid, container, options, None, False, None, alive)

    spec = container_spec(pod, container)
    status = container_status(pod, container)
    style = line_style(str(spec.get("image", "")), container)
    restarts = int(status.get("restartCount") or 0)
    state_now = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated")
    seed = state.config.seed
    base_key = f"{seed}/{namespace}/{name}/{container}"
    created = _ts(meta.get("creationTimestamp"), state.started_at)

    def finished(term: JSON, instance_no: int) -> Instance:
        start = _ts(term.get("startedAt"), created)
        end = _ts(term.get("finishedAt"), start + dt.timedelta(minutes=3))
        key = f"{base_key}/{instance_no}"
        crash = int(term.get("exitCode") or 0) != 0
        return Instance(
            key, style, start, end, _history_size(key, (end - start).total_seconds()), 0.0, crash
        )

    running = state_now.get("running")
    terminated = state_now.get("terminated")
    waiting = state_now.get("waiting")
    current: Instance | None = None
    previous: Instance | None = None
    if running is not None:
        start = _ts(running.get("startedAt"), created)
        anchor = max(state.started_at, start)
        key = f"{base_key}/{restarts}"
        current = Instance(
            key,
            style,
            start,
            anchor,
            _history_size(key, (anchor - start).total_seconds()),
            state.config.log_lines_per_second,
            False,
        )
        if last:
            previous = finished(last, restarts - 1)
    elif terminated is not None:
        current = finished(terminated, restarts)
        if last:
            previous = finished(last, restarts - 1)
    elif waiting is not None and last:
        # CrashLoopBackOff: the newest instance has exited; the one before it is "previous".
        current = finished(last, restarts)
        if restarts > 1:
            start = _ts(last.get("startedAt"), created)
            prev_end = start - dt.timedelta(seconds=20)
            prev_start = prev_end - dt.timedelta(seconds=45)
            previous = finished(
                {
                    "startedAt": _iso(prev_start),
                    "finishedAt": _iso(prev_end),
                    "exitCode": last.get("exitCode", 2),
                },
                restarts - 1,
            )

    if options.previous:
        if previous is None:
            raise StatusError(
                400, f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return PodLog(name, namespace, uid, container, options, previous, False, None, alive)
    if current is None:
        reason = (waiting or {}).get("reason", "ContainerCreating")
        raise StatusError(
            400, f'container "{container}" in pod "{name}" is waiting to start: {reason}'
        )
    follow = options.follow and running is not None
    return PodLog(name, namespace, uid, container, options, current, follow, None, alive)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
