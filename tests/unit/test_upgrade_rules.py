"""The upgrade tunnel's header decisions, without sockets (proxy/upgrade/rules.py)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from kubelantern.proxy.upgrade.rules import (
    BadSwitch,
    UnsupportedUpgrade,
    UpgradeRequest,
    check_switch,
    switch_headers,
    tunnel_request_headers,
    upgrade_headers,
    upgrade_request,
)


def headers(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(pairs))


SPDY = UpgradeRequest("SPDY/3.1", ("v4.channel.k8s.io", "v3.channel.k8s.io"))


def test_what_is_tunnelled() -> None:
    got = upgrade_request(
        headers(
            ("Connection", "keep-alive, Upgrade"),
            ("Upgrade", "SPDY/3.1"),
            ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
            ("X-Stream-Protocol-Version", "v3.channel.k8s.io, v2.channel.k8s.io"),
        )
    )
    assert got == UpgradeRequest(
        "SPDY/3.1", ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io")
    )
    assert upgrade_request(headers(("Connection", "Upgrade"), ("Upgrade", "spdy/3.1")))
    # No `Connection: upgrade`: not an upgrade at all (the header alone is ignored).
    assert upgrade_request(headers(("Upgrade", "SPDY/3.1"))) is None
    assert upgrade_request(headers()) is None


@pytest.mark.parametrize("value", ["h2c", "tcp", "SPDY/2", "SPDY/3.1, h2c", "x" * 500])
def test_unknown_upgrades_are_refused_by_name(value: str) -> None:
    with pytest.raises(UnsupportedUpgrade) as e:
        upgrade_request(headers(("Connection", "Upgrade"), ("Upgrade", value)))
    assert "unsupported Upgrade" in e.value.message and value[:20] in e.value.message
    assert len(e.value.message) < 300


def test_request_headers_carry_no_credentials_or_hop_by_hop() -> None:
    out = tunnel_request_headers(
        headers(
            ("Connection", "Upgrade, X-Hop"),
            ("Upgrade", "SPDY/3.1"),
            ("X-Hop", "1"),
            ("Authorization", "Bearer launch"),
            ("Cookie", "kl-launch=1"),
            ("X-Kubelantern-Token", "t"),
            ("X-Stream-Protocol-Version", "a"),
            ("X-Stream-Protocol-Version", "b"),
            ("Impersonate-Group", "g1"),
            ("Impersonate-Group", "g2"),
        )
    )
    assert out.getall("X-Stream-Protocol-Version") == ["a", "b"]
    assert out.getall("Impersonate-Group") == ["g1", "g2"]
    for gone in (
        "Connection",
        "Upgrade",
        "X-Hop",
        "Authorization",
        "Cookie",
        "X-Kubelantern-Token",
    ):
        assert gone not in out
    assert dict(upgrade_headers(SPDY)) == {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}


def test_a_101_must_answer_what_was_asked() -> None:
    check_switch(
        SPDY, headers(("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", "v4.channel.k8s.io"))
    )
    check_switch(SPDY, headers(("Upgrade", "spdy/3.1")))  # no choice: client-go decides
    with pytest.raises(BadSwitch, match="h2c"):
        check_switch(SPDY, headers(("Upgrade", "h2c")))
    with pytest.raises(BadSwitch, match="nothing"):
        check_switch(SPDY, headers())
    with pytest.raises(BadSwitch, match="did not offer"):
        check_switch(SPDY, headers(("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", "v9")))
    with pytest.raises(BadSwitch):
        check_switch(
            SPDY,
            headers(
                ("Upgrade", "SPDY/3.1"),
                ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
                ("X-Stream-Protocol-Version", "v3.channel.k8s.io"),
            ),
        )


def test_the_clients_101_keeps_the_choice_and_drops_the_upstreams_origin_headers() -> None:
    out = switch_headers(
        SPDY,
        headers(
            ("Connection", "Upgrade"),
            ("Upgrade", "SPDY/3.1"),
            ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
            ("Set-Cookie", "R_SESS=1"),
            ("Strict-Transport-Security", "max-age=1"),
            ("Content-Length", "0"),
            ("Audit-Id", "abc"),
        ),
    )
    assert out == [
        ("Connection", "Upgrade"),
        ("Upgrade", "SPDY/3.1"),
        ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
        ("Audit-Id", "abc"),
    ]
