"""`kubelantern serve / clusters` as real subprocesses."""

from __future__ import annotations

import json
import os
import platform
import re
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.kubeconfig import Context, write_kubeconfig

BIN = Path(sys.executable).with_name("kubelantern")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env.pop("KUBELANTERN_TOKEN", None)
    env["HOME"] = str(tmp_path)  # never read the developer's ~/.kube/config
    return env


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 30) -> list[str]:
    """stdout lines up to and including the first matching `pattern` (bounded in time).

    Reads the raw pipe (a text wrapper would buffer lines select() cannot see).
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        lines = buf.decode(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if re.search(pattern, line):
                return lines[: i + 1]
    raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {buf!r}")


@pytest.fixture
def broken_kubeconfig(tmp_path: Path) -> Path:
    """One context pointing at a closed port, one with a bad CA: both load, one errors."""
    path = tmp_path / "config"
    write_kubeconfig(
        path,
        [
            Context(name="down", server="https://127.0.0.1:1", token="t"),
            Context(
                name="bad-ca",
                server="https://127.0.0.1:2",
                token="t",
                cluster={"certificate-authority-data": "bm90IGEgY2VydA=="},
            ),
        ],
    )
    return path


@pytest.fixture
def served(tmp_path: Path, broken_kubeconfig: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", "0", "--kubeconfig", str(broken_kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        lines = read_until(proc, r"serving at http://")
        url = re.search(r"(http://\S+)", lines[-1])
        assert url is not None
        yield proc, url.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_serve_prints_url_serves_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = served
    m = re.match(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{40,})$", url)
    assert m, url
    port, token = m.groups()
    base = f"http://127.0.0.1:{port}"
    assert _get(f"{base}/healthz") == (200, "ok")
    assert _get(f"{base}/readyz") == (200, "ok")
    status, _ = _get(f"{base}/api/clusters")
    assert status == 401
    status, body = _get(f"{base}/api/clusters", {"X-Kubelantern-Token": token})
    assert status == 200
    clusters = {c["name"]: c for c in json.loads(body)}
    assert clusters["down"]["state"] == "unreachable"
    assert "unreachable" in clusters["down"]["error"]
    assert clusters["bad-ca"]["state"] == "error"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    # The launch token is printed once on stdout, never in the log.
    assert token not in stderr
    assert "bad-ca" in stderr  # the broken context is reported, one line


def test_serve_refuses_a_busy_port(tmp_path: Path, broken_kubeconfig: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run(
            [str(BIN), "serve", "--port", str(port), "--kubeconfig", str(broken_kubeconfig)],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=30,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "malloc tuning: mmap threshold 4194304, trim threshold 67108864"),
        (
            {"KUBELANTERN_MALLOC_TUNING": "0"},
            "malloc tuning: not applied (KUBELANTERN_MALLOC_TUNING=0)",
        ),
    ],
)
def test_serve_sets_the_malloc_thresholds_at_start(
    tmp_path: Path, broken_kubeconfig: Path, env: dict[str, str], expected: str
) -> None:
    """The started process says what glibc answered to mallopt (its effect on allocations is
    tested in tests/unit/test_malloc.py)."""
    args = ["--port", "0", "--kubeconfig", str(broken_kubeconfig), "--log-level", "debug"]
    proc = subprocess.Popen(
        [str(BIN), "serve", *args, "--no-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**_env(tmp_path), **env},
    )
    try:
        lines = read_until(proc, r"serving at http://")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    tuning = [line for line in lines if "malloc tuning" in line]
    if platform.libc_ver()[0] != "glibc" and not env:
        expected = "malloc tuning: not applied (not glibc)"
    assert len(tuning) == 1 and tuning[0].endswith(expected), lines


def test_clusters_command_lists_and_reports_errors(tmp_path: Path, broken_kubeconfig: Path) -> None:
    done = subprocess.run(
        [str(BIN), "clusters", "--kubeconfig", str(broken_kubeconfig)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    lines = done.stdout.splitlines()
    down = next(line for line in lines if line.startswith("down"))
    assert "https://127.0.0.1:1" in down and "credentials=token" in down
    assert " t " not in down + " "  # the token itself is never shown
    bad = next(line for line in lines if line.startswith("bad-ca"))
    assert "ERROR" in bad
    assert done.returncode == 1

    as_json = subprocess.run(
        [str(BIN), "clusters", "--json", "--kubeconfig", str(broken_kubeconfig)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    data = json.loads(as_json.stdout)
    names = {c["name"]: c for c in data["clusters"]}
    assert names["down"]["error"] is None and names["bad-ca"]["error"]


def test_python_dash_m_and_bad_flags(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kubelantern", "serve", "--profile", "nonsense"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    assert done.returncode == 2
    assert "CLUSTER=NAME" in done.stderr
    version = subprocess.run(
        [sys.executable, "-m", "kubelantern", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert version.stdout.startswith("kubelantern ")


def test_sigterm_ends_open_streams_and_exits(tmp_path: Path) -> None:
    """`serve --demo`: a follow stream is open when SIGTERM arrives; it ends, we exit 0."""
    import http.client

    proc = subprocess.Popen(
        [str(BIN), "serve", "--demo", "--port", "0", "--no-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        lines = read_until(proc, r"serving at http://")
        assert any("built-in demo" in line for line in lines)
        port = int(re.findall(r":(\d+)/", lines[-1])[0])
        status, body = _get(f"http://127.0.0.1:{port}/clusters/demo-kubernetes/api/v1/pods")
        assert status == 200
        pod = next(
            p
            for p in json.loads(body)["items"]
            if p["status"].get("phase") == "Running" and p["metadata"]["namespace"] != "bench"
        )
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request(
            "GET", f"/clusters/demo-kubernetes/api/v1/namespaces/{ns}/pods/{name}/log?follow=true"
        )
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.readline()  # the stream is live
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        while resp.readline():  # ends cleanly once the server closes open streams
            assert time.monotonic() - started < 15, "the stream outlived the shutdown"
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 15
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_doctor_command_checks_a_cluster(
    sims: dict[str, object], kubeconfig: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(BIN), "doctor", "kind-dev", "--json", "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert "kind-dev" in json.dumps(report)
    unknown = subprocess.run(
        [str(BIN), "doctor", "nope", "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert unknown.returncode == 1 and "unknown cluster 'nope'" in unknown.stdout


def test_clusters_command_builds_tls_and_reports_what_only_a_build_finds(
    tmp_path: Path,
) -> None:
    """serve builds SSL contexts at first use; `kubelantern clusters` builds them all, so a
    client key that does not match its certificate (well-formed PEM both) is listed."""
    import base64

    from tests.harness.pki import make_pki

    mine, other = make_pki(_folder(tmp_path, "a")), make_pki(_folder(tmp_path, "b"))
    user = {
        "client-certificate-data": base64.b64encode(mine.client_cert_pem).decode(),
        "client-key-data": base64.b64encode(other.client_key_pem).decode(),
    }
    config = write_kubeconfig(
        tmp_path / "config",
        [
            Context("fine", "https://127.0.0.1:1", ca_pem=mine.ca_pem, token="t"),
            Context("mismatched", "https://127.0.0.1:1", ca_pem=mine.ca_pem, user=user),
        ],
    )
    done = subprocess.run(
        [str(BIN), "clusters", "--kubeconfig", str(config)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    lines = done.stdout.splitlines()
    bad = next(line for line in lines if line.startswith("mismatched"))
    assert "ERROR" in bad and "not a matching PEM certificate and key" in bad, lines
    assert "ERROR" not in next(line for line in lines if line.startswith("fine"))
    assert done.returncode == 1


def _folder(parent: Path, name: str) -> Path:
    (parent / name).mkdir()
    return parent / name
