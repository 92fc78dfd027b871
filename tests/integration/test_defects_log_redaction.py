"""Issue 10 defect 5: no token reaches stderr, whoever logs it: aiohttp's parser errors
(bad header lines, too-long URLs and headers), its WebSocket protocol warnings, ours."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import aiohttp
import pytest

from kubelantern.observe.logfilter import spellings
from kubelantern.proxy.subprotocols import encode_bearer
from tests.harness.proxy import exec_path, find_pod, upgrade_headers
from tests.harness.rawhttp import raw_request
from tests.harness.serveproc import ServeProcess

LAUNCH = "launchSECRET-" + "k" * 30
OTHER = "clusterSECRET-" + "z" * 30  # a cluster token a client sends; unknown to us


@pytest.fixture
def served() -> Iterator[ServeProcess]:
    proc = ServeProcess(["--demo", "--token", LAUNCH, "--log-level", "debug"]).start()
    yield proc
    proc.stop()


def bad_requests() -> list[str]:
    h = "Host: 127.0.0.1\r\n"
    return [
        f"GET / HTTP/1.1\r\n{h}X-Kubelantern-Token: {LAUNCH}\x01\r\n\r\n",
        f"GET / HTTP/1.1\r\n{h}Authorization: Bearer {OTHER}\x01\r\n\r\n",
        f"GET / HTTP/1.1\r\n{h}authorization:bearer {OTHER}\r\nBad Header\r\n\r\n",
        f"GET /?token={LAUNCH}{'A' * 9000} HTTP/1.1\r\n{h}\r\n",
        f"GET /?x=1&access_token={OTHER}{'A' * 9000} HTTP/1.1\r\n{h}\r\n",
        f"GET / HTTP/1.1\r\n{h}Authorization: Bearer {OTHER}{'B' * 9000}\r\n\r\n",
        f"GET / HTTP/1.1\r\n{h}Cookie: kl-launch-x={LAUNCH}{'C' * 9000}\r\n\r\n",
        f"GET /x\x00{LAUNCH} HTTP/1.1\r\n{h}\r\n",
        f"GET / HTTP/1.1\r\n{h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
        f"X-Kubelantern-Token: {LAUNCH}\r\n\r\n",
    ]


async def test_no_token_in_stderr_whoever_logs_it(served: ServeProcess) -> None:
    for request in bad_requests():
        answer = await raw_request("127.0.0.1", served.port, request.encode("latin-1"))
        assert answer.status == 400, answer.raw[:200]
    base = f"{served.url}/clusters/demo-kubernetes"
    proof = {"X-Kubelantern-Token": LAUNCH}
    async with aiohttp.ClientSession() as http:
        ns, pod, container = await find_pod(http, base, headers=proof)
        url = base + exec_path(ns, pod, container, ["echo", "hi"])
        # Only the bearer entry offered: aiohttp warns that the protocols do not overlap.
        for token in (OTHER, LAUNCH):
            headers = upgrade_headers(encode_bearer(token), proof)
            async with http.get(url, headers=headers) as r:
                await r.read()
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await http.ws_connect(url, protocols=("nope.k8s.io", encode_bearer(token)))
        async with http.get(f"{served.url}/?token={LAUNCH}", allow_redirects=False) as r:
            assert r.status == 302
    await asyncio.sleep(0.5)
    assert served.stop() == 0
    stderr = served.stderr.decode("utf-8", "replace")
    # the test saw the records it is about (it cannot pass on an empty log)
    assert stderr.count("Error handling request") >= len(bad_requests()) - 1, stderr[-3000:]
    assert "REDACTED" in stderr
    assert "overlap" in stderr, "the WebSocket protocol warning was not provoked"
    for secret in (LAUNCH, OTHER):
        for form in spellings(secret):
            assert form not in stderr, f"{form[:12]}… in stderr"
    assert base64.b64encode(LAUNCH.encode()).decode()[:20] not in stderr
