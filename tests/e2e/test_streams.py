"""The log viewer, the terminal and the dock, driven as a user in headless Chromium.

kubelantern (with a launch token) over the simulator clusters; pods are opened from their
detail pages with the app's own buttons. Covers both the kubernetes and the rancher profile.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui, api, running_pod, shot
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = CONTEXT_NAMES["kubernetes"]
RANCHER = CONTEXT_NAMES["rancher"]
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def enc(name: str) -> str:
    return quote(name, safe="")


def assert_clean(problems: Problems, responses: list[str] | None = None) -> None:
    assert problems.errors == [], "the browser console reported errors:\n" + "\n".join(
        problems.errors + (responses or [])
    )


@pytest.fixture(autouse=True)
def bad_responses(page: Any) -> list[str]:
    """HTTP errors seen by the page, to say which request a console error is about."""
    seen: list[str] = []
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


def open_pod(page: Any, ui: Ui, cluster: str, namespace: str, pod: str) -> None:
    page.goto(f"{ui.url}/c/{enc(cluster)}/pods/{enc(namespace)}/{enc(pod)}")
    expect(page.locator("h1.obj-title")).to_have_text(pod)


def status_count(page: Any) -> int:
    text = page.get_by_test_id("log-status").inner_text()
    m = re.search(r"([\d,]+) lines", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


def row_texts(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".kl-log-scroll .kl-row").all_inner_texts()]


@pytest.mark.parametrize("cluster", [KIND, RANCHER])
def test_pod_logs_follow_search_timestamps_wrap_download(
    page: Any, ui: Ui, problems: Problems, cluster: str, tmp_path: Path, bad_responses: list[str]
) -> None:
    pod = running_pod(ui, cluster, "shop", "cart-")
    open_pod(page, ui, cluster, "shop", pod)
    page.get_by_test_id("action-logs").click()

    pane = page.get_by_test_id("log-pane").last
    rows = pane.locator(".kl-log-scroll .kl-row")
    expect(rows.first).to_be_visible()
    expect(pane.get_by_test_id("log-status")).to_contain_text("following")

    # Follow: new lines arrive and the newest stays in view.
    before = status_count(page)
    page.wait_for_function(
        f"""() => {{
            const t = document.querySelector('[data-testid=log-status]').innerText;
            const m = t.match(/([\\d,]+) lines/);
            return m && Number(m[1].replace(/,/g, '')) > {before};
        }}""",
        timeout=15_000,
    )
    at_bottom = pane.locator(".kl-log-scroll").evaluate(
        "el => el.scrollTop + el.clientHeight >= el.scrollHeight - 20"
    )
    assert at_bottom, "following should keep the newest line in view"

    # Timestamps are a display toggle: off by default, RFC3339 when on.
    assert pane.locator(".kl-ts").count() == 0
    pane.get_by_label("Timestamps").check()
    first_ts = pane.locator(".kl-ts").first
    expect(first_ts).to_be_visible()
    assert TS_RE.match(first_ts.inner_text().strip()), first_ts.inner_text()

    # Search: highlighted matches, Enter / Shift+Enter step through them (and pause following).
    texts = row_texts(page)
    word = next(w for t in texts for w in re.findall(r"[A-Za-z]{4,}", t.split(" ", 1)[1]))
    search = pane.get_by_label("Search logs")
    search.fill(word)
    count = pane.get_by_test_id("match-count")
    expect(count).to_contain_text(re.compile(r"/[1-9]"))
    expect(pane.locator("mark.kl-hit").first).to_be_visible()
    total = int(count.inner_text().split("/")[1])
    search.press("Enter")
    expect(count).to_contain_text(re.compile(r"^1/"))
    expect(pane.locator("mark.kl-hit-current").first).to_be_visible()
    assert word.lower() in pane.locator(".kl-row-current").inner_text().lower()
    search.press("Shift+Enter")
    # Back from the first match wraps to the last one. Following goes on meanwhile, so more
    # matches may have arrived since `total` was read: the last one is at least `total`.
    page.wait_for_function(
        """(total) => {
            const panes = document.querySelectorAll('[data-testid=log-pane]');
            const count = panes[panes.length - 1].querySelector('[data-testid=match-count]');
            const [current, all] = (count ? count.textContent : '').split('/').map(Number);
            return current >= total && current <= all;
        }""",
        arg=total,
        timeout=10_000,
    )
    jump = pane.get_by_role("button", name="Jump to latest ↓")
    expect(jump).to_be_visible()
    jump.click()
    expect(pane.get_by_role("button", name="Following")).to_be_visible()
    expect(jump).to_be_hidden()

    # Filter mode shows only matching lines.
    pane.get_by_label("Filter").check()
    page.wait_for_function(
        """(w) => { const rows = [...document.querySelectorAll('.kl-log-scroll .kl-row')];
            return rows.length > 0 && rows.every(r => r.innerText.includes(w)); }""",
        arg=word,
        timeout=10_000,
    )
    assert all(word in t for t in row_texts(page))
    pane.get_by_label("Filter").uncheck()

    # Wrap toggle.
    pane.get_by_label("Wrap").check()
    expect(pane.locator(".kl-log-scroll")).to_have_class(re.compile(r"\bkl-wrap\b"))
    pane.get_by_label("Wrap").uncheck()
    expect(pane.locator(".kl-log-scroll")).not_to_have_class(re.compile(r"\bkl-wrap\b"))

    shot(page, f"streams-logs-{cluster.split('/')[0]}")

    # Download: the lines held, as a .log file (timestamps on, as displayed).
    with page.expect_download() as info:
        pane.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.endswith(".log")
    saved = tmp_path / "pod.log"
    download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert len(lines) >= before
    assert all(TS_RE.match(line.split(" ", 1)[0]) for line in lines[:50])
    assert_clean(problems, bad_responses)


def test_workload_logs_merge_all_pods_in_time_order(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    pods = [
        p["metadata"]["name"]
        for p in api(ui, KIND, "/api/v1/namespaces/shop/pods")["items"]
        if p["metadata"]["name"].startswith("frontend-")
    ]
    assert len(pods) >= 2
    page.goto(f"{ui.url}/c/{enc(KIND)}/deployments/shop/frontend")
    page.get_by_test_id("action-workload-logs").click()
    pane = page.get_by_test_id("log-pane").last
    expect(pane.get_by_label("Pod")).to_be_visible()
    expect(pane.locator(".kl-row .kl-src").first).to_be_visible()
    page.wait_for_function(
        "() => new Set([...document.querySelectorAll('.kl-row .kl-src')].map(e => e.textContent))"
        ".size >= 2",
        timeout=15_000,
    )
    labels = set(pane.locator(".kl-row .kl-src").all_inner_texts())
    assert labels <= set(pods), labels
    pane.get_by_label("Timestamps").check()
    expect(pane.locator(".kl-row .kl-ts").first).to_be_visible()
    stamps = pane.locator(".kl-row .kl-ts").all_inner_texts()
    times = [dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00")) for s in stamps]
    assert len(times) >= 5
    assert times == sorted(times), "merged lines must be in time order"

    # One pod only: the labels go away.
    pane.get_by_label("Pod").select_option(pods[0])
    expect(pane.locator(".kl-row").first).to_be_visible()
    expect(pane.locator(".kl-row .kl-src")).to_have_count(0)
    assert_clean(problems, bad_responses)


def test_all_containers_include_init_and_sidecar(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    pod = running_pod(ui, KIND, "shop", "catalog-")
    open_pod(page, ui, KIND, "shop", pod)
    page.get_by_test_id("action-logs").click()
    pane = page.get_by_test_id("log-pane").last
    picker = pane.get_by_label("Container")
    # all_inner_texts() does not wait: let the pane render its choices first.
    expect(picker.locator("option", has_text="migrate-db (init)")).to_have_count(1)
    options = picker.locator("option").all_inner_texts()
    assert "All containers" in options
    assert any("migrate-db (init)" in o for o in options), options
    picker.select_option("*")
    page.wait_for_function(
        "() => new Set([...document.querySelectorAll('.kl-row .kl-src')].map(e => e.textContent))"
        ".size >= 2",
        timeout=15_000,
    )
    labels = set(pane.locator(".kl-row .kl-src").all_inner_texts())
    assert labels <= {"catalog", "envoy", "migrate-db"}, labels
    assert_clean(problems, bad_responses)


VISIBLE_ROWS = ".kl-pane:not([hidden]) .xterm-rows > div"


def wait_row(page: Any, pattern: str) -> str:
    """Waits until a row of the visible terminal matches `pattern` entirely; returns it.
    (xterm draws one div per row: their textContent has no newlines between rows.)"""
    from playwright.sync_api import TimeoutError as PwTimeout

    try:
        handle = page.wait_for_function(
            """([sel, pat]) => {
                const re = new RegExp('^' + pat + '$');
                const rows = [...document.querySelectorAll(sel)].map(r => r.textContent.trim());
                return rows.find(r => re.test(r)) ?? false;
            }""",
            arg=[VISIBLE_ROWS, pattern],
            timeout=10_000,
        )
    except PwTimeout:
        rows = page.evaluate(
            "(sel) => [...document.querySelectorAll(sel)].map(r => r.textContent.trim())",
            VISIBLE_ROWS,
        )
        raise AssertionError(f"no terminal row matches {pattern!r}; rows: {rows}") from None
    return str(handle.json_value())


def stty_size(page: Any) -> tuple[int, int]:
    page.keyboard.type("clear\n")
    page.wait_for_function(
        "(sel) => document.querySelectorAll(sel)[1]?.textContent.trim() === ''", arg=VISIBLE_ROWS
    )
    page.keyboard.type("stty size\n")
    rows, cols = wait_row(page, r"\d+ \d+").split()
    return int(rows), int(cols)


def xterm_rows(page: Any) -> int:
    return int(page.evaluate("(sel) => document.querySelectorAll(sel).length", VISIBLE_ROWS))


@pytest.mark.parametrize("cluster", [KIND, RANCHER])
def test_terminal_echo_resize_exit_code_and_reconnect(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str], cluster: str
) -> None:
    pod = running_pod(ui, cluster, "shop", "cart-")
    open_pod(page, ui, cluster, "shop", pod)
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    status = term.get_by_test_id("terminal-status")
    expect(status).to_contain_text("connected")
    term.locator(".kl-term").click()

    page.keyboard.type("echo hello\n")
    wait_row(page, "hello")

    rows1, cols1 = stty_size(page)
    assert rows1 == xterm_rows(page)
    page.set_viewport_size({"width": 1000, "height": 700})
    page.get_by_role("button", name="Maximize dock").click()
    page.wait_for_function(
        f"(sel) => document.querySelectorAll(sel).length !== {rows1}",
        arg=VISIBLE_ROWS,
        timeout=10_000,
    )
    term.locator(".kl-term").click()
    rows2, cols2 = stty_size(page)
    assert (rows2, cols2) != (rows1, cols1)
    assert rows2 == xterm_rows(page)
    assert cols2 < cols1  # narrower window

    page.keyboard.type("exit 3\n")
    expect(status).to_contain_text("process exited with code 3")
    expect(term.locator(".xterm-rows")).to_contain_text("Press Enter to reconnect")
    shot(page, f"streams-terminal-{cluster.split('/')[0]}")

    page.keyboard.press("Enter")
    expect(status).to_contain_text("connected")
    page.keyboard.type("echo again\n")
    wait_row(page, "again")
    assert_clean(problems, bad_responses)


def test_sh_only_image_falls_back_and_dock_holds_several_panes(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    pod = running_pod(ui, KIND, "shop", "frontend-")  # nginx alpine: sh, no bash
    open_pod(page, ui, KIND, "shop", pod)
    page.get_by_test_id("action-logs").click()
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    expect(term.get_by_test_id("terminal-status")).to_contain_text("connected")
    term.locator(".kl-term").click()
    page.keyboard.type("echo $0\n")
    wait_row(page, "sh")

    tabs = page.locator(".kl-tab")
    expect(tabs).to_have_count(2)
    tabs.first.click()
    expect(page.get_by_test_id("log-pane").last).to_be_visible()
    expect(term).to_be_hidden()
    # Esc in the log pane minimizes the dock; the tab bar stays.
    page.get_by_test_id("log-lines").click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("log-pane").last).to_be_hidden()
    page.get_by_role("button", name="Restore dock").click()
    expect(page.get_by_test_id("log-pane").last).to_be_visible()
    page.get_by_role("button", name=re.compile("^Close shell")).click()
    expect(tabs).to_have_count(1)
    assert_clean(problems, bad_responses)


def test_attach_mode_reaches_the_main_process(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    pod = running_pod(ui, KIND, "shop", "cart-")
    open_pod(page, ui, KIND, "shop", pod)
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    status = term.get_by_test_id("terminal-status")
    expect(status).to_contain_text("connected: exec")
    term.get_by_label("Mode").select_option("attach")
    expect(status).to_contain_text("connected: attach")
    wait_row(page, r".*\[cart\] main process tick \d+.*")
    term.locator(".kl-term").click()
    page.keyboard.type("ping\n")
    wait_row(page, r".*cart got: ping.*")
    assert_clean(problems, bad_responses)


def test_image_without_a_shell_says_so(
    sim_factory: Any, lantern_factory: Any, browser: Any, tmp_path: Path
) -> None:
    """A distroless container: neither bash nor sh; the terminal says what to try instead."""
    from kubelantern.settings import Settings
    from tests.harness.kubeconfig import write_kubeconfig

    sim = sim_factory("kubernetes")
    kubeconfig = write_kubeconfig(tmp_path / "config", [sim.context])
    lantern = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
    cluster = sim.context.name
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "static", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "gcr.io/distroless/static-debian12"}]},
    }
    req = urllib.request.Request(
        f"{lantern.url}/clusters/{enc(cluster)}/api/v1/namespaces/default/pods",
        data=json.dumps(pod).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 201

    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lantern.url}/c/{enc(cluster)}/pods/default/static")
        expect(page.locator("h1.obj-title")).to_have_text("static")
        shell = page.get_by_test_id("action-shell")
        expect(shell).to_be_enabled(timeout=20_000)
        shell.click()
        status = page.get_by_test_id("terminal-status")
        expect(status).to_contain_text("this image has no shell")
        expect(status).to_contain_text("Try attach, or an ephemeral debug container")
        wait_row(page, r".*no shell.*|.*executable file not found.*")
    finally:
        ctx.close()
    assert errors == []


def test_previous_instance_of_a_crashed_container(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    pods = api(ui, KIND, "/api/v1/namespaces/shop/pods")["items"]
    pod = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("checkout-"))
    open_pod(page, ui, KIND, "shop", pod)
    page.get_by_test_id("action-logs").click()
    pane = page.get_by_test_id("log-pane").last
    pane.get_by_label("Previous", exact=True).check()
    expect(pane.locator(".kl-row").first).to_be_visible()
    expect(pane.get_by_test_id("log-status")).to_contain_text("end of previous instance")
    # Back to the current instance with the same pane.
    pane.get_by_label("Previous", exact=True).uncheck()
    expect(pane.get_by_test_id("log-status")).not_to_contain_text("previous instance")
    assert_clean(problems, bad_responses)


def test_terminal_copy_selection_with_ctrl_shift_c(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui.url)
    pod = running_pod(ui, KIND, "shop", "cart-")
    open_pod(page, ui, KIND, "shop", pod)
    page.get_by_test_id("action-shell").click()
    term = page.get_by_test_id("terminal-pane").last
    expect(term.get_by_test_id("terminal-status")).to_contain_text("connected")
    term.locator(".kl-term").click()
    page.keyboard.type("echo copyme123\n")
    wait_row(page, "copyme123")
    row = term.locator(".xterm-rows > div", has_text=re.compile(r"^copyme123\s*$")).first
    box = row.bounding_box()
    assert box is not None
    # Double-click selects the word under the pointer (xterm selection), Ctrl+Shift+C copies it.
    page.mouse.dblclick(box["x"] + 20, box["y"] + box["height"] / 2)
    page.keyboard.press("Control+Shift+C")
    page.wait_for_function("async () => (await navigator.clipboard.readText()) === 'copyme123'")
    assert_clean(problems, bad_responses)


def test_log_stream_without_the_launch_token_says_so(
    page: Any, ui: Ui, problems: Problems, bad_responses: list[str]
) -> None:
    """A refused upgrade is explained by an HTTP probe; kubelantern's own 401 (no launch token)
    must not read as the cluster refusing the credentials."""
    pod = running_pod(ui, KIND, "shop", "cart-")
    open_pod(page, ui, KIND, "shop", pod)
    # The actions appear once the access reviews answered; those need the cookie too.
    expect(page.get_by_test_id("action-logs")).to_be_visible()
    page.context.clear_cookies()
    page.get_by_test_id("action-logs").click()
    status = page.get_by_test_id("log-pane").last.get_by_test_id("log-status")
    expect(status).to_contain_text("kubelantern needs its launch token")
    expect(status).not_to_contain_text("refused the credentials")
    problems.expected.add("/clusters/")  # the requests kubelantern refused without the token
    # Chromium reports the refused upgrade itself on the console (with the script as location).
    others = [e for e in problems.errors if "WebSocket connection to" not in e]
    assert others == [], "\n".join(others + bad_responses)
