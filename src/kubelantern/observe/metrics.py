"""Prometheus counters and gauges, rendered by hand in the text exposition format.

One `Metrics` instance lives at `request.app[keys.METRICS]`. The proxy and the WebSocket
bridge call:

- `request_done(cluster, code, seconds)`  once per proxied request/upgrade (the access-log
  middleware does this for every request that resolved a cluster);
- `stream_started(cluster, kind)` / `stream_ended(cluster, kind)`  around a long-lived
  stream; kind is "http" (watch, logs -f, any streamed body) or "websocket";
- `upstream_error(cluster, reason)`  when the upstream could not be reached or refused
  the handshake; reason is a short token: "unreachable", "timeout", "tls", "credentials",
  "handshake", "reset", ...;
- `strategy_fallback(cluster)`  when the bridge had to try the next WebSocket strategy;
- `tunnel_bytes(cluster, up, down)`  when an upgrade tunnel (SPDY) ends: bytes spliced
  client → cluster and back (kind "tunnel" in the active streams gauge while it is open).

Not thread-safe by design: everything runs on the server's event loop.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from itertools import accumulate

_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


class Metrics:
    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.active: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.upstream_errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.fallbacks: defaultdict[str, int] = defaultdict(int)
        self.tunnelled: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.recording_failures: defaultdict[str, int] = defaultdict(int)
        self.sessions_kept = 0  # exec/attach sessions held for a reattach after a drop
        self.sessions_resumed = 0
        # (open, refused, timed out) client connections, from the listener's guard
        # (web/connguard.py) when `serve` listens through one.
        self.connection_stats: Callable[[], tuple[int, int, int]] | None = None
        self._hist: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(_BUCKETS))
        self._hist_sum: defaultdict[str, float] = defaultdict(float)
        self._hist_count: defaultdict[str, int] = defaultdict(int)

    # -- what other modules call -------------------------------------------------------

    def request_done(self, cluster: str, code: int, seconds: float | None = None) -> None:
        self.requests[(cluster, str(code))] += 1
        if seconds is not None:
            # Only the first bucket it fits in; the cumulative counts are summed when
            # rendered (a walk over every bucket cost each request ~2 µs).
            buckets = self._hist[cluster]
            i = bisect_left(_BUCKETS, seconds)
            if i < len(buckets):
                buckets[i] += 1
            self._hist_sum[cluster] += seconds
            self._hist_count[cluster] += 1

    def stream_started(self, cluster: str, kind: str) -> None:
        self.active[(cluster, kind)] += 1

    def stream_ended(self, cluster: str, kind: str) -> None:
        key = (cluster, kind)
        self.active[key] = max(0, self.active[key] - 1)

    def upstream_error(self, cluster: str, reason: str) -> None:
        self.upstream_errors[(cluster, reason)] += 1

    def strategy_fallback(self, cluster: str) -> None:
        self.fallbacks[cluster] += 1

    def tunnel_bytes(self, cluster: str, up: int, down: int) -> None:
        self.tunnelled[(cluster, "up")] += up
        self.tunnelled[(cluster, "down")] += down

    def recording_failed(self, cluster: str) -> None:
        """A session recording could not be written (unwritable folder, disk full)."""
        self.recording_failures[cluster] += 1

    # -- exposition --------------------------------------------------------------------

    def render(self) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_: str) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")

        family(
            "kubelantern_http_requests_total",
            "counter",
            "Proxied requests and upgrades by cluster and response code.",
        )
        for (cluster, code), n in sorted(self.requests.items()):
            labels = _labels((("cluster", cluster), ("code", code)))
            lines.append(f"kubelantern_http_requests_total{labels} {n}")
        family(
            "kubelantern_active_streams",
            "gauge",
            "Open streams (watch, logs -f, WebSocket, tunnel).",
        )
        for (cluster, kind), n in sorted(self.active.items()):
            lines.append(
                f"kubelantern_active_streams{_labels((('cluster', cluster), ('kind', kind)))} {n}"
            )
        family(
            "kubelantern_upstream_errors_total",
            "counter",
            "Upstream connection failures by cluster and reason.",
        )
        for (cluster, reason), n in sorted(self.upstream_errors.items()):
            labels = _labels((("cluster", cluster), ("reason", reason)))
            lines.append(f"kubelantern_upstream_errors_total{labels} {n}")
        family(
            "kubelantern_websocket_strategy_fallbacks_total",
            "counter",
            "WebSocket handshakes retried with the next strategy.",
        )
        for cluster, n in sorted(self.fallbacks.items()):
            labels = _labels((("cluster", cluster),))
            lines.append(f"kubelantern_websocket_strategy_fallbacks_total{labels} {n}")
        family(
            "kubelantern_tunnel_bytes_total",
            "counter",
            "Bytes spliced by ended upgrade tunnels (SPDY), up: to the cluster, down: back.",
        )
        for (cluster, direction), n in sorted(self.tunnelled.items()):
            labels = _labels((("cluster", cluster), ("direction", direction)))
            lines.append(f"kubelantern_tunnel_bytes_total{labels} {n}")
        family(
            "kubelantern_recording_failures_total",
            "counter",
            "Session recordings that could not be written (the sessions went on).",
        )
        for cluster, n in sorted(self.recording_failures.items()):
            labels = _labels((("cluster", cluster),))
            lines.append(f"kubelantern_recording_failures_total{labels} {n}")
        family(
            "kubelantern_sessions_kept_total",
            "counter",
            "Exec/attach sessions kept for a reattach after their client dropped.",
        )
        lines.append(f"kubelantern_sessions_kept_total {self.sessions_kept}")
        family("kubelantern_sessions_resumed_total", "counter", "Reattaches to a kept session.")
        lines.append(f"kubelantern_sessions_resumed_total {self.sessions_resumed}")
        if self.connection_stats is not None:
            open_, refused, timed_out = self.connection_stats()
            family("kubelantern_client_connections", "gauge", "Client connections served now.")
            lines.append(f"kubelantern_client_connections {open_}")
            family(
                "kubelantern_client_connections_refused_total",
                "counter",
                "Client connections answered 503 over --max-connections.",
            )
            lines.append(f"kubelantern_client_connections_refused_total {refused}")
            family(
                "kubelantern_client_connections_timed_out_total",
                "counter",
                "Client connections closed for sending no complete headers in --header-timeout.",
            )
            lines.append(f"kubelantern_client_connections_timed_out_total {timed_out}")
        family(
            "kubelantern_request_duration_seconds",
            "histogram",
            "Time to the end of a proxied request (streams included).",
        )
        for cluster in sorted(self._hist):
            counts = accumulate(self._hist[cluster])
            for bound, n in zip(_BUCKETS, counts, strict=True):
                labels = _labels((("cluster", cluster), ("le", f"{bound:g}")))
                lines.append(f"kubelantern_request_duration_seconds_bucket{labels} {n}")
            inf = _labels((("cluster", cluster), ("le", "+Inf")))
            lines.append(
                f"kubelantern_request_duration_seconds_bucket{inf} {self._hist_count[cluster]}"
            )
            c = _labels((("cluster", cluster),))
            lines.append(f"kubelantern_request_duration_seconds_sum{c} {self._hist_sum[cluster]}")
            lines.append(
                f"kubelantern_request_duration_seconds_count{c} {self._hist_count[cluster]}"
            )
        return "\n".join(lines) + "\n"
