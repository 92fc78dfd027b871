"""Just enough Kubernetes protobuf to read what kubectl's generator commands send.

`kubectl create configmap|secret|namespace|deployment|job|cronjob|service|serviceaccount|role`,
`kubectl auth can-i` and `auth whoami` encode their request body as
`application/vnd.kubernetes.protobuf`: the magic `k8s\\x00` then a `runtime.Unknown` envelope
(typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4) whose `raw` is the
typed message. Field numbers below are those of k8s.io/api's generated.proto for the fields
these commands set (checked against kubectl 1.32's bodies); other fields are skipped. The
simulator always answers in JSON, which kubectl accepts.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

JSON = dict[str, Any]
Schema = dict[int, tuple[str, Any]]

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    pass


def _by_number(buf: bytes) -> dict[int, Any]:
    """A message's fields by number (the last one wins, as for a non-repeated field)."""
    return {n: v for n, _, v in fields(buf)}


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) in order; value is int or bytes."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise ProtobufError("truncated length-delimited field")
            value, i = buf[i : i + size], i + size
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


# Scalar kinds: "str", "int" (0 omitted), "int!" (0 kept: pointer fields), "bool" (false
# omitted), "bytes" (base64 in JSON), "time", "map" (string->string), "mapb" (string->bytes),
# "mapq" (string->Quantity), "intorstr"; composite: ("msg", schema), ("list", kind).


def _scalar(kind: Any, wire: int, value: Any) -> Any:
    if kind in ("int", "int!"):
        if wire != 0:
            raise ProtobufError("expected a varint")
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if wire != 2:
        raise ProtobufError("expected a length-delimited field")
    if kind == "str":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "time":
        parts = _by_number(value)
        seconds = parts.get(1, 0)
        return (
            dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if seconds
            else None
        )
    if kind == "intorstr":
        parts = _by_number(value)
        if parts.get(1, 0) == 1:
            return bytes(parts.get(3, b"")).decode()
        return int(parts.get(2, 0))
    if isinstance(kind, tuple) and kind[0] == "msg":
        return decode(value, kind[1])
    raise ProtobufError(f"unknown schema kind {kind!r}")


def _empty(kind: Any, value: Any) -> bool:
    if value is None or value == "" or value == {} or value == []:
        return True
    return (kind == "int" and value == 0) or (kind == "bool" and value is False)


def decode(buf: bytes, schema: Schema) -> JSON:
    out: JSON = {}
    for number, wire, value in fields(buf):
        spec = schema.get(number)
        if spec is None:
            continue
        name, kind = spec
        if kind in ("map", "mapb", "mapq"):
            entry = _by_number(value)
            key = bytes(entry.get(1, b"")).decode()
            raw = bytes(entry.get(2, b""))
            if kind == "map":
                item: Any = raw.decode()
            elif kind == "mapb":
                item = base64.b64encode(raw).decode()
            else:
                item = bytes(_by_number(raw).get(1, b"")).decode()
            out.setdefault(name, {})[key] = item
        elif isinstance(kind, tuple) and kind[0] == "list":
            inner = kind[1]
            if wire == 2 and inner in ("int", "int!", "bool"):  # packed
                items = [_scalar(inner, 0, v) for _, _, v in _packed(value)]
                out.setdefault(name, []).extend(items)
            else:
                out.setdefault(name, []).append(_scalar(inner, wire, value))
        else:
            decoded = _scalar(kind, wire, value)
            if _empty(kind, decoded):
                out.pop(name, None)
            else:
                out[name] = decoded
    return out


def _packed(buf: bytes) -> list[tuple[int, int, int]]:
    out, i = [], 0
    while i < len(buf):
        v, i = _varint(buf, i)
        out.append((0, 0, v))
    return out


def _msg(schema: Schema) -> tuple[str, Schema]:
    return ("msg", schema)


def _list(kind: Any) -> tuple[str, Any]:
    return ("list", kind)


OWNER_REF: Schema = {
    1: ("kind", "str"),
    3: ("name", "str"),
    4: ("uid", "str"),
    5: ("apiVersion", "str"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
OBJECT_META: Schema = {
    1: ("name", "str"),
    2: ("generateName", "str"),
    3: ("namespace", "str"),
    5: ("uid", "str"),
    6: ("resourceVersion", "str"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    11: ("labels", "map"),
    12: ("annotations", "map"),
    13: ("ownerReferences", _list(_msg(OWNER_REF))),
    14: ("finalizers", _list("str")),
}
META: Schema = {1: ("metadata", _msg(OBJECT_META))}


def _with_spec(spec: Schema) -> Schema:
    """An object's (or template's) schema: metadata is field 1, spec field 2."""
    return {**META, 2: ("spec", _msg(spec))}


LABEL_SELECTOR: Schema = {
    1: ("matchLabels", "map"),
    2: (
        "matchExpressions",
        _list(_msg({1: ("key", "str"), 2: ("operator", "str"), 3: ("values", _list("str"))})),
    ),
}
CONTAINER_PORT: Schema = {
    1: ("name", "str"),
    2: ("hostPort", "int"),
    3: ("containerPort", "int!"),
    4: ("protocol", "str"),
    5: ("hostIP", "str"),
}
VOLUME_MOUNT: Schema = {
    1: ("name", "str"),
    2: ("readOnly", "bool"),
    3: ("mountPath", "str"),
    4: ("subPath", "str"),
}
CONTAINER: Schema = {
    1: ("name", "str"),
    2: ("image", "str"),
    3: ("command", _list("str")),
    4: ("args", _list("str")),
    5: ("workingDir", "str"),
    6: ("ports", _list(_msg(CONTAINER_PORT))),
    7: ("env", _list(_msg({1: ("name", "str"), 2: ("value", "str")}))),
    8: ("resources", _msg({1: ("limits", "mapq"), 2: ("requests", "mapq")})),
    9: ("volumeMounts", _list(_msg(VOLUME_MOUNT))),
    13: ("terminationMessagePath", "str"),
    14: ("imagePullPolicy", "str"),
    16: ("stdin", "bool"),
    17: ("stdinOnce", "bool"),
    18: ("tty", "bool"),
    20: ("terminationMessagePolicy", "str"),
}
POD_SPEC: Schema = {
    2: ("containers", _list(_msg(CONTAINER))),
    3: ("restartPolicy", "str"),
    4: ("terminationGracePeriodSeconds", "int!"),
    5: ("activeDeadlineSeconds", "int!"),
    6: ("dnsPolicy", "str"),
    7: ("nodeSelector", "map"),
    8: ("serviceAccountName", "str"),
    10: ("nodeName", "str"),
    11: ("hostNetwork", "bool"),
    19: ("schedulerName", "str"),
    20: ("initContainers", _list(_msg(CONTAINER))),
}
POD_TEMPLATE: Schema = _with_spec(POD_SPEC)
ROLLING_UPDATE: Schema = {1: ("maxUnavailable", "intorstr"), 2: ("maxSurge", "intorstr")}
DEPLOYMENT_SPEC: Schema = {
    1: ("replicas", "int!"),
    2: ("selector", _msg(LABEL_SELECTOR)),
    3: ("template", _msg(POD_TEMPLATE)),
    4: ("strategy", _msg({1: ("type", "str"), 2: ("rollingUpdate", _msg(ROLLING_UPDATE))})),
    5: ("minReadySeconds", "int"),
    6: ("revisionHistoryLimit", "int!"),
    7: ("paused", "bool"),
    9: ("progressDeadlineSeconds", "int!"),
}
JOB_SPEC: Schema = {
    1: ("parallelism", "int!"),
    2: ("completions", "int!"),
    3: ("activeDeadlineSeconds", "int!"),
    4: ("selector", _msg(LABEL_SELECTOR)),
    5: ("manualSelector", "bool"),
    6: ("template", _msg(POD_TEMPLATE)),
    7: ("backoffLimit", "int!"),
    8: ("ttlSecondsAfterFinished", "int!"),
}
CRONJOB_SPEC: Schema = {
    1: ("schedule", "str"),
    2: ("startingDeadlineSeconds", "int!"),
    3: ("concurrencyPolicy", "str"),
    4: ("suspend", "bool"),
    5: ("jobTemplate", _msg(_with_spec(JOB_SPEC))),
    6: ("successfulJobsHistoryLimit", "int!"),
    7: ("failedJobsHistoryLimit", "int!"),
    8: ("timeZone", "str"),
}
SERVICE_PORT: Schema = {
    1: ("name", "str"),
    2: ("protocol", "str"),
    3: ("port", "int!"),
    4: ("targetPort", "intorstr"),
    5: ("nodePort", "int"),
}
SERVICE_SPEC: Schema = {
    1: ("ports", _list(_msg(SERVICE_PORT))),
    2: ("selector", "map"),
    3: ("clusterIP", "str"),
    4: ("type", "str"),
    5: ("externalIPs", _list("str")),
    7: ("sessionAffinity", "str"),
    10: ("externalName", "str"),
}
RESOURCE_ATTRIBUTES: Schema = {
    1: ("namespace", "str"),
    2: ("verb", "str"),
    3: ("group", "str"),
    4: ("version", "str"),
    5: ("resource", "str"),
    6: ("subresource", "str"),
    7: ("name", "str"),
}
ACCESS_REVIEW_SPEC: Schema = {
    1: ("resourceAttributes", _msg(RESOURCE_ATTRIBUTES)),
    2: ("nonResourceAttributes", _msg({1: ("path", "str"), 2: ("verb", "str")})),
}
POLICY_RULE: Schema = {
    1: ("verbs", _list("str")),
    2: ("apiGroups", _list("str")),
    3: ("resources", _list("str")),
    4: ("resourceNames", _list("str")),
    5: ("nonResourceURLs", _list("str")),
}
SUBJECT: Schema = {
    1: ("kind", "str"),
    2: ("apiGroup", "str"),
    3: ("name", "str"),
    4: ("namespace", "str"),
}
ROLE_REF: Schema = {1: ("apiGroup", "str"), 2: ("kind", "str"), 3: ("name", "str")}
ROLE: Schema = {**META, 2: ("rules", _list(_msg(POLICY_RULE)))}
BINDING: Schema = {**META, 2: ("subjects", _list(_msg(SUBJECT))), 3: ("roleRef", _msg(ROLE_REF))}

SCHEMAS: dict[str, Schema] = {
    "ConfigMap": {**META, 2: ("data", "map"), 3: ("binaryData", "mapb"), 4: ("immutable", "bool")},
    "Secret": {
        **META,
        2: ("data", "mapb"),
        3: ("type", "str"),
        4: ("stringData", "map"),
        5: ("immutable", "bool"),
    },
    "Namespace": _with_spec({1: ("finalizers", _list("str"))}),
    "ServiceAccount": {**META, 4: ("automountServiceAccountToken", "bool")},
    "Pod": _with_spec(POD_SPEC),
    "Deployment": _with_spec(DEPLOYMENT_SPEC),
    "Job": _with_spec(JOB_SPEC),
    "CronJob": _with_spec(CRONJOB_SPEC),
    "Service": _with_spec(SERVICE_SPEC),
    "SelfSubjectAccessReview": _with_spec(ACCESS_REVIEW_SPEC),
    "SelfSubjectRulesReview": _with_spec({1: ("namespace", "str")}),
    "SelfSubjectReview": dict(META),
    "Role": ROLE,
    "ClusterRole": ROLE,
    "RoleBinding": BINDING,
    "ClusterRoleBinding": BINDING,
}


def decode_object(data: bytes) -> JSON:
    """A `k8s\\x00`-framed protobuf body as the JSON object it encodes."""
    if not data.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf body (missing the k8s magic prefix)")
    envelope = _by_number(data[len(MAGIC) :])
    type_meta = _by_number(bytes(envelope.get(1, b"")))
    api_version = bytes(type_meta.get(1, b"")).decode()
    kind = bytes(type_meta.get(2, b"")).decode()
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtobufError(
            f"the simulator cannot read {kind or 'this object'} as protobuf; send JSON"
        )
    obj = decode(bytes(envelope.get(2, b"")), schema)
    return {"apiVersion": api_version, "kind": kind, **obj}
