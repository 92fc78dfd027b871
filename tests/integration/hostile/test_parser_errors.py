"""Requests aiohttp's parser refuses: each gets a 400 that quotes nothing of the request
(aiohttp's own pages echoed the bad line, `Authorization: Bearer <token>` included) and
one error line in the log; request smuggling shapes are refused, not split."""

from __future__ import annotations

import pytest

from kubelantern.observe.logfilter import spellings
from tests.harness.rawhttp import raw_request
from tests.harness.serveproc import ServeProcess
from tests.integration.hostile.conftest import LAUNCH, assert_every_cluster_serves

SECRET = "clientSECRET-" + "s" * 32  # a cluster token a client sends
BEARER = f"Authorization: Bearer {SECRET}\r\n"
TOKEN = f"X-Kubelantern-Token: {LAUNCH}\r\n"
NS = "/clusters/kind-dev/api/v1/namespaces"


def req(line: str, headers: str = "", body: str = "", host: str = "Host: 127.0.0.1\r\n") -> str:
    return f"{line}\r\n{host}{TOKEN}{headers}\r\n{body}"


MALFORMED = {
    "control char in a bearer line": req("GET / HTTP/1.1", f"{BEARER[:-2]}\x01\r\n"),
    "control char in the launch token": req("GET / HTTP/1.1", f"{TOKEN[:-2]}\x7f\r\n"),
    "header line without a colon": req("GET / HTTP/1.1", f"{BEARER}Bad Header\r\n"),
    "long bearer header": req("GET / HTTP/1.1", f"{BEARER[:-2]}{'B' * 9000}\r\n"),
    "one 64 KiB header": req("GET / HTTP/1.1", f"X-Pad: {'p' * 65536}\r\n"),
    "2 MiB of header lines": req(
        "GET / HTTP/1.1", "".join(f"X-Pad-{i}: {'p' * 8000}\r\n" for i in range(256))
    ),
    "long token URL": req(f"GET /?token={LAUNCH}{'A' * 9000} HTTP/1.1"),
    "long cluster URL": req(f"GET {NS}?access_token={SECRET}{'x' * 70000} HTTP/1.1"),
    "NUL in the path": req("GET /clusters/kind-dev/api\x00 HTTP/1.1"),
    "space in the path": req("GET /clusters/kind dev/api HTTP/1.1"),
    "CL and TE": req(
        f"POST {NS} HTTP/1.1",
        f"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n{BEARER}",
        "0\r\n\r\n",
    ),
    "TE and CL": req(
        f"POST {NS} HTTP/1.1",
        f"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n{BEARER}",
        "0\r\n\r\n",
    ),
    "two different Content-Lengths": req(
        f"POST {NS} HTTP/1.1", f"Content-Length: 5\r\nContent-Length: 40\r\n{BEARER}", "hello"
    ),
    "two equal Content-Lengths": req(
        f"POST {NS} HTTP/1.1", f"Content-Length: 5\r\nContent-Length: 5\r\n{BEARER}", "hello"
    ),
    "Content-Length list": req(f"POST {NS} HTTP/1.1", f"Content-Length: 5, 5\r\n{BEARER}", "hello"),
    "Transfer-Encoding twice": req(
        f"POST {NS} HTTP/1.1",
        f"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n{BEARER}",
        "0\r\n\r\n",
    ),
    "unknown Transfer-Encoding": req(
        f"POST {NS} HTTP/1.1", f"Transfer-Encoding: xchunked\r\n{BEARER}", "0\r\n\r\n"
    ),
    "Content-Length with a sign": req(
        f"POST {NS} HTTP/1.1", f"Content-Length: +5\r\n{BEARER}", "hello"
    ),
    "TE not chunked last": req(
        f"POST {NS} HTTP/1.1", f"Transfer-Encoding: chunked, identity\r\n{BEARER}", "0\r\n\r\n"
    ),
    "TE with a space before the colon": req(
        f"POST {NS} HTTP/1.1", f"Transfer-Encoding : chunked\r\n{BEARER}", "0\r\n\r\n"
    ),
    "bad chunk size": req(f"POST {NS} HTTP/1.1", "Transfer-Encoding: chunked\r\n", "zz\r\n\r\n"),
    "two Host headers": req("GET /api/config HTTP/1.1", "Host: evil.example\r\n"),
    "obsolete line folding": req("GET / HTTP/1.1", f"Authorization: Bearer\r\n {SECRET}\r\n"),
    "bare LF line ends": f"GET / HTTP/1.1\nHost: 127.0.0.1\n{BEARER[:-2]}\n\n",
    "not HTTP": "HELLO WORLD\r\n\r\n",
    "HTTP/2 preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_request_gets_a_400_that_quotes_nothing(
    served: ServeProcess, name: str
) -> None:
    answer = await raw_request("127.0.0.1", served.port, MALFORMED[name].encode("latin-1"))
    assert answer.status == 400, (name, answer.raw[:300])
    text = answer.raw.decode("latin-1")
    for secret in (SECRET, LAUNCH):
        for form in spellings(secret):
            assert form not in text, f"{name}: the answer quotes a secret: {text[:300]!r}"
    # Nothing of the request at all: no header names, no byte-string reprs, no caret lines.
    for echo in ("b'", "bytearray(", "Bearer", "Transfer-Encoding", "^", "kind"):
        assert echo not in answer.body.decode("latin-1"), (name, answer.body[:300])
    assert answer.body.startswith(b"400 Bad Request"), answer.body[:200]
    assert answer.header("X-Content-Type-Options") == "nosniff"


async def test_after_the_malformed_barrage_every_cluster_serves(served: ServeProcess) -> None:
    for request in MALFORMED.values():
        await raw_request("127.0.0.1", served.port, request.encode("latin-1"))
    await assert_every_cluster_serves(served)
    log = served.stderr_so_far()
    # One line per refusal with the parser's reason and no request bytes; the repeat
    # limiter (observe/logfilter.py) lets 20 of one template through per minute.
    lines = [line for line in log.splitlines() if "Error handling request" in line]
    assert len(lines) >= 20, log[-3000:]
    assert all(": 400 " in line and "b'" not in line for line in lines), lines
    for secret in (SECRET, LAUNCH):
        for form in spellings(secret):
            assert form not in log, f"{form[:12]}… in stderr"
