"""Malformed WebSocket frames from the client and from the upstream, on both paths (the
byte tunnel and the message relay), over real sockets: invalid UTF-8 in text frames,
reserved opcodes, unmasked client frames (masked server frames), RSV bits without an
extension, bad control frames, lying lengths. Each side gets a Close with a code (or the
connection ends) within seconds, nothing hangs, and every cluster serves afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote

import aiohttp
import pytest

from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.proxy import exec_path, find_pod
from tests.harness.rawws import (
    RawUpstream,
    RawUpstreamThread,
    close_payload,
    frame,
    ws_client,
)
from tests.harness.serveproc import ServeProcess
from tests.harness.stack import CONTEXT_NAMES, SimCluster
from tests.integration.hostile.conftest import AUTH, LAUNCH, assert_every_cluster_serves

BAD_FRAMES: dict[str, bytes] = {
    "invalid UTF-8 text": frame(0x1, b"\xff\xfe\xfd"),
    "truncated UTF-8 text": frame(0x1, "é".encode()[:1]),
    "reserved opcode 3": frame(0x3, b"x"),
    "reserved control opcode 0xB": frame(0xB, b"x"),
    "RSV1 without an extension": frame(0x2, b"\x00hi", rsv=4),
    "RSV3": frame(0x2, b"\x00hi", rsv=1),
    "fragmented ping": frame(0x9, b"x", fin=False),
    "ping over 125 bytes": frame(0x9, b"x" * 126),
    "continuation without a start": frame(0x0, b"x"),
    "new message inside a fragmented one": frame(0x2, b"\x00a", fin=False) + frame(0x2, b"b"),
    "close code 999": frame(0x8, close_payload(999)),
    "close code 1005 on the wire": frame(0x8, close_payload(1005)),
    "close with invalid UTF-8 reason": frame(0x8, close_payload(1000, b"\xff\xfe")),
    "one-byte close": frame(0x8, b"\x03"),
    "length over 2^63": frame(0x2, b"", length=(1 << 63) + 5),
    "16 GiB announced": frame(0x2, b"", length=1 << 34),
    "HTTP instead of frames": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
}
BAD_CLOSES = {
    "close code 999",
    "close code 1005 on the wire",
    "close with invalid UTF-8 reason",
    "one-byte close",
}
UPSTREAM_ONLY = {"masked server frame": frame(0x2, b"\x01hi", masked=True)}
# A close code, or the connection ended without one (1006): anything but a hang. A clean
# 1000 would claim the session ended normally.
ACCEPTABLE = {1002, 1007, 1008, 1009, 1011, None}


def case_of(target: str) -> str:
    return bytes.fromhex(target.split("/pods/", 1)[1].split("/", 1)[0]).decode()


def upstream_script(target: str) -> bytes:
    name = case_of(target)
    table = {**BAD_FRAMES, **UPSTREAM_ONLY}
    # Upstream frames are unmasked unless the case is about masking.
    return table[name] if name in UPSTREAM_ONLY else _unmasked(name)


def _unmasked(name: str) -> bytes:
    rebuilt = {
        "invalid UTF-8 text": frame(0x1, b"\xff\xfe\xfd", masked=False),
        "truncated UTF-8 text": frame(0x1, "é".encode()[:1], masked=False),
        "reserved opcode 3": frame(0x3, b"x", masked=False),
        "reserved control opcode 0xB": frame(0xB, b"x", masked=False),
        "RSV1 without an extension": frame(0x2, b"\x01hi", rsv=4, masked=False),
        "RSV3": frame(0x2, b"\x01hi", rsv=1, masked=False),
        "fragmented ping": frame(0x9, b"x", fin=False, masked=False),
        "ping over 125 bytes": frame(0x9, b"x" * 126, masked=False),
        "continuation without a start": frame(0x0, b"x", masked=False),
        "new message inside a fragmented one": frame(0x2, b"\x01a", fin=False, masked=False)
        + frame(0x2, b"b", masked=False),
        "close code 999": frame(0x8, close_payload(999), masked=False),
        "close code 1005 on the wire": frame(0x8, close_payload(1005), masked=False),
        "close with invalid UTF-8 reason": frame(0x8, close_payload(1000, b"\xff"), masked=False),
        "one-byte close": frame(0x8, b"\x03", masked=False),
        "length over 2^63": frame(0x2, b"", length=(1 << 63) + 5, masked=False),
        "16 GiB announced": frame(0x2, b"", length=1 << 34, masked=False),
        "HTTP instead of frames": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    }
    return rebuilt[name]


@pytest.fixture(scope="module")
def raw_upstream(pki: Pki) -> Iterator[RawUpstream]:
    # Bytes that are no frame announce a payload that never comes: the upstream then hangs
    # up (a hung one is test_defects_upstream_cut's, found by the pong deadline).
    hang_up = {"HTTP instead of frames"}
    upstream = RawUpstream(upstream_script, pki.server_context(), lambda t: case_of(t) in hang_up)
    runner = RawUpstreamThread(upstream)
    yield runner.start()
    runner.stop()


@pytest.fixture(scope="module", params=["tunnel", "relay"])
def ws_served(
    request: pytest.FixtureRequest,
    sims: dict[str, SimCluster],
    pki: Pki,
    raw_upstream: RawUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServeProcess]:
    contexts = [s.context for s in sims.values()]
    contexts.append(Context("raw", f"https://127.0.0.1:{raw_upstream.port}", pki.ca_pem, "t"))
    config = write_kubeconfig(tmp_path_factory.mktemp("ws") / "config", contexts)
    fast = "1" if request.param == "tunnel" else "0"
    proc = ServeProcess(
        ["--kubeconfig", str(config), "--token", LAUNCH], env={"KUBELANTERN_WS_FASTPATH": fast}
    ).start()
    yield proc
    proc.stop()


HEADERS = f"X-Kubelantern-Token: {LAUNCH}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"


async def sim_exec_target(served: ServeProcess) -> str:
    base = f"{served.url}/clusters/{quote(CONTEXT_NAMES['kubernetes'], safe='')}"
    async with aiohttp.ClientSession() as http:
        ns, pod, container = await find_pod(http, base, headers=AUTH)
    path = exec_path(ns, pod, container, ["cat"], stdin=True)
    return f"/clusters/{quote(CONTEXT_NAMES['kubernetes'], safe='')}{path}"


@pytest.mark.parametrize("case", list(BAD_FRAMES))
async def test_bad_client_frames_end_the_session_with_a_code(
    ws_served: ServeProcess, case: str
) -> None:
    """Relay: kubelantern's reader refuses the frame; tunnel: the API server does, and its
    Close comes through. Either way a code, within seconds."""
    target = await sim_exec_target(ws_served)
    got = await ws_client("127.0.0.1", ws_served.port, target, HEADERS, BAD_FRAMES[case])
    assert got.status == 101
    assert got.close_code in ACCEPTABLE, (case, got.frames[-3:])
    assert got.close_code is not None or got.eof, (case, "neither a Close nor the end")


async def test_an_unmasked_client_frame_does_not_wedge_the_session(
    ws_served: ServeProcess,
) -> None:
    """RFC 6455 says a server MUST fail it; aiohttp (relay) and the simulator (tunnel)
    accept it as data. Whatever is chosen, the session goes on or ends with a code."""
    target = await sim_exec_target(ws_served)
    send = frame(0x2, b"\x00hi\n", masked=False) + frame(0x8, close_payload(1000))
    got = await ws_client("127.0.0.1", ws_served.port, target, HEADERS, send)
    assert got.close_code in ACCEPTABLE | {1000}, got.frames[-3:]


@pytest.mark.parametrize("case", list({**BAD_FRAMES, **UPSTREAM_ONLY}))
async def test_bad_upstream_frames_end_the_session_and_release_the_upstream(
    ws_served: ServeProcess, raw_upstream: RawUpstream, case: str
) -> None:
    """Relay: kubelantern closes the client with a code (1002/1007/1011). Tunnel: frames
    pass as bytes, so the client's own WebSocket stack sees the bad frame; when it fails
    the connection (Close 1002, as a browser does) the upstream is let go at once."""
    before = len(raw_upstream.received)
    pod = case.encode().hex()
    target = f"/clusters/raw/api/v1/namespaces/x/pods/{pod}/exec?command=sh&stdout=true"
    strict_client = frame(0x8, close_payload(1002))
    got = await ws_client("127.0.0.1", ws_served.port, target, HEADERS, b"", answer=strict_client)
    assert got.status == 101, got
    tunnel = ws_served.env["KUBELANTERN_WS_FASTPATH"] == "1"
    if tunnel and case in BAD_CLOSES:
        # The tunnel passes the upstream's Close through byte for byte (the client's own
        # stack judges it, as it would talking to the API server directly).
        assert got.frames == [(0x8, _unmasked(case)[2:])], got.frames
    elif got.frames and got.frames[0][0] != 0x8:
        # The frame (tunnel: as bytes; relay: a masked server frame aiohttp reads as
        # data) reached the client, which failed the connection itself.
        assert tunnel or case in UPSTREAM_ONLY, got
    else:
        assert got.close_code in ACCEPTABLE, (case, got.frames[-3:])
        assert got.close_code is not None or got.eof, (case, "neither a Close nor the end")
    # ...and kubelantern let go of the upstream (a Close or the end, before the raw
    # upstream's own 20 s read limit).
    for _ in range(600):
        if len(raw_upstream.received) > before:
            break
        await asyncio.sleep(0.05)
    assert len(raw_upstream.received) > before, f"{case}: the upstream connection stayed open"
    seen = raw_upstream.received[before]
    assert seen.close_code is not None or seen.eof, (case, "kubelantern kept the upstream open")


async def test_after_the_frame_barrage_every_cluster_serves(ws_served: ServeProcess) -> None:
    await assert_every_cluster_serves(ws_served)
