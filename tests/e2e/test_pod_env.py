"""Pod detail shows environment values and where the others come from (issue 11, defect 8)."""

from __future__ import annotations

import json
import secrets
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]


def call(ui: Ui, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        f"{ui.url}/clusters/{quote(KIND, safe='')}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Kubelantern-Token": ui.token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def test_env_values_and_sources_on_the_pod_page(page: Any, ui: Ui, problems: Problems) -> None:
    name = f"env-{secrets.token_hex(3)}"
    env = [
        {"name": "MODE", "value": "fast"},
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "level"}}},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    container = {
        "name": "app",
        "image": "busybox:1.36",
        "env": env,
        "envFrom": [{"configMapRef": {"name": "shared"}}],
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [container]},
    }
    call(ui, "POST", "/api/v1/namespaces/default/pods", pod)
    try:
        page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods/default/{name}")
        card = page.locator('.container-card[data-container="app"]')
        envs = card.get_by_test_id("env")
        expect(envs).to_contain_text("MODE=fast")
        expect(envs).to_contain_text("LEVEL ← ConfigMap app-config, key level")
        expect(envs).to_contain_text("PASSWORD ← Secret db, key password")
        expect(envs).to_contain_text("MY_IP ← field status.podIP")
        expect(envs).to_contain_text("all keys of ConfigMap shared")
        assert problems.errors == [], problems.errors
    finally:
        call(ui, "DELETE", f"/api/v1/namespaces/default/pods/{name}")
