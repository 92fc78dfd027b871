"""The real kubectl through kubelantern's HTTP proxy (get, -o yaml, logs, logs -f)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.harness.kubectl import kubectl_command, kubectl_env, run_kubectl
from tests.harness.proxy import cluster_base
from tests.harness.servers import ServerThread

pytestmark = pytest.mark.kubectl


def running_pod(kubectl: str, server: str, home: Path) -> tuple[str, str]:
    done = run_kubectl(kubectl, server, home, "get", "pods", "-A", "-o", "json", text=True)
    assert done.returncode == 0, done.stderr
    pods = json.loads(done.stdout)["items"]
    running = [
        p
        for p in pods
        if p["status"].get("phase") == "Running"
        and p["metadata"]["namespace"] != "bench"  # the benchmark firehose pod
    ]
    assert running, "no running pod in the simulator"
    return running[0]["metadata"]["namespace"], running[0]["metadata"]["name"]


@pytest.mark.parametrize(
    ("profile", "encoded"), [("kubernetes", True), ("rancher", True), ("rancher", False)]
)
def test_kubectl_get_pods_table_and_yaml(
    lantern: ServerThread, kubectl: str, tmp_path: Path, profile: str, encoded: bool
) -> None:
    server = cluster_base(lantern, profile, encoded=encoded)
    table = run_kubectl(kubectl, server, tmp_path, "get", "pods", "-A", text=True)
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header[:2] == ["NAMESPACE", "NAME"]
    assert len(table.stdout.splitlines()) > 1

    as_yaml = run_kubectl(
        kubectl, server, tmp_path, "get", "pods", "-n", "default", "-o", "yaml", text=True
    )
    assert as_yaml.returncode == 0, as_yaml.stderr
    doc = yaml.safe_load(as_yaml.stdout)
    assert doc["kind"] == "List"
    assert all(item["kind"] == "Pod" for item in doc["items"])


def test_kubectl_error_from_the_cluster_is_readable(
    lantern: ServerThread, kubectl: str, tmp_path: Path
) -> None:
    done = run_kubectl(
        kubectl,
        cluster_base(lantern, "kubernetes"),
        tmp_path,
        "get",
        "pod",
        "no-such-pod",
        text=True,
    )
    assert done.returncode == 1
    assert 'pods "no-such-pod" not found' in done.stderr


def test_kubectl_unknown_cluster_is_readable(
    lantern: ServerThread, kubectl: str, tmp_path: Path
) -> None:
    # kubectl's discovery words any 404 its own way; the Status body (naming the cluster)
    # is checked over plain HTTP in test_proxy_http.
    done = run_kubectl(kubectl, f"{lantern.url}/clusters/nope", tmp_path, "get", "pods", text=True)
    assert done.returncode == 1
    assert "NotFound" in done.stderr


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
def test_kubectl_logs(lantern: ServerThread, kubectl: str, tmp_path: Path, profile: str) -> None:
    server = cluster_base(lantern, profile)
    ns, pod = running_pod(kubectl, server, tmp_path)
    done = run_kubectl(kubectl, server, tmp_path, "logs", "-n", ns, pod, "--tail=5", text=True)
    assert done.returncode == 0, done.stderr
    assert 1 <= len(done.stdout.splitlines()) <= 5


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
def test_kubectl_logs_follow_streams(
    lantern: ServerThread, kubectl: str, tmp_path: Path, profile: str
) -> None:
    server = cluster_base(lantern, profile)
    ns, pod = running_pod(kubectl, server, tmp_path)
    proc = subprocess.Popen(
        [*kubectl_command(kubectl, server, tmp_path), "logs", "-f", "-n", ns, pod, "--tail=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kubectl_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        data = b""
        deadline = time.monotonic() + 20
        # The tail line, then lines written while we follow: 3 lines prove live streaming.
        while data.count(b"\n") < 3 and time.monotonic() < deadline:
            if sel.select(timeout=1):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                data += chunk
        assert data.count(b"\n") >= 3, (data, proc.poll())
        assert proc.poll() is None, "kubectl logs -f ended: the stream was not kept open"
    finally:
        proc.kill()
        proc.wait(timeout=10)
