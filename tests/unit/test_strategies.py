"""Strategy order per cluster: learned (with expiry) > override > profile default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kubelantern.clusters import strategies
from kubelantern.clusters.profiles import (
    HEADER_NO_ORIGIN,
    HEADER_UPSTREAM_ORIGIN,
    KUBERNETES,
    RANCHER,
    SUBPROTOCOL,
    Profile,
    Strategy,
)
from kubelantern.settings import Settings


@dataclass
class FakeCluster:
    name: str = "c"
    profile: Profile = RANCHER
    strategy_override: Strategy | None = None
    spec: Any = field(default_factory=lambda: type("S", (), {"strategy": None})())
    learned_strategy: Strategy | None = None
    learned_at: float | None = None


def names(order: strategies.Order) -> list[str]:
    return [s.name for s in order.strategies]


def test_profile_default_first_then_the_rest() -> None:
    order = strategies.order_for(RANCHER, learned=None, override=None, auto=True)
    assert order.first == RANCHER.default and order.source == "profile:rancher"
    assert names(order) == [s.name for s in RANCHER.strategies]


def test_override_starts_and_the_profile_follows_without_duplicates() -> None:
    order = strategies.order_for(RANCHER, learned=None, override="subprotocol", auto=True)
    assert names(order) == ["subprotocol", "header", "header-no-origin", "both"]
    assert order.source == "override"


def test_learned_beats_override_and_default() -> None:
    order = strategies.order_for(
        KUBERNETES, learned=HEADER_NO_ORIGIN, override="subprotocol", auto=True
    )
    assert order.first == HEADER_NO_ORIGIN and order.source == "learned"
    assert names(order).count("header-no-origin") == 1


def test_auto_off_uses_exactly_one_strategy() -> None:
    order = strategies.order_for(KUBERNETES, learned=None, override="subprotocol", auto=False)
    assert names(order) == ["subprotocol"] and not order.auto
    order = strategies.order_for(KUBERNETES, learned=None, override="auto", auto=False)
    assert names(order) == ["header"]


def test_unknown_override_is_a_clear_error() -> None:
    with pytest.raises(strategies.UnknownStrategy, match="choose one of"):
        strategies.order_for(KUBERNETES, learned=None, override="carrier-pigeon", auto=True)


def test_memory_expires_after_ttl() -> None:
    cluster = FakeCluster()
    strategies.remember(cluster, HEADER_NO_ORIGIN, now=100.0)
    assert strategies.recall(cluster, ttl=60, now=150.0) == HEADER_NO_ORIGIN
    assert strategies.recall(cluster, ttl=60, now=161.0) is None


def test_current_reports_name_and_source() -> None:
    settings = Settings(strategy_ttl=60)
    cluster = FakeCluster(strategy_override=SUBPROTOCOL)
    assert strategies.current(cluster, settings, now=0.0) == ("subprotocol", "override")
    strategies.remember(cluster, HEADER_UPSTREAM_ORIGIN, now=10.0)
    assert strategies.current(cluster, settings, now=20.0) == ("header", "learned")
    assert strategies.current(cluster, settings, now=100.0) == ("subprotocol", "override")
    plain = FakeCluster(profile=KUBERNETES)
    assert strategies.current(plain, settings) == ("header", "profile:kubernetes")
