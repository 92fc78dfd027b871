"""The demo application in namespace `shop`: a storefront, its services, a database StatefulSet,
config and secrets, a crash-looping checkout, an unschedulable importer, jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..store import now_rfc3339
from .base import CA_PEM, Seeder, b64, container, deployment, service
from .events import events
from .shop_faults import crashloop, unschedulable

JSON = dict[str, Any]


def shop(s: Seeder) -> None:
    ns = "shop"
    born = s.ago(days=12)
    s.workload(
        deployment(
            ns, "frontend", 3, [container("nginx", "nginx:1.27.3-alpine", port=80, mem="64Mi")]
        ),
        born,
        s.ago(hours=5, minutes=12),
    )
    s.workload(
        deployment(
            ns,
            "cart",
            2,
            [
                container(
                    "cart",
                    "ghcr.io/kubelantern/demo-cart:2.4.1",
                    port=8080,
                    env={"REDIS_URL": "redis://redis:6379/0", "LOG_FORMAT": "json"},
                )
            ],
        ),
        born,
        s.ago(days=2, hours=4),
    )
    # catalog: two containers (app + envoy sidecar) and an init container that migrates.
    s.workload(
        deployment(
            ns,
            "catalog",
            1,
            [
                container(
                    "catalog",
                    "ghcr.io/kubelantern/demo-catalog:1.9.0",
                    port=8080,
                    env={"DATABASE_URL": "postgres://app@postgres:5432/shop"},
                ),
                container("envoy", "envoyproxy/envoy:v1.32.1", port=9901, mem="96Mi"),
            ],
            init=[
                container(
                    "migrate-db",
                    "ghcr.io/kubelantern/demo-catalog:1.9.0",
                    env={"MIGRATE": "up"},
                )
            ],
        ),
        born,
        s.ago(hours=7, minutes=40),
    )
    # checkout: crash-looping.
    pods = s.workload(
        deployment(
            ns,
            "checkout",
            1,
            [
                container(
                    "checkout",
                    "ghcr.io/kubelantern/demo-checkout:0.8.3",
                    port=8080,
                    env={"PAYMENT_URL": "http://payments:8080"},
                )
            ],
        ),
        born,
        s.ago(minutes=47),
    )
    for pod in pods:
        crashloop(s, pod)
    # importer: asks for more memory than any node has, so it stays Pending.
    pods = s.workload(
        deployment(
            ns,
            "importer",
            1,
            [container("importer", "ghcr.io/kubelantern/demo-importer:1.2.0", cpu="2", mem="64Gi")],
        ),
        born,
        s.ago(minutes=18),
    )
    for pod in pods:
        unschedulable(s, pod)
    s.ctl.frozen_now = s.ago(days=12)
    for sts, image, port in (
        ("postgres", "postgres:16.4", 5432),
        ("redis", "redis:7.4.1-alpine", 6379),
    ):
        obj: JSON = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": sts,
                "namespace": ns,
                "labels": {"app.kubernetes.io/name": sts},
                "generation": 1,
            },
            "spec": {
                "replicas": 1,
                "serviceName": sts,
                "selector": {"matchLabels": {"app.kubernetes.io/name": sts}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": sts}},
                    "spec": {"containers": [container(sts, image, port=port, mem="512Mi")]},
                },
            },
            "status": {},
        }
        s.add("statefulsets.apps", obj, born)
        s.ctl.reconcile("statefulsets.apps", ns, sts)
        s.add("services", service(ns, sts, port, port, headless=True), born)
    for svc, port, ip, typ in (
        ("frontend", 80, "10.43.18.7", "LoadBalancer"),
        ("cart", 8080, "10.43.91.120", "ClusterIP"),
        ("catalog", 8080, "10.43.4.33", "ClusterIP"),
        ("checkout", 8080, "10.43.200.14", "ClusterIP"),
    ):
        s.add(
            "services",
            service(ns, svc, port, 80 if svc == "frontend" else 8080, type_=typ, ip=ip),
            born,
        )
    s.add(
        "ingresses.networking.k8s.io",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "storefront",
                "namespace": ns,
                "generation": 1,
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "storefront-tls"}],
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "frontend", "port": {"number": 80}}
                                    },
                                },
                                {
                                    "path": "/api/cart",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "cart", "port": {"number": 8080}}
                                    },
                                },
                            ]
                        },
                    }
                ],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.40"}]}},
        },
        born,
    )
    s.add(
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "frontend-config", "namespace": ns},
            "data": {
                "nginx.conf": (
                    "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n"
                    "  location /api/ { proxy_pass http://cart:8080; }\n}\n"
                ),
                "FEATURE_FLAGS": "new-checkout=false,dark-mode=true",
            },
        },
        born,
    )
    s.add(
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cart-config", "namespace": ns},
            "data": {"CART_TTL": "72h", "MAX_ITEMS": "50", "CURRENCY": "EUR"},
        },
        born,
    )
    s.add(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": "postgres-credentials", "namespace": ns},
            "data": {"username": b64("app"), "password": b64("s3cr3t-demo-only")},
        },
        born,
    )
    s.add(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": "storefront-tls", "namespace": ns},
            "data": {"tls.crt": b64(CA_PEM), "tls.key": b64("demo-key")},
        },
        born,
    )
    s.add(
        "persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": "data-postgres-0",
                "namespace": ns,
                "labels": {"app.kubernetes.io/name": "postgres"},
            },
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}},
                "storageClassName": "local-path",
                "volumeMode": "Filesystem",
                "volumeName": "pvc-3f0c9a51-8d3e-4c2b-9a55-1f7e0d2b6c11",
            },
            "status": {
                "phase": "Bound",
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": "10Gi"},
            },
        },
        born,
    )
    s.ctl.frozen_now = s.ago(minutes=18)
    jb = s.ago(hours=9)
    s.add(
        "cronjobs.batch",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly-report", "namespace": ns, "generation": 1},
            "spec": {
                "schedule": "0 3 * * *",
                "concurrencyPolicy": "Forbid",
                "suspend": False,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [
                                    container("report", "ghcr.io/kubelantern/demo-report:1.0.4")
                                ],
                            }
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": now_rfc3339(jb),
                "lastSuccessfulTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
            },
        },
        born,
    )
    s.add(
        "jobs.batch",
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "nightly-report-29012345",
                "namespace": ns,
                "generation": 1,
                "labels": {"job-name": "nightly-report-29012345"},
            },
            "spec": {
                "completions": 1,
                "parallelism": 1,
                "backoffLimit": 6,
                "selector": {"matchLabels": {"job-name": "nightly-report-29012345"}},
                "template": {
                    "metadata": {"labels": {"job-name": "nightly-report-29012345"}},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [
                            container("report", "ghcr.io/kubelantern/demo-report:1.0.4")
                        ],
                    },
                },
            },
            "status": {
                "startTime": now_rfc3339(jb),
                "completionTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                "succeeded": 1,
                "ready": 0,
                "conditions": [
                    {
                        "type": "Complete",
                        "status": "True",
                        "lastProbeTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                        "lastTransitionTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                    }
                ],
            },
        },
        jb,
    )
    events(s, ns)
