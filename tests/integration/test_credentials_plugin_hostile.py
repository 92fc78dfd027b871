"""Issue 10 defect 6: exec plugins that hang with a child holding their pipes, print without
end, or fail with secrets on stderr. Real plugin processes; the last test drives a real
`kubelantern serve` process and its /api/clusters and error bodies."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from kubelantern.clusters.credentials import CredentialError, Credentials
from kubelantern.clusters.spec import AuthSpec, ClusterSpec, ExecSpec
from tests.harness.serveproc import ServeProcess

PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "exec_plugin.py"
V1 = "client.authentication.k8s.io/v1"
SECRET = "sekrit-plugin-token-0123456789"
JWT_SIG = "c2lnbmF0dXJlLXNlY3JldA"


def plugin(tmp_path: Path, **env: str) -> ExecSpec:
    return ExecSpec(command=sys.executable, args=(str(PLUGIN),), env=tuple(env.items()))


def creds(ex: ExecSpec, timeout: float = 60.0) -> Credentials:
    return Credentials(
        ClusterSpec(name="prod", server="https://127.0.0.1:1", auth=AuthSpec(exec=ex)),
        exec_timeout=timeout,
    )


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a reaped-late zombie runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def test_a_hung_plugin_whose_child_holds_its_pipes_is_killed_in_time(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    ex = plugin(tmp_path, FAKE_PLUGIN_MODE="orphan", FAKE_PLUGIN_CHILD_PID_FILE=str(pid_file))
    started = time.monotonic()
    with pytest.raises(CredentialError, match=r"did not finish within 6 s") as e:
        async with asyncio.timeout(60):  # the bug: ~forever (the child keeps the pipes open)
            await creds(ex, timeout=6).token()
    took = time.monotonic() - started
    assert took < 6 + 10, f"error after {took:.1f} s"
    assert "killed" in str(e.value)
    child = int(pid_file.read_text())
    async with asyncio.timeout(10):
        while alive(child):  # noqa: ASYNC110 - another process's state
            await asyncio.sleep(0.05)
    assert not alive(child), f"the plugin's child {child} was left running"


async def test_a_plugin_that_exits_but_leaves_a_child_on_its_pipes_is_bounded(
    tmp_path: Path,
) -> None:
    """The plugin prints a valid credential and exits; its child keeps stdout open."""
    script = tmp_path / "plugin.sh"
    pid_file = tmp_path / "child.pid"
    script.write_text(
        "#!/bin/sh\n"
        f"sleep 1000 & echo $! > {pid_file}\n"
        f'echo \'{{"apiVersion":"{V1}","kind":"ExecCredential","status":{{"token":"t-1"}}}}\'\n'
    )
    script.chmod(0o755)
    started = time.monotonic()
    async with asyncio.timeout(60):
        token = await creds(ExecSpec(command=str(script)), timeout=20).token()
    assert token == "t-1"
    assert time.monotonic() - started < 15
    child = int(pid_file.read_text())
    async with asyncio.timeout(10):
        while alive(child):  # noqa: ASYNC110 - another process's state
            await asyncio.sleep(0.05)


async def test_a_plugin_failing_with_secrets_on_stderr_gives_one_redacted_line(
    tmp_path: Path,
) -> None:
    ex = plugin(tmp_path, FAKE_PLUGIN_MODE="fail-token")
    with pytest.raises(CredentialError) as e:
        await creds(ex).token()
    msg = str(e.value)
    assert "exited with code 1" in msg
    assert "rejected" in msg  # the first line, redacted
    assert SECRET not in msg
    assert "expired" not in msg and JWT_SIG not in msg  # the second line stays out
    assert "\n" not in msg


def kubeconfig(tmp_path: Path, env: dict[str, str]) -> Path:
    users = []
    contexts = []
    clusters = []
    modes = (("flood", "flood"), ("secret", "fail-token"), ("junk", "garbage"), ("hung", "orphan"))
    for name, mode in modes:
        clusters.append({"name": name, "cluster": {"server": "https://127.0.0.1:9"}})
        users.append(
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": V1,
                        "command": sys.executable,
                        "args": [str(PLUGIN)],
                        "env": [{"name": "FAKE_PLUGIN_MODE", "value": mode}]
                        + [{"name": k, "value": v} for k, v in env.items()],
                        "interactiveMode": "Never",
                    }
                },
            }
        )
        contexts.append({"name": name, "context": {"cluster": name, "user": name}})
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": clusters,
                "users": users,
                "contexts": contexts,
                "current-context": "junk",
            }
        )
    )
    return path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_hostile_plugins_through_a_server(tmp_path: Path) -> None:
    """200 MiB on stdout: a clear error, RSS bounded; secrets on stderr: not in any body."""
    pid_file = tmp_path / "child.pid"
    env = {"FAKE_PLUGIN_FLOOD_MIB": "200", "FAKE_PLUGIN_CHILD_PID_FILE": str(pid_file)}
    path = kubeconfig(tmp_path, env)
    args = ["--kubeconfig", str(path), "--no-token", "--exec-plugin-timeout", "6"]
    served = ServeProcess(args).start()
    try:
        before = rss_kib(served.pid)
        bodies: list[str] = []
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            for name in ("flood", "secret", "junk", "hung"):
                started = time.monotonic()
                async with http.get(f"{served.url}/clusters/{name}/api/v1/namespaces") as r:
                    body = await r.text()
                    bodies.append(body)
                    assert r.status >= 500, (name, r.status, body[:300])
                assert time.monotonic() - started < 6 + 10, name
            async with http.get(f"{served.url}/api/clusters") as r:
                bodies.append(await r.text())
        after = rss_kib(served.pid)
    finally:
        served.stop()
    flood, secret, junk, hung, listing = bodies
    assert "did not finish within 6 s" in hung, hung[:500]
    assert not alive(int(pid_file.read_text()))
    assert '"hung"' in listing  # the listing was fetched (secrets: checked below)
    assert "printed more than 1024 KiB" in flood, flood[:500]
    assert "printed invalid JSON" in junk, junk[:500]
    assert "rejected" in secret, secret[:500]
    for text in bodies:
        assert SECRET not in text and JWT_SIG not in text and "expired" not in text
        assert "xxxxxxxxxxxxxxxx" not in text
    # The bug: 200 MiB read into memory (RSS +864 MiB). Bounded: the 1 MiB cap and buffers.
    print(f"server RSS {before} KiB -> {after} KiB")
    assert after - before < 64 * 1024, f"RSS grew {before} KiB -> {after} KiB"
