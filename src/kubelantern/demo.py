"""`--demo`: the simulator's demo clusters as kubelantern cluster specs."""

from __future__ import annotations

from kubesim.demo import Demo

from .clusters.spec import AuthSpec, ClusterSpec


def demo_specs(demo: Demo) -> list[ClusterSpec]:
    # No profile override: kubelantern detects each one, as for real clusters.
    return [
        ClusterSpec(
            name=c.name,
            server=c.server,
            cluster_name=c.name,
            user_name=f"{c.name}-admin",
            namespace="shop",
            auth=AuthSpec(token=c.token),
            source="built-in demo",
            origin="demo",
        )
        for c in demo.clusters
    ]
