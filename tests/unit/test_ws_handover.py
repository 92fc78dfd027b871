"""The handover decision (pure): which clients get the upstream's first bytes held back
after the 101, and how. User-Agents are the ones real binaries send (captured from
kubectl.1.27 ... kubectl.1.33 beside gcloud's dispatcher) plus client-go's documented form."""

from __future__ import annotations

import pytest

from kubelantern.proxy.ws.handover import (
    AFTER_PONG,
    FIXED_HOLD,
    MAX_HELD_BYTES,
    MAX_HOLD,
    NO_HOLD,
    RTT_FACTOR,
    ClientGo,
    HoldMode,
    decide,
    parse_client_go,
)

V5 = "v5.channel.k8s.io"

# What the real binaries on this machine send (tests/harness/execrace.py's neighbours).
REAL = {
    "1.27": "kubectl.1.27/v1.27.16 (linux/amd64) kubernetes/cbb86e0",
    "1.29": "kubectl.1.29/v1.29.14 (linux/amd64) kubernetes/4f359b2",
    "1.30": "kubectl.1.30/v1.30.13 (linux/amd64) kubernetes/50af91c",
    "1.31": "kubectl.1.31/v1.31.9 (linux/amd64) kubernetes/8f38003",
    "1.32": "kubectl.1.32/v1.32.5 (linux/amd64) kubernetes/9894294",
    "1.33": "kubectl.1.33/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
}


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("kubectl/v1.31.2 (linux/amd64) kubernetes/abc123", ClientGo("kubectl", (1, 31, 2))),
        (REAL["1.33"], ClientGo("kubectl.1.33", (1, 33, 1))),
        ("kubectl/v1.34.0 (darwin/arm64) kubernetes/0123456", ClientGo("kubectl", (1, 34, 0))),
        # gitVersion suffixes are cut by client-go, but tolerate them
        ("kubectl/v1.30.0-rc.1 (linux/amd64) kubernetes/abc", ClientGo("kubectl", (1, 30, 0))),
        # a program built on client-go without Kubernetes' ldflags: version unknown
        ("k9s/v0.0.0 (linux/amd64) kubernetes/$Format", ClientGo("k9s", None)),
        ("helm/unknown (linux/amd64) kubernetes/unknown", ClientGo("helm", None)),
        # ... unless its name says it
        (
            "kubectl1.31.2/v0.0.0 (linux/amd64) kubernetes/$Format",
            ClientGo("kubectl1.31.2", (1, 31, 2)),
        ),
        (
            "kubectl.1.32/unknown (linux/amd64) kubernetes/unknown",
            ClientGo("kubectl.1.32", (1, 32, 0)),
        ),
        ("windows.exe/v1.32.1 (windows/amd64) kubernetes/abc", ClientGo("windows.exe", (1, 32, 1))),
    ],
)
def test_parse_client_go(ua: str, expected: ClientGo) -> None:
    assert parse_client_go(ua) == expected


@pytest.mark.parametrize(
    "ua",
    [
        None,
        "",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
        "OpenAPI-Generator/31.0.0/python",
        "Python/3.11 aiohttp/3.14.5",
        "kubectl-dispatcher/v1.0 (linux/amd64)",  # gcloud's dispatcher, no `kubernetes/`
        "curl/8.5.0",
        "kubectl/v1.31.2 (linux/amd64) kubernetes/abc extra",
    ],
)
def test_not_client_go(ua: str | None) -> None:
    assert parse_client_go(ua) is None
    assert decide(ua, V5, sees_pong=True) is NO_HOLD


@pytest.mark.parametrize("minor", ["1.29", "1.30", "1.31", "1.32", "1.33"])
def test_affected_kubectl_waits_for_the_pong(minor: str) -> None:
    plan = decide(REAL[minor], V5, sees_pong=True)
    assert plan.mode is HoldMode.UNTIL_PONG
    assert plan.holds
    assert (plan.settle, plan.max_hold, plan.max_bytes) == (AFTER_PONG, MAX_HOLD, MAX_HELD_BYTES)
    assert plan.rtt_factor == RTT_FACTOR
    assert minor in plan.reason


@pytest.mark.parametrize(
    ("answered", "more"),
    [
        (0.0005, AFTER_PONG),  # a prompt pong: the flat margin
        (0.005, AFTER_PONG),
        (0.030, 0.030 * RTT_FACTOR),  # a slow one (a starved client): a longer margin
        (0.600, MAX_HOLD - 0.600),  # never past MAX_HOLD in all
        (MAX_HOLD, 0.0),
        (MAX_HOLD + 1, 0.0),
    ],
)
def test_margin_after_the_pong(answered: float, more: float) -> None:
    plan = decide(REAL["1.31"], V5, sees_pong=True)
    assert plan.release_after(answered) == pytest.approx(more)


def test_without_the_pong_a_fixed_hold() -> None:
    plan = decide(REAL["1.31"], V5, sees_pong=False)
    assert plan.mode is HoldMode.FIXED
    assert plan.settle == plan.max_hold == FIXED_HOLD


@pytest.mark.parametrize(
    "ua",
    [
        "kubectl/v1.34.0 (linux/amd64) kubernetes/0123456",
        "kubectl/v1.35.2 (linux/amd64) kubernetes/0123456",
        "kubectl/v2.0.0 (linux/amd64) kubernetes/0123456",
    ],
)
def test_fixed_client_go_is_not_held(ua: str) -> None:
    assert decide(ua, V5, sees_pong=True) is NO_HOLD
    assert decide(ua, V5, sees_pong=False) is NO_HOLD


def test_unknown_client_go_version_is_held() -> None:
    # A lost output costs a rerun; the hold costs one round trip plus AFTER_PONG.
    plan = decide("k9s/v0.0.0 (linux/amd64) kubernetes/$Format", V5, sees_pong=True)
    assert plan.mode is HoldMode.UNTIL_PONG
    assert "unknown version" in plan.reason


@pytest.mark.parametrize(
    "protocol",
    ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"],
)
def test_every_channel_protocol_of_the_executor(protocol: str) -> None:
    assert decide(REAL["1.32"], protocol, sees_pong=True).holds


@pytest.mark.parametrize(
    "protocol",
    [
        None,
        "",
        "base64.channel.k8s.io",  # text frames: client-go's executor never offers these
        "v4.base64.channel.k8s.io",
        "SPDY/3.1+portforward.k8s.io",  # port-forward tunnel: no per-stream demux race
        "binary.k8s.io",  # logs
    ],
)
def test_other_protocols_are_not_held(protocol: str | None) -> None:
    assert decide(REAL["1.32"], protocol, sees_pong=True) is NO_HOLD


def test_no_hold_costs_nothing() -> None:
    assert not NO_HOLD.holds
    assert NO_HOLD.settle == 0.0  # relay/sessions sleep `settle`: zero means no await
