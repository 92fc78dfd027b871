"""Fuzzed `Sec-WebSocket-Protocol` values on real WebSocket upgrades (a seeded generator:
the same 300 offers every run): each gets a clear 4xx (kubelantern's refusal, or the API
server's answer for a usable offer: the pod does not exist), never a 5xx or a dropped
connection, never a bearer or session entry echoed back; then every cluster serves."""

from __future__ import annotations

import base64
import os
import random

from kubelantern.proxy.subprotocols import BEARER_PREFIX, SESSION_PREFIX
from tests.harness.rawhttp import RawAnswer, raw_request
from tests.harness.serveproc import ServeProcess
from tests.integration.hostile.conftest import LAUNCH, assert_every_cluster_serves

TARGET = "/clusters/kind-dev/api/v1/namespaces/default/pods/no-such-pod/exec?command=sh&stdout=1"
KNOWN = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"]
ALPHABET = (
    "abcXYZ019-_.~!#$%&'*+^`|"  # token characters
    + ' ,;:"/\\?=()[]{}<>@'  # separators
    + "\t\u00e9\u00ff"  # tab, Latin-1
)


def entry(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(KNOWN)
    if kind == 1:  # a bearer entry with garbage, valid base64 of junk, or padding inside
        body = rng.choice(
            [
                "".join(rng.choice("AZaz09+/-_=.") for _ in range(rng.randrange(0, 60))),
                base64.urlsafe_b64encode(os.urandom(rng.randrange(1, 40))).decode(),
                base64.b64encode(rng.choice([b"\x00x", b"a\r\nb", b"\xff\xfe", b" "])).decode(),
                "dG9r=ZW4",
            ]
        )
        return BEARER_PREFIX + body
    if kind == 2:
        return SESSION_PREFIX + "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 80)))
    if kind == 3:
        return "x" * rng.choice([1, 200, 4000])
    if kind == 4:
        return ""
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 30)))


def offers(count: int = 300) -> list[list[str]]:
    rng = random.Random(20261206)
    made = []
    for _ in range(count):
        lines = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            n = rng.choice([1, 2, 3, 5, 50, 300])
            lines.append(rng.choice([",", ", ", " ,", ",,"]).join(entry(rng) for _ in range(n)))
        made.append(lines)
    return made


async def upgrade(served: ServeProcess, lines: list[str]) -> RawAnswer:
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET {TARGET} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Kubelantern-Token: {LAUNCH}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        + "".join(f"Sec-WebSocket-Protocol: {line}\r\n" for line in lines)
        + "\r\n"
    )
    return await raw_request("127.0.0.1", served.port, head.encode("latin-1"), limit=30)


async def test_fuzzed_subprotocol_offers_get_a_4xx(served: ServeProcess) -> None:
    statuses: dict[int, int] = {}
    for lines in offers():
        answer = await upgrade(served, lines)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        assert 400 <= answer.status < 500, (lines[0][:200], answer.status, answer.raw[:400])
        chosen = answer.header("Sec-WebSocket-Protocol") or ""
        assert BEARER_PREFIX not in chosen and SESSION_PREFIX not in chosen, chosen
        if not answer.body.startswith(b"400 Bad Request"):  # else: the HTTP parser's refusal
            assert b'"Status"' in answer.body, answer.body[:300]
    print(f"statuses: {statuses}")
    # the generator reaches each kind of answer (a fuzz stuck on one refusal proves little)
    assert statuses.get(400, 0) > 20 and statuses.get(401, 0) > 5 and statuses.get(404, 0) > 5
    await assert_every_cluster_serves(served)
