"""Patch application: merge, strategic merge (the subset kubectl uses), JSON patch."""

from __future__ import annotations

import pytest

from kubesim.patch import apply_patch, json_patch, merge_patch, strategic_merge_patch
from kubesim.status import StatusError

DEPLOY = {
    "metadata": {"name": "web", "annotations": {"a": "1"}},
    "spec": {
        "replicas": 1,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "s:1"}]
            },
        },
    },
}


def test_merge_patch_sets_and_removes() -> None:
    out = merge_patch(
        DEPLOY, {"metadata": {"annotations": {"a": None, "b": "2"}}, "spec": {"replicas": 3}}
    )
    assert out["metadata"]["annotations"] == {"b": "2"}
    assert out["spec"]["replicas"] == 3
    assert DEPLOY["metadata"]["annotations"] == {"a": "1"}  # the input is untouched


def test_merge_patch_replaces_lists() -> None:
    out = merge_patch(
        DEPLOY,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}},
    )
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "app", "image": "app:2"}]


def test_strategic_merge_merges_containers_by_name() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    out = strategic_merge_patch(DEPLOY, patch)
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "app:2"},
        {"name": "side", "image": "s:1"},
    ]


def test_strategic_merge_directives() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}],
                    "containers": [{"name": "side", "$patch": "delete"}],
                }
            }
        }
    }
    out = strategic_merge_patch(DEPLOY, patch)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_rollout_restart_patch() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
                }
            }
        }
    }
    out = apply_patch("strategic", DEPLOY, patch)
    assert out["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "web"}


def test_json_patch_operations() -> None:
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}},
        {"op": "add", "path": "/metadata/labels/a~1b", "value": "z"},
        {"op": "remove", "path": "/metadata/annotations/a"},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c"}},
        {"op": "test", "path": "/spec/replicas", "value": 5},
        {"op": "copy", "from": "/spec/replicas", "path": "/spec/minReadySeconds"},
        {"op": "move", "from": "/metadata/labels/x", "path": "/metadata/labels/w"},
    ]
    out = json_patch(DEPLOY, ops)
    assert out["spec"]["replicas"] == 5 and out["spec"]["minReadySeconds"] == 5
    assert out["metadata"]["labels"] == {"a/b": "z", "w": "y"}
    assert out["metadata"]["annotations"] == {}
    assert out["spec"]["template"]["spec"]["containers"][-1] == {"name": "c"}


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 9}],
        [{"op": "remove", "path": "/spec/nothing"}],
        [{"op": "replace", "path": "/metadata/missing", "value": 1}],
    ],
)
def test_json_patch_failures_are_422(ops: list[dict[str, object]]) -> None:
    with pytest.raises(StatusError) as err:
        json_patch(DEPLOY, ops)
    assert err.value.code == 422


def test_json_patch_must_be_a_list() -> None:
    with pytest.raises(StatusError) as err:
        json_patch(DEPLOY, {"op": "add"})
    assert err.value.code == 400
