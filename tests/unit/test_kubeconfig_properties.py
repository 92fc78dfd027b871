"""Property tests (hypothesis) for kubeconfig reading: kubectl's merge (first file wins,
per name), bounded alias expansion, and never an exception for any YAML value."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.yamlsafe import TooLarge, expanded_size

NAMES = st.sampled_from(["a", "b", "c", "a/b", "x:y@z"])
SERVERS = st.integers(1, 65535).map(lambda p: f"https://127.0.0.1:{p}")


@st.composite
def kubeconfig_files(draw: st.DrawFn) -> list[dict[str, Any]]:
    files = []
    for _ in range(draw(st.integers(1, 4))):
        files.append(
            {
                "clusters": [
                    {"name": n, "cluster": {"server": draw(SERVERS)}}
                    for n in draw(st.lists(NAMES, max_size=4))
                ],
                "users": [
                    {"name": n, "user": {"token": draw(st.text("tok0123", min_size=1))}}
                    for n in draw(st.lists(NAMES, max_size=4))
                ],
                "contexts": [
                    {"name": n, "context": {"cluster": draw(NAMES), "user": draw(NAMES)}}
                    for n in draw(st.lists(NAMES, max_size=4))
                ],
            }
        )
    return files


def first(files: list[dict[str, Any]], section: str, name: str) -> dict[str, Any] | None:
    for doc in files:
        for item in doc[section]:
            if item["name"] == name:
                return item
    return None


@settings(max_examples=150, deadline=None)
@given(kubeconfig_files())
def test_merge_is_first_file_wins_per_name(files: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, doc in enumerate(files):
            path = Path(tmp) / f"k{i}"
            path.write_text(yaml.safe_dump(doc))
            paths.append(path)
        result = load_kubeconfigs(paths, env={}, home=Path(tmp))
    contexts = {item["name"] for doc in files for item in doc["contexts"]}
    got = {spec.name: spec for spec in result.specs}
    failed = {e.context for e in result.errors}
    assert set(got) | failed == contexts and not set(got) & failed
    for name, spec in got.items():
        ctx = first(files, "contexts", name)
        assert ctx is not None
        cluster = first(files, "clusters", ctx["context"]["cluster"])
        user = first(files, "users", ctx["context"]["user"])
        assert cluster is not None and spec.server == cluster["cluster"]["server"]
        assert user is not None and spec.auth.token == user["user"]["token"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_any_yaml_value_gives_errors_not_exceptions(doc: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config"
        path.write_text(yaml.safe_dump(doc))
        result = load_kubeconfigs([path], env={}, home=Path(tmp))
    for error in result.errors:
        assert str(error)


def _naive(node: Any) -> int:
    if isinstance(node, dict):
        return 1 + sum(_naive(k) + _naive(v) for k, v in node.items())
    if isinstance(node, list):
        return 1 + sum(_naive(c) for c in node)
    return 1 + (len(node) if isinstance(node, str) else 1)


@given(_json)
def test_expanded_size_counts_like_writing_everything_out(doc: Any) -> None:
    assert expanded_size(doc) == _naive(doc)
    shared = [doc, doc, [doc]]  # the same object three times: counted three times
    assert expanded_size(shared) == _naive(json.loads(json.dumps(shared)))


def test_expanded_size_refuses_self_reference_and_bombs() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TooLarge):
        expanded_size(loop)
    level: Any = ["lol"] * 9
    for _ in range(9):
        level = [level] * 9
    with pytest.raises(TooLarge):
        expanded_size(level)
