"""*Pure*: the fleet table's counts for one cluster from its list answers.

Nodes ready, pods not ready (Succeeded pods are done, not failing) and Warning events.
A count is None when the list was refused (RBAC) or unreadable, so the table shows "—"
rather than a false zero; `complete` is False when the pods were more than one summary
reads (the count is then a lower bound).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ClusterSummary:
    cluster: str
    nodes: int | None = None
    nodes_ready: int | None = None
    pods: int | None = None
    pods_not_ready: int | None = None
    warnings: int | None = None
    complete: bool = True
    # What could not be counted and why ("pods: 403 forbidden"), never a token.
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {
            "cluster": out["cluster"],
            "nodes": out["nodes"],
            "nodesReady": out["nodes_ready"],
            "pods": out["pods"],
            "podsNotReady": out["pods_not_ready"],
            "warnings": out["warnings"],
            "complete": out["complete"],
            "notes": out["notes"],
        }


def _items(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    return [i for i in doc.get("items") or [] if isinstance(i, dict)]


def _condition_true(obj: dict[str, Any], kind: str) -> bool:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c.get("status") == "True"
    return False


def count_nodes(doc: Any) -> tuple[int, int]:
    """(nodes, ready nodes) of a NodeList."""
    items = _items(doc)
    return len(items), sum(1 for n in items if _condition_true(n, "Ready"))


def count_pods(doc: Any) -> tuple[int, int]:
    """(pods, pods not ready) of one PodList page: a pod is not ready when it has not
    finished (phase Succeeded) and its Ready condition is not True."""
    items = _items(doc)
    not_ready = 0
    for pod in items:
        if (pod.get("status") or {}).get("phase") == "Succeeded":
            continue
        if not _condition_true(pod, "Ready"):
            not_ready += 1
    return len(items), not_ready


def continue_token(doc: Any) -> str | None:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    token = meta.get("continue") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def count_listed(doc: Any) -> int:
    """Items in a list page plus the ones the server says remain (`remainingItemCount`)."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    remaining = meta.get("remainingItemCount") if isinstance(meta, dict) else None
    return len(_items(doc)) + (remaining if isinstance(remaining, int) and remaining > 0 else 0)
