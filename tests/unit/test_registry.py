"""Registry: cluster-name matching, API path validation, upstream URLs, cluster set-up."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from kubelantern.clusters import profiles, strategies
from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.netproxy import env_proxy
from kubelantern.clusters.paths import (
    ApiPathError,
    join_upstream,
    split_cluster_path,
    validate_api_path,
)
from kubelantern.clusters.registry import Registry, load_registry
from kubelantern.clusters.spec import AuthSpec, ClusterSpec, TLSSpec
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig

NAMES = ["kind-dev", "rancher/down:c-m-abc12", "rancher", "legacy@old", "50%off", "a/b"]


# -- split_cluster_path --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("kind-dev/api/v1/pods", ("kind-dev", "/api/v1/pods")),
        ("kind-dev", ("kind-dev", "/")),
        ("kind-dev/", ("kind-dev", "/")),
        # percent-encoded name (what the browser sends)
        ("rancher%2Fdown%3Ac-m-abc12/api/v1/pods", ("rancher/down:c-m-abc12", "/api/v1/pods")),
        ("rancher%2fdown%3ac-m-abc12/api", ("rancher/down:c-m-abc12", "/api")),
        # decoded name (what kubectl sends after decoding its --server path)
        ("rancher/down:c-m-abc12/api/v1/pods", ("rancher/down:c-m-abc12", "/api/v1/pods")),
        # mixed: only some characters encoded
        ("rancher/down%3Ac-m-abc12/apis", ("rancher/down:c-m-abc12", "/apis")),
        # a shorter name that is a prefix of a longer one
        ("rancher/api/v1/pods", ("rancher", "/api/v1/pods")),
        ("legacy@old/version", ("legacy@old", "/version")),
        ("legacy%40old/version", ("legacy@old", "/version")),
        ("50%25off/api", ("50%off", "/api")),
        ("50%off/api", ("50%off", "/api")),
        ("a%2Fb/api", ("a/b", "/api")),
        ("a/b/api", ("a/b", "/api")),
        # the rest stays raw, exactly as received
        (
            "kind-dev/api/v1/namespaces/a%2Fb/pods?x",
            ("kind-dev", "/api/v1/namespaces/a%2Fb/pods?x"),
        ),
        ("kind-dev?watch=1", ("kind-dev", "/?watch=1")),
        ("a/b/api?labelSelector=x/y", ("a/b", "/api?labelSelector=x/y")),
    ],
)
def test_split_cluster_path(tail: str, expected: tuple[str, str]) -> None:
    assert split_cluster_path(tail, NAMES) == expected


@pytest.mark.parametrize("tail", ["", "kind", "kind-dev-2/api", "rancher%2Fdown/api", "%2F/api"])
def test_split_cluster_path_unknown(tail: str) -> None:
    assert split_cluster_path(tail, NAMES) is None


def test_longest_name_wins_over_shorter_prefix() -> None:
    names = ["prod", "prod/eu", "prod/eu/a"]
    assert split_cluster_path("prod/eu/a/api", names) == ("prod/eu/a", "/api")
    assert split_cluster_path("prod%2Feu/api", names) == ("prod/eu", "/api")
    # no split leaves an API path: the encoded form (first segment) is taken
    assert split_cluster_path("prod/eu/b/api", names) == ("prod", "/eu/b/api")


# -- validate_api_path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/api/v1/namespaces/a%20b/pods",
        "/version",
        "/",
        "/api/v1/namespaces/default/pods/web-1..2/log",
        "/api/..x/y",
        "/api/v1/pods?fieldSelector=a/../b",
    ],
)
def test_validate_api_path_accepts(path: str) -> None:
    assert validate_api_path(path) == path


def test_validate_api_path_empty_is_root() -> None:
    assert validate_api_path("") == "/"


@pytest.mark.parametrize(
    "path",
    [
        "/../../v3/settings",
        "/api/../../v3",
        "/api/%2e%2e/x",
        "/api/%2E%2E/x",
        "/api/.%2e/x",
        "/api/./x",
        "/api/v1/%2F..%2Fx",
        "/api/..",
        "/api/a%5C..",
        "/api/a%00b",
        "api/v1",
    ],
)
def test_validate_api_path_rejects(path: str) -> None:
    with pytest.raises(ApiPathError):
        validate_api_path(path)


# -- join_upstream --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "path", "query", "expected"),
    [
        ("https://h:6443", "/api/v1/pods", "", "https://h:6443/api/v1/pods"),
        ("https://h:6443/", "/api", "watch=1", "https://h:6443/api?watch=1"),
        (
            "https://rancher.example/k8s/clusters/c-m-abc12",
            "/api/v1/namespaces/default/pods/web/exec",
            "command=sh&command=-c&command=echo+hi%20there&stdin=true",
            "https://rancher.example/k8s/clusters/c-m-abc12/api/v1/namespaces/default/pods/web/exec"
            "?command=sh&command=-c&command=echo+hi%20there&stdin=true",
        ),
        (
            "https://rancher.example/k8s/clusters/c-m-abc12/",
            "/api/v1/namespaces/a%2Fb/pods",
            "labelSelector=app%3Dweb%2Ctier%21%3Ddb",
            "https://rancher.example/k8s/clusters/c-m-abc12/api/v1/namespaces/a%2Fb/pods"
            "?labelSelector=app%3Dweb%2Ctier%21%3Ddb",
        ),
        ("https://[fd00::1]:6443/p", "/api", "", "https://[fd00::1]:6443/p/api"),
        ("http://127.0.0.1:8001", "/", "", "http://127.0.0.1:8001/"),
    ],
)
def test_join_upstream_keeps_prefix_and_raw_query(
    server: str, path: str, query: str, expected: str
) -> None:
    url = join_upstream(URL(server), path, query)
    assert str(url) == expected
    assert url.raw_query_string == query


P = {"HTTPS_PROXY": "http://p:1"}


@pytest.mark.parametrize(
    ("server", "env", "expected"),
    [
        ("https://k8s.example:6443", {}, None),
        ("https://k8s.example:6443", P, "http://p:1"),
        (
            "https://k8s.example",
            {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"},
            "http://low:1",
        ),
        ("http://k8s.example:8080", P, None),
        ("http://k8s.example:8080", {"HTTP_PROXY": "http://p:3128"}, "http://p:3128"),
        ("https://127.0.0.1:6443", P, None),
        ("https://localhost:6443", P, None),
        ("https://[::1]:6443", P, None),
        ("https://k8s.example:6443", {**P, "NO_PROXY": "*"}, None),
        ("https://api.k8s.example:6443", {**P, "NO_PROXY": ".k8s.example"}, None),
        ("https://api.k8s.example:6443", {**P, "NO_PROXY": "k8s.example"}, None),
        ("https://notk8s.example:6443", {**P, "NO_PROXY": "k8s.example"}, "http://p:1"),
        ("https://10.1.2.3:6443", {**P, "no_proxy": "a, 10.0.0.0/8"}, None),
        ("https://k8s.example:6443", {**P, "NO_PROXY": "k8s.example:6443"}, None),
        ("https://k8s.example:443", {**P, "NO_PROXY": "k8s.example:6443"}, "http://p:1"),
    ],
)
def test_env_proxy(server: str, env: dict[str, str], expected: str | None) -> None:
    assert env_proxy(server, env) == expected


# -- clusters and the registry ----------------------------------------------------------------


def make_spec(
    name: str = "dev", server: str = "https://127.0.0.1:6443", **kw: object
) -> ClusterSpec:
    return ClusterSpec(name=name, server=server, **kw)  # type: ignore[arg-type]


def test_cluster_profile_sources() -> None:
    plain = Cluster(make_spec())
    assert (plain.profile, plain.profile_source) == (profiles.KUBERNETES, "default")
    rancher_url = Cluster(make_spec(server="https://r.example/k8s/clusters/c-m-1"))
    assert (rancher_url.profile, rancher_url.profile_source) == (profiles.RANCHER, "detected")
    from_ext = Cluster(make_spec(profile="openshift"))
    assert (from_ext.profile, from_ext.profile_source) == (profiles.OPENSHIFT, "override")
    flag = Cluster(make_spec(profile="openshift"), profile_override="rancher")
    assert flag.profile is profiles.RANCHER  # the flag beats the kubeconfig extension
    flag.set_detected_profile(profiles.KUBERNETES, "discovery")
    assert (flag.profile, flag.profile_source) == (profiles.RANCHER, "override")
    plain.set_detected_profile(profiles.OPENSHIFT, "discovery lists route.openshift.io")
    assert (plain.profile_source, plain.profile_reason) == (
        "detected",
        "discovery lists route.openshift.io",
    )


def test_cluster_strategy_override_and_unknown_names() -> None:
    c = Cluster(make_spec(strategy="subprotocol"))
    assert c.strategy_override is profiles.SUBPROTOCOL and c.load_error is None
    assert Cluster(make_spec(strategy="auto")).strategy_override is None
    bad = Cluster(make_spec(), strategy_override="sideways")
    assert bad.load_error is not None and "unknown strategy 'sideways'" in bad.load_error
    bad_profile = Cluster(make_spec(), profile_override="k3s")
    assert bad_profile.load_error is not None and "unknown profile 'k3s'" in bad_profile.load_error


async def test_request_kwargs(tmp_path: Path) -> None:
    c = Cluster(
        make_spec(
            tls=TLSSpec(insecure_skip_verify=True, server_name="kubernetes.test"),
            proxy_url="http://user:p%40ss@proxy.example:3128",
        )
    )
    await c.ensure_tls()  # built at the first use, not at load
    kw = c.request_kwargs()
    assert kw["server_hostname"] == "kubernetes.test"
    assert kw["proxy"] == URL("http://proxy.example:3128")
    assert kw["proxy_headers"] == {"Proxy-Authorization": "Basic dXNlcjpwQHNz"}  # user:p@ss
    assert kw["ssl"] is c.tls.ssl
    plain = Cluster(make_spec(server="http://127.0.0.1:8001")).request_kwargs()
    assert plain == {"ssl": True}


def test_socks_proxy_is_a_clear_load_error() -> None:
    c = Cluster(make_spec(proxy_url="socks5://127.0.0.1:1080"))
    assert c.load_error is not None and "only http:// and https:// proxies" in c.load_error
    with_password = Cluster(make_spec(proxy_url="socks5://me:s3cret@127.0.0.1:1080"))
    assert with_password.load_error is not None and "s3cret" not in with_password.load_error


def test_bad_tls_material_becomes_load_error() -> None:
    c = Cluster(make_spec(tls=TLSSpec(ca_data=b"junk"), source="/k/config"))
    assert c.load_error is not None
    assert c.load_error.startswith("/k/config: context 'dev': certificate-authority-data")
    assert not c.ok


async def test_failed_cluster_refuses_credentials() -> None:
    c = Cluster(make_spec(tls=TLSSpec(ca_data=b"junk")))
    with pytest.raises(CredentialError, match="certificate-authority-data"):
        await c.auth_headers()


async def test_session_settings_and_close() -> None:
    c = Cluster(make_spec())
    session = await c.session()
    assert session is await c.session()  # one pooled session per cluster
    assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
    assert session.auto_decompress is False
    assert session.timeout.total is None and session.timeout.sock_connect == 10
    assert session.connector is not None and session.connector.limit_per_host == 0
    await c.close()
    assert session.closed
    again = await c.session()  # usable after close (e.g. app restart in tests)
    assert again is not session
    await c.close()


def test_registry_from_specs_with_failed_contexts(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write_kubeconfig(
        path,
        [
            Context("kind-dev", "https://127.0.0.1:6443", token="t"),
            Context(
                "rancher/down:c-m-abc12", "https://r.example/k8s/clusters/c-m-abc12", token="r"
            ),
        ],
    )
    text = path.read_text().replace("cluster: cluster-1", "cluster: gone")
    path.write_text(text)
    result = load_kubeconfigs([path], home=tmp_path)
    reg = Registry.from_specs(result.specs, result.errors, Settings())
    assert list(reg.clusters) == ["kind-dev", "rancher/down:c-m-abc12"]
    assert reg.clusters["kind-dev"].ok
    broken = reg.clusters["rancher/down:c-m-abc12"]
    assert (
        broken.load_error
        == '~/config: contexts[1] "rancher/down:c-m-abc12": cluster "gone" not found'
    )
    assert reg.errors == [broken.load_error]
    found = reg.resolve("rancher%2Fdown%3Ac-m-abc12/api")
    assert found is not None and found[0] is broken  # the proxy can say why it fails
    assert reg.get("kind-dev") is reg.clusters["kind-dev"] and reg.get("x") is None
    assert len(reg) == 2 and [c.name for c in reg] == list(reg.clusters)


def test_registry_overrides_from_settings() -> None:
    settings = Settings(
        profile_overrides={"dev": "rancher", "ghost": "rancher"},
        strategy_overrides={"dev": "header-no-origin"},
    )
    reg = Registry.from_specs([make_spec()], [], settings)
    dev = reg.clusters["dev"]
    assert dev.profile is profiles.RANCHER and dev.profile_source == "override"
    assert dev.strategy_override is profiles.HEADER_NO_ORIGIN
    assert reg.errors == ["profile override for unknown cluster 'ghost'"]


async def test_load_registry_from_settings(tmp_path: Path) -> None:
    path = write_kubeconfig(
        tmp_path / "config",
        [Context("a", "https://127.0.0.1:1", token="t"), Context("b", "https://127.0.0.1:2")],
    )
    reg = await load_registry(Settings(kubeconfigs=(path,), contexts=("b",)))
    assert list(reg.clusters) == ["b"] and reg.errors == []
    assert reg.current_context == "a"
    await reg.close()


async def test_load_registry_in_cluster_outside_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    reg = await load_registry(Settings(in_cluster=True))
    assert len(reg) == 0
    assert len(reg.errors) == 1 and "not running in a Kubernetes pod" in reg.errors[0]


def test_cluster_repr_has_no_secrets() -> None:
    c = Cluster(
        make_spec(
            name="rancher/down:c-m-abc12",
            server="https://r.example/k8s/clusters/c-m-abc12",
            auth=AuthSpec(token="super-secret-token"),
            tls=TLSSpec(ca_data=b"junk-but-unused", server_name="api.internal"),
            proxy_url="http://user:proxy-password@proxy:3128",
            namespace="team-a",
        )
    )
    assert "super-secret-token" not in repr(c) and "proxy-password" not in repr(c)
    assert c.profile.name == "rancher" and c.profile_source == "detected"
    assert c.credentials.describe() == "token" and c.spec.namespace == "team-a"
    assert c.load_error is not None  # the junk CA
    ok = Cluster(make_spec(tls=TLSSpec(insecure_skip_verify=True)))
    assert ok.load_error is None


async def test_same_tls_material_shares_one_ssl_context() -> None:
    specs = [
        make_spec("a", "https://a:6443"),
        make_spec("b", "https://b:6443", tls=TLSSpec(server_name="api.b")),
        make_spec("c", "https://c:6443", tls=TLSSpec(insecure_skip_verify=True)),
        make_spec("d", "http://d:8080"),
    ]
    reg = Registry.from_specs(specs)
    await reg.build_tls()
    a, b, c, d = (reg.clusters[n] for n in "abcd")
    assert a.tls.ssl is b.tls.ssl  # same (system) CAs: one context
    assert (a.tls.server_hostname, b.tls.server_hostname) == (None, "api.b")
    assert c.tls.ssl is not a.tls.ssl  # different verification: its own
    assert d.tls.ssl is True


def test_strategy_flag_auto_unpins_the_kubeconfig_extension() -> None:
    pinned = Cluster(make_spec(strategy="subprotocol"))
    assert strategies.current(pinned, Settings()) == ("subprotocol", "override")
    flag_auto = Cluster(make_spec(strategy="subprotocol"), strategy_override="auto")
    assert strategies.current(flag_auto, Settings()) == ("header", "profile:kubernetes")
