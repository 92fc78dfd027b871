"""The official Python `kubernetes` client's stream() exec through kubelantern."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.stream import stream

from tests.harness.proxy import cluster_base, running_pod
from tests.harness.servers import ServerThread

PROFILES = ("kubernetes", "rancher")


def core_api(server: ServerThread, profile: str) -> client.CoreV1Api:
    config = client.Configuration(host=cluster_base(server, profile))
    return client.CoreV1Api(client.ApiClient(config))


@pytest.mark.parametrize("profile", PROFILES)
def test_python_client_exec(lantern: ServerThread, profile: str) -> None:
    ns, pod, container = running_pod(lantern, profile)
    api = core_api(lantern, profile)
    out = stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        ns,
        container=container,
        command=["echo", "hello from python"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert out == "hello from python\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_python_client_exit_code(lantern: ServerThread, profile: str) -> None:
    ns, pod, container = running_pod(lantern, profile)
    api = core_api(lantern, profile)
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        ns,
        container=container,
        command=["sh", "-c", "echo out; exit 3"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=20)
    assert resp.returncode == 3
    assert "out" in resp.read_all()
