"""Pod detail shows environment values and where the others come from (issue 11, defect 8)."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, new_page
from tests.harness.kubeconfig import Context, write_kubeconfig
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
    cm = {"metadata": {"name": "app-config", "namespace": "default"}, "data": {"level": "debug"}}
    secret = {
        "metadata": {"name": "db", "namespace": "default"},
        "data": {"password": base64.b64encode(b"hunter2-e2e").decode()},
    }
    call(ui, "POST", "/api/v1/namespaces/default/pods", pod)
    for path, body in (("configmaps", cm), ("secrets", secret)):
        try:
            call(ui, "POST", f"/api/v1/namespaces/default/{path}", body)
        except urllib.error.HTTPError as e:
            assert e.code == 409  # left by an earlier run of this module's cluster
    try:
        page.goto(f"{ui.url}/c/{quote(KIND, safe='')}/pods/default/{name}")
        card = page.locator('.container-card[data-container="app"]')
        envs = card.get_by_test_id("env")
        expect(envs).to_contain_text("MODE=fast")
        expect(envs).to_contain_text("LEVEL ← ConfigMap app-config, key level")
        expect(envs).to_contain_text("PASSWORD ← Secret db, key password")
        expect(envs).to_contain_text("MY_IP ← field status.podIP")
        expect(envs).to_contain_text("all keys of ConfigMap shared")
        # The ConfigMap's value is looked up; the Secret's only on request (issue 11 defect 8).
        expect(envs.locator('[data-env="LEVEL"]')).to_contain_text("= debug")
        password = envs.locator('[data-env="PASSWORD"]')
        expect(password.get_by_test_id("env-reveal")).to_be_enabled()
        expect(password).not_to_contain_text("hunter2-e2e")
        password.get_by_test_id("env-reveal").click()
        expect(password).to_contain_text("= hunter2-e2e")
        password.get_by_test_id("env-reveal").click()
        expect(password).not_to_contain_text("hunter2-e2e")
        assert problems.errors == [], problems.errors
    finally:
        call(ui, "DELETE", f"/api/v1/namespaces/default/pods/{name}")


def test_secret_env_reveal_follows_access_review(
    browser: Any,
    lantern_factory: Any,
    sim_factory: Any,
    pki: Any,
    tmp_path: Path,
    problems: Problems,
) -> None:
    """A user who may not read the Secret gets no Reveal (the access review says no)."""
    sim = sim_factory(
        "kubernetes", tokens={"viewer-token": "viewer"}, denied_verbs={"viewer": ("get secrets",)}
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "envsecret", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.36",
                    "env": [
                        {
                            "name": "TOKEN",
                            "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}},
                        }
                    ],
                }
            ]
        },
    }
    sim.state.store.add("pods", pod)
    ctx = Context(name="viewer", server=sim.context.server, ca_pem=pki.ca_pem, token="viewer-token")
    kc = write_kubeconfig(tmp_path / "config", [ctx])
    server = lantern_factory(kubeconfigs=(kc,), launch_token="e2e-token")
    page = new_page(browser, f"{server.url}/?token=e2e-token", problems)
    try:
        page.goto(f"{server.url}/c/viewer/pods/default/envsecret")
        line = page.locator('[data-testid="env"] [data-env="TOKEN"]')
        expect(line).to_contain_text("TOKEN ← Secret api, key token")
        expect(line.get_by_test_id("env-reveal")).to_be_disabled()
        assert problems.errors == [], problems.errors
    finally:
        page.context.close()
