"""Browser fixtures: kubelantern (with a launch token) over the simulator clusters, headless
Chromium from /usr/bin/chromium, and a page that records console errors and page errors."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.harness.chromium import CHROMIUM, launch_chromium
from tests.harness.servers import ServerThread
from tests.harness.stack import SimCluster, start_kubelantern

# Two cores shared with other work: give UI assertions room before calling them failures.
expect.set_options(timeout=10_000)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STATIC_INDEX = (
    Path(__file__).resolve().parents[2] / "src" / "kubelantern" / "web" / "static" / "index.html"
)


@dataclass
class Ui:
    server: ServerThread
    token: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def launch_url(self) -> str:
        return f"{self.server.url}/?token={self.token}"


@dataclass
class Problems:
    """Console errors and uncaught exceptions seen by a page. A test that provokes a failed
    request on purpose (a wrong login token) lists that URL's path in `expected`."""

    seen: list[tuple[str, str]] = field(default_factory=list)  # (message, url)
    expected: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[str]:
        return [m for m, url in self.seen if not any(e in url for e in self.expected)]

    def watch(self, page: Any) -> None:
        def on_console(m: Any) -> None:
            if m.type == "error":
                url = (m.location or {}).get("url", "")
                self.seen.append((f"console: {m.text} ({url})", url))

        page.on("console", on_console)
        page.on("pageerror", lambda e: self.seen.append((f"pageerror: {e}", "")))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"headless Chromium not found at {CHROMIUM}: the browser tests drive the system "
            "Chromium (Debian package `chromium`, `make system-deps`), or set KUBELANTERN_CHROMIUM",
            pytrace=False,
        )
    if not STATIC_INDEX.exists():
        pytest.fail(
            f"the web UI is not built ({STATIC_INDEX} missing): run `make frontend` "
            "(cd frontend && npm ci && npm run build)",
            pytrace=False,
        )
    # Failure screenshots describe this run only.
    for old in SCREENSHOTS.glob("FAILED-*.png"):
        old.unlink(missing_ok=True)
    return CHROMIUM


@pytest.fixture(scope="module")
def ui(kubeconfig: Path, sims: dict[str, SimCluster]) -> Iterator[Ui]:
    token = secrets.token_urlsafe(16)
    server = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=token))
    yield Ui(server, token)
    server.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p, executable=chromium_path)
        yield b
        b.close()


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Any, ui: Ui, problems: Problems, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context that opened the launch URL like a user does. A failing test
    leaves `artifacts/screenshots/FAILED-<test>.png` behind."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    problems.watch(pg)
    pg.goto(ui.launch_url)
    yield pg
    if request.node.stash.get(FAILED, False):
        try:
            shot(pg, f"FAILED-{request.node.name}")
        except Exception:  # the page may be gone; the failure itself is what matters
            pass
    ctx.close()


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def new_page(browser: Any, url: str, problems: Problems) -> Any:
    """A page in its own context that opened `url` (usually a launch URL)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    problems.watch(pg)
    pg.goto(url)
    return pg


def api(ui: Ui, cluster: str, path: str) -> Any:
    """GET JSON from a cluster through kubelantern (with the launch token)."""
    req = urllib.request.Request(
        f"{ui.url}/clusters/{quote(cluster, safe='')}{path}",
        headers={"X-Kubelantern-Token": ui.token},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def running_pod(ui: Ui, cluster: str, namespace: str, prefix: str) -> str:
    """The first Running pod whose name starts with `prefix`."""
    pods = api(ui, cluster, f"/api/v1/namespaces/{namespace}/pods")["items"]
    names = sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith(prefix) and p["status"].get("phase") == "Running"
    )
    assert names, f"no running pod {prefix}* in {namespace} on {cluster}"
    return names[0]
