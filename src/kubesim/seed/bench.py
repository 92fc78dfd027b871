"""Namespace `bench`: the pod `bulk`, whose `firehose` container streams logs as fast as the
socket takes them (the log-throughput benchmark)."""

from __future__ import annotations

from typing import Any

from .base import Seeder, container

JSON = dict[str, Any]


def bench(s: Seeder) -> None:
    pod: JSON = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "bulk",
            "namespace": "bench",
            "labels": {"app.kubernetes.io/name": "bulk"},
            "annotations": {
                "kubelantern.io/purpose": "log throughput benchmark (container firehose)"
            },
        },
        "spec": {"containers": [container("firehose", "ghcr.io/kubelantern/firehose:1.0")]},
    }
    s.ctl.start_pod(pod, None, s.ago(hours=1))
    s.add("pods", pod, s.ago(hours=1))
