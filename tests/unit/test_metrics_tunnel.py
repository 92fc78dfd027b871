"""The tunnel's counters in the Prometheus text (observe/metrics.py)."""

from __future__ import annotations

from kubelantern.observe.metrics import Metrics


def test_tunnel_bytes_add_up_per_cluster_and_direction() -> None:
    m = Metrics()
    m.stream_started("dev", "tunnel")
    m.tunnel_bytes("dev", 10, 2000)
    m.tunnel_bytes("dev", 5, 0)
    m.tunnel_bytes('we"ird', 1, 1)
    text = m.render()
    assert 'kubelantern_tunnel_bytes_total{cluster="dev",direction="up"} 15' in text
    assert 'kubelantern_tunnel_bytes_total{cluster="dev",direction="down"} 2000' in text
    assert 'kubelantern_tunnel_bytes_total{cluster="we\\"ird",direction="up"} 1' in text
    assert 'kubelantern_active_streams{cluster="dev",kind="tunnel"} 1' in text
    assert "# TYPE kubelantern_tunnel_bytes_total counter" in text
