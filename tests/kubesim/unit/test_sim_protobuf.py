"""The protobuf subset: kubectl's generator bodies decode to the JSON objects they encode."""

from __future__ import annotations

import pytest

from kubesim.protobuf import MAGIC, ProtobufError, decode_object


def varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(number: int, value: bytes | int | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return MAGIC + field(1, type_meta) + field(2, raw) + field(3, "") + field(4, "")


def meta(name: str, namespace: str = "") -> bytes:
    # gogo writes every optional string, empty or not, and generation 0.
    body = field(1, name) + field(2, "") + field(3, namespace) + field(7, 0) + field(8, b"")
    return body + field(11, field(1, "app") + field(2, name))


def test_configmap_as_kubectl_sends_it() -> None:
    raw = (
        field(1, meta("c1"))
        + field(2, field(1, "a") + field(2, "b"))
        + field(2, field(1, "c") + field(2, ""))
    )
    obj = decode_object(envelope("v1", "ConfigMap", raw))
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c1", "labels": {"app": "c1"}},
        "data": {"a": "b", "c": ""},
    }


def test_deployment_with_pointer_ints_and_int_or_string() -> None:
    container = (
        field(1, "nginx")
        + field(2, "nginx:1.27")
        + field(6, field(3, 8080))
        + field(3, "sh")
        + field(3, "-c")
    )
    pod_spec = field(2, container) + field(3, "Always")
    template = field(1, meta("d2")) + field(2, pod_spec)
    rolling = field(1, field(1, 1) + field(3, "25%")) + field(2, field(2, 1))
    spec = field(1, 0) + field(2, field(1, field(1, "app") + field(2, "d2"))) + field(3, template)
    spec += field(4, field(1, "RollingUpdate") + field(2, rolling))
    obj = decode_object(
        envelope("apps/v1", "Deployment", field(1, meta("d2", "shop")) + field(2, spec))
    )
    assert obj["metadata"] == {"name": "d2", "namespace": "shop", "labels": {"app": "d2"}}
    assert obj["spec"]["replicas"] == 0  # a pointer field: zero is meaningful
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "d2"}}
    c = obj["spec"]["template"]["spec"]["containers"][0]
    assert c == {
        "name": "nginx",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 8080}],
        "command": ["sh", "-c"],
    }
    assert obj["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": 1}


def test_access_review() -> None:
    attrs = field(1, "shop") + field(2, "create") + field(5, "pods") + field(6, "exec")
    raw = field(1, meta("")) + field(2, field(1, attrs))
    obj = decode_object(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", raw))
    assert obj["spec"]["resourceAttributes"] == {
        "namespace": "shop",
        "verb": "create",
        "resource": "pods",
        "subresource": "exec",
    }


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"kind":"ConfigMap"}', "magic"),
        (envelope("v1", "Pod", b"\x0a\x05ab"), "truncated"),
        (envelope("v1", "Binding", b""), "cannot read Binding"),
    ],
)
def test_bad_bodies(body: bytes, text: str) -> None:
    with pytest.raises(ProtobufError, match=text):
        decode_object(body)
