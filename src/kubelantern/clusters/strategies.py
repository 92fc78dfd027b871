"""Which WebSocket strategy to try first for a cluster, and what auto mode has learned.

Pure except for the clock, which is injected. The memory is per kubelantern app (a
cluster object carries its own), so two servers in one process never share guesses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelantern.clusters.profiles import KUBERNETES, PROFILES, STRATEGIES, Profile, Strategy

Clock = Callable[[], float]


@dataclass(frozen=True)
class Learned:
    strategy: Strategy
    at: float  # clock time it last worked


class StrategyMemory:
    """Per-cluster winner of the last successful upstream handshake, trusted for `ttl` s."""

    def __init__(self, ttl: float = 3600.0, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._learned: dict[str, Learned] = {}

    def remember(self, cluster: str, strategy: Strategy) -> None:
        self._learned[cluster] = Learned(strategy, self.clock())

    def recall(self, cluster: str) -> Strategy | None:
        learned = self._learned.get(cluster)
        if learned is None:
            return None
        if self.clock() - learned.at > self.ttl:
            del self._learned[cluster]
            return None
        return learned.strategy

    def forget(self, cluster: str) -> None:
        self._learned.pop(cluster, None)


@dataclass(frozen=True)
class Order:
    strategies: tuple[Strategy, ...]  # first is tried first
    source: str  # learned | override | profile:<name>
    auto: bool

    @property
    def first(self) -> Strategy:
        return self.strategies[0]


class UnknownStrategy(ValueError):
    pass


def resolve_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join([*STRATEGIES, "auto"])
        raise UnknownStrategy(f"unknown strategy {name!r}; choose one of: {known}") from None


def order_for(
    profile: Profile,
    *,
    learned: Strategy | None,
    override: str | None,
    auto: bool,
) -> Order:
    """The strategies to try, in order, and where the first came from.

    An override names the starting strategy (`auto` means none). With auto off, only the
    starting strategy is used. With auto on, a fresh learned strategy starts; the rest of
    the profile follows, so a wrong override or a stale guess costs one round trip.
    """
    fixed = resolve_strategy(override) if override and override != "auto" else None
    if not auto:
        if fixed is not None:
            return Order((fixed,), "override", False)
        return Order((profile.default,), f"profile:{profile.name}", False)
    if learned is not None:
        start, source = learned, "learned"
    elif fixed is not None:
        start, source = fixed, "override"
    else:
        start, source = profile.default, f"profile:{profile.name}"
    rest = tuple(s for s in profile.strategies if s.name != start.name)
    return Order((start, *rest), source, True)


def profile_of(cluster: Any, overrides: dict[str, str] | None = None) -> Profile:
    """The cluster's profile: flag override, kubeconfig extension, detected, else kubernetes."""
    name = (overrides or {}).get(cluster.name) or getattr(cluster.spec, "profile", None)
    if not name:
        profile = getattr(cluster, "profile", None)
        if isinstance(profile, Profile):
            return profile
        name = profile if isinstance(profile, str) else None
    return PROFILES.get(name or "", KUBERNETES)


def override_of(cluster: Any, overrides: dict[str, str] | None = None) -> str | None:
    """The strategy override: flag first, then the kubeconfig context extension."""
    value = (overrides or {}).get(cluster.name) or getattr(cluster.spec, "strategy", None)
    return str(value) if value else None


# --- per-cluster memory, kept on the cluster object itself ---------------------------

_ATTR = "_kubelantern_strategy_memory"


def memory_of(cluster: Any, ttl: float = 3600.0, clock: Clock = time.monotonic) -> StrategyMemory:
    memory = getattr(cluster, _ATTR, None)
    if not isinstance(memory, StrategyMemory):
        memory = StrategyMemory(ttl, clock)
        setattr(cluster, _ATTR, memory)
    else:
        memory.ttl = ttl
    return memory


def current(
    cluster: Any,
    *,
    auto: bool = True,
    profile_overrides: dict[str, str] | None = None,
    strategy_overrides: dict[str, str] | None = None,
    settings: Any = None,
) -> tuple[str, str]:
    """(strategy name, source) the next WebSocket to `cluster` starts with.

    Pass `settings` (kubelantern Settings) to honour its flags; source is `learned`,
    `override` or `profile:<name>`.
    """
    if settings is not None:
        auto = settings.auto_strategy
        profile_overrides = settings.profile_overrides
        strategy_overrides = settings.strategy_overrides
    ttl = settings.strategy_ttl if settings is not None else 3600.0
    learned = memory_of(cluster, ttl).recall(cluster.name) if auto else None
    try:
        order = order_for(
            profile_of(cluster, profile_overrides),
            learned=learned,
            override=override_of(cluster, strategy_overrides),
            auto=auto,
        )
    except UnknownStrategy:
        return ("invalid", "override")
    return order.first.name, order.source
