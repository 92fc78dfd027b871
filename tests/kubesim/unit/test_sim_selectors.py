"""Label and field selectors."""

from __future__ import annotations

import pytest

from kubesim.selectors import (
    field_matcher,
    label_matcher,
    parse_label_selector,
)
from kubesim.status import StatusError


def obj(labels: dict[str, str], **extra: object) -> dict[str, object]:
    return {"metadata": {"name": "p", "namespace": "shop", "labels": labels}, **extra}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "web"}, True),
        ("app!=web", {"app": "db"}, True),
        ("app!=web", {}, True),
        ("app=web,tier=front", {"app": "web"}, False),
        ("app in (web, db)", {"app": "db"}, True),
        ("app notin (web,db)", {"app": "db"}, False),
        ("app notin (web,db)", {}, True),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("app.kubernetes.io/name=cart", {"app.kubernetes.io/name": "cart"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert label_matcher(selector)(obj(labels)) is expected


def test_bad_label_selector_is_400() -> None:
    with pytest.raises(StatusError) as err:
        parse_label_selector("app in web")
    assert err.value.code == 400


def test_field_selectors() -> None:
    pod = obj({}, spec={"nodeName": "worker-1"}, status={"phase": "Running"})
    assert field_matcher("metadata.name=p")(pod)
    assert field_matcher("metadata.namespace==shop,status.phase=Running")(pod)
    assert not field_matcher("spec.nodeName!=worker-1")(pod)
    assert field_matcher("spec.nodeName=")(obj({}))  # unscheduled pods have an empty nodeName
    with pytest.raises(StatusError):
        field_matcher("metadata.name")
    with pytest.raises(StatusError, match=r"field label not supported: spec\.x"):
        field_matcher("spec.x=1", frozenset({"metadata.name"}))
