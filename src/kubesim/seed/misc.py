"""Cluster-scoped odds and ends: a StorageClass and an IngressClass."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .base import Seeder

JSON = dict[str, Any]


def misc(s: Seeder, birth: dt.datetime) -> None:
    s.add(
        "storageclasses.storage.k8s.io",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "local-path",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        birth,
    )
    s.add(
        "ingressclasses.networking.k8s.io",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": "nginx",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
        birth,
    )
