"""Profile detection from cheap evidence (pure)."""

from __future__ import annotations

from kubelantern.clusters.profiles import (
    KUBERNETES,
    OPENSHIFT,
    PROFILES,
    RANCHER,
    STRATEGIES,
    detect_profile,
)


def test_rancher_from_the_server_path() -> None:
    profile, reason = detect_profile("https://rancher.example/k8s/clusters/c-m-abc12")
    assert profile is RANCHER and "/k8s/clusters" in reason


def test_rancher_from_the_cattle_header() -> None:
    profile, reason = detect_profile("https://10.0.0.1:6443", {"X-Api-Cattle-Auth": "true"})
    assert profile is RANCHER and "X-Api-Cattle-Auth" in reason


def test_openshift_from_discovery_groups() -> None:
    groups = ["apps", "route.openshift.io", "batch"]
    profile, reason = detect_profile("https://api.ocp.example:6443", {}, groups)
    assert profile is OPENSHIFT and "route.openshift.io" in reason


def test_plain_kubernetes_otherwise() -> None:
    profile, _ = detect_profile("https://127.0.0.1:6443", {"Audit-Id": "x"}, ["apps", "batch"])
    assert profile is KUBERNETES


def test_every_profile_strategy_is_a_known_strategy() -> None:
    for profile in PROFILES.values():
        assert profile.strategies, profile.name
        for strategy in profile.strategies:
            assert STRATEGIES[strategy.name] is strategy
    # Rancher never reads the bearer subprotocol: no strategy relying on it alone.
    assert all(s.token.value != "subprotocol" for s in RANCHER.strategies)
