"""Which WebSocket strategy to try first for a cluster, and what auto mode has learned.

Pure except for the clock (pass `now` to control it). What auto mode learned lives on the
cluster object (`learned_strategy`, `learned_at`), so two kubelantern apps in one process
never share guesses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.profiles import KUBERNETES, PROFILES, STRATEGIES, Profile, Strategy
from kubelantern.settings import Settings


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


def profile_of(cluster: Cluster) -> Profile:
    """The cluster's profile (the registry applies flag/extension overrides and detection)."""
    profile = getattr(cluster, "profile", None)
    if isinstance(profile, Profile):
        return profile
    return PROFILES.get(str(profile or ""), KUBERNETES)


def override_of(cluster: Cluster) -> str | None:
    """The pinned starting strategy's name, None for auto. `Cluster()` already resolved the
    flag over the kubeconfig extension (`--strategy c=auto` un-pins an extension's pin)."""
    pinned = getattr(cluster, "strategy_override", None)
    return pinned.name if isinstance(pinned, Strategy) else None


# --- per-cluster memory: kept on the cluster object (`learned_strategy`, `learned_at`) ---


def remember(cluster: Cluster, strategy: Strategy, now: float | None = None) -> None:
    cluster.learned_strategy = strategy
    cluster.learned_at = time.monotonic() if now is None else now


def recall(cluster: Cluster, ttl: float, now: float | None = None) -> Strategy | None:
    """The learned strategy while fresh (younger than `ttl` seconds), else None."""
    learned = getattr(cluster, "learned_strategy", None)
    at = getattr(cluster, "learned_at", None)
    if not isinstance(learned, Strategy) or at is None:
        return None
    if (time.monotonic() if now is None else now) - at > ttl:
        return None
    return learned


def order_of(cluster: Cluster, settings: Settings, now: float | None = None) -> Order:
    """The strategy order for the next WebSocket to `cluster` under `settings`."""
    auto = bool(settings.auto_strategy)
    learned = recall(cluster, settings.strategy_ttl, now) if auto else None
    return order_for(profile_of(cluster), learned=learned, override=override_of(cluster), auto=auto)


def current(cluster: Cluster, settings: Settings, now: float | None = None) -> tuple[str, str]:
    """(strategy name, source) the next WebSocket to `cluster` starts with.

    source is `learned`, `override` or `profile:<name>` — for `/api/clusters` and the UI.
    """
    order = order_of(cluster, settings, now)
    return order.first.name, order.source
