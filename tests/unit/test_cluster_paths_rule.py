"""Issue 10 defect 8: which cluster a `/clusters/...` path names when names overlap
(`dev` and `dev/api`; `a/b` and a literal `a%2Fb`), with hypothesis properties."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kubelantern.clusters.paths import (
    API_ROOTS,
    AmbiguousClusterPath,
    ApiPathError,
    check_object_name,
    split_cluster_path,
)


def test_kubectl_path_of_the_short_name_is_not_taken_by_the_long_one() -> None:
    names = ["dev", "dev/api"]
    assert split_cluster_path("dev/api/v1/pods", names) == ("dev", "/api/v1/pods")
    assert split_cluster_path("dev%2Fapi/api/v1/pods", names) == ("dev/api", "/api/v1/pods")


def test_documented_encoding_beats_a_literal_percent_name() -> None:
    names = ["a/b", "a%2Fb"]
    assert split_cluster_path("a%2Fb/api", names) == ("a/b", "/api")
    assert split_cluster_path("a%252Fb/api", names) == ("a%2Fb", "/api")


def test_several_decoded_readings_are_a_409_naming_them() -> None:
    names = ["n/x", "n/x/api"]
    with pytest.raises(AmbiguousClusterPath) as err:
        split_cluster_path("n/x/api/api/v1", names)
    assert err.value.status == 409
    assert err.value.candidates == ["n/x", "n/x/api"]
    assert "'n/x'" in str(err.value) and "'n/x/api'" in str(err.value)
    # the encoded forms still say exactly which one
    assert split_cluster_path("n%2Fx/api/v1", names) == ("n/x", "/api/v1")
    assert split_cluster_path("n%2Fx%2Fapi/api/v1", names) == ("n/x/api", "/api/v1")


# -- properties ---------------------------------------------------------------------------

_segment = st.text(
    st.characters(codec="utf-8", exclude_characters="/?#", exclude_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
_name = st.lists(_segment, min_size=1, max_size=3).map("/".join)
_api = st.sampled_from(["/api/v1/pods", "/apis/apps/v1", "/version", "/", "/api"])


@settings(max_examples=300, deadline=None)
@given(names=st.lists(_name, min_size=1, max_size=6, unique=True), data=st.data())
def test_the_encoded_form_always_names_exactly_its_cluster(
    names: list[str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(names))
    api = data.draw(_api)
    assert split_cluster_path(quote(name, safe="") + api, names) == (name, api)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(_name, min_size=1, max_size=6, unique=True), data=st.data())
def test_a_decoded_path_resolves_to_its_name_or_says_which_names_compete(
    names: list[str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(names))
    api = data.draw(_api)
    segments = name.split("/")
    assume(all("%" not in s for s in segments))  # a decoded path cannot hold literal %
    # kubectl sends the name decoded: each segment as is, `/` as a separator
    tail = "/".join(quote(s, safe=":@") for s in segments) + api
    try:
        found = split_cluster_path(tail, names)
    except AmbiguousClusterPath as e:
        assert name in e.candidates and len(e.candidates) > 1
        return
    assert found is not None
    got, rest = found
    if got != name:
        # only a shorter name read from the first segment may win: its documented form
        assert "/" not in got and got == segments[0], (got, name)
        assert rest.lstrip("/").split("/", 1)[0] in API_ROOTS | {""}


@settings(max_examples=300, deadline=None)
@given(tail=st.text(max_size=60), names=st.lists(_name, max_size=5))
def test_any_tail_gives_a_known_name_none_or_409(tail: str, names: list[str]) -> None:
    try:
        found = split_cluster_path(tail, names)
    except AmbiguousClusterPath as e:
        assert set(e.candidates) <= set(names)
        return
    if found is not None:
        assert found[0] in names and found[1].startswith("/")


@given(st.text(max_size=300))
def test_object_names_never_carry_path_syntax(value: str) -> None:
    try:
        check_object_name("pod", value)
    except ApiPathError:
        return
    assert not set(value) & set("/?#%\\ \r\n") and ".." not in value and 0 < len(value) <= 253
