"""What only the `openshift` profile has: projects, routes, DeploymentConfigs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .base import NAMESPACES, Seeder, container

JSON = dict[str, Any]


def openshift(s: Seeder, birth: dt.datetime) -> None:
    for ns in NAMESPACES:
        s.add(
            "projects.project.openshift.io",
            {
                "apiVersion": "project.openshift.io/v1",
                "kind": "Project",
                "metadata": {"name": ns, "annotations": {"openshift.io/display-name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
            birth,
        )
    s.add(
        "routes.route.openshift.io",
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "frontend", "namespace": "shop"},
            "spec": {
                "host": "frontend-shop.apps.ocp.example.com",
                "to": {"kind": "Service", "name": "frontend", "weight": 100},
                "port": {"targetPort": "http"},
                "tls": {"termination": "edge"},
                "wildcardPolicy": "None",
            },
            "status": {
                "ingress": [
                    {
                        "host": "frontend-shop.apps.ocp.example.com",
                        "routerName": "default",
                        "conditions": [{"type": "Admitted", "status": "True"}],
                    }
                ]
            },
        },
        s.ago(days=12),
    )
    s.add(
        "clusterversions.config.openshift.io",
        {
            "apiVersion": "config.openshift.io/v1",
            "kind": "ClusterVersion",
            "metadata": {"name": "version"},
            "spec": {
                "channel": "stable-4.17",
                "clusterID": "5b1e3c2a-9f8d-4e7b-a6c5-d4e3f2a1b0c9",
            },
            "status": {
                "desired": {"version": "4.17.9"},
                "history": [{"state": "Completed", "version": "4.17.9"}],
            },
        },
        birth,
    )
    s.add(
        "infrastructures.config.openshift.io",
        {
            "apiVersion": "config.openshift.io/v1",
            "kind": "Infrastructure",
            "metadata": {"name": "cluster"},
            "spec": {"platformSpec": {"type": "None"}},
            "status": {
                "platform": "None",
                "infrastructureName": "ocp-x7k2p",
                "apiServerURL": "https://api.ocp.example.com:6443",
                "controlPlaneTopology": "HighlyAvailable",
            },
        },
        birth,
    )
    s.add(
        "deploymentconfigs.apps.openshift.io",
        {
            "apiVersion": "apps.openshift.io/v1",
            "kind": "DeploymentConfig",
            "metadata": {"name": "legacy-billing", "namespace": "shop", "generation": 1},
            "spec": {
                "replicas": 0,
                "selector": {"app": "legacy-billing"},
                "template": {
                    "metadata": {"labels": {"app": "legacy-billing"}},
                    "spec": {"containers": [container("billing", "quay.io/example/billing:3.1")]},
                },
            },
            "status": {"replicas": 0, "latestVersion": 4},
        },
        birth,
    )
