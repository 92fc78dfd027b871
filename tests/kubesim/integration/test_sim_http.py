"""The simulator over real sockets (HTTPS on 127.0.0.1) with an aiohttp client."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.harness.pki import Pki
from tests.harness.stack import KUBE_TOKEN, RANCHER_TOKEN, SimCluster

JSONT = dict[str, Any]
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
DISCOVERY_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


class Api:
    def __init__(self, http: aiohttp.ClientSession, sim: SimCluster) -> None:
        self.http = http
        self.sim = sim
        token = RANCHER_TOKEN if sim.profile == "rancher" else KUBE_TOKEN
        self.auth = {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return self.sim.base_url + path

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        hdrs = {**(self.auth if auth else {}), **(headers or {})}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs["Content-Type"] = content_type
        async with self.http.request(method, self.url(path), data=data, headers=hdrs) as resp:
            raw = await resp.read()
            try:
                return resp.status, json.loads(raw)
            except ValueError:
                return resp.status, raw.decode()


@pytest.fixture
async def http(pki: Pki) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context())) as s:
        yield s


@pytest.fixture
def api_for(http: aiohttp.ClientSession) -> Callable[[SimCluster], Api]:
    return lambda sim: Api(http, sim)


# -- front door ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "version"),
    [
        ("kubernetes", "v1.32.4"),
        ("legacy", "v1.27.16"),
        ("openshift", "v1.30.7+rhcos"),
        ("rancher", "v1.32.4"),
    ],
)
async def test_version_per_profile(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api], profile: str, version: str
) -> None:
    status, body = await api_for(sims[profile]).call("GET", "/version")
    assert status == 200 and body["gitVersion"] == version
    assert body["major"] == "1" and body["minor"] == version.split(".")[1]


async def test_kubernetes_unauthorized_status(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["kubernetes"]
    async with http.get(sim.base_url + "/api/v1/namespaces") as resp:
        assert resp.status == 401
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.text() == (
            '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            '"message":"Unauthorized","reason":"Unauthorized","code":401}'
        )


async def test_rancher_unauthorized_body(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["rancher"]
    async with http.get(
        sim.base_url + "/api/v1/namespaces", headers={"Authorization": "Bearer x"}
    ) as resp:
        assert resp.status == 401
        assert resp.headers["Content-Type"] == "application/json"
        assert (
            await resp.text()
            == '{"type":"error","status":"401","message":"Unauthorized 401: must authenticate"}'
        )


async def test_rancher_prefix_basic_cookie_and_cattle_header(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["rancher"]
    root = sim.server.url
    async with http.get(
        root + "/api/v1/namespaces", headers={"Authorization": f"Bearer {RANCHER_TOKEN}"}
    ) as resp:
        assert resp.status == 404 and "No cluster available" in await resp.text()
    async with http.get(
        root + "/k8s/clusters/c-m-other/api", headers={"Authorization": f"Bearer {RANCHER_TOKEN}"}
    ) as resp:
        assert resp.status == 404 and "No cluster available" in await resp.text()
    basic = base64.urlsafe_b64encode(RANCHER_TOKEN.encode()).decode()
    async with http.get(
        sim.base_url + "/api/v1/namespaces/shop", headers={"Authorization": f"Basic {basic}"}
    ) as resp:
        assert resp.status == 200
        assert resp.headers["X-Api-Cattle-Auth"] == "true"
        assert (await resp.json())["metadata"]["name"] == "shop"
    async with http.get(
        sim.base_url + "/api/v1/namespaces/shop", headers={"Cookie": f"R_SESS={RANCHER_TOKEN}"}
    ) as resp:
        assert resp.status == 200
    # The prefix reached the simulator untouched.
    assert any(
        r.path == "/k8s/clusters/c-m-abc12/api/v1/namespaces/shop" for r in sim.state.requests
    )


def ws_headers(host: str, *protocols: str, **extra: str) -> dict[str, str]:
    return {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode(),
        "Sec-WebSocket-Protocol": ",".join(protocols),
        "Host": host,
        **extra,
    }


def proto_token(token: str) -> str:
    return "base64url.bearer.authorization.k8s.io." + base64.urlsafe_b64encode(
        token.encode()
    ).decode().rstrip("=")


async def test_rancher_browser_origin_403(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["rancher"]
    host = f"127.0.0.1:{sim.server.port}"
    pod = sim.state.store.list("pods", "shop")[0]["metadata"]["name"]
    url = sim.base_url + f"/api/v1/namespaces/shop/pods/{pod}/log"
    headers = ws_headers(
        host,
        "base64.binary.k8s.io",
        **{
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131",
            "Origin": "http://localhost:4477",
            "Authorization": f"Bearer {RANCHER_TOKEN}",
        },
    )
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 403
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.text() == (
            '{"Code":{"Code":"PermissionDenied","Status":403},"Message":"origin not allowed",'
            '"Cause":null,"FieldName":""}'
        )


async def test_rancher_subprotocol_token_is_ignored(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["rancher"]
    pod = sim.state.store.list("pods", "shop")[0]["metadata"]["name"]
    url = sim.base_url + f"/api/v1/namespaces/shop/pods/{pod}/log?container=x"
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, protocols=("base64.binary.k8s.io", proto_token(RANCHER_TOKEN)))
    assert err.value.status == 401


async def test_kubernetes_subprotocol_token_accepted_and_stripped(
    sim_factory: Callable[..., SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sim_factory("kubernetes")
    store = sim.state.store
    pod = next(
        p for p in store.list("pods", "shop") if p["metadata"]["name"].startswith("frontend-")
    )
    url = sim.base_url + f"/api/v1/namespaces/shop/pods/{pod['metadata']['name']}/log?tailLines=2"
    token = proto_token(KUBE_TOKEN)
    ws = await http.ws_connect(url, protocols=("base64.binary.k8s.io", token))
    try:
        assert ws.protocol == "base64.binary.k8s.io"  # negotiated after the token was removed
        data = b""
        async with asyncio.timeout(10):
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data += base64.b64decode(msg.data)
        assert data.count(b"\n") == 2
    finally:
        await ws.close()
    rec = next(r for r in sim.state.requests if r.path.endswith("/log"))
    assert token in (rec.header("Sec-WebSocket-Protocol") or "")  # recorded as received
    assert rec.header("Authorization") is None
    # A lone token protocol is refused.
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, protocols=(token,))
    assert err.value.status == 401


# -- discovery -------------------------------------------------------------------------------


async def test_aggregated_discovery_content_type(
    sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    sim = sims["kubernetes"]
    headers = {"Authorization": f"Bearer {KUBE_TOKEN}", "Accept": DISCOVERY_ACCEPT}
    for path in ("/api", "/apis"):
        async with http.get(sim.base_url + path, headers=headers) as resp:
            assert resp.status == 200
            assert (
                resp.headers["Content-Type"]
                == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            )
            assert (await resp.json(content_type=None))["kind"] == "APIGroupDiscoveryList"
    legacy = sims["legacy"]
    async with http.get(legacy.base_url + "/apis", headers=headers) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        assert (await resp.json())["kind"] == "APIGroupList"


async def test_openshift_discovery_and_routes(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["openshift"])
    status, groups = await api.call("GET", "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {
        "route.openshift.io",
        "project.openshift.io",
        "apps.openshift.io",
        "config.openshift.io",
    } <= names
    status, routes = await api.call("GET", "/apis/route.openshift.io/v1/namespaces/shop/routes")
    assert status == 200 and routes["items"][0]["spec"]["host"].endswith("example.com")
    status, _ = await api_for(sims["kubernetes"]).call("GET", "/apis/route.openshift.io/v1")
    assert status == 404


# -- resources -------------------------------------------------------------------------------


async def test_crud_conflict_patch_and_errors(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sim_factory("kubernetes"))
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "conf", "labels": {"a": "1"}},
        "data": {"k": "v"},
    }
    status, created = await api.call("POST", "/api/v1/namespaces/default/configmaps", cm)
    assert status == 201 and created["metadata"]["uid"] and created["metadata"]["creationTimestamp"]
    rv1 = created["metadata"]["resourceVersion"]
    status, again = await api.call("POST", "/api/v1/namespaces/default/configmaps", cm)
    assert (
        status == 409
        and again["reason"] == "AlreadyExists"
        and again["message"] == 'configmaps "conf" already exists'
    )
    status, patched = await api.call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/conf",
        {"data": {"k2": "v2"}},
        content_type="application/merge-patch+json",
    )
    assert status == 200 and patched["data"] == {"k": "v", "k2": "v2"}
    assert int(patched["metadata"]["resourceVersion"]) > int(rv1)
    stale = {**created, "data": {"x": "y"}}
    status, err = await api.call("PUT", "/api/v1/namespaces/default/configmaps/conf", stale)
    assert (
        status == 409
        and err["reason"] == "Conflict"
        and "the object has been modified" in err["message"]
    )
    fresh = {**patched, "data": {"x": "y"}}
    status, put = await api.call("PUT", "/api/v1/namespaces/default/configmaps/conf", fresh)
    assert status == 200 and put["data"] == {"x": "y"}
    status, jp = await api.call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/conf",
        [{"op": "add", "path": "/data/z", "value": "1"}],
        content_type="application/json-patch+json",
    )
    assert status == 200 and jp["data"] == {"x": "y", "z": "1"}
    status, dry = await api.call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/conf?dryRun=All",
        {"data": {"dry": "run"}},
        content_type="application/strategic-merge-patch+json",
    )
    assert status == 200 and dry["data"]["dry"] == "run"
    status, now = await api.call("GET", "/api/v1/namespaces/default/configmaps/conf")
    assert "dry" not in now["data"]
    status, _ = await api.call(
        "PATCH", "/api/v1/namespaces/default/configmaps/conf", "{}", content_type="text/plain"
    )
    assert status == 415
    status, gone = await api.call("DELETE", "/api/v1/namespaces/default/configmaps/conf")
    assert status == 200 and gone["metadata"]["name"] == "conf"
    status, nf = await api.call("GET", "/api/v1/namespaces/default/configmaps/conf")
    assert (
        status == 404
        and nf["message"] == 'configmaps "conf" not found'
        and nf["reason"] == "NotFound"
    )
    status, bad_name = await api.call(
        "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "Bad_Name"}}
    )
    assert status == 422 and bad_name["reason"] == "Invalid"
    assert bad_name["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value'
    )
    status, nopod = await api.call(
        "POST", "/api/v1/namespaces/default/pods", {"metadata": {"name": "p"}, "spec": {}}
    )
    assert status == 422 and "spec.containers: Required value" in nopod["message"]
    status, wrong_ns = await api.call(
        "POST", "/api/v1/namespaces/nope/configmaps", {"metadata": {"name": "x"}}
    )
    assert status == 404 and wrong_ns["message"] == 'namespaces "nope" not found'
    status, dry_create = await api.call(
        "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", cm
    )
    assert status == 201
    assert (await api.call("GET", "/api/v1/namespaces/default/configmaps/conf"))[0] == 404
    status, method = await api.call("PUT", "/api/v1/namespaces/default/configmaps")
    assert status == 405 and method["reason"] == "MethodNotAllowed"
    del dry_create


async def test_lists_selectors_and_pages(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["kubernetes"])
    status, pods = await api.call("GET", "/api/v1/pods")
    assert status == 200 and pods["kind"] == "PodList" and len(pods["items"]) >= 20
    assert "kind" not in pods["items"][0]
    status, shop = await api.call(
        "GET", "/api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io/name%3Dfrontend"
    )
    assert len(shop["items"]) == 3
    status, pending = await api.call("GET", "/api/v1/pods?fieldSelector=status.phase%3DPending")
    assert [p["metadata"]["name"][:8] for p in pending["items"]] == ["importer"]
    status, on_node = await api.call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dcp-1")
    assert on_node["items"] and all(p["spec"]["nodeName"] == "cp-1" for p in on_node["items"])
    status, by_name = await api.call("GET", "/api/v1/namespaces?fieldSelector=metadata.name%3Dshop")
    assert [n["metadata"]["name"] for n in by_name["items"]] == ["shop"]
    seen: list[str] = []
    token = ""
    for _ in range(20):
        status, page = await api.call("GET", f"/api/v1/pods?limit=7&continue={token}")
        seen += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert seen == [p["metadata"]["name"] for p in pods["items"]]


async def test_table_output(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["kubernetes"])
    status, table = await api.call(
        "GET", "/api/v1/namespaces/shop/pods", headers={"Accept": TABLE_ACCEPT}
    )
    assert status == 200 and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    status, full = await api.call(
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments?includeObject=Object",
        headers={"Accept": TABLE_ACCEPT},
    )
    assert full["rows"][0]["object"]["kind"] == "Deployment"
    status, one = await api.call("GET", "/api/v1/namespaces/shop", headers={"Accept": TABLE_ACCEPT})
    assert one["rows"][0]["cells"][:2] == ["shop", "Active"]


async def test_scale_and_restart_drive_pods(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sim_factory("kubernetes"))
    base = "/apis/apps/v1/namespaces/shop/deployments/frontend"
    status, scale = await api.call("GET", base + "/scale")
    assert status == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3
    status, scaled = await api.call(
        "PATCH",
        base + "/scale",
        {"spec": {"replicas": 5}},
        content_type="application/merge-patch+json",
    )
    assert status == 200 and scaled["spec"]["replicas"] == 5
    sel = "?labelSelector=app.kubernetes.io/name%3Dfrontend"
    _, pods = await api.call("GET", "/api/v1/namespaces/shop/pods" + sel)
    assert len(pods["items"]) == 5 and all(p["status"]["phase"] == "Running" for p in pods["items"])
    _, dep = await api.call("GET", base)
    assert dep["status"]["readyReplicas"] == 5 and dep["metadata"]["generation"] == 2
    status, _ = await api.call(
        "PUT", base + "/scale", {"metadata": {"name": "frontend"}, "spec": {"replicas": 2}}
    )
    _, pods = await api.call("GET", "/api/v1/namespaces/shop/pods" + sel)
    assert len(pods["items"]) == 2
    old = {p["metadata"]["name"] for p in pods["items"]}
    restart = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-28T10:00:00Z"}
                }
            }
        }
    }
    status, _ = await api.call(
        "PATCH", base, restart, content_type="application/strategic-merge-patch+json"
    )
    assert status == 200
    _, pods = await api.call("GET", "/api/v1/namespaces/shop/pods" + sel)
    new = {p["metadata"]["name"] for p in pods["items"]}
    assert len(new) == 2 and not (new & old)
    _, rss = await api.call("GET", "/apis/apps/v1/namespaces/shop/replicasets" + sel)
    assert sorted(r["spec"]["replicas"] for r in rss["items"]) == [0, 2]
    # Deleting a pod owned by a ReplicaSet gets it replaced; deleting the Deployment cascades.
    victim = sorted(new)[0]
    await api.call("DELETE", f"/api/v1/namespaces/shop/pods/{victim}")
    _, pods = await api.call("GET", "/api/v1/namespaces/shop/pods" + sel)
    assert len(pods["items"]) == 2 and victim not in {p["metadata"]["name"] for p in pods["items"]}
    await api.call("DELETE", base)
    _, pods = await api.call("GET", "/api/v1/namespaces/shop/pods" + sel)
    assert pods["items"] == []


async def test_access_reviews_and_denials(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes", denied_verbs={"admin": ("create pods/exec", "delete secrets")})
    api = api_for(sim)
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": "shop",
                "verb": "create",
                "resource": "pods",
                "subresource": "exec",
            }
        },
    }
    status, out = await api.call(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review
    )
    assert status == 201 and out["status"]["allowed"] is False
    review["spec"]["resourceAttributes"]["verb"] = "get"  # type: ignore[index]
    review["spec"]["resourceAttributes"]["subresource"] = ""  # type: ignore[index]
    _, out = await api.call(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review
    )
    assert out["status"]["allowed"] is True
    status, err = await api.call("DELETE", "/api/v1/namespaces/shop/secrets/postgres-credentials")
    assert status == 403 and err["message"] == (
        'secrets "postgres-credentials" is forbidden: User "admin" cannot delete resource '
        '"secrets" '
        'in API group "" in the namespace "shop"'
    )


async def test_crd_instances_and_events_views(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["kubernetes"])
    status, widgets = await api.call("GET", "/apis/example.com/v1/namespaces/shop/widgets")
    assert status == 200 and {w["metadata"]["name"] for w in widgets["items"]} == {
        "sprocket",
        "gizmo",
        "doohickey",
    }
    assert widgets["items"][0]["kind"] == "Widget"
    _, core = await api.call("GET", "/api/v1/namespaces/shop/events")
    _, new = await api.call("GET", "/apis/events.k8s.io/v1/namespaces/shop/events")
    assert len(core["items"]) == len(new["items"]) > 0
    assert {e["note"] for e in new["items"]} == {e["message"] for e in core["items"]}


# -- watch -----------------------------------------------------------------------------------


async def read_events(resp: aiohttp.ClientResponse, count: int, limit: float = 10) -> list[JSONT]:
    events = []
    async with asyncio.timeout(limit):
        while len(events) < count:
            line = await resp.content.readline()
            if not line:
                break
            events.append(json.loads(line))
    return events


async def test_watch_initial_live_and_resume(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sim_factory("kubernetes"))
    _, cms = await api.call("GET", "/api/v1/namespaces/shop/configmaps")
    start_rv = cms["metadata"]["resourceVersion"]
    async with api.http.get(
        api.url("/api/v1/namespaces/shop/configmaps?watch=true"), headers=api.auth
    ) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
        initial = await read_events(resp, len(cms["items"]))
        assert {e["type"] for e in initial} == {"ADDED"}
        await api.call("POST", "/api/v1/namespaces/shop/configmaps", {"metadata": {"name": "w1"}})
        await api.call(
            "PATCH",
            "/api/v1/namespaces/shop/configmaps/w1",
            {"data": {"a": "b"}},
            content_type="application/merge-patch+json",
        )
        await api.call("DELETE", "/api/v1/namespaces/shop/configmaps/w1")
        live = await read_events(resp, 3)
        assert [e["type"] for e in live] == ["ADDED", "MODIFIED", "DELETED"]
        assert live[0]["object"]["kind"] == "ConfigMap"
    url = api.url(
        f"/api/v1/namespaces/shop/configmaps?watch=1&resourceVersion={start_rv}&timeoutSeconds=2"
    )
    async with api.http.get(url, headers=api.auth) as resp:
        replay = await read_events(resp, 10)
        assert [e["type"] for e in replay] == [
            "ADDED",
            "MODIFIED",
            "DELETED",
        ]  # then the timeout ends it


async def test_watch_too_old_is_410(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["kubernetes"])
    async with api.http.get(
        api.url("/api/v1/pods?watch=true&resourceVersion=5"), headers=api.auth
    ) as resp:
        assert resp.status == 200
        events = await read_events(resp, 2)
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith("too old resource version: 5 (")


async def test_watch_bookmarks_and_table_rows(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes", bookmark_interval=0.3)
    api = api_for(sim)
    rv = sim.state.store.rv
    url = api.url(
        f"/api/v1/namespaces/shop/pods?watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=5"
    )
    async with api.http.get(url, headers=api.auth) as resp:
        events = await read_events(resp, 1)
    assert events[0]["type"] == "BOOKMARK" and events[0]["object"]["metadata"][
        "resourceVersion"
    ] == str(rv)
    url = api.url("/apis/apps/v1/namespaces/shop/deployments?watch=1&timeoutSeconds=3")
    async with api.http.get(url, headers={**api.auth, "Accept": TABLE_ACCEPT}) as resp:
        rows = await read_events(resp, 2)
    assert rows[0]["object"]["kind"] == "Table" and rows[0]["object"]["columnDefinitions"]
    assert rows[1]["object"]["columnDefinitions"] is None and len(rows[1]["object"]["rows"]) == 1


async def test_watch_disconnect_unsubscribes(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes")
    api = api_for(sim)
    async with api.http.get(api.url("/api/v1/namespaces?watch=1"), headers=api.auth) as resp:
        await read_events(resp, 1)
        assert len(sim.state.store.watchers) == 1
    async with asyncio.timeout(10):
        while sim.state.store.watchers:  # noqa: ASYNC110 - the server side lives in another thread
            await asyncio.sleep(0.1)


# -- logs over HTTP --------------------------------------------------------------------------


async def test_log_http_options_and_errors(
    sims: dict[str, SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sims["kubernetes"])
    pods = sims["kubernetes"].state.store.list("pods", "shop")
    catalog = next(
        p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("catalog-")
    )
    frontend = next(
        p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("frontend-")
    )
    async with api.http.get(
        api.url(f"/api/v1/namespaces/shop/pods/{frontend}/log?tailLines=4&timestamps=true"),
        headers=api.auth,
    ) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/plain"
        assert (
            resp.headers.get("Transfer-Encoding") == "chunked"
            and "Content-Length" not in resp.headers
        )
        text = await resp.text()
    assert len(text.splitlines()) == 4 and text.splitlines()[0][:2] == "20"
    status, err = await api.call("GET", f"/api/v1/namespaces/shop/pods/{catalog}/log")
    assert status == 400 and err["message"].startswith(
        f"a container name must be specified for pod {catalog}"
    )
    status, err = await api.call(
        "GET", f"/api/v1/namespaces/shop/pods/{catalog}/log?container=nope"
    )
    assert status == 400 and err["message"] == f"container nope is not valid for pod {catalog}"
    status, err = await api.call(
        "GET", f"/api/v1/namespaces/shop/pods/{frontend}/log?previous=true"
    )
    assert (
        status == 400
        and err["message"] == f'previous terminated container "nginx" in pod "{frontend}" not found'
    )
    status, err = await api.call("GET", "/api/v1/namespaces/shop/pods/ghost/log")
    assert status == 404 and err["message"] == 'pods "ghost" not found'
    status, body = await api.call(
        "GET", f"/api/v1/namespaces/shop/pods/{catalog}/log?container=migrate-db&limitBytes=10"
    )
    assert status == 200 and len(body) == 10


async def test_log_follow_keeps_producing(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes", log_lines_per_second=20.0)
    api = api_for(sim)
    pod = next(
        p for p in sim.state.store.list("pods", "shop") if p["metadata"]["name"].startswith("cart-")
    )
    name = pod["metadata"]["name"]
    url = api.url(f"/api/v1/namespaces/shop/pods/{name}/log?follow=true&tailLines=0")
    async with api.http.get(url, headers=api.auth) as resp:
        lines = []
        async with asyncio.timeout(10):
            while len(lines) < 5:
                lines.append(await resp.content.readline())
        assert all(line.endswith(b"\n") for line in lines)
        # Deleting the pod ends the stream.
        await api.call("DELETE", f"/api/v1/namespaces/shop/pods/{name}")
        async with asyncio.timeout(10):
            while await resp.content.readline():
                pass


async def test_firehose_log(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sim_factory("kubernetes", firehose_bytes=2_000_000))
    async with api.http.get(
        api.url("/api/v1/namespaces/bench/pods/bulk/log?container=firehose"), headers=api.auth
    ) as resp:
        total = 0
        async for chunk in resp.content.iter_chunked(65536):
            total += len(chunk)
    assert total == 2_000_000


async def test_update_rules_secrets_and_ephemeral_containers(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    api = api_for(sim_factory("kubernetes"))
    status, err = await api.call("DELETE", "/api/v1/namespaces/kube-system")
    assert (
        status == 403
        and err["message"]
        == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )
    _, pod = await api.call("GET", "/api/v1/namespaces/shop/pods/postgres-0")
    changed = json.loads(json.dumps(pod))
    changed["spec"]["containers"][0]["image"] = "postgres:16.5"
    status, ok = await api.call("PUT", "/api/v1/namespaces/shop/pods/postgres-0", changed)
    assert status == 200 and ok["spec"]["containers"][0]["image"] == "postgres:16.5"
    ok["spec"]["containers"][0]["name"] = "renamed"
    status, err = await api.call("PUT", "/api/v1/namespaces/shop/pods/postgres-0", ok)
    assert status == 422 and "pod updates may not change fields other than" in err["message"]
    secret = {"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}}
    status, made = await api.call("POST", "/api/v1/namespaces/default/secrets", secret)
    assert status == 201 and "stringData" not in made
    assert base64.b64decode(made["data"]["password"]) == b"hunter2"
    debug = {
        "spec": {
            "ephemeralContainers": [{"name": "dbg", "image": "busybox:1.36", "command": ["sh"]}]
        }
    }
    status, patched = await api.call(
        "PATCH",
        "/api/v1/namespaces/shop/pods/postgres-0/ephemeralcontainers",
        debug,
        content_type="application/strategic-merge-patch+json",
    )
    assert status == 200
    assert patched["status"]["ephemeralContainerStatuses"][0]["state"]["running"]["startedAt"]
    debug["spec"]["ephemeralContainers"][0]["image"] = "alpine"
    status, err = await api.call(
        "PATCH",
        "/api/v1/namespaces/shop/pods/postgres-0/ephemeralcontainers",
        debug,
        content_type="application/strategic-merge-patch+json",
    )
    assert (
        status == 422 and 'existing ephemeral containers "dbg" may not be changed' in err["message"]
    )


async def wait_for_pod(api: Api, path: str, check: Callable[[Any], bool]) -> Any:
    async with asyncio.timeout(10):
        while True:
            status, pod = await api.call("GET", path)
            if check(pod if status == 200 else None):
                return pod
            await asyncio.sleep(0.05)


async def test_paced_pod_lifecycle(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes", pod_startup_seconds=0.3, pod_termination_seconds=0.3)
    api = api_for(sim)
    body = {
        "metadata": {"name": "paced"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    status, made = await api.call("POST", "/api/v1/namespaces/default/pods", body)
    assert status == 201 and made["status"]["phase"] == "Pending"
    assert (
        made["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    )
    path = "/api/v1/namespaces/default/pods/paced"
    running = await wait_for_pod(
        api, path, lambda p: p is not None and p["status"]["phase"] == "Running"
    )
    assert running["status"]["podIP"]
    status, deleting = await api.call("DELETE", path)
    assert status == 200 and deleting["metadata"]["deletionTimestamp"]
    status, table = await api.call(
        "GET", "/api/v1/namespaces/default/pods", headers={"Accept": TABLE_ACCEPT}
    )
    assert [r["cells"][2] for r in table["rows"] if r["cells"][0] == "paced"] == ["Terminating"]
    await wait_for_pod(api, path, lambda p: p is None)
    # A terminating ReplicaSet pod is replaced at once.
    _, pods = await api.call(
        "GET", "/api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io/name%3Dcart"
    )
    victim = pods["items"][0]["metadata"]["name"]
    await api.call("DELETE", f"/api/v1/namespaces/shop/pods/{victim}")
    _, pods = await api.call(
        "GET", "/api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io/name%3Dcart"
    )
    live = [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]
    assert len(pods["items"]) == 3 and len(live) == 2


async def test_public_paths_impersonation_and_new_crds(
    sim_factory: Callable[..., SimCluster], api_for: Callable[[SimCluster], Api]
) -> None:
    sim = sim_factory("kubernetes", denied_verbs={"bob": ("list",)})
    api = api_for(sim)
    assert (await api.call("GET", "/version", auth=False))[0] == 200
    assert (await api.call("GET", "/version", auth=False, headers={"Authorization": "Bearer bad"}))[
        0
    ] == 401
    status, err = await api.call("GET", "/api/v1/namespaces", headers={"Impersonate-User": "bob"})
    assert status == 403 and 'User "bob" cannot list resource "namespaces"' in err["message"]
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.org"},
        "spec": {
            "group": "example.org",
            "scope": "Cluster",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1alpha1", "served": True, "storage": True}],
        },
    }
    status, _ = await api.call(
        "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd
    )
    assert status == 201
    _, groups = await api.call("GET", "/apis")
    assert "example.org" in {g["name"] for g in groups["groups"]}
    gadget = {
        "apiVersion": "example.org/v1alpha1",
        "kind": "Gadget",
        "metadata": {"name": "g1"},
        "spec": {"x": 1},
    }
    status, made = await api.call("POST", "/apis/example.org/v1alpha1/gadgets", gadget)
    assert status == 201 and made["metadata"]["generation"] == 1
    _, listed = await api.call("GET", "/apis/example.org/v1alpha1/gadgets")
    assert [g["metadata"]["name"] for g in listed["items"]] == ["g1"] and listed[
        "kind"
    ] == "GadgetList"
    await api.call(
        "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.org"
    )
    assert (await api.call("GET", "/apis/example.org/v1alpha1/gadgets"))[0] == 404
