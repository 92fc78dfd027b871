"""Malformed kubeconfig files and contexts, and exec plugins that hang, print garbage or
exit 1, beside good clusters in one real `kubelantern serve`: the process starts, logs one
error line per bad context (naming it), answers requests to a bad cluster with a clear
status and message, and keeps serving every good cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.harness.kubeconfig import fake_plugin_exec, kubeconfig_dict, write_yaml
from tests.harness.serveproc import ServeProcess
from tests.harness.stack import SimCluster
from tests.integration.hostile.conftest import AUTH, LAUNCH, assert_every_cluster_serves

PLUGIN_SECRET = "pluginSECRET-" + "w" * 24


def bad_contexts(sims: dict[str, SimCluster], tmp: Path) -> dict[str, dict[str, Any]]:
    """context name → (cluster, user) of a context that cannot work."""
    good = sims["kubernetes"].context
    server = good.server
    plugin = {
        "plugin-hangs": {"FAKE_PLUGIN_MODE": "slow", "FAKE_PLUGIN_DELAY": "1000"},
        "plugin-garbage": {"FAKE_PLUGIN_MODE": "garbage"},
        "plugin-exit-1": {"FAKE_PLUGIN_MODE": "fail-token"},
        "plugin-wrong-kind": {"FAKE_PLUGIN_MODE": "wrong-kind"},
        "plugin-empty": {"FAKE_PLUGIN_MODE": "empty"},
    }
    out: dict[str, dict[str, Any]] = {
        name: {"cluster": {"server": server, "certificate-authority": str(tmp / "none.crt")},
               "user": {"exec": fake_plugin_exec(env)}}
        for name, env in plugin.items()
    }  # fmt: skip
    for name in plugin:  # the plugin runs only after the TLS check passes
        out[name]["cluster"] = {"server": server, "insecure-skip-tls-verify": True}
    out.update(
        {
            "no-server": {"cluster": {}, "user": {"token": "t"}},
            "server-not-a-url": {"cluster": {"server": "::not a url::"}, "user": {"token": "t"}},
            "server-ftp": {"cluster": {"server": "ftp://127.0.0.1:21"}, "user": {"token": "t"}},
            "ca-not-base64": {
                "cluster": {"server": server, "certificate-authority-data": "!!!not base64"},
                "user": {"token": "t"},
            },
            "ca-not-pem": {
                "cluster": {"server": server, "certificate-authority-data": "aGVsbG8="},
                "user": {"token": "t"},
            },
            "ca-file-missing": {
                "cluster": {"server": server, "certificate-authority": str(tmp / "gone.crt")},
                "user": {"token": "t"},
            },
            "token-file-missing": {
                "cluster": {"server": server, "insecure-skip-tls-verify": True},
                "user": {"tokenFile": str(tmp / "gone.token")},
            },
            "cert-without-key": {
                "cluster": {"server": server, "insecure-skip-tls-verify": True},
                "user": {"client-certificate-data": "aGVsbG8="},
            },
            "exec-not-found": {
                "cluster": {"server": server, "insecure-skip-tls-verify": True},
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": str(tmp / "no-such-plugin"),
                    }
                },
            },
            "user-is-a-list": {"cluster": {"server": server}, "user": ["x"]},
        }
    )
    return out


def write_configs(sims: dict[str, SimCluster], tmp: Path) -> list[Path]:
    good = write_yaml(tmp / "good", kubeconfig_dict([s.context for s in sims.values()]))
    contexts = bad_contexts(sims, tmp)
    bad = {
        "clusters": [{"name": f"c-{n}", "cluster": c["cluster"]} for n, c in contexts.items()],
        "users": [{"name": f"u-{n}", "user": c["user"]} for n, c in contexts.items()],
        "contexts": [
            {"name": n, "context": {"cluster": f"c-{n}", "user": f"u-{n}"}} for n in contexts
        ]
        + [
            {"name": "cluster-missing", "context": {"cluster": "nowhere", "user": "u-no-server"}},
            {"name": "context-not-a-map", "context": "x"},
            {"name": "", "context": {"cluster": "c-no-server", "user": "u-no-server"}},
        ],
    }
    files = [
        good,
        write_yaml(tmp / "bad-contexts", bad),
        write_yaml(tmp / "not-yaml", "clusters: [\n  - {name: x\n\tserver: :"),
        write_yaml(tmp / "a-list", "- 1\n- 2\n"),
        write_yaml(tmp / "a-string", "just text"),
        write_yaml(tmp / "empty", ""),
        write_yaml(tmp / "binary", "\x00\x01\x02kind: Config"),
        write_yaml(tmp / "wrong-types", "clusters: 5\nusers: {a: b}\ncontexts: [1, 'x', null]"),
        tmp / "does-not-exist",
    ]
    (tmp / "a-directory").mkdir()
    files.append(tmp / "a-directory")
    return files


@pytest.fixture(scope="module")
def kube_served(
    sims: dict[str, SimCluster], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServeProcess, list[str]]]:
    tmp = tmp_path_factory.mktemp("hostile-kubeconfigs")
    args = ["--token", LAUNCH, "--exec-plugin-timeout", "5"]
    for path in write_configs(sims, tmp):
        args += ["--kubeconfig", str(path)]
    proc = ServeProcess(args).start()
    yield proc, list(bad_contexts(sims, tmp))
    proc.stop()


async def test_the_server_starts_and_names_each_bad_context(
    kube_served: tuple[ServeProcess, list[str]],
) -> None:
    served, names = kube_served
    # Plugins run on demand (never at start-up); every other bad context is said at start.
    # One line naming the context or the cluster/user entry it uses (`c-<name>`).
    wanted = [
        (f"'{name}'", f'"c-{name}"', f'"u-{name}"', f'"{name}"')
        for name in [*names, "cluster-missing"]
        if not (name.startswith("plugin-") or name == "exec-not-found")
    ]
    wanted += [(file,) for file in ("not-yaml", "a-list", "a-string", "binary", "wrong-types")]
    # stderr is read by a thread of the harness: on a loaded box it trails the ready line.
    deadline = time.monotonic() + 30
    while True:
        log = served.stderr_so_far()
        missing = [spelled for spelled in wanted if not any(s in log for s in spelled)]
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert not missing, (missing, log[-3000:])
    await assert_every_cluster_serves(served)


async def test_each_bad_cluster_answers_with_a_clear_status(
    kube_served: tuple[ServeProcess, list[str]],
) -> None:
    served, names = kube_served
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.get(f"{served.url}/api/clusters", headers=AUTH) as r:
            assert r.status == 200
            listing = await r.text()
        for name in names:
            started = time.monotonic()
            url = f"{served.url}/clusters/{name}/api/v1/namespaces"
            async with http.get(url, headers=AUTH) as r:
                body = await r.json()
                # 503: the context did not load; 500: its exec plugin failed (said how)
                assert r.status in (500, 503), (name, r.status, body)
                assert body["kind"] == "Status" and name in body["message"], (name, body)
                if name.startswith("plugin-"):
                    assert "exec plugin" in body["message"], body
            assert time.monotonic() - started < 5 + 15, name  # the hung plugin is cut at 5 s
            assert PLUGIN_SECRET not in str(body)
    for name in names:
        assert f'"{name}"' in listing, name
    await assert_every_cluster_serves(served)
    assert served.proc is not None and served.proc.poll() is None
