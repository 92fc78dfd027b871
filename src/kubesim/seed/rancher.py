"""What only the `rancher` profile has: Rancher's Projects (`projects.management.cattle.io`),
a CRD that Rancher installs on the cluster it manages from (the `local` cluster), one object per
project in the namespace named after the cluster's id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .base import Seeder
from .cluster import namespace

JSON = dict[str, Any]

CLUSTER_ID = "local"
# (object name, display name, description): Rancher names projects `p-<5 chars>`; people
# know them by their display name.
PROJECTS = (
    ("p-7xk2q", "Default", "Default project created for the cluster"),
    ("p-m4bzd", "System", "System project created for the cluster"),
    ("p-shop9", "Shop", "The shop's team"),
)


def _crd() -> JSON:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "projects.management.cattle.io", "generation": 1},
        "spec": {
            "group": "management.cattle.io",
            "scope": "Namespaced",
            "names": {
                "plural": "projects",
                "singular": "project",
                "kind": "Project",
                "listKind": "ProjectList",
            },
            "versions": [
                {
                    "name": "v3",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
            "conversion": {"strategy": "None"},
        },
        "status": {
            "acceptedNames": {"plural": "projects", "singular": "project", "kind": "Project"},
            "storedVersions": ["v3"],
        },
    }


def rancher(s: Seeder, birth: dt.datetime) -> None:
    s.add("customresourcedefinitions.apiextensions.k8s.io", _crd(), birth)
    namespace(s, CLUSTER_ID, birth)
    for name, display, description in PROJECTS:
        s.add(
            "projects.management.cattle.io",
            {
                "apiVersion": "management.cattle.io/v3",
                "kind": "Project",
                "metadata": {
                    "name": name,
                    "namespace": CLUSTER_ID,
                    "labels": {"cattle.io/creator": "norman"},
                },
                "spec": {
                    "clusterName": CLUSTER_ID,
                    "displayName": display,
                    "description": description,
                },
                "status": {
                    "conditions": [
                        {"type": "InitialRolesPopulated", "status": "True"},
                        {"type": "BackingNamespaceCreated", "status": "True"},
                    ]
                },
            },
            birth,
        )
