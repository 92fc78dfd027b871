"""Pure wire decisions of the simulator's streaming side (no sockets)."""

from __future__ import annotations

import base64
import json

import pytest

from kubesim.streaming import protocol as p
from kubesim.streaming.containers import (
    ContainerError,
    check_running,
    container_info,
    select_container,
)
from kubesim.streaming.logsocket import log_message, split_chunks
from kubesim.streaming.podsockets import EchoServer, HttpResponder, server_for
from kubesim.streaming.portforward import port_prefix


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], False),
        (["0"], False),
        (["false"], False),
        (["FALSE"], False),
        (["False"], False),
        (["1"], True),
        (["true"], True),
        (["True"], True),
        ([""], True),  # present but empty is true (apimachinery rule)
        (["yes"], True),
    ],
)
def test_k8s_boolean_rule(values: list[str], expected: bool) -> None:
    assert p.parse_bool(values) is expected


def test_stream_options_repeat_command_and_defaults() -> None:
    opts = p.parse_stream_options(
        {"command": ["sh", "-c", "echo hi"], "stdout": ["1"], "stdin": ["False"], "tty": ["true"]}
    )
    assert opts.command == ("sh", "-c", "echo hi")
    assert (opts.stdin, opts.stdout, opts.stderr, opts.tty) == (False, True, False, True)
    assert opts.container == ""


def test_tty_forces_stderr_off_and_first_writable_channel() -> None:
    tty = p.StreamOptions(stdin=True, stdout=False, stderr=True, tty=True, container="")
    assert not tty.writes_stderr
    assert tty.first_writable_channel() == p.ERROR
    plain = p.StreamOptions(stdin=True, stdout=False, stderr=True, tty=False, container="")
    assert plain.first_writable_channel() == p.STDERR
    both = p.StreamOptions(stdin=False, stdout=True, stderr=True, tty=False, container="")
    assert both.first_writable_channel() == p.STDOUT


def test_negotiation_walks_client_order() -> None:
    supported = p.exec_protocols(supports_v5=True)
    assert p.choose_protocol(["v4.channel.k8s.io", p.V5], supported) == p.V4
    assert p.choose_protocol([p.V5, p.V4], supported) == p.V5
    assert p.choose_protocol(["v3.channel.k8s.io", "base64.channel.k8s.io"], supported) == (
        p.V1_BASE64
    )
    assert p.choose_protocol(["v2.channel.k8s.io"], supported) is None
    # No header at all means the list [""], accepted where "" is supported.
    assert p.choose_protocol(p.offered_protocols(None), supported) == ""


def test_legacy_profile_has_no_v5() -> None:
    legacy = p.exec_protocols(supports_v5=False)
    assert p.choose_protocol([p.V5, p.V4], legacy) == p.V4
    assert p.choose_protocol([p.V5], legacy) is None


def test_offered_protocols_split_and_trim() -> None:
    assert p.offered_protocols("v5.channel.k8s.io, v4.channel.k8s.io") == [p.V5, p.V4]


def test_tunneling_detection() -> None:
    assert p.is_tunneling_request([p.SPDY_PORTFORWARD])
    assert not p.is_tunneling_request([p.V4])


def test_binary_and_base64_framing_round_trip() -> None:
    frame = p.encode_frame(p.V5, p.STDOUT, b"hi")
    assert frame == p.Frame(False, b"\x01hi")
    b64 = p.encode_frame(p.V4_BASE64, p.STDERR, b"hi")
    assert b64.text and b64.data == b"2" + base64.b64encode(b"hi")
    assert p.decode_frame(p.V1_BASE64, b"0" + base64.b64encode(b"ls\n")) == (0, b"ls\n")
    assert p.decode_frame(p.V4, b"\x04{}") == (4, b"{}")
    assert p.decode_frame(p.V4, b"") is None
    with pytest.raises(p.FrameError):
        p.decode_frame(p.V4_BASE64, b"0***")
    # Channel 10 in base64 port-forward framing is ':' ('0' + 10).
    assert p.encode_frame(p.V4_BASE64, 10, b"").data == b":"


def test_success_and_exit_code_status_json_exact() -> None:
    ok = p.status_payload(p.success_status(), protocol=p.V5)
    assert ok == b'{"metadata":{},"status":"Success"}'
    failed = p.status_payload(p.exit_code_status(3, protocol=p.V5, argv=["sh"]), protocol=p.V5)
    assert failed == (
        b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit '
        b'code: command terminated with exit code 3","reason":"NonZeroExitCode","details":'
        b'{"causes":[{"reason":"ExitCode","message":"3"}]}}'
    )
    legacy = json.loads(
        p.status_payload(
            p.exit_code_status(3, protocol=p.V4, argv=["sh", "-c", "exit 3"]), protocol=p.V4
        )
        or b""
    )
    assert legacy["details"]["causes"][0] == {"reason": "ExitCode", "message": "3"}
    assert "[sh -c exit 3], exit code 3" in legacy["message"]


def test_v1_status_nothing_on_success_text_on_failure() -> None:
    assert p.status_payload(p.success_status(), protocol=p.V1) is None
    assert p.status_payload(p.success_status(), protocol=p.NO_PROTOCOL) is None
    text = p.status_payload(p.exit_code_status(2, protocol=p.V1, argv=["false"]), protocol=p.V1)
    assert text is not None and text.startswith(b"command terminated with non-zero exit code")


def test_internal_error_status_shape() -> None:
    status = p.internal_error_status('exec: "bash": not found', protocol=p.V5)
    assert status["reason"] == "InternalError" and status["code"] == 500
    assert status["message"].startswith("Internal error occurred: Internal error occurred: ")
    assert list(status) == ["metadata", "status", "message", "reason", "details", "code"]


def test_resize_decoder_split_and_concatenated() -> None:
    dec = p.ResizeDecoder()
    assert dec.feed(b'{"Width":80,') == []
    assert dec.feed(b'"Height":24}\n{"Width":100,"Height":40}\n') == [
        p.TerminalSize(80, 24),
        p.TerminalSize(100, 40),
    ]
    assert dec.feed(b"  ") == []
    with pytest.raises(ValueError):
        p.ResizeDecoder().feed(b"not json}")


def test_close_signal_rules() -> None:
    assert p.parse_close_signal(b"\x00") == (p.Close.HALF_CLOSE, 0)
    assert p.parse_close_signal(b"\x05")[0] is p.Close.TERMINATE
    assert p.parse_close_signal(b"")[0] is p.Close.TERMINATE
    assert p.parse_close_signal(b"\x00\x00")[0] is p.Close.TERMINATE


def test_ports_query_repeats_and_comma_lists() -> None:
    assert p.parse_ports(["80,8080", "9090"]) == [80, 8080, 9090]
    with pytest.raises(ValueError, match="not a number"):
        p.parse_ports(["http"])
    with pytest.raises(ValueError, match="between 1 and 65535"):
        p.parse_ports(["70000"])


def _pod(**spec_extra: object) -> dict[str, object]:
    return {
        "metadata": {"name": "web-1", "namespace": "default", "uid": "u-1"},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "app", "image": "nginx"}, {"name": "side", "image": "b"}],
            "initContainers": [{"name": "init", "image": "busybox"}],
            **spec_extra,
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "app", "state": {"running": {}}},
                {"name": "side", "state": {"waiting": {"reason": "ContainerCreating"}}},
            ],
        },
    }


def test_container_selection_errors_match_apiserver() -> None:
    pod = _pod()
    with pytest.raises(ContainerError) as exc:
        select_container(pod, "")
    assert str(exc.value) == (
        "a container name must be specified for pod web-1, choose one of: [app side] "
        "or one of the init containers: [init]"
    )
    with pytest.raises(ContainerError, match="container nope is not valid for pod web-1"):
        select_container(pod, "nope")
    assert select_container(pod, "side")["name"] == "side"


def test_running_checks() -> None:
    pod = _pod()
    check_running(pod, "app")
    with pytest.raises(ContainerError) as exc:
        check_running(pod, "side")
    assert str(exc.value) == (
        'container "side" in pod "web-1" is waiting to start: ContainerCreating'
    )
    unscheduled = _pod(nodeName="")
    with pytest.raises(ContainerError, match="pod web-1 does not have a host assigned"):
        check_running(unscheduled, "app")


def test_image_shells() -> None:
    pod = _pod()
    spec = {"name": "x", "image": "gcr.io/distroless/static:nonroot"}
    assert container_info(pod, spec).shells == frozenset()
    assert container_info(pod, {"name": "x", "image": "alpine:3"}).shells == {"sh"}
    assert container_info(pod, {"name": "x", "image": "nginx"}).shells == {"sh", "bash"}
    pod["metadata"]["annotations"] = {"sim.kubelantern.io/shells": ""}  # type: ignore[index]
    assert container_info(pod, {"name": "x", "image": "nginx"}).shells == frozenset()
    pod["metadata"]["annotations"] = {"sim.kubelantern.io/shells": "sh, bash"}  # type: ignore[index]
    assert container_info(pod, spec).shells == {"sh", "bash"}


def test_log_websocket_chunks_and_base64() -> None:
    data = bytes(range(256)) * 20
    chunks = split_chunks(data)
    assert [len(c) for c in chunks] == [2048, 2048, 1024]
    assert log_message(p.LOG_BINARY, b"ab") == (False, b"ab")
    assert log_message(p.LOG_BASE64, b"ab") == (True, b"YWI=")


def test_port_forward_servers() -> None:
    info = container_info(_pod(), {"name": "app", "image": "i", "ports": [{"containerPort": 5000}]})
    assert isinstance(server_for(info, "web-1", "default", 5000), EchoServer)
    assert isinstance(server_for(info, "web-1", "default", 80), HttpResponder)
    assert server_for(info, "web-1", "default", 9999) is None
    http = HttpResponder("web-1", "default", 80)
    assert http.receive(b"GET / HTTP/1.1\r\nHost: x\r\n") == (b"", False)
    reply, closed = http.receive(b"\r\n")
    assert closed and reply.startswith(b"HTTP/1.1 200 OK\r\n") and b"web-1" in reply
    assert port_prefix(8080) == b"\x90\x1f"
