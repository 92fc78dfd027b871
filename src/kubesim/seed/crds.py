"""A CustomResourceDefinition (widgets.example.com) and Widgets, for the UI's CRD views."""

from __future__ import annotations

from typing import Any

from ..store import now_rfc3339
from .base import Seeder

JSON = dict[str, Any]


def crds(s: Seeder) -> None:
    born = s.ago(days=9)
    s.add(
        "customresourcedefinitions.apiextensions.k8s.io",
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com", "generation": 1},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {
                    "plural": "widgets",
                    "singular": "widget",
                    "kind": "Widget",
                    "listKind": "WidgetList",
                    "shortNames": ["wg"],
                },
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                        "subresources": {"status": {}},
                        "additionalPrinterColumns": [
                            {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                            {
                                "name": "Age",
                                "type": "date",
                                "jsonPath": ".metadata.creationTimestamp",
                            },
                        ],
                    }
                ],
                "conversion": {"strategy": "None"},
            },
            "status": {
                "acceptedNames": {
                    "plural": "widgets",
                    "singular": "widget",
                    "kind": "Widget",
                    "listKind": "WidgetList",
                    "shortNames": ["wg"],
                },
                "storedVersions": ["v1"],
                "conditions": [
                    {
                        "type": "Established",
                        "status": "True",
                        "reason": "InitialNamesAccepted",
                        "message": "the initial names have been accepted",
                        "lastTransitionTime": now_rfc3339(born),
                    }
                ],
            },
        },
        born,
    )
    for i, (name, color, size) in enumerate(
        (("sprocket", "red", 3), ("gizmo", "blue", 7), ("doohickey", "green", 1))
    ):
        s.add(
            "widgets.example.com",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {
                    "name": name,
                    "namespace": "shop",
                    "generation": 1,
                    "labels": {"tier": "demo"},
                },
                "spec": {"color": color, "size": size},
                "status": {"phase": "Ready"},
            },
            s.ago(days=8 - i),
        )
