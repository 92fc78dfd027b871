"""The edge under attack, byte for byte over a socket: foreign and oddly spelled `Host`
values (DNS rebinding), foreign and `null` Origins on writes and WebSocket upgrades, and
missing, wrong or case-varied launch tokens in the header, the cookie and the query."""

from __future__ import annotations

import base64
import os

import pytest

from kubelantern.proxy.headers import launch_cookie_name
from tests.harness.rawhttp import RawAnswer, raw_request
from tests.harness.serveproc import ServeProcess
from tests.integration.hostile.conftest import LAUNCH, assert_every_cluster_serves

TOKEN_LINE = f"X-Kubelantern-Token: {LAUNCH}\r\n"


async def send(served: ServeProcess, method: str, target: str, headers: str) -> RawAnswer:
    data = f"{method} {target} HTTP/1.1\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    return await raw_request("127.0.0.1", served.port, data.encode("latin-1"))


# -- Host ------------------------------------------------------------------------------

OURS = [
    "127.0.0.1",
    "127.0.0.1:{port}",
    "localhost",
    "LOCALHOST:{port}",
    "LocalHost",
    "localhost.",
    "localhost.:{port}",
    "[::1]",
    "[::1]:{port}",
    "127.0.0.1:1",
    "127.0.0.1:",
]  # fmt: skip  (RFC 3986: an empty port is the default one)
FOREIGN_HOSTS = [
    "evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example",
    "127.0.0.1.nip.io:{port}", "127.1", "127.1:{port}", "2130706433", "0x7f000001",
    "0177.0.0.1", "017700000001", "[::ffff:127.0.0.1]", "[0:0:0:0:0:0:0:1]:{port}",
    "[::1", "::1", "[::1]x", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:ab",
    "127.0.0.1:{port}:{port}", "user@127.0.0.1", "127.0.0.1/x", "127.0.0.1\\x",
    "127.0.0.1?x", "127.0.0.1#x", "127.0.0.1 evil.example", "", "localhost%00.evil.example",
    "xn--lcalhost-5za", "0.0.0.0", "10.0.0.1",
]  # fmt: skip


@pytest.mark.parametrize("host", OURS)
async def test_our_host_spellings_pass(served: ServeProcess, host: str) -> None:
    host = host.format(port=served.port)
    answer = await send(served, "GET", "/api/config", f"Host: {host}\r\n{TOKEN_LINE}")
    assert answer.status == 200, (host, answer.body[:300])


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
async def test_foreign_host_spellings_get_403_even_with_the_token(
    served: ServeProcess, host: str
) -> None:
    host = host.format(port=served.port)
    for target in ("/api/config", "/clusters/kind-dev/api/v1/namespaces", "/healthz", "/"):
        answer = await send(served, "GET", target, f"Host: {host}\r\n{TOKEN_LINE}")
        assert answer.status in (400, 403), (host, target, answer.status, answer.body[:300])
        if answer.status == 403:
            assert b"DNS rebinding" in answer.body, answer.body[:300]


async def test_no_host_and_two_hosts_are_refused(served: ServeProcess) -> None:
    # HTTP/1.0 may leave Host out: still no way in without a Host of ours.
    data = f"GET /api/config HTTP/1.0\r\n{TOKEN_LINE}\r\n".encode()
    answer = await raw_request("127.0.0.1", served.port, data, read_all=True)
    assert answer.status == 403, answer.raw[:300]
    for hosts in (("127.0.0.1", "evil.example"), ("evil.example", "127.0.0.1")):
        lines = "".join(f"Host: {h}\r\n" for h in hosts)
        answer = await send(served, "GET", "/api/config", lines + TOKEN_LINE)
        assert answer.status == 400, (hosts, answer.raw[:300])
    # An absolute-form target naming another host does not change whose Host is checked.
    answer = await send(
        served, "GET", "http://evil.example/api/config", f"Host: evil.example\r\n{TOKEN_LINE}"
    )
    assert answer.status in (400, 403), answer.raw[:300]


# -- Origin ----------------------------------------------------------------------------

FOREIGN_ORIGINS = [
    "null", "https://evil.example", "http://evil.example:{port}", "http://127.0.0.1",
    "http://127.0.0.1:1", "http://127.0.0.1:{port}.evil.example", "https://127.0.0.1:{port}x",
    "http://localhost:{port}", "file://", "chrome-extension://abcdef", "", " ",
    "http://127.0.0.1:{port}@evil.example", "http://evil.example#@127.0.0.1:{port}",
    "ws://evil.example", "http://[::1]:{port}", "*",
]  # fmt: skip
SAME = ["http://127.0.0.1:{port}", "HTTP://127.0.0.1:{port}", "http://127.0.0.1:{port}/"]


def ws_upgrade_headers() -> str:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
    )


EXEC = "/clusters/kind-dev/api/v1/namespaces/default/pods/nope/exec?command=sh&stdout=true"


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
async def test_foreign_origins_cannot_write_or_open_a_websocket(
    served: ServeProcess, origin: str
) -> None:
    origin = origin.format(port=served.port)
    base = f"Host: 127.0.0.1:{served.port}\r\n{TOKEN_LINE}Origin: {origin}\r\n"
    for method, target, extra in (
        ("POST", "/clusters/kind-dev/api/v1/namespaces/default/configmaps", ""),
        ("DELETE", "/clusters/kind-dev/api/v1/namespaces/default/pods/x", ""),
        ("POST", "/api/clusters/kind-dev/logout", ""),
        ("GET", EXEC, ws_upgrade_headers()),
    ):
        answer = await send(served, method, target, base + extra)
        assert answer.status == 403, (origin, method, target, answer.status, answer.body[:300])
        assert b"is not allowed" in answer.body


@pytest.mark.parametrize("origin", SAME)
async def test_our_own_origin_may_write(served: ServeProcess, origin: str) -> None:
    origin = origin.format(port=served.port)
    base = f"Host: 127.0.0.1:{served.port}\r\n{TOKEN_LINE}Origin: {origin}\r\n"
    answer = await send(served, "POST", "/api/clusters/kind-dev/logout", base)
    assert answer.status == 200, (origin, answer.body[:300])


# -- launch token ----------------------------------------------------------------------

COOKIE = launch_cookie_name(LAUNCH)


def token_variants() -> dict[str, tuple[str, str]]:
    """name → (query suffix, header lines) that must not get in."""
    half = LAUNCH[: len(LAUNCH) // 2]
    b64 = base64.b64encode(LAUNCH.encode()).decode()
    return {
        "nothing": ("", ""),
        "header upper-cased": ("", f"X-Kubelantern-Token: {LAUNCH.upper()}\r\n"),
        "header lower-cased": ("", f"X-Kubelantern-Token: {LAUNCH.lower()}\r\n"),
        "header prefix": ("", f"X-Kubelantern-Token: {half}\r\n"),
        "header with more": ("", f"X-Kubelantern-Token: {LAUNCH}x\r\n"),
        "header empty": ("", "X-Kubelantern-Token: \r\n"),
        "header base64": ("", f"X-Kubelantern-Token: {b64}\r\n"),
        "wrong header beats a right bearer": (
            "", f"X-Kubelantern-Token: nope\r\nAuthorization: Bearer {LAUNCH}\r\n"
        ),
        "basic auth": (
            "", f"Authorization: Basic {base64.b64encode(f'x:{LAUNCH}'.encode()).decode()}\r\n"
        ),
        "bearer upper-cased": ("", f"Authorization: Bearer {LAUNCH.upper()}\r\n"),
        "other scheme": ("", f"Authorization: Token {LAUNCH}\r\n"),
        "cookie holds the raw token": ("", f"Cookie: {COOKIE}={LAUNCH}\r\n"),
        "cookie wrong value": ("", f"Cookie: {COOKIE}=AAAA\r\n"),
        "cookie name upper-cased": ("", f"Cookie: {COOKIE.upper()}={LAUNCH}\r\n"),
        "cookie of another instance": ("", f"Cookie: kl-launch-000000000000={LAUNCH}\r\n"),
        "query upper-cased name": (f"?TOKEN={LAUNCH}", ""),
        "query access_token": (f"?access_token={LAUNCH}", ""),
    }  # fmt: skip


@pytest.mark.parametrize("variant", list(token_variants()))
async def test_missing_wrong_and_case_varied_tokens_get_401(
    served: ServeProcess, variant: str
) -> None:
    query, lines = token_variants()[variant]
    for target in ("/api/config", "/clusters/kind-dev/api/v1/namespaces", "/metrics"):
        answer = await send(served, "GET", target + query, f"Host: 127.0.0.1\r\n{lines}")
        assert answer.status == 401, (variant, target, answer.status, answer.body[:300])
        assert LAUNCH not in answer.raw.decode("latin-1")


async def test_query_token_case_and_garbage_get_401_never_a_cookie(served: ServeProcess) -> None:
    for query in (LAUNCH.upper(), LAUNCH[:-1], LAUNCH + "x", "", f"{LAUNCH}%00", "%FF%FE"):
        answer = await send(served, "GET", f"/?token={query}", "Host: 127.0.0.1\r\n")
        assert answer.status == 401, (query, answer.raw[:300])
        assert answer.header("Set-Cookie") is None


async def test_after_the_edge_barrage_every_cluster_serves(served: ServeProcess) -> None:
    await assert_every_cluster_serves(served)
