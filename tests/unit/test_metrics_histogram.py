"""The request-duration histogram: cumulative buckets in the Prometheus text, whatever
way request_done stores them (observe/metrics.py)."""

from __future__ import annotations

import re

from kubelantern.observe.metrics import Metrics


def _buckets(text: str, cluster: str) -> dict[str, int]:
    name = "kubelantern_request_duration_seconds_bucket"
    pattern = rf'{name}{{cluster="{cluster}",le="([^"]+)"}} (\d+)'
    return {le: int(n) for le, n in re.findall(pattern, text)}


def test_buckets_are_cumulative_and_the_last_is_the_count() -> None:
    m = Metrics()
    for seconds in (0.001, 0.005, 0.0051, 0.3, 0.3, 29.9, 30, 45.0):
        m.request_done("dev", 200, seconds)
    m.request_done("dev", 200)  # no duration: counted as a request only
    m.request_done("other", 503, 0.02)
    text = m.render()
    got = _buckets(text, "dev")
    assert got == {
        "0.005": 2,  # le is "less than or equal"
        "0.01": 3,
        "0.025": 3,
        "0.05": 3,
        "0.1": 3,
        "0.25": 3,
        "0.5": 5,
        "1": 5,
        "2.5": 5,
        "5": 5,
        "10": 5,
        "30": 7,
        "+Inf": 8,
    }
    assert 'kubelantern_request_duration_seconds_count{cluster="dev"} 8' in text
    assert _buckets(text, "other")["0.01"] == 0 and _buckets(text, "other")["0.025"] == 1
    assert 'kubelantern_http_requests_total{cluster="dev",code="200"} 9' in text
    # Only above the largest bound: the family is still listed, every bucket 0.
    m.request_done("slow", 200, 120.0)
    slow = _buckets(m.render(), "slow")
    assert slow["30"] == 0 and slow["+Inf"] == 1
