"""SSL contexts built at each cluster's first use (issue 12: start-up ≤ 300 ms with 50
clusters), through a real kubelantern on 127.0.0.1 and the simulator over TLS: nothing is
built at start; many first requests at once, to many clusters and to one, build each
context once and all answer; material that only a build finds bad still answers 503 naming
the key; a kubeconfig reload with another CA builds the new one."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelantern.clusters.registry import Registry
from kubelantern.settings import Settings
from kubelantern.web import keys
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki, make_pki
from tests.harness.servers import ServerThread
from tests.harness.stack import SimCluster

CLUSTERS = 50


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_cert(cert_pem: bytes, key_pem: bytes) -> dict[str, Any]:
    return {
        "client-certificate-data": base64.b64encode(cert_pem).decode(),
        "client-key-data": base64.b64encode(key_pem).decode(),
    }


def own_material(name: str, sim: SimCluster, pki: Pki) -> Context:
    """A context with TLS material of its own, like a real cluster's: its CA data (told apart
    by a comment line OpenSSL skips) and a client certificate."""
    assert sim.context.ca_pem is not None
    return Context(
        name,
        sim.base_url,
        ca_pem=f"# {name}\n".encode() + sim.context.ca_pem,
        token=sim.context.token,
        user=client_cert(pki.client_cert_pem, pki.client_key_pem),
    )


def registry_of(server: ServerThread) -> Registry:
    assert server.app is not None
    return server.app[keys.REGISTRY]


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def test_first_uses_at_once_build_each_context_once(
    sim_factory: Callable[..., SimCluster],
    lantern_factory: Callable[..., ServerThread],
    pki: Pki,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    sim = sim_factory("kubernetes")
    names = [f"c{i:02d}" for i in range(CLUSTERS)]
    kc = write_kubeconfig(tmp_path / "config", [own_material(n, sim, pki) for n in names])
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    contexts = registry_of(server).clusters["c00"].tls_contexts
    assert contexts.builds == 0, "SSL contexts were built at start-up"

    # Every cluster's first requests at once (three each), and twenty more to one of them.
    urls = [f"{server.url}/clusters/{n}/version" for n in names for _ in range(3)]
    urls += [f"{server.url}/clusters/c07/api/v1/namespaces"] * 20
    answers = await asyncio.gather(*(get(http, u) for u in urls))
    failed = [(u, a) for u, a in zip(urls, answers, strict=True) if a[0] != 200]
    assert failed == [], failed[:3]
    assert contexts.builds == CLUSTERS  # one per material, however many asked at once
    clusters = registry_of(server).clusters
    assert all(clusters[n].tls_contexts is contexts and clusters[n].ok for n in names)

    assert (await get(http, f"{server.url}/clusters/c07/version"))[0] == 200
    assert contexts.builds == CLUSTERS  # built once, kept


async def test_bad_material_answers_503_naming_the_key(
    sims: dict[str, SimCluster],
    lantern_factory: Callable[..., ServerThread],
    pki: Pki,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    sim = sims["kubernetes"]
    stranger = make_pki(tmp_path)
    junk_ca = Context("junk-ca", sim.base_url, ca_pem=b"junk", token=sim.context.token)
    # Well-formed PEM, but the key is another certificate's: only a build can tell.
    mismatched = Context(
        "mismatched",
        sim.base_url,
        ca_pem=sim.context.ca_pem,
        user=client_cert(pki.client_cert_pem, stranger.client_key_pem),
    )
    good = own_material("good", sim, pki)
    kc = write_kubeconfig(tmp_path / "config", [good, junk_ca, mismatched])
    server = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
    clusters = registry_of(server).clusters
    assert clusters["junk-ca"].load_error is not None  # found at load, as before
    assert clusters["mismatched"].ok  # not yet: it has not been used

    status, body = await get(http, f"{server.url}/clusters/junk-ca/version")
    assert status == 503 and "certificate-authority-data holds no usable PEM" in body
    url = f"{server.url}/clusters/mismatched/api/v1/namespaces"
    answers = await asyncio.gather(*(get(http, url) for _ in range(5)))
    for status, body in answers:
        assert status == 503, body
        assert "cluster 'mismatched' cannot be used" in body
        assert "context 'mismatched': client-certificate/client-key: not a matching PEM" in body
    assert clusters["mismatched"].tls_contexts.builds == 1  # the failure is not rebuilt per call

    status, body = await get(http, f"{server.url}/api/clusters?wait=0")
    shown = {c["name"]: c for c in json.loads(body)}
    assert shown["mismatched"]["state"] == "error" and shown["mismatched"]["reason"] == "config"
    assert "not a matching PEM certificate and key" in shown["mismatched"]["error"]
    assert (await get(http, f"{server.url}/clusters/good/version"))[0] == 200


async def test_reload_with_another_ca_builds_the_new_context(
    sims: dict[str, SimCluster],
    lantern_factory: Callable[..., ServerThread],
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    sim = sims["kubernetes"]
    stranger = make_pki(tmp_path)
    path = tmp_path / "config"
    write_kubeconfig(path, [Context("moving", sim.base_url, stranger.ca_pem, sim.context.token)])
    server = lantern_factory(Settings(kubeconfigs=(path,), launch_token=None, kubeconfig_poll=0.1))
    url = f"{server.url}/clusters/moving/version"
    status, body = await get(http, url)
    assert status == 502 and "certificate" in body.lower(), (status, body)
    before = registry_of(server).clusters["moving"]

    write_kubeconfig(path, [Context("moving", sim.base_url, sim.context.ca_pem, sim.context.token)])
    deadline = time.monotonic() + 15
    while registry_of(server).clusters["moving"] is before:
        assert time.monotonic() < deadline, "the kubeconfig change was not picked up"
        await asyncio.sleep(0.05)
    after = registry_of(server).clusters["moving"]
    assert after.tls_contexts.builds == 0  # built at its first use, not at the reload
    assert (await get(http, url))[0] == 200
    assert after.tls_contexts.builds == 1
