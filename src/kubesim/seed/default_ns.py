"""Namespace `default`: a `hello` Deployment and the `kubernetes` Service."""

from __future__ import annotations

from typing import Any

from .base import Seeder, container, deployment, service

JSON = dict[str, Any]


def default_ns(s: Seeder) -> None:
    s.workload(
        deployment(
            "default",
            "hello",
            1,
            [container("agnhost", "registry.k8s.io/e2e-test-images/agnhost:2.52", port=8080)],
        ),
        s.ago(days=3),
        s.ago(days=3),
    )
    s.ctl.frozen_now = None
    s.add(
        "services",
        service("default", "kubernetes", 443, 6443, ip="10.43.0.1", selector={}),
        s.ago(days=41, hours=3),
    )
