"""The fleet home's APIs over real sockets (issue 11, "the cluster everywhere"):
`/api/clusters` groups and colours from the kubeconfig extension, the per-cluster summary
(counts checked against the simulator's own lists; cached; never asked of a cluster whose
probe failed; bounded with a hundred contexts), and the doctor API (the same JSON as
`kubelantern doctor NAME --json` for the same kubeconfig)."""

from __future__ import annotations

import asyncio
import io
import json
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from kubelantern.doctor import run_doctor
from kubelantern.settings import Settings
from kubelantern.web.fleet import AT_ONCE, SUMMARIES
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig, write_yaml
from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES, KUBE_TOKEN, RANCHER_TOKEN, SimCluster


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


Serve = Callable[..., ServerThread]


@pytest.fixture
def serve(lantern_factory: Callable[..., ServerThread], tmp_path: Path) -> Serve:
    """kubelantern over `contexts` (written to a fresh kubeconfig) or a kubeconfig file,
    launch token off unless a test sets one; `changes` are further Settings fields."""
    written = 0

    def start(contexts: Sequence[Context] | Path, **changes: Any) -> ServerThread:
        nonlocal written
        if isinstance(contexts, Path):
            kc = contexts
        else:
            written += 1
            kc = write_kubeconfig(tmp_path / f"kubeconfig-{written}", list(contexts))
        return lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None), **changes)

    return start


async def _json(http: aiohttp.ClientSession, method: str, url: str) -> tuple[int, Any]:
    async with http.request(method, url) as resp:
        return resp.status, await resp.json()


async def _direct(sim: SimCluster, path: str) -> list[dict[str, Any]]:
    """Every item of a list, straight from the simulator (no kubelantern)."""
    assert sim.context.ca_pem is not None
    ctx = ssl.create_default_context(cadata=sim.context.ca_pem.decode())
    headers = {"Authorization": f"Bearer {sim.context.token}"}
    async with (
        aiohttp.ClientSession() as s,
        s.get(sim.context.server + path, headers=headers, ssl=ctx) as resp,
    ):
        assert resp.status == 200
        return (await resp.json())["items"]


def _ready(obj: dict[str, Any]) -> bool:
    conds = obj.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def _kubeconfig_with_looks(tmp_path: Path, sim: SimCluster) -> Path:
    """Three contexts: group+colour on the context, on the cluster entry only, and none."""
    ctx = sim.context
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c1", "cluster": {"server": ctx.server, "certificate-authority-data": ""}},
            {
                "name": "c2",
                "cluster": {
                    "server": ctx.server,
                    "extensions": [
                        {"name": "kubelantern", "extension": {"group": "staging", "color": "#3a3"}}
                    ],
                },
            },
        ],
        "users": [{"name": "u", "user": {"token": ctx.token}}],
        "contexts": [
            {
                "name": "prod-eu",
                "context": {
                    "cluster": "c2",  # the context's extension wins over the cluster's
                    "user": "u",
                    "extensions": [
                        {"name": "kubelantern", "extension": {"group": "prod", "color": "#c33"}}
                    ],
                },
            },
            {"name": "stage-1", "context": {"cluster": "c2", "user": "u"}},
            {"name": "plain", "context": {"cluster": "c1", "user": "u"}},
        ],
        "current-context": "plain",
    }
    import base64

    assert ctx.ca_pem is not None
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        ctx.ca_pem
    ).decode()
    doc["clusters"][1]["cluster"]["certificate-authority-data"] = base64.b64encode(
        ctx.ca_pem
    ).decode()
    return write_yaml(tmp_path / "looks", doc)


async def test_clusters_carry_group_and_colour_from_the_extension(
    sims: dict[str, SimCluster], serve: Serve, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    server = serve(_kubeconfig_with_looks(tmp_path, sims["kubernetes"]))
    status, body = await _json(http, "GET", f"{server.url}/api/clusters")
    assert status == 200
    looks = {c["name"]: (c["group"], c["color"]) for c in body}
    assert looks == {
        "prod-eu": ("prod", "#c33"),
        "stage-1": ("staging", "#3a3"),
        "plain": (None, None),
    }


async def test_a_colour_that_is_not_one_is_a_kubeconfig_error(
    sims: dict[str, SimCluster], serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = sims["kubernetes"]
    bad = {"group": "prod", "color": "red;background:url(x)"}
    server = serve(
        [
            Context(
                "bad",
                sim.context.server,
                ca_pem=sim.context.ca_pem,
                token="t",
                extensions=[{"name": "kubelantern", "extension": bad}],
            ),
        ]
    )
    _, body = await _json(http, "GET", f"{server.url}/api/clusters")
    (only,) = body
    assert only["state"] == "error" and only["color"] is None
    assert "extension.color" in only["error"] and "is not a colour" in only["error"]


async def test_summary_counts_match_the_cluster_and_are_cached(
    sim_factory: Callable[..., SimCluster], serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = sim_factory("kubernetes")
    server = serve([sim.context])
    name = quote(sim.context.name, safe="")
    status, got = await _json(http, "GET", f"{server.url}/api/clusters/{name}/summary")
    assert status == 200, got

    nodes = await _direct(sim, "/api/v1/nodes")
    pods = await _direct(sim, "/api/v1/pods")
    events = await _direct(sim, "/api/v1/events")
    not_ready = [p for p in pods if p["status"].get("phase") != "Succeeded" and not _ready(p)]
    warnings = [e for e in events if e.get("type") == "Warning"]
    assert got["state"] == "ok" and got["complete"] is True
    assert (got["nodes"], got["nodesReady"]) == (len(nodes), sum(map(_ready, nodes)))
    assert (got["pods"], got["podsNotReady"]) == (len(pods), len(not_ready))
    assert got["warnings"] == len(warnings)
    assert got["pods"] > 0 and got["nodes"] > 0

    before = sim.state.recorded
    status, again = await _json(http, "GET", f"{server.url}/api/clusters/{name}/summary")
    assert status == 200 and again == got
    assert not [r for r in sim.state.requests_since(before) if r.path == "/api/v1/pods"]


async def test_summary_does_not_ask_a_cluster_whose_plugin_fails(
    sim_factory: Callable[..., SimCluster],
    serve: Serve,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    sim = sim_factory("kubernetes")
    runs = tmp_path / "runs"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_MODE": "fail", "FAKE_PLUGIN_COUNT_FILE": str(runs)},
        interactiveMode="Never",
    )
    ctx = Context("sso", sim.context.server, ca_pem=sim.context.ca_pem, user={"exec": exec_cfg})
    server = serve([ctx])
    for _ in range(3):
        status, got = await _json(http, "GET", f"{server.url}/api/clusters/sso/summary")
        assert status == 200, got
        assert got["state"] == "unauthorized" and got["reason"] == "exec-plugin"
        assert got["pods"] is None and got["nodes"] is None
    assert runs.read_text().count("run") == 1, "the failing plugin was re-run for a count"
    assert not [r for r in list(sim.state.requests) if r.path.startswith("/api/v1/")]


def _most_overlapping(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


async def test_hundred_contexts_summaries_are_bounded(
    serve: Serve, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """A hundred summaries asked at once (a script, or a table scrolled to the end): at most
    PROBES_AT_ONCE exec plugins and AT_ONCE clusters' lists in flight together."""
    in_flight = 0
    most = 0

    async def slow_list(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.2)
            return web.json_response({"kind": "List", "metadata": {}, "items": []})
        finally:
            in_flight -= 1

    async def version(request: web.Request) -> web.Response:
        return web.json_response({"gitVersion": "v1.30.0"})

    async def apis(request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIGroupList", "groups": []})

    fake = web.Application()
    fake.router.add_get("/version", version)
    fake.router.add_get("/apis", apis)
    for path in ("/api/v1/nodes", "/api/v1/pods", "/api/v1/events"):
        fake.router.add_get(path, slow_list)
    runner = web.AppRunner(fake)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    spans = tmp_path / "spans"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_SPAN_FILE": str(spans), "FAKE_PLUGIN_DELAY": "0.1"},
        interactiveMode="Never",
    )
    contexts = [
        Context(f"ctx-{i:03d}", f"http://127.0.0.1:{port}", user={"exec": exec_cfg})
        for i in range(100)
    ]
    server = serve(contexts)
    try:
        urls = [f"{server.url}/api/clusters/{c.name}/summary" for c in contexts]
        answers = await asyncio.gather(*(_json(http, "GET", u) for u in urls))
        assert all(s == 200 for s, _ in answers), answers[:3]
        # A cluster whose probe is still queued after the 3 s wait answers "unknown".
        assert {b["state"] for _, b in answers} <= {"ok", "unknown"}
        assert all(b["pods"] == 0 for _, b in answers if b["state"] == "ok")
        # The queued probes go on in the background: wait for every context's one plugin
        # run before measuring how many overlapped.
        for _ in range(600):  # up to 120 s on a loaded box
            if len(spans.read_text().splitlines()) >= len(contexts):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # room for a second run of any context, had there been one
        runs = [tuple(map(float, line.split())) for line in spans.read_text().splitlines()]
        assert len(runs) == 100  # one plugin run per context, never more
        assert _most_overlapping(runs) <= 8  # type: ignore[arg-type]
        # Every probe done: all hundred summaries read lists now, at most AT_ONCE together.
        answers = await asyncio.gather(*(_json(http, "GET", u) for u in urls))
        assert [b["state"] for _, b in answers] == ["ok"] * 100, answers[:3]
        assert all(b["pods"] == 0 and b["nodes"] == 0 for _, b in answers)
        assert len(spans.read_text().splitlines()) == 100  # no plugin re-run for a count
        assert 2 <= most <= AT_ONCE, most
        assert server.app is not None and server.app[SUMMARIES].most <= AT_ONCE
    finally:
        await runner.cleanup()


async def test_doctor_api_answers_what_the_cli_answers(
    kubeconfig: Path,
    lantern: ServerThread,
    http: aiohttp.ClientSession,
) -> None:
    name = CONTEXT_NAMES["rancher"]
    out = io.StringIO()
    code = await run_doctor(Settings(kubeconfigs=(kubeconfig,)), name, True, out)
    cli = json.loads(out.getvalue())
    status, api = await _json(
        http, "POST", f"{lantern.url}/api/clusters/{quote(name, safe='')}/doctor"
    )
    assert status == 200, api

    def timeless(doc: Any) -> Any:
        if isinstance(doc, dict):
            return {k: timeless(v) for k, v in doc.items() if not k.endswith("latency_ms")}
        if isinstance(doc, list):
            return [timeless(v) for v in doc]
        return doc

    assert timeless(api) == timeless(cli)
    assert api["ok"] is (code == 0) is True
    assert [c["cluster"] for c in api["clusters"]] == [name]
    text = json.dumps(api)
    assert KUBE_TOKEN not in text and RANCHER_TOKEN.split(":")[1] not in text


async def test_doctor_api_on_an_unknown_cluster_and_in_team_mode(
    kubeconfig: Path, lantern: ServerThread, serve: Serve, http: aiohttp.ClientSession
) -> None:
    status, body = await _json(http, "POST", f"{lantern.url}/api/clusters/nope/doctor")
    assert status == 404 and "unknown cluster 'nope'" in body["message"]
    team = serve(kubeconfig, auth_header="X-Forwarded-User")
    async with http.post(
        f"{team.url}/api/clusters/kind-dev/doctor", headers={"X-Forwarded-User": "ann"}
    ) as resp:
        assert resp.status == 403
        assert "local mode only" in (await resp.json())["message"]


async def test_summary_reads_with_the_browsers_login_not_the_kubeconfig(
    sim_factory: Callable[..., SimCluster], serve: Serve
) -> None:
    """A context without credentials: no counts before the user logs in; after, the lists
    are read with the user's own token (the proxy's plan), not with nothing."""
    sim = sim_factory("kubernetes")
    server = serve([Context("anon", sim.base_url, ca_pem=sim.context.ca_pem)])
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        # /version answers anonymous requests (the probe says ok); the lists do not.
        status, got = await _json(http, "GET", f"{server.url}/api/clusters/anon/summary")
        assert status == 200 and got["pods"] is None and got["nodes"] is None
        assert any(n.startswith("/api/v1/nodes: 401") for n in got["notes"]), got
        before = sim.state.recorded
        async with http.post(
            f"{server.url}/api/clusters/anon/login", json={"token": KUBE_TOKEN}
        ) as r:
            assert r.status == 200
        status, got = await _json(http, "GET", f"{server.url}/api/clusters/anon/summary")
        assert status == 200 and got["state"] == "ok" and got["pods"] > 0, got
    lists = [r for r in sim.state.requests_since(before) if r.path == "/api/v1/pods"]
    assert lists and all(r.header("Authorization") == f"Bearer {KUBE_TOKEN}" for r in lists)


async def test_doctor_api_matches_the_cli_for_an_unreachable_cluster(
    sims: dict[str, SimCluster], serve: Serve, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    good = sims["kubernetes"].context
    kc = write_kubeconfig(
        tmp_path / "dead",
        [Context("gone", "https://127.0.0.1:9", ca_pem=good.ca_pem, token="sekrit-token-1")],
    )
    out = io.StringIO()
    code = await run_doctor(Settings(kubeconfigs=(kc,)), "gone", True, out)
    cli = json.loads(out.getvalue())
    server = serve(kc)
    status, api = await _json(http, "POST", f"{server.url}/api/clusters/gone/doctor")
    assert status == 200 and code == 1
    for doc in (api, cli):
        doc["clusters"][0].pop("auth_latency_ms")
    assert api == cli
    assert api["ok"] is False and api["clusters"][0]["reachable"] is False
    assert "sekrit-token-1" not in json.dumps(api)


async def test_summary_behind_an_identity_aware_proxy_is_per_user(
    sim_factory: Callable[..., SimCluster], serve: Serve, http: aiohttp.ClientSession
) -> None:
    """--auth-header: the lists go as the vouched-for user (Impersonate-User), and one
    user's cached counts are not handed to another."""
    sim = sim_factory("kubernetes")
    server = serve([sim.context], auth_header="X-Forwarded-User")
    name = quote(sim.context.name, safe="")
    for user in ("ann", "bob"):
        async with http.get(
            f"{server.url}/api/clusters/{name}/summary", headers={"X-Forwarded-User": user}
        ) as r:
            assert r.status == 200, await r.text()
    lists = [r for r in list(sim.state.requests) if r.path == "/api/v1/pods"]
    assert [r.header("Impersonate-User") for r in lists] == ["ann", "bob"]


async def test_summary_and_doctor_need_the_launch_token_and_our_origin(
    kubeconfig: Path, serve: Serve, http: aiohttp.ClientSession
) -> None:
    server = serve(kubeconfig, launch_token="fleet-token")
    name = quote(CONTEXT_NAMES["kubernetes"], safe="")
    summary = f"{server.url}/api/clusters/{name}/summary"
    doctor = f"{server.url}/api/clusters/{name}/doctor"
    async with http.get(summary) as r:
        assert r.status == 401
    async with http.post(doctor) as r:
        assert r.status == 401
    auth = {"X-Kubelantern-Token": "fleet-token"}
    async with http.post(doctor, headers={**auth, "Origin": "https://evil.example"}) as r:
        assert r.status == 403
    async with http.get(summary, headers=auth) as r:
        assert r.status == 200 and (await r.json())["state"] == "ok"
