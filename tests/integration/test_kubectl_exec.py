"""The real kubectl through kubelantern's WebSocket bridge (plain http, no launch token)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from tests.harness.kubectl import kubectl_command, kubectl_env, run_kubectl
from tests.harness.proxy import cluster_base, running_pod
from tests.harness.servers import ServerThread

pytestmark = pytest.mark.kubectl
PROFILES = ("kubernetes", "rancher")


def kubectl_exec(
    kubectl: str,
    lantern: ServerThread,
    tmp_path: Path,
    profile: str,
    *command: str,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`kubectl exec [-i] -n NS POD -c C -- COMMAND` on a running pod of `profile`."""
    ns, pod, container = running_pod(lantern, profile)
    interactive = ["-i"] if stdin is not None else []
    return run_kubectl(
        kubectl,
        cluster_base(lantern, profile),
        tmp_path,
        "exec",
        *interactive,
        "-n",
        ns,
        pod,
        "-c",
        container,
        "--",
        *command,
        stdin=stdin,
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_kubectl_exec_echo(
    kubectl: str, lantern: ServerThread, tmp_path: Path, profile: str
) -> None:
    done = kubectl_exec(kubectl, lantern, tmp_path, profile, "echo", "hello from kubectl")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"hello from kubectl\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_kubectl_exec_exit_code(
    kubectl: str, lantern: ServerThread, tmp_path: Path, profile: str
) -> None:
    done = kubectl_exec(kubectl, lantern, tmp_path, profile, "sh", "-c", "exit 3")
    assert done.returncode == 3, done.stderr.decode()


@pytest.mark.parametrize("profile", PROFILES)
def test_kubectl_exec_stdin(
    kubectl: str, lantern: ServerThread, tmp_path: Path, profile: str
) -> None:
    done = kubectl_exec(kubectl, lantern, tmp_path, profile, "cat", stdin=b"x\n")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"x\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_kubectl_logs_follow(
    kubectl: str, lantern: ServerThread, tmp_path: Path, profile: str
) -> None:
    ns, pod, container = running_pod(lantern, profile)
    cmd = [
        *kubectl_command(kubectl, cluster_base(lantern, profile), tmp_path),
        "logs",
        "-f",
        "-n",
        ns,
        pod,
        "-c",
        container,
        "--tail",
        "3",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kubectl_env(tmp_path)
    )
    # readline() has no timeout: a watchdog kills kubectl so a stuck stream fails the
    # assertion below instead of hanging until pytest-timeout.
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]  # 3 tail lines + one new
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(timeout=10)
    assert all(line.endswith(b"\n") for line in lines), lines
