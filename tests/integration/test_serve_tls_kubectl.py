"""kubectl through kubelantern with the launch token on: `serve --tls-port` + `kubelantern
kubeconfig`, as real subprocesses, against the session's simulators."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.harness.kubectl_matrix import Target, find_pods, kubectl_binary
from tests.harness.stack import SimCluster
from tests.integration.test_serve_cli import read_until

BIN = Path(sys.executable).with_name("kubelantern")
TOKEN = "launch-token-for-kubectl"
pytestmark = pytest.mark.kubectl


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBELANTERN_TOKEN")}
    return {**env, "HOME": str(tmp_path), "KUBELANTERN_CONFIG_DIR": str(tmp_path / "conf")}


def _serve(kubeconfig: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            str(BIN),
            "serve",
            "--port",
            "0",
            "--tls-port",
            "0",
            "--token",
            TOKEN,
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    lines = read_until(proc, r"kubectl can use https://")
    match = re.search(r"kubectl can use (https://\S+)", lines[-1])
    assert match, lines
    return proc, match.group(1)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def served(kubeconfig: Path, tmp_path: Path) -> Iterator[str]:
    proc, url = _serve(kubeconfig, tmp_path)
    yield url
    _stop(proc)


def _kubeconfig_out(tmp_path: Path) -> Path:
    out = tmp_path / "through-lantern.kubeconfig"
    done = subprocess.run(
        [str(BIN), "kubeconfig", "-o", str(out)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def test_kubectl_exec_with_the_launch_token(
    served: str, sims: dict[str, SimCluster], tmp_path: Path
) -> None:
    out = _kubeconfig_out(tmp_path)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    doc = yaml.safe_load(out.read_text())
    names = [c["name"] for c in doc["contexts"]]
    assert set(names) == {s.context.name for s in sims.values()}
    assert all(c["cluster"]["server"].startswith(served) for c in doc["clusters"])
    kubectl = kubectl_binary("1.33")
    env = {**_env(tmp_path), "KUBECONFIG": str(out)}
    sim = sims["kubernetes"]
    pods = find_pods(kubectl, Target(("--context", sim.context.name), env, tmp_path))
    before = sim.state.recorded
    done = subprocess.run(
        [
            kubectl,
            "--context",
            sim.context.name,
            "exec",
            "-n",
            pods.namespace,
            pods.pod,
            "--",
            "echo",
            "token-on",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "token-on\n"
    # The launch token stays with kubelantern: the cluster saw its own credential.
    seen = [r.header("Authorization") for r in sim.state.requests_since(before)]
    assert TOKEN not in " ".join(a or "" for a in seen)
    assert "Bearer sim-admin-token" in seen


def test_a_wrong_token_gets_401_and_never_reaches_a_cluster(
    served: str, sims: dict[str, SimCluster], tmp_path: Path
) -> None:
    out = _kubeconfig_out(tmp_path)
    wrong = tmp_path / "wrong.kubeconfig"
    wrong.write_text(out.read_text().replace(TOKEN, "not-the-token"))
    sim = sims["kubernetes"]
    before = sim.state.recorded
    done = subprocess.run(
        [
            kubectl_binary("1.33"),
            "--kubeconfig",
            str(wrong),
            "--context",
            sim.context.name,
            "get",
            "pods",
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "You must be logged in to the server" in done.stderr  # kubectl's words for a 401
    # kubectl's list (`.../namespaces/default/pods?limit=500`) never arrived; other tests'
    # background requests to this shared simulator may have.
    reached = [
        r
        for r in sim.state.requests_since(before)
        if r.path.endswith("/namespaces/default/pods") and "limit=500" in r.query_string
    ]
    assert reached == []


def test_the_ca_is_reused_across_restarts(kubeconfig: Path, tmp_path: Path) -> None:
    proc, _ = _serve(kubeconfig, tmp_path)
    ca = (tmp_path / "conf" / "ca.crt").read_bytes()
    _stop(proc)
    assert not (tmp_path / "conf" / "instance.json").exists()
    proc, _ = _serve(kubeconfig, tmp_path)
    try:
        assert (tmp_path / "conf" / "ca.crt").read_bytes() == ca
    finally:
        _stop(proc)


def test_kubeconfig_without_a_running_server_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN), "kubeconfig"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "serve --tls-port" in done.stderr
