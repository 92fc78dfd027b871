"""What a simulated container prints: deterministic, believable log lines. Pure, no IO.

`render_line(style, rng, t)` makes one line (an access log, a database's or an app's, in
JSON, coloured or plain text); `Instance` is one run of a container, whose line k has a time
and text computed from its key and k alone, so every request sees the same lines at the same
times (`podlogs.py` serves them).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import zlib
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


# -- line content ----------------------------------------------------------------------------

_PATHS = (
    "/",
    "/api/products",
    "/api/cart",
    "/api/checkout",
    "/healthz",
    "/static/app.js",
    "/api/users/me",
    "/api/orders",
    "/metrics",
    "/api/search?q=lamp",
)
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "kube-probe/1.32",
    "curl/8.5.0",
    "Prometheus/2.54.1",
    "python-requests/2.32.3",
)
_COMPONENTS = ("http", "db", "cache", "worker", "auth", "scheduler", "grpc")
_INFO = (
    "request completed",
    "cache hit ratio updated",
    "connected to database",
    "processed batch",
    "token refreshed",
    "heartbeat sent",
    "config reloaded",
    "order placed",
    "payment authorized",
    "sent confirmation email",
)
_WARN = (
    "slow query detected",
    "retrying request to upstream",
    "connection pool nearly full",
    "deprecated API version used by client",
    "cache miss storm",
)
_ERROR = (
    "upstream timed out",
    "failed to acquire lock",
    "invalid payment token",
    "connection reset by peer",
)
_ANSI = {"DEBUG": "\x1b[36m", "INFO": "\x1b[32m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m"}


def line_style(image: str, container: str) -> str:
    text = f"{image} {container}".lower()
    if any(w in text for w in ("nginx", "ingress", "envoy", "haproxy", "traefik")):
        return "access"
    if any(w in text for w in ("postgres", "redis", "mysql", "mongo", "etcd")):
        return "db"
    return "app"


def _level(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.08:
        return "DEBUG"
    if r < 0.80:
        return "INFO"
    if r < 0.94:
        return "WARN"
    return "ERROR"


def render_line(style: str, rng: random.Random, t: dt.datetime) -> str:
    if style == "access":
        ip = f"10.42.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
        status = rng.choice((200, 200, 200, 200, 201, 204, 301, 304, 404, 500, 502))
        return (
            f"{ip} - - [{t.strftime('%d/%b/%Y:%H:%M:%S +0000')}] "
            f'"{rng.choice(("GET", "GET", "GET", "POST", "PUT"))} {rng.choice(_PATHS)} HTTP/1.1" '
            f'{status} {rng.randint(120, 48000)} "-" "{rng.choice(_AGENTS)}"'
        )
    level = _level(rng)
    if style == "db":
        if level == "INFO":
            msg = rng.choice(
                (
                    f"checkpoint complete: wrote {rng.randint(10, 900)} buffers",
                    'automatic vacuum of table "shop.orders"',
                    "connection authorized: user=app database=shop",
                    "DB saved on disk",
                )
            )
        else:
            msg = rng.choice(_WARN + _ERROR)
        stamp = t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return f"{stamp} UTC [{rng.randint(30, 999)}] {level}:  {msg}"
    comp = rng.choice(_COMPONENTS)
    msg = rng.choice({"DEBUG": _INFO, "INFO": _INFO, "WARN": _WARN, "ERROR": _ERROR}[level])
    shape = rng.random()
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if shape < 0.35:
        record: JSON = {"level": level.lower(), "ts": ts, "logger": comp, "msg": msg}
        if comp == "http":
            record.update(
                method=rng.choice(("GET", "POST")),
                path=rng.choice(_PATHS),
                status=rng.choice((200, 200, 201, 404, 500)),
                duration_ms=round(rng.uniform(0.4, 900.0), 1),
            )
        else:
            record["trace_id"] = f"{rng.getrandbits(64):016x}"
        return json.dumps(record, separators=(",", ":"))
    if shape < 0.65:
        return f"{ts} {_ANSI[level]}{level:<5}\x1b[0m \x1b[1m[{comp}]\x1b[0m {msg}"
    return f"{ts} {level:<5} [{comp}] {msg} request_id={rng.getrandbits(32):08x}"


_CRASH = (
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b1c2e]",
    "",
    "goroutine 1 [running]:",
    "main.(*Worker).process(0x0, {0xc0001a2000, 0x42})",
    "\t/src/worker/worker.go:118 +0x2e",
    "main.main()",
    "\t/src/main.go:57 +0x1d5",
)


# -- the timeline of one container instance --------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """One run of a container: its lines are spread over [start, anchor) then continue live."""

    key: str  # seeds the content
    style: str
    start: dt.datetime
    anchor: dt.datetime  # history ends here (simulator start, or the instance's finish)
    history: int  # number of lines before the anchor
    rate: float  # lines per second after the anchor; 0 for a finished instance
    crash: bool  # ends with a crash trace (terminated with an error)

    def line(self, k: int) -> tuple[dt.datetime, str]:
        rng = random.Random(f"{self.key}/{k}")
        if k < self.history:
            span = max((self.anchor - self.start).total_seconds(), 0.001)
            slot = span / max(self.history, 1)
            t = self.start + dt.timedelta(seconds=slot * k + rng.uniform(0, slot * 0.9))
            if self.crash and k >= self.history - len(_CRASH):
                return t, _CRASH[k - (self.history - len(_CRASH))]
        else:
            t = self.time_of(k)
        return t, render_line(self.style, rng, t)

    def time_of(self, k: int) -> dt.datetime:
        if k < self.history:
            return self.line(k)[0]
        if self.rate <= 0:
            return self.anchor + dt.timedelta(days=36500)  # a quiet container: never
        # Live lines: one per 1/rate seconds, with a deterministic jitter inside the slot.
        slot = 1.0 / self.rate
        jitter = (zlib.crc32(f"{self.key}/{k}".encode()) % 1000) / 1000 * slot * 0.6
        return self.anchor + dt.timedelta(seconds=(k - self.history) * slot + jitter)

    def count_until(self, now: dt.datetime) -> int:
        """How many lines exist at `now`."""
        if self.rate <= 0 or now < self.anchor:
            return self.history
        return self.history + int((now - self.anchor).total_seconds() * self.rate)
