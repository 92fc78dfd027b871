"""The session recordings page (issue 10 §2) in headless Chromium: sessions recorded by
`serve --record-sessions` on two clusters, listed newest first, filtered by cluster, pod,
user and day, played back in asciinema-player (the output text appears in the player);
and the shell's warning while recording fails."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import expect

from kubelantern.settings import Settings
from tests.e2e.conftest import Problems, Ui, new_page, running_pod, shot
from tests.e2e.test_streams import open_pod, wait_row
from tests.harness.proxy import V4, V5, cluster_base, eventually, exec_path, find_pod
from tests.harness.stack import CONTEXT_NAMES, start_kubelantern

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
LEGACY = CONTEXT_NAMES["legacy"]


def _ui(kubeconfig: Path, root: Path) -> Iterator[Ui]:
    token = secrets.token_urlsafe(16)
    server = start_kubelantern(
        Settings(kubeconfigs=(kubeconfig,), launch_token=token, record_sessions=root)
    )
    yield Ui(server, token)
    server.stop()


@pytest.fixture(scope="module")
def rec_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recordings") / "rec"


@pytest.fixture(scope="module")
def rec_ui(kubeconfig: Path, rec_root: Path) -> Iterator[Ui]:
    yield from _ui(kubeconfig, rec_root)


async def _exec(ui: Ui, profile: str, command: list[str]) -> None:
    """One exec session over WebSocket, to its end (what any client does)."""
    headers = {"X-Kubelantern-Token": ui.token}
    async with aiohttp.ClientSession(headers=headers) as http:
        base = cluster_base(ui.server, profile)
        ns, pod, container = await find_pod(http, base)
        async with http.ws_connect(
            base + exec_path(ns, pod, container, command), protocols=(V5, V4)
        ) as ws:
            async with asyncio.timeout(30):
                async for _ in ws:
                    pass


def _off_thread(work: Coroutine[Any, Any, None]) -> None:
    """Playwright's sync API runs a loop in this thread: asyncio work goes to another."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result(timeout=120)


def _record(ui: Ui, root: Path, sessions: list[tuple[str, list[str]]]) -> None:
    before = len(list(root.rglob("*.cast"))) if root.exists() else 0

    async def run() -> None:
        for profile, command in sessions:
            await _exec(ui, profile, command)
        want = before + len(sessions)

        def done() -> bool:
            found = list(root.rglob("*.cast"))
            return len(found) == want and all('"m"' in p.read_text() for p in found)

        await eventually(done, limit=30)

    _off_thread(run())


def test_list_filter_and_play_back(
    browser: Any, rec_ui: Ui, rec_root: Path, problems: Problems
) -> None:
    _record(
        rec_ui,
        rec_root,
        [
            ("legacy", ["echo", "from-the-legacy-cluster"]),
            ("kubernetes", ["sh", "-c", "echo played-back-line-one; echo played-back-line-two"]),
        ],
    )
    page = new_page(browser, rec_ui.launch_url, problems)
    page.get_by_test_id("recordings-link").click()
    expect(page).to_have_url(f"{rec_ui.url}/recordings")
    rows = page.locator(".rec-table tbody tr")
    expect(rows).to_have_count(2)
    # Newest first: the kubernetes session was recorded last.
    expect(rows.nth(0)).to_contain_text(KIND)
    expect(rows.nth(1)).to_contain_text(LEGACY)
    expect(rows.nth(0)).to_contain_text("played-back-line-one")  # the command column
    # Filters: cluster, then a pod that matches nothing, then user and day.
    page.locator('select[name="cluster"]').select_option(LEGACY)
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("from-the-legacy-cluster")
    assert "rec_cluster=" in page.url  # the filter is in the URL (a link shares it)
    page.locator('input[name="pod"]').fill("no-such-pod")
    page.locator('input[name="pod"]').press("Enter")
    expect(page.get_by_text("No recordings match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear").click()
    expect(rows).to_have_count(2)
    page.locator('input[name="user"]').fill("someone-else")
    page.locator('input[name="user"]').press("Enter")
    expect(rows).to_have_count(0)
    page.get_by_role("button", name="Clear").click()
    day = rows.nth(0).get_attribute("data-path").split("/")[1]  # <cluster>/<day>/<file>
    page.locator('input[name="day"]').fill(day)
    expect(rows).to_have_count(2)
    page.locator('input[name="day"]').fill("1999-01-01")
    expect(rows).to_have_count(0)
    page.get_by_role("button", name="Clear").click()
    # Play back the newest: its output appears in asciinema-player's terminal.
    rows.nth(0).get_by_role("button", name="Play").click()
    player = page.get_by_test_id("cast-player")
    page.wait_for_timeout(3000)
    print("DEBUG", problems.seen)
    shot(page, "DEBUG")
    expect(player).to_contain_text("played-back-line-two", timeout=20_000)
    expect(player).to_contain_text("played-back-line-one")
    # No tty: each line starts at the left edge (bare LFs played as CRLF, no staircase).
    lefts = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=cast-player] .ap-line')]
            .filter((l) => /played-back-line/.test(l.textContent))
            .map((l) => l.textContent.search(/\\S/))"""
    )
    assert lefts == [0, 0], lefts
    assert "play=" in page.url
    shot(page, "recordings-playback")
    # A reload keeps the filters and the recording played.
    page.reload()
    expect(page.get_by_test_id("cast-player")).to_contain_text(
        "played-back-line-two", timeout=20_000
    )
    assert problems.errors == []


def test_failing_recording_is_warned_on_every_page(
    browser: Any, kubeconfig: Path, tmp_path: Path, problems: Problems
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for ui in _ui(kubeconfig, blocker / "rec"):
        _off_thread(_exec(ui, "kubernetes", ["echo", "unrecorded"]))
        page = new_page(browser, ui.launch_url, problems)
        warning = page.get_by_test_id("recording-warning")
        expect(warning).to_contain_text("Session recording is failing")
        expect(warning).to_contain_text("Not a directory")
        expect(page.get_by_test_id("recordings-link")).to_have_attribute(
            "title", "Session recordings (recording is failing)"
        )
        shot(page, "recordings-failing-warning")
        page.get_by_test_id("recordings-link").click()
        expect(page.get_by_test_id("recording-failures")).to_contain_text("failed 1 time")
        assert problems.errors == []


def test_a_browser_terminal_session_is_recorded_and_played_back(
    browser: Any, kubeconfig: Path, tmp_path: Path, problems: Problems
) -> None:
    root = tmp_path / "rec"
    for ui in _ui(kubeconfig, root):
        pod = running_pod(ui, KIND, "shop", "cart-")
        page = new_page(browser, ui.launch_url, problems)
        open_pod(page, ui, KIND, "shop", pod)
        page.get_by_test_id("action-shell").click()
        term = page.get_by_test_id("terminal-pane").last
        status = term.get_by_test_id("terminal-status")
        expect(status).to_contain_text("connected")
        term.locator(".kl-term").click()
        page.keyboard.type("echo from-the-'browser'-terminal\n")
        wait_row(page, "from-the-browser-terminal")
        page.keyboard.type("exit 4\n")
        expect(status).to_contain_text("process exited with code 4")

        def ended() -> bool:
            found = list(root.rglob("*.cast"))
            return len(found) == 1 and '"exit 4"' in found[0].read_text()

        _off_thread(eventually(ended, limit=30))
        page.get_by_test_id("recordings-link").click()
        # The dock's deep link (cluster=, pod= of the open terminal) is not a filter here.
        expect(page.locator('select[name="cluster"]')).to_have_value("")
        expect(page.locator('input[name="pod"]')).to_have_value("")
        assert "view=exec" in page.url  # and the terminal's link is still in the URL
        row = page.locator(".rec-table tbody tr").first
        expect(row).to_contain_text(pod)
        expect(row).to_contain_text("local")
        expect(row.locator("td").nth(7)).to_have_text("4")  # the exit column
        row.get_by_role("button", name="Play").click()
        player = page.get_by_test_id("cast-player")
        expect(player).to_contain_text("from-the-browser-terminal", timeout=20_000)
        shot(page, "recordings-browser-session")
        assert problems.errors == []
