"""Where the lean upstream client goes and where aiohttp's still does (proxy/upstream/pool.py),
and the switch between them (settings.py)."""

from __future__ import annotations

import ssl

from yarl import URL

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.spec import ClusterSpec
from kubelantern.proxy.upstream.pool import Pool, pool_for
from kubelantern.settings import _env_upstream_client


def test_pools_per_endpoint_and_tls_context() -> None:
    cluster = Cluster(ClusterSpec(name="c", server="https://10.0.0.1:6443"))
    ctx, user_ctx = ssl.create_default_context(), ssl.create_default_context()
    url = URL("https://10.0.0.1:6443/api")
    pool = pool_for(cluster, url, {"ssl": ctx})
    assert isinstance(pool, Pool) and pool.host_header == "10.0.0.1:6443"
    assert pool_for(cluster, url, {"ssl": ctx}) is pool
    assert pool_for(cluster, url, {"ssl": user_ctx}) is not pool  # the user's TLS: its own
    named = pool_for(cluster, url, {"ssl": ctx, "server_hostname": "api.internal"})
    assert named is not pool and named is not None and named.server_name == "api.internal"


def test_host_header_leaves_out_default_ports_and_brackets_ipv6() -> None:
    cluster = Cluster(ClusterSpec(name="c", server="https://example.com"))
    ctx = ssl.create_default_context()
    assert pool_for(cluster, URL("https://example.com/"), {"ssl": ctx}).host_header == (  # type: ignore[union-attr]
        "example.com"
    )
    v6 = pool_for(cluster, URL("https://[::1]:6443/"), {"ssl": ctx})
    assert v6 is not None and v6.host_header == "[::1]:6443" and v6.host == "::1"
    plain = pool_for(cluster, URL("http://127.0.0.1:80/"), {"ssl": True})
    assert plain is not None and plain.context is None and plain.host_header == "127.0.0.1"


def test_aiohttp_keeps_what_the_lean_client_does_not_do() -> None:
    cluster = Cluster(ClusterSpec(name="c", server="https://example.com"))
    ctx = ssl.create_default_context()
    proxied = {"ssl": ctx, "proxy": URL("http://proxy:3128")}
    assert pool_for(cluster, URL("https://example.com/"), proxied) is None  # type: ignore[arg-type]
    assert pool_for(cluster, URL("https://example.com/"), {"ssl": True}) is None
    assert pool_for(cluster, URL("ws://example.com/"), {"ssl": ctx}) is None


def test_the_switch() -> None:
    assert _env_upstream_client({}) == "lean"
    assert _env_upstream_client({"KUBELANTERN_UPSTREAM_CLIENT": "aiohttp"}) == "aiohttp"
    assert _env_upstream_client({"KUBELANTERN_UPSTREAM_CLIENT": "other"}) == "lean"
