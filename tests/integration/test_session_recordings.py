"""Exec/attach sessions on the record (issue 10 §2): `--record-sessions DIR [--record-input]`
over real sockets — the files (asciicast v2), their modes, what is in them and what never
is, a failing DIR, and `/api/recordings` (list, filters, file, traversal refused)."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.kubectl import run_kubectl
from tests.harness.proxy import V5, cluster_base, eventually, exec_path, find_pod, running_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN

LAUNCH = "launch-token-must-never-be-recorded-0123456789"
TOKEN_HEADERS = {"X-Kubelantern-Token": LAUNCH}


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession(headers=TOKEN_HEADERS) as s:
        yield s


@pytest.fixture
def served(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Any
) -> Callable[..., ServerThread]:
    def make(**changes: Any) -> ServerThread:
        return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=LAUNCH), **changes)

    return make


def casts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.cast"))


def events(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


async def drive(ws: aiohttp.ClientWebSocketResponse, *sends: bytes) -> int | None:
    for data in sends:
        await ws.send_bytes(data)
    async with asyncio.timeout(30):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.CLOSE:
                return int(msg.data)
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return None


async def test_exec_is_recorded_as_asciicast(
    served: Callable[..., ServerThread], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    command = ["sh", "-c", "head -n 1; exit 3"]
    url = base + exec_path(ns, pod, container, command, stdin=True)
    bearer = f"base64url.bearer.authorization.k8s.io.{_b64(KUBE_TOKEN)}"
    async with http.ws_connect(url, protocols=(V5, bearer)) as ws:
        code = await drive(
            ws,
            b'\x04{"Width":100,"Height":30}',
            b"\x00typed-secret\n",
            b'\x04{"Width":120,"Height":40}',
        )
    assert code == 1000
    await eventually(lambda: len(casts(root)) == 1 and _closed(casts(root)[0]))
    [path] = casts(root)
    # DIR/<cluster>/<day>/<file>: 0600 in 0700 folders.
    assert path.parent.parent.parent == root
    assert path.parent.parent.name == "kind-dev"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    header, evs = events(path)
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (100, 30)
    assert isinstance(header["timestamp"], int)
    assert header["kubelantern"] == {
        "cluster": "kind-dev",
        "namespace": ns,
        "pod": pod,
        "container": container,
        "command": command,
        "user": "local",
        "client": "127.0.0.1",
        "kind": "exec",
        "tty": False,
    }
    output = "".join(e[2] for e in evs if e[1] == "o")
    assert "typed-secret\n" in output  # what the process printed, not what was typed
    assert [e[2] for e in evs if e[1] == "r"] == ["100x30", "120x40"]
    assert not [e for e in evs if e[1] == "i"]  # input only with --record-input
    assert evs[-1][1:] == ["m", "exit 3"]
    times = [e[0] for e in evs]
    assert times == sorted(times)
    text = path.read_text()
    for secret in (LAUNCH, KUBE_TOKEN, _b64(KUBE_TOKEN)):
        assert secret not in text


def _b64(token: str) -> str:
    import base64

    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _closed(path: Path) -> bool:
    lines = path.read_text().splitlines()
    return bool(lines) and '"m"' in lines[-1]


async def test_input_is_recorded_only_when_asked_and_written_while_running(
    served: Callable[..., ServerThread], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root, record_input=True)
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["cat"], stdin=True)
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        await ws.send_bytes(b"\x00first line\n")
        # Still running: the file has it within about a second (a crash loses at most that).
        await eventually(lambda: bool(casts(root)) and "first line" in casts(root)[0].read_text())
        code = await drive(ws, b"\xff\x00")
    assert code == 1000
    await eventually(lambda: _closed(casts(root)[0]))
    _, evs = events(casts(root)[0])
    assert [e[2] for e in evs if e[1] == "i"] == ["first line\n"]
    assert "first line\n" in "".join(e[2] for e in evs if e[1] == "o")
    assert evs[-1][1:] == ["m", "exit 0"]


async def test_unwritable_dir_session_goes_on_and_is_counted(
    served: Callable[..., ServerThread], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    lantern = served(record_sessions=blocker / "rec")
    base = cluster_base(lantern, "kubernetes")
    ns, pod, container = await find_pod(http, base)
    url = base + exec_path(ns, pod, container, ["echo", "still works"])
    out = b""
    async with http.ws_connect(url, protocols=(V5,)) as ws:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY and msg.data[:1] == b"\x01":
                out += msg.data[1:]
    assert out == b"still works\n"
    async with http.get(f"{lantern.url}/metrics") as resp:
        text = await resp.text()
    assert 'kubelantern_recording_failures_total{cluster="kind-dev"} 1' in text
    async with http.get(f"{lantern.url}/api/recordings") as resp:
        body = await resp.json()
    assert body["enabled"] is True and body["failures"] == 1
    assert "Not a directory" in body["lastError"]
    async with http.get(f"{lantern.url}/api/recordings/status") as resp:
        status = await resp.json()
    assert status["failures"] == 1 and "items" not in status
    assert "Not a directory" in status["lastError"]
    async with http.get(f"{lantern.url}/api/config") as resp:
        assert (await resp.json())["features"]["recordings"] is True


@pytest.mark.kubectl
def test_kubectl_exec_is_recorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root, launch_token=None)
    ns, pod, container = running_pod(lantern, "kubernetes")
    done = run_kubectl(
        kubectl,
        cluster_base(lantern, "kubernetes"),
        tmp_path,
        "exec",
        "-n",
        ns,
        pod,
        "-c",
        container,
        "--",
        "echo",
        "from kubectl",
    )
    assert done.returncode == 0, done.stderr
    asyncio.run(eventually(lambda: len(casts(root)) == 1 and _closed(casts(root)[0])))
    header, evs = events(casts(root)[0])
    assert header["kubelantern"]["command"] == ["echo", "from kubectl"]
    assert "from kubectl" in "".join(e[2] for e in evs if e[1] == "o")
    assert evs[-1][1:] == ["m", "exit 0"]


async def test_recordings_api_lists_filters_serves_and_refuses_traversal(
    served: Callable[..., ServerThread], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    (tmp_path / "secret.cast").write_text("outside")
    lantern = served(record_sessions=root)
    for profile in ("kubernetes", "legacy"):
        base = cluster_base(lantern, profile)
        ns, pod, container = await find_pod(http, base)
        async with http.ws_connect(
            base + exec_path(ns, pod, container, ["echo", profile]),
            protocols=(V5, "v4.channel.k8s.io"),
        ) as ws:
            await drive(ws)
    await eventually(lambda: len(casts(root)) == 2 and all(_closed(p) for p in casts(root)))
    api = f"{lantern.url}/api/recordings"
    async with http.get(api) as resp:
        listing = await resp.json()
    assert {i["cluster"] for i in listing["items"]} == {"kind-dev", "legacy@old"}
    assert all(i["exit"] == 0 and i["user"] == "local" for i in listing["items"])
    async with http.get(api, params={"cluster": "legacy@old"}) as resp:
        [only] = (await resp.json())["items"]
    day = only["day"]
    async with http.get(api, params={"day": day, "user": "local"}) as resp:
        assert len((await resp.json())["items"]) == 2
    async with http.get(api, params={"day": "1999-01-01"}) as resp:
        assert (await resp.json())["items"] == []
    async with http.get(f"{api}/file", params={"path": only["path"]}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/x-asciicast")
        assert json.loads((await resp.text()).splitlines()[0])["version"] == 2
    for bad in (
        "../secret.cast",
        f"legacy%40old/{day}/../../../secret.cast",
        "/etc/passwd",
        f"../{day}/x.cast",
        f"legacy%40old/../{Path(only['path']).name}",
        only["path"].replace(".cast", ".txt"),
    ):
        async with http.get(f"{api}/file?path={quote(bad, safe='')}") as resp:
            assert resp.status == 404, bad
    async with aiohttp.ClientSession() as stranger:  # no launch token
        async with stranger.get(api) as resp:
            assert resp.status == 401
        async with stranger.get(f"{api}/file", params={"path": only["path"]}) as resp:
            assert resp.status == 401
