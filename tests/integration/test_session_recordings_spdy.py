"""Exec/attach over SPDY/3.1 on the record (issue 10 §2): real kubectl told to use SPDY
(`KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`, what kubectl before 1.30 always does) through
`serve --record-sessions`. The upgrade tunnel passes the
bytes untouched and its observer writes the asciicast: header, output, resizes, input
only with --record-input, the exit code from the error stream's Status; 0600 in 0700 and
no token inside."""

from __future__ import annotations

import asyncio
import json
import stat
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelantern.settings import Settings
from tests.harness.kubectl import kubectl_command, kubectl_env
from tests.harness.kubectl_matrix import (
    Target,
    _line_with,
    _start,
    _stop,
    find_pods,
    kubectl_binary,
    op_cp,
    op_exec_tty_resize,
    op_port_forward,
    run,
)
from tests.harness.proxy import cluster_base, eventually, running_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN

pytestmark = pytest.mark.kubectl


@pytest.fixture
def served(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Any
) -> Callable[..., ServerThread]:
    def make(**changes: Any) -> ServerThread:
        # No launch token: kubectl sends no bearer over plain http (the TLS port's
        # kubeconfig is the matrix's business); the cluster's token must stay out anyway.
        return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None), **changes)

    return make


def spdy_env(folder: Path) -> dict[str, str]:
    return {**kubectl_env(folder), "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}


def spdy_target(kubectl: str, lantern: ServerThread, folder: Path, **env: str) -> Target:
    """The kubectl matrix's Target: kubectl through kubelantern, told to use SPDY."""
    server = cluster_base(lantern, "kubernetes")
    args = tuple(kubectl_command(kubectl, server, folder)[1:])
    return Target(args, {**spdy_env(folder), **env}, folder)


def casts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.cast"))


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    # Lines end at \n only: str.splitlines would also split at U+0085, U+2028, ... which
    # JSON strings may hold raw (binary output, as kubectl cp's tar).
    lines = path.read_text().split("\n")[:-1]
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def one_closed_cast(root: Path, last: str = '"m"') -> Path:
    def ready() -> bool:
        found = casts(root)
        return len(found) == 1 and last in found[0].read_text().splitlines()[-1]

    asyncio.run(eventually(ready, limit=30))
    return casts(root)[0]


def tunnelled(lantern: ServerThread) -> int:
    """Bytes the SPDY tunnel carried back to clients (proof kubectl did not use WebSocket)."""
    req = urllib.request.Request(f"{lantern.url}/metrics")
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    return sum(
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kubelantern_tunnel_bytes_total{") and 'direction="down"' in line
    )


def went_through_the_tunnel(lantern: ServerThread) -> None:
    """The tunnel counts its bytes when it ends, a moment after kubectl did: wait for it."""
    asyncio.run(eventually(lambda: tunnelled(lantern) > 0, limit=30))


@dataclass(frozen=True)
class Recording:
    path: Path
    header: dict[str, Any]
    events: list[list[Any]]

    def text(self, code: str) -> str:
        """Everything of one event code ("o" output, "i" input, "r" resize) joined."""
        return "".join(e[2] for e in self.events if e[1] == code)


def the_recording(lantern: ServerThread, root: Path, last: str = '"m"') -> Recording:
    """What every recorded session must show once it ended: it went through the SPDY tunnel
    (not WebSocket), exactly one cast was closed, and no token is inside it."""
    went_through_the_tunnel(lantern)
    path = one_closed_cast(root, last)
    assert KUBE_TOKEN not in path.read_text()
    return Recording(path, *read_cast(path))


def test_kubectl_exec_tty_over_spdy_is_recorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    target = spdy_target(kubectl, lantern, tmp_path)
    pods = find_pods(kubectl, target)
    ns, pod, container = pods.namespace, pods.pod, pods.container
    # The matrix's terminal (size 100x30, resize to 132x40, exit 5), with a line typed whose
    # output differs from its echo.
    op_exec_tty_resize(
        kubectl, target, pods, typed=((b"echo typed-'in'-quotes\n", b"typed-in-quotes"),), limit=60
    )
    rec = the_recording(lantern, root)
    path = rec.path
    assert path.parent.parent.parent == root and path.parent.parent.name == "kind-dev"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    header, events = rec.header, rec.events
    assert header["version"] == 2 and isinstance(header["timestamp"], int)
    assert (header["width"], header["height"]) == (100, 30)
    assert header["kubelantern"] == {
        "cluster": "kind-dev",
        "namespace": ns,
        "pod": pod,
        "container": container,
        "command": ["sh"],
        "user": "local",
        "client": "127.0.0.1",
        "kind": "exec",
        "tty": True,
    }
    output = rec.text("o")
    assert "typed-in-quotes" in output and "40 132" in output
    sizes = [e[2] for e in events if e[1] == "r"]
    assert sizes[0] == "100x30" and sizes[-1] == "132x40"
    assert rec.text("i") == ""  # typed, but input only with --record-input
    assert events[-1][1:] == ["m", "exit 5"]
    times = [e[0] for e in events]
    assert times == sorted(times)


@pytest.mark.parametrize("minor", ["default", "1.27"])
def test_kubectl_exec_stdin_over_spdy_records_input_when_asked(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path, minor: str
) -> None:
    # kubectl 1.27 speaks SPDY without being told (and offers v4 at most).
    kubectl = kubectl if minor == "default" else kubectl_binary(minor)
    root = tmp_path / "rec"
    lantern = served(record_sessions=root, record_input=True)
    ns, pod, container = running_pod(lantern, "kubernetes")
    command = ["sh", "-c", "cat; echo to-stderr >&2; exit 0"]
    done = run(
        kubectl,
        spdy_target(kubectl, lantern, tmp_path),
        *("exec", "-i", "-n", ns, pod, "-c", container, "--", *command),
        stdin=b"line one\nline two\n",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()[:3000]
    assert done.stdout == b"line one\nline two\n"
    rec = the_recording(lantern, root)
    assert rec.header["kubelantern"]["command"] == command
    assert rec.header["kubelantern"]["tty"] is False
    assert (rec.header["width"], rec.header["height"]) == (80, 24)  # no tty: no size was sent
    assert rec.text("i") == "line one\nline two\n"
    output = rec.text("o")
    assert "line one\nline two\n" in output and "to-stderr\n" in output
    assert rec.events[-1][1:] == ["m", "exit 0"]


def test_kubectl_attach_over_spdy_is_recorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    target = spdy_target(kubectl, lantern, tmp_path)
    ns, pod, container = running_pod(lantern, "kubernetes")
    proc = _start(kubectl, target, "attach", "-i", "-n", ns, pod, "-c", container)
    assert proc.stdin is not None
    try:
        _line_with(proc, b"main process tick", within=60)
        proc.stdin.write(b"hello attach\n")
        proc.stdin.flush()
        _line_with(proc, b"got: hello attach", within=60)
        # Written while the session runs (a crash loses at most a second).
        asyncio.run(
            eventually(
                lambda: bool(casts(root)) and "got: hello attach" in casts(root)[0].read_text(),
                limit=30,
            )
        )
    finally:
        _stop(proc)
    rec = the_recording(lantern, root, last="")
    meta = rec.header["kubelantern"]
    assert (meta["kind"], meta["pod"], meta["command"]) == ("attach", pod, [])
    assert "got: hello attach" in rec.text("o")
    assert rec.text("i") == ""


def test_port_forward_with_recording_on_is_spliced_unrecorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    """Only a pod's exec/attach is watched: a SPDY port-forward keeps the plain splice."""
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    target = spdy_target(kubectl, lantern, tmp_path, KUBECTL_PORT_FORWARD_WEBSOCKETS="false")
    op_port_forward(kubectl, target, find_pods(kubectl, target))
    went_through_the_tunnel(lantern)
    assert casts(root) == []


def test_kubectl_cp_through_a_recorded_tunnel_round_trips(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    """cp is an exec of tar: recorded (binary output and all), and its bytes pass unchanged."""
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    target = spdy_target(kubectl, lantern, tmp_path)
    op_cp(kubectl, target, find_pods(kubectl, target))  # 200 KB up, back, compared
    went_through_the_tunnel(lantern)
    asyncio.run(eventually(lambda: len(casts(root)) >= 2, limit=30))
    commands = [read_cast(p)[0]["kubelantern"]["command"] for p in casts(root)]
    assert sum(c[:1] == ["tar"] for c in commands) == 2, commands
