"""The streams module's logic in a real browser: the bench harness page exposes the pure
pieces (line splitting, resume de-duplication, buffer cap, ANSI, exit status, error text) and
a live log pane that talks over real sockets to a small fake cluster endpoint served here."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from bench.logviewer import build_harness

from kubelantern.proxy.execsession import LOST_NOTICE
from tests.harness.servers import ServerThread

pytestmark = pytest.mark.browser

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
N = 80
DROP_AFTER = 40  # the first connection sends lines 0..39 (and half of line 40), then drops


def stamp(t: dt.datetime) -> str:
    """RFC3339Nano as kubelet writes it: trailing zeros trimmed, no fraction on whole seconds."""
    frac = f"{t.microsecond:06d}000".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def make_lines() -> list[tuple[dt.datetime, str]]:
    out = []
    for k in range(N):
        t = T0 + dt.timedelta(milliseconds=250 * k)
        text = f"line {k} café ☕ {'x' * (k % 7)}"
        if k in (38, 39, 40):  # one timestamp, two identical lines, then a different one
            t = T0 + dt.timedelta(milliseconds=250 * 38)
            text = "dup" if k < 40 else "other at the same instant"
        out.append((t, f"{stamp(t)} {text}"))
    return out


LINES = make_lines()


class Fake:
    def __init__(self, harness: Path) -> None:
        self.harness = harness
        self.queries: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.index)
        app.router.add_static("/assets", self.harness / "assets")
        app.router.add_get("/clusters/fake/api/v1/namespaces/ns/pods/{pod}/log", self.log)
        return app

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.harness / "index.html")

    async def log(self, request: web.Request) -> web.StreamResponse:
        pod = request.match_info["pod"]
        self.queries.append(
            {"pod": pod, "ws": str(request.headers.get("Upgrade", "")), **request.query}
        )
        refusals = {
            "denied": (403, "origin not allowed"),
            "creds": (401, "Unauthorized"),
            "down": (502, "dial tcp 10.0.0.1:6443: connect: connection refused"),
        }
        if pod in refusals:
            code, message = refusals[pod]
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": message,
                "code": code,
            }
            return web.json_response(body, status=code)
        ws = web.WebSocketResponse(protocols=("binary.k8s.io", "base64.binary.k8s.io"))
        await ws.prepare(request)
        await ws.send_bytes(b"")
        since = request.query.get("sinceTime")
        if since is None:
            data = "".join(line + "\n" for _, line in LINES[:DROP_AFTER]).encode()
            data += (LINES[DROP_AFTER][1] + "\n").encode()[:12]  # a partial line, then the drop
            for i in range(0, len(data), 7):  # 7-byte reads split UTF-8 characters
                await ws.send_bytes(data[i : i + 7])
            await asyncio.sleep(0.2)
            assert request.transport is not None
            request.transport.close()  # no Close frame: the browser sees 1006
            return ws
        # The apiserver passes sinceTime on to the kubelet with second precision.
        floor = dt.datetime.fromisoformat(since.replace("Z", "+00:00")).replace(microsecond=0)
        data = "".join(line + "\n" for t, line in LINES if t >= floor).encode()
        for i in range(0, len(data), 2048):
            await ws.send_bytes(data[i : i + 2048])
        await ws.close()
        return ws


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("harness")
    build_harness(out)
    return out


@pytest.fixture(scope="module")
def fake(harness: Path) -> Iterator[tuple[Fake, ServerThread]]:
    f = Fake(harness)
    server = ServerThread(f.app).start()
    yield f, server
    server.stop()


@pytest.fixture
def hp(browser: Any, fake: tuple[Fake, ServerThread]) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 700})
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{fake[1].url}/")
    page.wait_for_function("document.title === 'bench ready'")
    page.errors = errors
    yield page
    ctx.close()
    assert errors == [], errors


def ev(page: Any, expr: str, *args: Any) -> Any:
    return page.evaluate(f"(a) => streamsTest.{expr}(...a)", list(args))


# ---------------------------------------------------------------- pure pieces


def test_lines_reassembled_across_chunks_and_utf8_borders(hp: Any) -> None:
    text = "héllo wörld ☕\nsecond 😀 line\r\nthird"
    data = list(text.encode())
    for size in (1, 2, 3, 5, 64):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert ev(hp, "splitChunks", chunks) == ["héllo wörld ☕", "second 😀 line", "third"]


def test_timestamps_parse_with_trimmed_fractions_in_time_order(hp: Any) -> None:
    a = ev(hp, "parseTimestamp", "2026-01-01T00:00:00.1Z first")
    b = ev(hp, "parseTimestamp", "2026-01-01T00:00:00.12Z second")
    c = ev(hp, "parseTimestamp", "2026-01-01T00:00:01Z third")
    assert a["ts"] < b["ts"] < c["ts"]  # string order would put .1Z after .12Z
    assert a["msgStart"] == len("2026-01-01T00:00:00.1Z ")
    assert ev(hp, "parseTimestamp", "no timestamp here") is None


def test_resume_drops_the_overlap_but_keeps_repeated_and_new_lines(hp: Any) -> None:
    s = "2026-01-01T00:00:05.5Z"
    before = ["2026-01-01T00:00:05.1Z a", f"{s} dup", f"{s} dup"]
    after = [
        "2026-01-01T00:00:05.1Z a",
        f"{s} dup",
        f"{s} dup",
        f"{s} dup",
        f"{s} new",
        "2026-01-01T00:00:06Z b",
    ]
    # A third identical line at the same instant was not seen before: kept, as is the new one.
    assert ev(hp, "resume", before, after) == [f"{s} dup", f"{s} new", "2026-01-01T00:00:06Z b"]


def test_buffer_merges_sources_in_time_order_and_caps_with_a_drop_count(hp: Any) -> None:
    res = ev(
        hp,
        "buffer",
        5,
        [
            [[1, "a1", 0], [3, "a3", 0], [5, "a5", 0]],
            [[2, "b2", 1], [4, "b4", 1], [6, "b6", 1]],
            [[7, "a7", 0]],
        ],
    )
    assert res["lines"] == ["a3", "b4", "a5", "b6", "a7"]
    assert res["dropped"] == 2
    assert res["base"] == 2
    # One source: the server's order is kept even when its clock steps back.
    one = ev(hp, "buffer", 10, [[[5, "x5", 0], [3, "x3", 0]], [[4, "x4", 0]]], False)
    assert one["lines"] == ["x5", "x3", "x4"]
    # Ties keep lines already held first (stable).
    assert ev(hp, "merge", [1, 2, 2], [2, 3]) == ["a1", "a2", "a2", "b2", "b3"]


def test_ansi_colours_as_spans_and_html_escaped(hp: Any) -> None:
    html = ev(
        hp,
        "render",
        "\x1b[1;31mERR\x1b[0m <b>&amp;</b> \x1b[38;5;208mo\x1b[38;2;1;2;3mt\x1b[0m",
        "",
        False,
    )
    assert '<span class="kl-f1 kl-bold">ERR</span>' in html
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in html  # text, never markup
    assert "<b>" not in html
    assert 'style="color: rgb(255, 135, 0);"' in html  # 256-colour 208
    assert 'style="color: rgb(1, 2, 3);"' in html  # truecolor
    assert ev(hp, "stripAnsi", "\x1b[32mok\x1b[0m\x1b[2K done") == "ok done"


def test_search_highlight_spans_ansi_segments_smart_case_and_regex(hp: Any) -> None:
    html = ev(hp, "render", "ab\x1b[31mcd\x1b[0mef", "bcd", False)
    assert html.count("<mark") == 2  # one match split over two styled segments
    assert ev(hp, "ranges", "Error error ERROR", "error", False) == [0, 5, 6, 11, 12, 17]
    assert ev(hp, "ranges", "Error error ERROR", "Error", False) == [0, 5]  # capital: exact case
    assert ev(hp, "ranges", "a1 b22 c333", r"\d{2,}", True) == [4, 6, 8, 11]
    assert ev(hp, "ranges", "a.c abc", "a.c", False) == [0, 3]  # literal unless regex


def test_exec_status_outcomes(hp: Any) -> None:
    ok = json.dumps({"metadata": {}, "status": "Success"})
    code3 = json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: "
            "command terminated with exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
        }
    )
    missing = json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "message": "Internal error occurred: error executing command in container: failed to "
            "exec in container: OCI runtime exec failed: exec failed: unable to start container "
            'process: exec: "bash": executable file not found in $PATH: unknown',
            "reason": "InternalError",
            "code": 500,
        }
    )
    assert ev(hp, "outcome", ok, 1000, "") == {"kind": "exit", "code": 0}
    assert ev(hp, "outcome", code3, 1000, "") == {"kind": "exit", "code": 3}
    assert ev(hp, "outcome", missing, 1000, "")["kind"] == "not-found"
    assert ev(hp, "outcome", "", 1006, "")["message"] == "connection lost (code 1006)"
    assert ev(hp, "resizeFrame", 120, 40) == [4, *b'{"Width":120,"Height":40}\n']
    path = ev(hp, "streamPath", "exec", "ns", "p", "c", ["sh", "-c", "echo hi"])
    assert path == (
        "/api/v1/namespaces/ns/pods/p/exec?container=c&stdin=true&stdout=true&stderr=true"
        "&tty=true&command=sh&command=-c&command=echo+hi"
    )


def test_terminal_reattach_pieces(hp: Any) -> None:
    ids = {ev(hp, "newSessionId") for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16,64}", i) for i in ids)  # what kubelantern takes
    assert ev(hp, "sessionProtocols", ["v5.channel.k8s.io"], "abc") == [
        "v5.channel.k8s.io",
        "kubelantern.session.abc",
    ]
    assert [ev(hp, "isDrop", c) for c in (1006, 1001, 1000, 1011)] == [True, True, False, False]
    delays = [ev(hp, "reattachDelay", n) for n in range(7)]
    assert delays == [500, 1000, 2000, 4000, 8000, 8000, 8000]
    assert ev(hp, "rejoinDeadline", 1_000, 60) == 1_000 + 60_000 + 5_000
    # A new upstream exec starts with the empty "connected" message; a replay never does.
    assert ev(hp, "rejoined", [1]) == {"kind": "new-session"}
    assert ev(hp, "rejoined", [1, *b"hello"]) == {"kind": "resumed"}
    # kubelantern's own notice (proxy/execsession.py LOST_NOTICE), word for word.
    notice = LOST_NOTICE.format(n=2097152).encode()
    assert ev(hp, "rejoined", [1, *notice]) == {"kind": "lost", "bytes": 2097152}
    assert ev(hp, "rejoined", [2, *notice]) == {"kind": "resumed"}  # only on stdout


@pytest.mark.parametrize(
    ("status", "body", "expected", "permanent"),
    [
        (401, '{"message":"Unauthorized"}', "refused the credentials (401)", True),
        (403, '{"message":"origin not allowed"}', "403 origin not allowed", True),
        (403, '{"message":"pods \\"p\\" is forbidden"}', "forbidden by cluster c1 (403)", True),
        (404, '{"message":"pods \\"p\\" not found"}', "not found on cluster c1 (404)", True),
        (502, "bad gateway", "cluster c1 is unreachable (502)", False),
        (0, "", "kubelantern is not reachable", False),
    ],
)
def test_failure_explanations(
    hp: Any, status: int, body: str, expected: str, permanent: bool
) -> None:
    f = ev(hp, "explainStatus", "c1", status, body)
    assert expected in f["message"]
    assert f["permanent"] is permanent
    if status in (401, 403, 502):
        assert "kubelantern doctor c1" in f["advice"]


# ---------------------------------------------------------------- a live pane over sockets


def test_log_stream_resumes_after_a_drop_without_lost_or_duplicated_lines(
    hp: Any, fake: tuple[Fake, ServerThread]
) -> None:
    f, _ = fake
    f.queries.clear()
    ev(hp, "openLive", "web")
    hp.wait_for_function("() => streamsTest.live().states[0]?.phase === 'ended'", timeout=20_000)
    live = ev(hp, "live")
    assert live["lines"] == [line for _, line in LINES]
    ws = [q for q in f.queries if q["ws"].lower() == "websocket"]
    assert len(ws) == 2
    assert ws[0]["follow"] == "true" and ws[0]["timestamps"] == "true" and "sinceTime" not in ws[0]
    assert ws[1]["sinceTime"] == stamp(LINES[39][0])  # the last line seen before the drop
    assert "tailLines" not in ws[1]
    # The pane shows them (virtualized: only some rows exist).
    assert hp.locator(".kl-row").count() > 0


@pytest.mark.parametrize(
    ("pod", "phase", "text"),
    [
        ("denied", "error", "refused the WebSocket: 403 origin not allowed"),
        ("creds", "error", "refused the credentials (401)"),
        ("down", "reconnecting", "is unreachable (502)"),
    ],
)
def test_refused_upgrade_is_explained_by_an_http_probe(
    hp: Any, fake: tuple[Fake, ServerThread], pod: str, phase: str, text: str
) -> None:
    f, _ = fake
    f.queries.clear()
    ev(hp, "openLive", pod)
    hp.wait_for_function(f"() => streamsTest.live().states[0]?.phase === '{phase}'", timeout=15_000)
    state = ev(hp, "live")["states"][0]
    assert text in state["message"]
    if pod != "down":
        assert "kubelantern doctor fake" in state["advice"]
    probes = [q for q in f.queries if q["ws"].lower() != "websocket"]
    assert probes and "follow" not in probes[0] and probes[0]["tailLines"] == "1"


def test_reader_keeps_their_line_while_old_lines_drop_and_wrap_toggles(hp: Any) -> None:
    res = hp.evaluate("streamsTest.anchor()")
    assert res["following"] is False
    assert res["dropped"] == 500
    assert "request 700 " in res["before"]
    assert res["afterDrop"] == res["before"]
    assert res["afterWrap"] == res["before"]
