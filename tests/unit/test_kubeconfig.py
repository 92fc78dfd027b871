"""Kubeconfig loading: sources, merge rules, relative paths, fields, errors, in-cluster."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from kubelantern.clusters.kubeconfig import (
    KubeconfigError,
    kubeconfig_sources,
    load_in_cluster,
    load_kubeconfigs,
    shown_url,
)
from tests.harness.kubeconfig import write_yaml


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def config(
    contexts: list[tuple[str, str, str]],
    clusters: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]] | None = None,
    current: str = "",
    **context_extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
        "contexts": [
            {"name": n, "context": {"cluster": c, "user": u, **context_extra.get(n, {})}}
            for n, c, u in contexts
        ],
    }


SERVER = {"server": "https://10.0.0.1:6443"}


# -- sources -------------------------------------------------------------------------------


def test_sources_explicit_then_env_then_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    a, b = tmp_path / "a", tmp_path / "b"
    assert kubeconfig_sources([a, b, a], {}, home) == ([a, b], True)
    env = {"KUBECONFIG": os.pathsep.join([str(a), "", str(b), str(a)])}
    assert kubeconfig_sources(None, env, home) == ([a, b], False)
    assert kubeconfig_sources([], {"KUBECONFIG": ""}, home) == (
        [home / ".kube" / "config"],
        False,
    )


def test_default_home_config_and_missing_home_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert load_kubeconfigs(None, env={}, home=home).errors == []  # nothing there: no error
    write_yaml(home / ".kube" / "config", config([("dev", "c", "u")], {"c": SERVER}, {"u": {}}))
    result = load_kubeconfigs(None, env={}, home=home)
    assert [s.name for s in result.specs] == ["dev"]
    assert result.files == [home / ".kube" / "config"]


def test_kubeconfig_env_list_skips_missing_files(tmp_path: Path) -> None:
    one = write_yaml(tmp_path / "one", config([("one", "c", "u")], {"c": SERVER}, {"u": {}}))
    two = write_yaml(tmp_path / "two", config([("two", "c", "u")], {"c": SERVER}, {"u": {}}))
    env = {"KUBECONFIG": os.pathsep.join([str(one), str(tmp_path / "missing"), "", str(two)])}
    result = load_kubeconfigs(None, env=env, home=tmp_path)
    assert [s.name for s in result.specs] == ["one", "two"]
    assert result.errors == []


def test_explicit_missing_file_is_an_error_but_others_load(tmp_path: Path) -> None:
    good = write_yaml(tmp_path / "good", config([("dev", "c", "u")], {"c": SERVER}, {"u": {}}))
    result = load_kubeconfigs([tmp_path / "nope", good], home=tmp_path)
    assert [s.name for s in result.specs] == ["dev"]
    assert [str(e) for e in result.errors] == ["~/nope: file not found"]


# -- merge rules ---------------------------------------------------------------------------


def test_first_file_wins_per_key_and_for_current_context(tmp_path: Path) -> None:
    first = write_yaml(
        tmp_path / "first",
        config(
            [("shared", "c", "u")],
            {"c": {"server": "https://first:6443"}},
            {"u": {"token": "first-token"}},
            current="",  # empty: the next file's current-context counts
        ),
    )
    second = write_yaml(
        tmp_path / "second",
        config(
            [("shared", "c", "u"), ("only-second", "c2", "u")],
            {"c": {"server": "https://second:6443"}, "c2": {"server": "https://c2:6443"}},
            {"u": {"token": "second-token"}},
            current="only-second",
        ),
    )
    third = write_yaml(
        tmp_path / "third", config([("x", "c", "u")], {"c": SERVER}, {"u": {}}, current="x")
    )
    result = load_kubeconfigs([first, second, third], home=tmp_path)
    assert result.errors == []
    by_name = {s.name: s for s in result.specs}
    assert list(by_name) == ["shared", "only-second", "x"]
    assert by_name["shared"].server == "https://first:6443"
    assert by_name["shared"].auth.token == "first-token"
    # Cluster "c" and user "u" were first defined in `first`: they win for every context.
    assert by_name["only-second"].auth.token == "first-token"
    assert by_name["x"].server == "https://first:6443"
    assert by_name["shared"].source == str(first)
    assert result.current_context == "only-second"


def test_contexts_filter_keeps_order_and_reports_unknown(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "cfg",
        config([("a", "c", "u"), ("b", "c", "u"), ("c", "c", "u")], {"c": SERVER}, {"u": {}}),
    )
    result = load_kubeconfigs([path], contexts=["c", "a", "nope", "a"], home=tmp_path)
    assert [s.name for s in result.specs] == ["c", "a"]
    assert [str(e) for e in result.errors] == [
        'kubeconfig: context "nope": not found (read: ~/cfg)'
    ]


def test_relative_paths_resolve_per_defining_file(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        for name in ("ca.crt", "client.crt", "client.key", "token"):
            write_yaml(tmp_path / folder / "certs" / name, f"{folder}-{name}")
    one = write_yaml(
        tmp_path / "one" / "config",
        config(
            [("ctx", "c", "u2")],
            {"c": {"server": "https://c:6443", "certificate-authority": "certs/ca.crt"}},
        ),
    )
    two = write_yaml(
        tmp_path / "two" / "config",
        config(
            [],
            {},
            {
                "u2": {
                    "client-certificate": "certs/client.crt",
                    "client-key": "./certs/client.key",
                    "tokenFile": "certs/token",
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "./bin/plugin",
                    },
                }
            },
        ),
    )
    result = load_kubeconfigs([one, two], home=tmp_path)
    assert result.errors == []
    (s,) = result.specs
    assert s.tls.ca_file == tmp_path / "one" / "certs" / "ca.crt"
    assert s.tls.client_cert_file == tmp_path / "two" / "certs" / "client.crt"
    assert s.tls.client_key_file == tmp_path / "two" / "certs" / "client.key"
    assert s.auth.token_file == tmp_path / "two" / "certs" / "token"
    assert s.auth.exec is not None
    assert Path(s.auth.exec.command) == tmp_path / "two" / "bin" / "plugin"
    assert s.auth.exec.base_dir == tmp_path / "two"


def test_exec_bare_command_stays_on_path(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "cfg",
        config(
            [("eks", "c", "u")],
            {"c": SERVER},
            {"u": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}}},
        ),
    )
    (s,) = load_kubeconfigs([path], home=tmp_path).specs
    assert s.auth.exec is not None and s.auth.exec.command == "aws"


# -- fields ----------------------------------------------------------------------------------


def test_every_field_is_read(tmp_path: Path) -> None:
    doc = config(
        [("rancher/down:c-m-abc12", "c", "u")],
        {
            "c": {
                "server": "https://rancher.example/k8s/clusters/c-m-abc12",
                "certificate-authority-data": b64(b"CA PEM"),
                "insecure-skip-tls-verify": False,
                "tls-server-name": "kubernetes.internal",
                "proxy-url": "http://proxy.example:3128",
            }
        },
        {
            "u": {
                "token": "tok",
                "client-certificate-data": b64(b"CERT"),
                "client-key-data": b64(b"KEY"),
                "username": "admin",
                "password": "pw",
                "as": "bob",
                "as-groups": ["dev", "ops"],
                "as-uid": "1000",
                "as-user-extra": {"reason": ["debug"]},
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": "aws",
                    "args": ["eks", "get-token"],
                    "env": [{"name": "AWS_PROFILE", "value": "prod"}, {"name": "EMPTY"}],
                    "provideClusterInfo": True,
                    "interactiveMode": "Never",
                    "installHint": "install aws",
                },
            }
        },
        **{
            "rancher/down:c-m-abc12": {
                "namespace": "team-a",
                "extensions": [
                    {"name": "other", "extension": {"x": 1}},
                    {
                        "name": "kubelantern",
                        "extension": {"profile": "rancher", "strategy": "header"},
                    },
                ],
            }
        },
    )
    (s,) = load_kubeconfigs([write_yaml(tmp_path / "cfg", doc)], home=tmp_path).specs
    assert s.name == "rancher/down:c-m-abc12"
    assert s.server == "https://rancher.example/k8s/clusters/c-m-abc12"
    assert (s.cluster_name, s.user_name, s.namespace) == ("c", "u", "team-a")
    assert s.tls.ca_data == b"CA PEM" and s.certificate_authority_data_b64 == b64(b"CA PEM")
    assert s.tls.server_name == "kubernetes.internal" and not s.tls.insecure_skip_verify
    assert s.proxy_url == "http://proxy.example:3128"
    assert (s.tls.client_cert_data, s.tls.client_key_data) == (b"CERT", b"KEY")
    a = s.auth
    assert (a.token, a.username, a.password) == ("tok", "admin", "pw")
    assert (a.impersonate, a.impersonate_groups, a.impersonate_uid) == (
        "bob",
        ("dev", "ops"),
        "1000",
    )
    assert a.impersonate_extra == (("reason", ("debug",)),)
    assert a.exec is not None
    assert a.exec.command == "aws" and a.exec.args == ("eks", "get-token")
    assert a.exec.env == (("AWS_PROFILE", "prod"), ("EMPTY", ""))
    assert a.exec.api_version == "client.authentication.k8s.io/v1beta1"
    assert a.exec.provide_cluster_info and a.exec.interactive_mode == "Never"
    assert a.exec.install_hint == "install aws"
    assert (s.profile, s.strategy) == ("rancher", "header")


def test_context_without_user_is_anonymous_and_insecure_flag(tmp_path: Path) -> None:
    doc = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://x:6443", "insecure-skip-tls-verify": True}}
        ],
        "contexts": [{"name": "anon", "context": {"cluster": "c"}}],
    }
    (s,) = load_kubeconfigs([write_yaml(tmp_path / "cfg", doc)], home=tmp_path).specs
    assert s.auth.is_empty and s.tls.insecure_skip_verify and s.user_name == ""


def test_empty_file_is_fine(tmp_path: Path) -> None:
    result = load_kubeconfigs([write_yaml(tmp_path / "empty", "")], home=tmp_path)
    assert result.specs == [] and result.errors == []


# -- bad input: one line each, naming file and key; good contexts still load --------------


def bad_config(tmp_path: Path) -> Path:
    return write_yaml(
        tmp_path / ".kube" / "config",
        {
            "current-context": "good",
            "clusters": [
                {"name": "ok", "cluster": SERVER},
                {"name": "noserver", "cluster": {"certificate-authority-data": b64(b"x")}},
                {"name": "badca", "cluster": {**SERVER, "certificate-authority-data": "!!notb64"}},
                {"name": "ftp", "cluster": {"server": "ftp://host"}},
                {"name": "cafile", "cluster": {**SERVER, "certificate-authority": "missing.crt"}},
            ],
            "users": [
                {"name": "u", "user": {"token": "t"}},
                {"name": "gcp", "user": {"auth-provider": {"name": "gcp", "config": {}}}},
                {
                    "name": "badkey",
                    "user": {"client-certificate-data": b64(b"c"), "client-key-data": "%%"},
                },
                {"name": "halfcert", "user": {"client-certificate-data": b64(b"c")}},
                {
                    "name": "oldexec",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1alpha1",
                            "command": "x",
                        }
                    },
                },
                {"user": {"token": "nameless"}},
            ],
            "contexts": [
                {"name": "good", "context": {"cluster": "ok", "user": "u"}},
                {"name": "nouser", "context": {"cluster": "ok", "user": "ghost"}},
                {"name": "prod", "context": {"cluster": "gone", "user": "u"}},
                {"name": "noserver", "context": {"cluster": "noserver", "user": "u"}},
                {"name": "badca", "context": {"cluster": "badca", "user": "u"}},
                {"name": "ftp", "context": {"cluster": "ftp", "user": "u"}},
                {"name": "gke", "context": {"cluster": "ok", "user": "gcp"}},
                {"name": "badkey", "context": {"cluster": "ok", "user": "badkey"}},
                {"name": "halfcert", "context": {"cluster": "ok", "user": "halfcert"}},
                {"name": "oldexec", "context": {"cluster": "ok", "user": "oldexec"}},
                {"name": "cafile", "context": {"cluster": "cafile", "user": "u"}},
                {
                    "name": "badext",
                    "context": {
                        "cluster": "ok",
                        "extensions": [{"name": "kubelantern", "extension": {"profile": "nope"}}],
                    },
                },
                {"name": "good2", "context": {"cluster": "ok", "user": "u"}},
            ],
        },
    )


def test_bad_input_gives_one_clear_line_per_problem(tmp_path: Path) -> None:
    path = bad_config(tmp_path)
    result = load_kubeconfigs([path], home=tmp_path)
    assert [s.name for s in result.specs] == ["good", "good2"]
    lines = [str(e) for e in result.errors]
    f = "~/.kube/config"
    assert lines == [
        f"{f}: users[5]: has no name",
        f'{f}: contexts[1] "nouser": user "ghost" not found',
        f'{f}: contexts[2] "prod": cluster "gone" not found',
        f'{f}: clusters[1] "noserver".server: is missing (the API server URL, e.g. https://host:6443)',
        f'{f}: clusters[2] "badca".certificate-authority-data: is not valid base64',
        f"{f}: clusters[3] \"ftp\".server: 'ftp://host' is not an http:// or https:// URL",
        f"{f}: users[1] \"gcp\".auth-provider: the legacy auth-provider 'gcp' is not supported "
        "(kubectl dropped it too): switch this user to the exec plugin gke-gcloud-auth-plugin",
        f'{f}: users[2] "badkey".client-key-data: is not valid base64',
        f'{f}: users[3] "halfcert".client-key: is missing (a client certificate needs both '
        "certificate and key)",
        f"{f}: users[4] \"oldexec\".exec.apiVersion: 'client.authentication.k8s.io/v1alpha1' is "
        "not supported (use client.authentication.k8s.io/v1 or "
        "client.authentication.k8s.io/v1beta1)",
        f'{f}: clusters[4] "cafile".certificate-authority: file '
        f"{tmp_path / '.kube' / 'missing.crt'} not found",
        f"{f}: contexts[11] \"badext\".extensions[0].extension.profile: unknown profile 'nope' "
        "(known: kubernetes, openshift, rancher)",
    ]
    assert all("\n" not in line for line in lines)
    # Each context-level error says which context it hides (the registry shows it).
    contexts = [e.context for e in result.errors]
    assert contexts[0] is None and contexts[1:3] == ["nouser", "prod"]
    assert {e.file for e in result.errors} == {path}
    assert result.errors[2].key == 'contexts[2] "prod"'


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    broken = write_yaml(tmp_path / "broken", "clusters:\n  - name: a\n    cluster: {server: [\n")
    good = write_yaml(tmp_path / "good", config([("dev", "c", "u")], {"c": SERVER}, {"u": {}}))
    result = load_kubeconfigs([broken, good], home=tmp_path)
    assert [s.name for s in result.specs] == ["dev"]
    (err,) = result.errors
    assert isinstance(err, KubeconfigError) and err.file == broken
    assert str(err).startswith("~/broken: invalid YAML at line 4:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "~/cfg: is not a kubeconfig (top level is a list, not a mapping)"),
        ("clusters: 3\n", "~/cfg: clusters: is not a list"),
        (
            "contexts:\n- name: x\n  context: [1]\n",
            '~/cfg: contexts[0] "x": context is not a mapping',
        ),
        ("contexts:\n- name: x\n  context: {}\n", '~/cfg: contexts[0] "x": names no cluster'),
        ("users:\n- just-a-string\n", "~/cfg: users[0]: is not a mapping with name and user"),
        ("clusters:\n- name: 123\n", "~/cfg: clusters[0]: name is not a string"),
    ],
)
def test_structural_errors(tmp_path: Path, text: str, expected: str) -> None:
    result = load_kubeconfigs([write_yaml(tmp_path / "cfg", text)], home=tmp_path)
    assert [str(e) for e in result.errors] == [expected]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    result = load_kubeconfigs([tmp_path / "dir"], home=tmp_path)
    assert [str(e) for e in result.errors] == ["~/dir: is a directory, not a kubeconfig file"]


# -- in-cluster --------------------------------------------------------------------------------


def test_in_cluster(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("CA")
    (tmp_path / "namespace").write_text("kube-system\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    s = load_in_cluster(env, root=tmp_path)
    assert s.name == "in-cluster" and s.server == "https://10.96.0.1:443"
    assert s.auth.token_file == tmp_path / "token" and s.tls.ca_file == tmp_path / "ca.crt"
    assert s.namespace == "kube-system"
    v6 = load_in_cluster({**env, "KUBERNETES_SERVICE_HOST": "fd00::1"}, root=tmp_path)
    assert v6.server == "https://[fd00::1]:443"


def test_in_cluster_errors(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="not running in a Kubernetes pod"):
        load_in_cluster({}, root=tmp_path)
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(KubeconfigError, match="service account file missing") as e:
        load_in_cluster(env, root=tmp_path)
    assert e.value.file == tmp_path / "token"


CLUSTER_FIELDS = [
    "server",
    "certificate-authority",
    "certificate-authority-data",
    "insecure-skip-tls-verify",
    "tls-server-name",
    "proxy-url",
]
USER_FIELDS = [
    "token",
    "tokenFile",
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "username",
    "password",
    "as",
    "as-groups",
    "as-uid",
    "as-user-extra",
    "exec",
    "auth-provider",
]
CONTEXT_FIELDS = ["cluster", "user", "namespace", "extensions"]
ODD_VALUES: list[Any] = [[], {}, 5, True, "x", [{"a": 1}], {"command": 3}, "bm90IGEgY2VydA=="]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_odd_values_never_crash_and_never_hide_good_contexts(tmp_path: Path, value: Any) -> None:
    docs = []
    for section, fields in (("c", CLUSTER_FIELDS), ("u", USER_FIELDS), ("x", CONTEXT_FIELDS)):
        for field_name in fields:
            cluster: dict[str, Any] = dict(SERVER)
            user: dict[str, Any] = {"token": "t"}
            context: dict[str, Any] = {"cluster": "odd", "user": "odd"}
            {"c": cluster, "u": user, "x": context}[section][field_name] = value
            docs.append((f"{section}-{field_name}", cluster, user, context))
    for name, cluster, user, context in docs:
        doc = {
            "clusters": [{"name": "odd", "cluster": cluster}, {"name": "ok", "cluster": SERVER}],
            "users": [{"name": "odd", "user": user}, {"name": "ok", "user": {"token": "t"}}],
            "contexts": [
                {"name": "odd", "context": context},
                {"name": "good", "context": {"cluster": "ok", "user": "ok"}},
            ],
        }
        result = load_kubeconfigs([write_yaml(tmp_path / f"{name}.yaml", doc)], home=tmp_path)
        names = [s.name for s in result.specs]
        assert "good" in names, name
        for e in result.errors:
            assert "\n" not in str(e) and str(e).startswith(("~/", "kubeconfig")), (name, str(e))
        # The odd context either loaded or has exactly one error line saying why.
        assert ("odd" in names) != any(e.context == "odd" for e in result.errors), name


def test_passwords_in_urls_stay_out_of_errors(tmp_path: Path) -> None:
    assert shown_url("https://host:6443/k8s") == "https://host:6443/k8s"
    assert shown_url("socks4://me:s3cret@proxy:1080") == "socks4://me:REDACTED@proxy:1080"
    path = write_yaml(
        tmp_path / "config",
        config(
            [("c", "c", "u")],
            {"c": {"server": "https://h:6443", "proxy-url": "ftp://me:s3cret@proxy:21"}},
            {"u": {"token": "t"}},
        ),
    )
    result = load_kubeconfigs([path], home=tmp_path)
    text = " ".join(str(e) for e in result.errors)
    assert "proxy-url" in text and "REDACTED" in text and "s3cret" not in text
