"""Issue 10 §3 "Secrets": a mixed workload through one real `kubelantern serve`, then a
search of EVERYTHING it emitted for every credential the workload used, in every spelling
(as is, base64 standard/URL-safe, padded or not, percent-encoded).

Workload: the launch token by URL (→ cookie), header and kubectl's bearer; lists and a log
on kubeconfig-token, exec-plugin and Rancher clusters; a failing plugin that prints
credentials on stderr; a per-cluster login with a user token, then requests on its cookie;
exec over WebSocket with the browser's bearer subprotocol and a session entry (recorded);
kubectl get and exec through the proxy; /metrics.

Searched: the server's stdout and stderr, every status line, header and body the test
received (kubectl's output included), /metrics, and every recording file. Allowed exactly
where they are meant to be: the launch URL on stdout, and each cookie's value in the one
Set-Cookie that hands it out.
"""

from __future__ import annotations

import asyncio
import base64
import secrets as random_secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from kubelantern.observe.logfilter import spellings
from kubelantern.proxy.subprotocols import SESSION_PREFIX, encode_bearer
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.proxy import V5, exec_path, find_pod, run_stream
from tests.harness.serveproc import ServeProcess
from tests.harness.stack import CONTEXT_NAMES, SimCluster

LAUNCH = "launchSWEEP-" + random_secrets.token_urlsafe(24)
MAIN_TOKEN = "mainSWEEP-" + random_secrets.token_urlsafe(24)  # the kubeconfig's token
USER_TOKEN = "userSWEEP-" + random_secrets.token_urlsafe(24)  # pasted at login, subprotocol
PLUGIN_PREFIX = "pluginSWEEP-" + random_secrets.token_urlsafe(16)  # the plugin prints <p>-<n>
FAILING_PLUGIN = ("sekrit-plugin-token-0123456789", "c2lnbmF0dXJlLXNlY3JldA")  # its stderr
RANCHER = CONTEXT_NAMES["rancher"]


def forms(secret: str) -> set[str]:
    return spellings(secret) | {quote(secret, safe=""), quote(secret)}


class Seen:
    """Everything the server sent the test, as text, plus the Set-Cookie values."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.cookies: list[str] = []  # values handed out by Set-Cookie

    def response(self, r: aiohttp.ClientResponse, body: bytes) -> None:
        self.parts.append(f"{r.status} {r.reason}")
        for name, value in r.headers.items():
            if name.lower() == "set-cookie":
                self.cookies.append(value.split(";", 1)[0].split("=", 1)[1])
                continue  # checked apart: the cookie's own value is allowed there
            self.parts.append(f"{name}: {value}")
        self.parts.append(body.decode("utf-8", "replace"))


async def fetch(
    http: aiohttp.ClientSession, seen: Seen, method: str, url: str, **kw: object
) -> tuple[int, bytes]:
    async with http.request(method, url, allow_redirects=False, **kw) as r:  # type: ignore[arg-type]
        body = await r.read()
        seen.response(r, body)
        return r.status, body


@pytest.mark.kubectl
async def test_no_credential_in_anything_the_server_emitted(
    sim_factory: object,
    sims: dict[str, SimCluster],
    kubectl: str,
    tmp_path: Path,
) -> None:
    plugin_tokens = {f"{PLUGIN_PREFIX}-{n}": "admin" for n in range(1, 20)}
    sim = sim_factory(  # type: ignore[operator]
        "kubernetes", tokens={MAIN_TOKEN: "admin", USER_TOKEN: "alice", **plugin_tokens}
    )
    server, ca = sim.context.server, sim.context.ca_pem
    plugin_env = {"FAKE_PLUGIN_TOKEN": PLUGIN_PREFIX, "FAKE_PLUGIN_COUNT_FILE": str(tmp_path / "n")}
    config = write_kubeconfig(
        tmp_path / "config",
        [
            Context("main", server, ca, MAIN_TOKEN),
            Context("plugged", server, ca, user={"exec": fake_plugin_exec(plugin_env)}),
            Context(
                "broken",
                server,
                ca,
                user={"exec": fake_plugin_exec({"FAKE_PLUGIN_MODE": "fail-token"})},
            ),
            Context("needs-login", server, ca),  # no credentials: the user logs in
            sims["rancher"].context,
        ],
    )
    recordings = tmp_path / "recordings"
    served = ServeProcess(
        [
            "--kubeconfig", str(config), "--token", LAUNCH, "--record-sessions",
            str(recordings), "--log-level", "debug", "--tls-port", "0",
        ],
        env={"KUBELANTERN_CONFIG_DIR": str(tmp_path / "config-dir")},
    ).start()  # fmt: skip
    seen = Seen()
    kubectl_out: list[str] = []
    try:
        await workload(served, seen)
        kubectl_out = await asyncio.to_thread(kubectl_workload, served, kubectl, tmp_path)
        async with aiohttp.ClientSession() as http:
            status, metrics = await fetch(
                http, seen, "GET", f"{served.url}/metrics", headers={"X-Kubelantern-Token": LAUNCH}
            )
            assert status == 200 and b"kubelantern_" in metrics
    finally:
        assert served.stop() == 0
    casts = sorted(recordings.rglob("*.cast"))
    # WS + kubectl's WebSocket exec (SPDY sessions are recorded once proxy/upgrade does)
    assert len(casts) >= 2, f"the exec sessions were not recorded: {casts}"
    stdout = "".join(served.stdout_lines)
    launch_lines = [line for line in stdout.splitlines() if "?token=" in line]
    assert len(launch_lines) == 1, launch_lines  # the one URL printed for the user
    emitted = {
        "stdout": "\n".join(line for line in stdout.splitlines() if line not in launch_lines),
        "stderr": served.stderr.decode("utf-8", "replace"),
        "responses": "\n".join(seen.parts),
        "kubectl": "\n".join(kubectl_out),
        **{f"recording {p.name}": p.read_text(errors="replace") for p in casts},
    }
    # The sweep saw real traffic (it cannot pass on empty output).
    assert "method=GET" in emitted["stderr"] and "/exec" in emitted["stderr"]
    assert "hello-sweep" in "".join(p.read_text() for p in casts)
    assert "rejected" in emitted["responses"]  # the failing plugin's error came back
    credentials = [LAUNCH, MAIN_TOKEN, USER_TOKEN, *plugin_tokens, *FAILING_PLUGIN]
    credentials += [sims["rancher"].context.token or ""]
    # The keys of the TLS listener kubectl used: no line of their PEM bodies anywhere.
    keys = sorted((tmp_path / "config-dir").glob("*.key"))
    assert keys, "the TLS listener made no key (the check would be empty)"
    for key in keys:
        credentials += [
            line for line in key.read_text().splitlines() if line and not line.startswith("-----")
        ]
    for where, text in emitted.items():
        for secret in credentials:
            for form in forms(secret):
                assert form not in text, f"{secret[:14]}… ({form[:20]}…) in {where}"
        for cookie in seen.cookies:  # a cookie's value is a credential too
            assert cookie not in text, f"cookie value {cookie[:12]}… in {where}"
    assert len(seen.cookies) >= 2, seen.cookies  # the launch cookie and the login cookie


async def workload(served: ServeProcess, seen: Seen) -> None:
    base = served.url
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        # The printed URL: token → cookie; from then on the cookie carries it.
        status, _ = await fetch(http, seen, "GET", f"{base}/?token={LAUNCH}")
        assert status == 302
        status, _ = await fetch(http, seen, "GET", f"{base}/api/clusters")
        assert status == 200
        for name in ("main", "plugged", quote(RANCHER, safe="")):
            status, body = await fetch(
                http, seen, "GET", f"{base}/clusters/{name}/api/v1/namespaces"
            )
            assert status == 200, (name, body[:300])
        status, body = await fetch(http, seen, "GET", f"{base}/clusters/broken/api/v1/namespaces")
        assert status >= 500, body[:300]
        # A log and an exec on the kubeconfig's token.
        ns, pod, container = await find_pod(http, f"{base}/clusters/main")
        log_url = (
            f"{base}/clusters/main/api/v1/namespaces/{ns}/pods/{pod}/log?container={container}"
        )
        status, _ = await fetch(http, seen, "GET", log_url)
        assert status == 200
        # Per-cluster login with the user's token, then requests on the login cookie.
        status, body = await fetch(
            http, seen, "POST", f"{base}/api/clusters/needs-login/login",
            json={"token": USER_TOKEN}, headers={"Origin": base},
        )  # fmt: skip
        assert status == 200, body[:300]
        status, body = await fetch(http, seen, "GET", f"{base}/clusters/needs-login/api/v1/pods")
        assert status == 200, body[:300]
        # Exec over WebSocket as a browser does: bearer subprotocol + a session entry.
        url = f"{base}/clusters/main" + exec_path(ns, pod, container, ["echo", "hello-sweep"])
        offer = (V5, encode_bearer(USER_TOKEN), SESSION_PREFIX + random_secrets.token_hex(12))
        async with http.ws_connect(url, protocols=offer, headers={"Origin": base}) as ws:
            seen.parts.append(f"101 protocol={ws.protocol}")
            seen.parts.extend(f"{k}: {v}" for k, v in ws._response.headers.items())
            got = await run_stream(ws)
        seen.parts.append(got.stdout.decode("utf-8", "replace"))
        assert b"hello-sweep" in got.stdout
        # The header form of the launch token, and a wrong token (its 401 body).
        status, _ = await fetch(
            http, seen, "GET", f"{base}/api/config", headers={"X-Kubelantern-Token": LAUNCH}
        )
        assert status == 200
    async with aiohttp.ClientSession() as bare:
        status, _ = await fetch(
            bare, seen, "GET", f"{base}/clusters/main/api/v1/pods",
            headers={"Authorization": f"Bearer {MAIN_TOKEN}x"},
        )  # fmt: skip
        assert status == 401


def kubectl_workload(served: ServeProcess, kubectl: str, folder: Path) -> list[str]:
    """kubectl over the TLS listener with the kubeconfig `kubelantern kubeconfig` writes
    (kubectl sends no bearer token over plain http)."""
    written = folder / "kubectl-config"
    env = {**served.env, "KUBELANTERN_CONFIG_DIR": str(folder / "config-dir")}
    done = subprocess.run(
        [sys.executable, "-m", "kubelantern", "kubeconfig", "-o", str(written)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = [done.stdout, done.stderr]

    def run(*args: str, spdy: bool = False) -> subprocess.CompletedProcess[str]:
        extra = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"} if spdy else {}
        result = subprocess.run(
            [kubectl, "--kubeconfig", str(written), "--context", "main", *args],
            env={**env, "HOME": str(folder), **extra}, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        out.extend((result.stdout, result.stderr))
        assert result.returncode == 0, result.stderr
        return result

    pods = run("get", "pods", "-A", "--no-headers").stdout.split("\n")[0].split()
    for spdy in (False, True):  # WebSocket (kubectl's default), then the SPDY tunnel
        got = run("exec", "-n", pods[0], pods[1], "--", "echo", "hello-sweep-kubectl", spdy=spdy)
        assert "hello-sweep-kubectl" in got.stdout
    return out


def test_the_sweep_would_see_a_base64_token() -> None:
    """The forms searched include what a careless log line would hold."""
    token = "abc:def/ghi+jkl?"
    raw = token.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        assert encoded.decode().rstrip("=") in forms(token)
    assert quote(token, safe="") in forms(token)
