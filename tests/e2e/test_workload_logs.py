"""Workload logs follow the workload's label selector, like stern (issue 11, defect 1).

A Deployment of its own (in `default` on the kubernetes simulator) is scaled and has a pod
deleted while its "Logs of all pods" pane is open: pods that appear join the pane, a pod that
goes away ends with a line saying so, and nothing asks the cluster for a pod that is gone.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
NS = "default"


def call(ui: Ui, method: str, path: str, body: Any = None, ctype: str = "application/json") -> Any:
    req = urllib.request.Request(
        f"{ui.url}/clusters/{quote(KIND, safe='')}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Kubelantern-Token": ui.token, "Content-Type": ctype},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def pods_of(ui: Ui, app: str) -> list[dict[str, Any]]:
    items = call(ui, "GET", f"/api/v1/namespaces/{NS}/pods?labelSelector=app%3D{app}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def wait_pods(ui: Ui, app: str, n: int, exclude: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    deadline = time.monotonic() + 30
    names: list[str] = []
    while time.monotonic() < deadline:
        names = sorted(
            p["metadata"]["name"]
            for p in pods_of(ui, app)
            if p["status"].get("phase") == "Running" and p["metadata"]["name"] not in exclude
        )
        if len(names) >= n:
            return names
        time.sleep(0.2)
    raise AssertionError(f"{n} running pods of {app} wanted, have {names}")


@pytest.fixture
def deployment(ui: Ui) -> Any:
    app = f"follow-{secrets.token_hex(3)}"
    call(
        ui,
        "POST",
        f"/apis/apps/v1/namespaces/{NS}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app, "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": app}},
                "template": {
                    "metadata": {"labels": {"app": app}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    yield app
    call(ui, "DELETE", f"/apis/apps/v1/namespaces/{NS}/deployments/{app}")


def labels_shown(page: Any) -> set[str]:
    return set(page.locator(".kl-logpane .kl-row .kl-src").all_inner_texts())


def test_workload_logs_follow_scaling_and_deleted_pods(
    page: Any, ui: Ui, problems: Problems, deployment: str
) -> None:
    app = deployment
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    first = wait_pods(ui, app, 1)[0]
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/deployments/{NS}/{app}")
    page.get_by_test_id("action-workload-logs").click()
    pane = page.get_by_test_id("log-pane").last
    expect(pane.locator(".kl-row").first).to_be_visible()

    # Scaled up: the new pod joins the open pane (picker and tagged lines).
    call(
        ui,
        "PATCH",
        f"/apis/apps/v1/namespaces/{NS}/deployments/{app}/scale",
        {"spec": {"replicas": 2}},
        "application/merge-patch+json",
    )
    second = next(n for n in wait_pods(ui, app, 2) if n != first)
    expect(pane.get_by_label("Pod").locator("option", has_text=second)).to_have_count(1)
    page.wait_for_function(
        "name => [...document.querySelectorAll('.kl-logpane .kl-row .kl-src')]"
        ".some(e => e.textContent === name)",
        arg=second,
        timeout=20_000,
    )

    # A pod deleted: its source ends with a line saying so; the replacement joins.
    call(ui, "DELETE", f"/api/v1/namespaces/{NS}/pods/{first}")
    ended = pane.locator(".kl-row", has_text=f"pod {first} went away")
    expect(ended).to_have_count(1, timeout=20_000)
    expect(ended.locator(".kl-src")).to_have_text(first)
    third = next(n for n in wait_pods(ui, app, 2, exclude={first}) if n != second)
    expect(pane.get_by_label("Pod").locator("option", has_text=third)).to_have_count(1)
    expect(pane.get_by_label("Pod").locator("option", has_text=first)).to_have_count(0)
    page.wait_for_function(
        "name => [...document.querySelectorAll('.kl-logpane .kl-row .kl-src')]"
        ".some(e => e.textContent === name)",
        arg=third,
        timeout=20_000,
    )
    # The gone pod is not reported as a failing stream, and nobody asked for it again.
    status = page.get_by_test_id("log-status").inner_text()
    assert first not in status, status
    assert not [b for b in bad if f"/pods/{first}" in b], bad
    assert problems.errors == [], problems.errors


def test_related_replicasets_of_a_deployment_are_live(
    page: Any, ui: Ui, problems: Problems, deployment: str
) -> None:
    """Issue 11 defect 7: during a rollout the ReplicaSets under a Deployment update as they
    happen (a watch, like the pods below them), not on a 10 s poll."""
    app = deployment
    wait_pods(ui, app, 1)
    watches: list[str] = []
    page.on(
        "request",
        lambda r: (
            watches.append(r.url) if "/replicasets?" in r.url and "watch=1" in r.url else None
        ),
    )
    page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/deployments/{NS}/{app}")
    related = page.locator("table.related")
    expect(related.locator(".kind-tag", has_text="ReplicaSet")).to_have_count(1)
    call(
        ui,
        "PATCH",
        f"/apis/apps/v1/namespaces/{NS}/deployments/{app}",
        {"spec": {"template": {"metadata": {"annotations": {"rollout": "2"}}}}},
        "application/merge-patch+json",
    )
    expect(related.locator(".kind-tag", has_text="ReplicaSet")).to_have_count(2)
    assert watches, "the ReplicaSets under a Deployment are watched"
    assert problems.errors == [], problems.errors
