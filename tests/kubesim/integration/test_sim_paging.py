"""`limit`/`continue` paging over thousands of pods (issue 11's scale work pages lists from
the server): every pod comes back exactly once, in one namespace and across namespaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from tests.harness.pki import Pki
from tests.harness.stack import KUBE_TOKEN, SimCluster

PODS = 3000
PAGE = 250
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def _pod(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "many"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }


async def _page_through(
    http: aiohttp.ClientSession, sim: SimCluster, path: str, pki: Pki, accept: str = ""
) -> tuple[list[tuple[str, str]], int]:
    """(namespace, name) of every item over all pages, and the number of pages; `accept`
    TABLE reads Table pages the way kubectl and the UI ask for them."""
    seen: list[tuple[str, str]] = []
    pages = 0
    cont = ""
    while True:
        params = {"limit": str(PAGE), **({"continue": cont} if cont else {})}
        async with http.get(
            sim.base_url + path,
            params=params,
            headers={
                "Authorization": f"Bearer {KUBE_TOKEN}",
                **({"Accept": accept} if accept else {}),
            },
            ssl=pki.client_context(),
        ) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        pages += 1
        items = [r["object"] for r in body["rows"]] if accept else body["items"]
        assert len(items) <= PAGE
        seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]
        cont = body["metadata"].get("continue", "")
        if not cont:
            return seen, pages
        if not accept:
            assert body["metadata"]["remainingItemCount"] > 0


async def test_limit_and_continue_return_every_pod_once(
    sim_factory: Callable[..., SimCluster], pki: Pki
) -> None:
    sim = sim_factory("kubernetes", demo_data=False)
    # Unpadded numbers: insertion order is not name order ("pod-10" < "pod-9").
    wanted = [("many", f"pod-{i}") for i in range(PODS)]
    wanted += [(ns, f"web-{i}") for ns in ("aaa", "zzz") for i in range(7)]
    for ns, name in wanted:
        sim.state.store.add("pods", _pod(ns, name))

    async with aiohttp.ClientSession() as http:
        seen, pages = await _page_through(http, sim, "/api/v1/namespaces/many/pods", pki)
        assert len(seen) == len(set(seen)) == PODS
        assert set(seen) == {w for w in wanted if w[0] == "many"}
        assert pages == PODS // PAGE  # 3000 / 250: the last full page carries no token

        for accept in ("", TABLE):
            seen, pages = await _page_through(http, sim, "/api/v1/pods", pki, accept)
            assert len(seen) == len(set(seen)) == len(wanted), accept
            assert set(seen) == set(wanted), accept
            assert pages == -(-len(wanted) // PAGE), accept
