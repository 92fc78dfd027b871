"""The pure parts of exec/attach sessions: the `kubelantern.session.<id>` entry, the exec
target of a path, who owns a session, the channel protocol, exit codes and resizes."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.spec import AuthSpec, ClusterSpec
from kubelantern.proxy.execsession import (
    ExecTarget,
    Frame,
    decode_frame,
    encode_frame,
    exec_target,
    exit_code,
    lost_notice,
    owner_of,
    terminal_size,
)
from kubelantern.proxy.plan import RequestView, UpstreamPlan, plan
from kubelantern.proxy.subprotocols import SubprotocolError, encode_bearer, parse_offer
from kubelantern.settings import Settings

SID = "abcdefghijklmnop_-0123"


def test_session_entry_is_taken_out_of_the_offer() -> None:
    offer = parse_offer([f"v5.channel.k8s.io, kubelantern.session.{SID}, v4.channel.k8s.io"])
    assert offer.protocols == ("v5.channel.k8s.io", "v4.channel.k8s.io")
    assert offer.session == SID
    assert parse_offer(["v4.channel.k8s.io"]).session is None


@pytest.mark.parametrize(
    "bad",
    [
        "kubelantern.session.",
        "kubelantern.session.tooshort",
        "kubelantern.session." + "a" * 65,
        "kubelantern.session.abcdefghijklmnop.q",
        "kubelantern.session.abcdefghijklmnop+q",
    ],
)
def test_bad_session_entries_are_refused(bad: str) -> None:
    with pytest.raises(SubprotocolError) as e:
        parse_offer([f"v4.channel.k8s.io, {bad}"])
    assert e.value.status == 400


def test_two_session_entries_are_refused() -> None:
    with pytest.raises(SubprotocolError):
        parse_offer([f"kubelantern.session.{SID}", f"kubelantern.session.{SID}x"])


def test_exec_target() -> None:
    got = exec_target(
        "/api/v1/namespaces/shop/pods/web-1/exec",
        "command=sh&command=-c&command=echo%20hi&container=app&stdin=true",
    )
    assert got == ExecTarget("exec", "shop", "web-1", "app", ("sh", "-c", "echo hi"))
    assert exec_target("/api/v1/namespaces/a/pods/b/attach", "command=x") == ExecTarget(
        "attach", "a", "b", "", ()
    )
    tty = exec_target("/api/v1/namespaces/a/pods/b/exec", "command=sh&tty=true&stdin=true")
    assert tty is not None and tty.tty
    meta = tty.recording("dev", "local", "127.0.0.1")
    assert (meta.cluster, meta.pod, meta.command, meta.tty) == ("dev", "b", ("sh",), True)
    for other in (
        "/api/v1/namespaces/a/pods/b/log",
        "/api/v1/namespaces/a/pods/b/portforward",
        "/api/v1/namespaces/a/pods/b",
        "/apis/x/v1/namespaces/a/pods/b/exec",
        "/api/v1/namespaces/a/pods/b/exec/extra",
    ):
        assert exec_target(other, "") is None


def test_owner_depends_on_every_part() -> None:
    base = {"signed_in": "u1", "trusted_user": None, "credential": "Bearer x", "launch_token": "L"}
    one = owner_of(**base)  # type: ignore[arg-type]
    assert one == owner_of(**base)  # type: ignore[arg-type]
    for key, value in (("signed_in", "u2"), ("trusted_user", "t"), ("credential", None)):
        assert owner_of(**{**base, key: value}) != one  # type: ignore[arg-type]
    assert "x" not in one and len(one) == 64  # a digest, never the secret


def test_frames_binary_and_base64() -> None:
    assert decode_frame("v5.channel.k8s.io", b"\x01hi") == Frame(1, b"hi")
    assert decode_frame("v5.channel.k8s.io", b"") is None
    assert decode_frame("base64.channel.k8s.io", "1aGk=") == Frame(1, b"hi")
    assert decode_frame("v4.channel.k8s.io", "1aGk=") is None
    assert encode_frame("v4.base64.channel.k8s.io", 1, b"hi") == "1aGk="
    notice = lost_notice("v4.channel.k8s.io", 1234)
    assert isinstance(notice, bytes) and notice[0] == 1
    assert b"1234 bytes of output were lost" in notice


def test_exit_codes() -> None:
    assert exit_code(b'{"metadata":{},"status":"Success"}') == 0
    failure = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "42"}]},
    }
    assert exit_code(json.dumps(failure).encode()) == 42
    assert exit_code(b'{"status":"Failure","reason":"InternalError"}') is None
    assert exit_code(b"not json") is None
    assert exit_code(b"[1]") is None


def test_terminal_size() -> None:
    assert terminal_size(b'{"Width":120,"Height":40}\n') == (120, 40)
    assert terminal_size(b'{"Width":0,"Height":40}') is None
    assert terminal_size(b"junk") is None


def _view(headers: dict[str, str], **changes: object) -> RequestView:
    return RequestView(
        method="GET",
        api_path="/api/v1/namespaces/ns/pods/p/exec",
        raw_query="command=sh&container=c",
        headers=CIMultiDictProxy(CIMultiDict(headers)),
        cookies={},
        **changes,  # type: ignore[arg-type]
    )


def test_plan_carries_target_owner_and_user() -> None:
    cluster = Cluster(ClusterSpec(name="dev", server="https://k:6443", auth=AuthSpec(token="kc")))
    ws = {"Connection": "Upgrade", "Upgrade": "websocket"}
    offer = f"v5.channel.k8s.io, kubelantern.session.{SID}"
    a = plan(_view({**ws, "Sec-WebSocket-Protocol": offer}), cluster, Settings())
    assert isinstance(a, UpstreamPlan) and a.exec is not None and a.offer is not None
    assert a.exec.pod == "p" and a.offer.session == SID and a.user_label == "local"
    bearer = f"{offer}, {encode_bearer('someone')}"
    b = plan(_view({**ws, "Sec-WebSocket-Protocol": bearer}), cluster, Settings())
    assert isinstance(b, UpstreamPlan) and b.owner != a.owner
    signed = plan(
        _view({**ws, "Sec-WebSocket-Protocol": offer}, signed_in="sub-1", signed_in_name="ann"),
        cluster,
        Settings(),
    )
    assert isinstance(signed, UpstreamPlan)
    assert signed.user_label == "ann" and signed.owner != a.owner
