"""Pure parts of the fleet home: the extension's group/colour, the summary's counting."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.looks import BadLook, first, looks_of
from kubelantern.clusters.summary import continue_token, count_listed, count_nodes, count_pods
from tests.harness.kubeconfig import write_yaml


@pytest.mark.parametrize("colour", ["#c33", "#cc3333", "#cc3333aa", "teal", "RebeccaPurple"])
def test_colours_that_pass(colour: str) -> None:
    assert looks_of({"group": " prod ", "color": colour}) == ("prod", colour)


@pytest.mark.parametrize(
    "colour", ["#c3", "red;x:y", "url(x)", "rgb(1,2,3)", "#ggg", 12, "expression(alert(1))"]
)
def test_colours_refused(colour: object) -> None:
    with pytest.raises(BadLook) as e:
        looks_of({"color": colour})
    assert e.value.key == "color"


def test_group_bounds_and_colour_spelling() -> None:
    assert looks_of({}) == (None, None)
    assert looks_of({"colour": "#abc"}) == (None, "#abc")
    with pytest.raises(BadLook):
        looks_of({"group": "x" * 64})
    with pytest.raises(BadLook):
        looks_of({"group": ["prod"]})


def test_first_takes_each_field_from_the_first_that_sets_it() -> None:
    assert first(("prod", None), ("stage", "#fff")) == ("prod", "#fff")
    assert first((None, None), (None, None)) == (None, None)


def _kubeconfig(tmp_path: Path, ctx_ext: object, cluster_ext: object) -> Path:
    cluster: dict[str, object] = {"server": "https://k.example:6443"}
    if cluster_ext is not None:
        cluster["extensions"] = [{"name": "kubelantern", "extension": cluster_ext}]
    ctx: dict[str, object] = {"cluster": "c", "user": "u"}
    if ctx_ext is not None:
        ctx["extensions"] = [{"name": "kubelantern", "extension": ctx_ext}]
    return write_yaml(
        tmp_path / "config",
        {
            "clusters": [{"name": "c", "cluster": cluster}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "x", "context": ctx}],
        },
    )


def test_kubeconfig_context_extension_wins_over_the_clusters(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path, {"group": "prod"}, {"group": "other", "color": "#123"})
    (spec,) = load_kubeconfigs([kc]).specs
    assert (spec.group, spec.color) == ("prod", "#123")
    kc = _kubeconfig(tmp_path, None, None)
    (spec,) = load_kubeconfigs([kc]).specs
    assert (spec.group, spec.color) == (None, None)


def test_kubeconfig_bad_colour_names_the_key(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path, {"color": "red;}"}, None)
    loaded = load_kubeconfigs([kc])
    assert not loaded.specs
    assert any("extensions[0].extension.color" in str(e) for e in loaded.errors)


def _pod(phase: str, ready: str | None) -> dict[str, object]:
    conds = [] if ready is None else [{"type": "Ready", "status": ready}]
    return {"status": {"phase": phase, "conditions": conds}}


def test_count_pods_nodes_events() -> None:
    pods = {
        "items": [
            _pod("Running", "True"),
            _pod("Running", "False"),
            _pod("Pending", None),
            _pod("Succeeded", "False"),  # done, not failing
            _pod("Failed", "False"),
        ],
        "metadata": {"continue": "abc"},
    }
    assert count_pods(pods) == (5, 3)
    assert continue_token(pods) == "abc" and continue_token({"metadata": {}}) is None
    nodes = {"items": [_pod("", "True"), _pod("", "Unknown"), {"status": {}}]}
    assert count_nodes(nodes) == (3, 1)
    assert count_listed({"items": [{}, {}], "metadata": {"remainingItemCount": 40}}) == 42
    assert count_listed("not json") == 0 and count_pods(None) == (0, 0)
