"""`meta.k8s.io/v1` Table output for `kubectl get`, with the columns kube-apiserver prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .params import parse_rfc3339
from .selectors import field_value

JSON = dict[str, Any]
Cells = list[Any]


def wants_table(accept: str) -> bool:
    """kubectl's human-readable Accept: `application/json;as=Table;v=v1;g=meta.k8s.io,...`."""
    for entry in accept.split(","):
        params = {}
        for piece in entry.split(";")[1:]:
            k, _, v = piece.strip().partition("=")
            params[k.strip()] = v.strip()
        if (
            params.get("as") == "Table"
            and params.get("g") == "meta.k8s.io"
            and params.get("v") in ("v1", "v1beta1")
        ):
            return True
    return False


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age(ts: str | None, now: dt.datetime | None = None) -> str:
    if not ts:
        return "<unknown>"
    try:
        t = parse_rfc3339(ts)
    except ValueError:
        return "<unknown>"
    now = now or dt.datetime.now(dt.UTC)
    return human_duration((now - t).total_seconds())


def _col(
    name: str, type_: str = "string", priority: int = 0, fmt: str = "", desc: str = ""
) -> JSON:
    return {
        "name": name,
        "type": type_,
        "format": fmt,
        "description": desc or name,
        "priority": priority,
    }


NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = _col(
    "Age",
    desc="CreationTimestamp is a timestamp representing the server time when this object "
    "was created.",
)


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def _name(obj: JSON) -> str:
    return str(_meta(obj).get("name", ""))


def _age(obj: JSON) -> str:
    return age(_meta(obj).get("creationTimestamp"))


def _pairs(labels: JSON | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def _template_cells(spec: JSON) -> Cells:
    """CONTAINERS, IMAGES, SELECTOR: the wide cells of every pod-template owner."""
    cs = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return [
        ",".join(c.get("name", "") for c in cs),
        ",".join(c.get("image", "") for c in cs),
        _pairs((spec.get("selector") or {}).get("matchLabels")),
    ]


def pod_status_reason(pod: JSON) -> str:
    """What kubectl shows in STATUS (the apiserver's printPod logic, the common cases)."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    inits = status.get("initContainerStatuses") or []
    n_init = len((pod.get("spec") or {}).get("initContainers") or [])
    for i, c in enumerate(inits):
        st = c.get("state") or {}
        term = st.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif st.get("waiting") and st["waiting"].get("reason") not in (None, "PodInitializing"):
            reason = "Init:" + st["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        break
    else:
        for c in reversed(status.get("containerStatuses") or []):
            st = c.get("state") or {}
            if st.get("waiting") and st["waiting"].get("reason"):
                reason = st["waiting"]["reason"]
            elif st.get("terminated") and st["terminated"].get("reason"):
                reason = st["terminated"]["reason"]
    if _meta(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_cells(pod: JSON) -> Cells:
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    cstat = status.get("containerStatuses") or []
    ready = sum(1 for c in cstat if c.get("ready"))
    total = len(spec.get("containers") or [])
    restarts = sum(int(c.get("restartCount") or 0) for c in cstat)
    restart_cell: str | int = restarts
    last = None
    for c in cstat:
        fin = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if fin and (last is None or fin > last):
            last = fin
    if restarts and last:
        restart_cell = f"{restarts} ({age(last)} ago)"
    return [
        _name(pod),
        f"{ready}/{total}",
        pod_status_reason(pod),
        restart_cell,
        _age(pod),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _deploy_cells(d: JSON) -> Cells:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    return [
        _name(d),
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(d),
        *_template_cells(spec),
    ]


def _rs_cells(r: JSON) -> Cells:
    spec, st = r.get("spec") or {}, r.get("status") or {}
    return [
        _name(r),
        spec.get("replicas", 1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        _age(r),
        *_template_cells(spec),
    ]


def _sts_cells(s: JSON) -> Cells:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    return [
        _name(s),
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        _age(s),
        *_template_cells(spec)[:2],  # kubectl prints no SELECTOR for a StatefulSet
    ]


def _ds_cells(d: JSON) -> Cells:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [
        _name(d),
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        _pairs(sel),
        _age(d),
        *_template_cells(spec),
    ]


def _job_cells(j: JSON) -> Cells:
    spec, st = j.get("spec") or {}, j.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    state = (
        "Complete"
        if conds.get("Complete") == "True"
        else ("Failed" if conds.get("Failed") == "True" else "Running")
    )
    duration = ""
    if st.get("startTime"):
        try:
            start = parse_rfc3339(st["startTime"])
            end = (
                parse_rfc3339(st["completionTime"])
                if st.get("completionTime")
                else dt.datetime.now(dt.UTC)
            )
            duration = human_duration((end - start).total_seconds())
        except ValueError:
            duration = ""
    return [
        _name(j),
        state,
        f"{st.get('succeeded', 0)}/{spec.get('completions', 1)}",
        duration,
        _age(j),
        *_template_cells(spec),
    ]


def _cronjob_cells(c: JSON) -> Cells:
    spec, st = c.get("spec") or {}, c.get("status") or {}
    last = st.get("lastScheduleTime")
    return [
        _name(c),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        str(bool(spec.get("suspend", False))),
        len(st.get("active") or []),
        age(last) if last else "<none>",
        _age(c),
    ]


def _svc_cells(s: JSON) -> Cells:
    spec = s.get("spec") or {}
    ports = (
        ",".join(
            f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}"
            f"/{p.get('protocol', 'TCP')}"
            for p in spec.get("ports") or []
        )
        or "<none>"
    )
    ingress = ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    if not external:
        external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    return [
        _name(s),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        external,
        ports,
        _age(s),
        _pairs(spec.get("selector")),
    ]


def _ing_cells(i: JSON) -> Cells:
    spec = i.get("spec") or {}
    hosts = ",".join(r.get("host", "*") for r in spec.get("rules") or []) or "*"
    lb = ((i.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(x.get("ip") or x.get("hostname", "") for x in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(i), spec.get("ingressClassName") or "<none>", hosts, address, ports, _age(i)]


def _ns_cells(n: JSON) -> Cells:
    return [_name(n), (n.get("status") or {}).get("phase", "Active"), _age(n)]


def _node_cells(n: JSON) -> Cells:
    st = n.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    status = "Ready" if conds.get("Ready") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = _meta(n).get("labels") or {}
    roles = (
        ",".join(
            sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        )
        or "<none>"
    )
    info = st.get("nodeInfo") or {}
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    return [
        _name(n),
        status,
        roles,
        _age(n),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _event_cells(e: JSON) -> Cells:
    inv = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime") or _meta(e).get("creationTimestamp")
    src = e.get("source") or {}
    return [
        age(last),
        e.get("type", ""),
        e.get("reason", ""),
        f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
        inv.get("fieldPath", ""),
        ", ".join(x for x in (src.get("component"), src.get("host")) if x),
        e.get("message", ""),
        age(e.get("firstTimestamp") or last),
        e.get("count", 1),
        _name(e),
    ]


def _data_count(o: JSON) -> int:
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


def _pvc_cells(p: JSON) -> Cells:
    spec, st = p.get("spec") or {}, p.get("status") or {}
    modes = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return [
        _name(p),
        st.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (st.get("capacity") or {}).get("storage", ""),
        ",".join(modes.get(m, m) for m in st.get("accessModes") or []),
        spec.get("storageClassName") or "<unset>",
        "<unset>",
        _age(p),
    ]


Printer = tuple[list[JSON], Callable[[JSON], Cells]]

_I = "integer"


def _wide(name: str, type_: str = "string") -> JSON:
    """A column `kubectl get -o wide` adds."""
    return _col(name, type_, priority=1)


_TEMPLATE_COLUMNS = [_wide("Containers"), _wide("Images"), _wide("Selector")]
PRINTERS: dict[str, Printer] = {
    "pods": (
        [
            NAME,
            _col("Ready"),
            _col("Status"),
            _col("Restarts", "string"),
            AGE,
            _wide("IP"),
            _wide("Node"),
            _wide("Nominated Node"),
            _wide("Readiness Gates"),
        ],
        _pod_cells,
    ),
    "deployments.apps": (
        [
            NAME,
            _col("Ready"),
            _col("Up-to-date", _I),
            _col("Available", _I),
            AGE,
            *_TEMPLATE_COLUMNS,
        ],
        _deploy_cells,
    ),
    "replicasets.apps": (
        [
            NAME,
            _col("Desired", _I),
            _col("Current", _I),
            _col("Ready", _I),
            AGE,
            *_TEMPLATE_COLUMNS,
        ],
        _rs_cells,
    ),
    "statefulsets.apps": (
        [NAME, _col("Ready"), AGE, *_TEMPLATE_COLUMNS[:2]],
        _sts_cells,
    ),
    "daemonsets.apps": (
        [
            NAME,
            _col("Desired", _I),
            _col("Current", _I),
            _col("Ready", _I),
            _col("Up-to-date", _I),
            _col("Available", _I),
            _col("Node Selector"),
            AGE,
            *_TEMPLATE_COLUMNS,
        ],
        _ds_cells,
    ),
    "jobs.batch": (
        [
            NAME,
            _col("Status"),
            _col("Completions"),
            _col("Duration"),
            AGE,
            *_TEMPLATE_COLUMNS,
        ],
        _job_cells,
    ),
    "cronjobs.batch": (
        [
            NAME,
            _col("Schedule"),
            _col("Timezone"),
            _col("Suspend", "boolean"),
            _col("Active", _I),
            _col("Last Schedule"),
            AGE,
        ],
        _cronjob_cells,
    ),
    "services": (
        [
            NAME,
            _col("Type"),
            _col("Cluster-IP"),
            _col("External-IP"),
            _col("Port(s)"),
            AGE,
            _wide("Selector"),
        ],
        _svc_cells,
    ),
    "ingresses.networking.k8s.io": (
        [NAME, _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"), AGE],
        _ing_cells,
    ),
    "namespaces": ([NAME, _col("Status"), AGE], _ns_cells),
    "nodes": (
        [
            NAME,
            _col("Status"),
            _col("Roles"),
            AGE,
            _col("Version"),
            _wide("Internal-IP"),
            _wide("External-IP"),
            _wide("OS-Image"),
            _wide("Kernel-Version"),
            _wide("Container-Runtime"),
        ],
        _node_cells,
    ),
    "events": (
        [
            _col("Last Seen"),
            _col("Type"),
            _col("Reason"),
            _col("Object"),
            _wide("Subobject"),
            _wide("Source"),
            _col("Message"),
            _wide("First Seen"),
            _wide("Count", _I),
            _wide("Name"),
        ],
        _event_cells,
    ),
    "configmaps": ([NAME, _col("Data", _I), AGE], lambda o: [_name(o), _data_count(o), _age(o)]),
    "secrets": (
        [NAME, _col("Type"), _col("Data", _I), AGE],
        lambda o: [_name(o), o.get("type", "Opaque"), _data_count(o), _age(o)],
    ),
    "serviceaccounts": (
        [NAME, _col("Secrets", _I), AGE],
        lambda o: [_name(o), len(o.get("secrets") or []), _age(o)],
    ),
    "persistentvolumeclaims": (
        [
            NAME,
            _col("Status"),
            _col("Volume"),
            _col("Capacity"),
            _col("Access Modes"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            AGE,
        ],
        _pvc_cells,
    ),
    "customresourcedefinitions.apiextensions.k8s.io": (
        [NAME, _col("Created At", "date")],
        lambda o: [_name(o), _meta(o).get("creationTimestamp", "")],
    ),
}


def printer_for(key: str, crd: JSON | None, version: str) -> Printer:
    if key in PRINTERS:
        return PRINTERS[key]
    if crd is not None:
        cols_spec: list[JSON] = []
        for v in (crd.get("spec") or {}).get("versions") or []:
            if v.get("name") == version:
                cols_spec = v.get("additionalPrinterColumns") or []
        if cols_spec:
            cols = [NAME] + [
                _col(
                    c.get("name", ""),
                    c.get("type", "string"),
                    int(c.get("priority", 0)),
                    desc=c.get("description", ""),
                )
                for c in cols_spec
            ]

            def cells(o: JSON) -> Cells:
                out: Cells = [_name(o)]
                for c in cols_spec:
                    path = str(c.get("jsonPath", "")).lstrip(".")
                    value = field_value(o, path)
                    if path == "metadata.creationTimestamp":
                        value = age(value)
                    out.append(value)
                return out

            has_age = any(
                str(c.get("jsonPath", "")) == ".metadata.creationTimestamp" for c in cols_spec
            )
            if not has_age:
                cols.append(AGE)
                return cols, lambda o: [*cells(o), _age(o)]
            return cols, cells
    return [NAME, AGE], lambda o: [_name(o), _age(o)]


def partial_metadata(obj: JSON) -> JSON:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def build_table(
    items: list[JSON],
    printer: Printer,
    *,
    include_object: str = "Metadata",
    resource_version: str = "",
    continue_token: str = "",
    column_definitions: bool = True,
) -> JSON:
    columns, cells = printer
    rows = []
    for obj in items:
        row: JSON = {"cells": cells(obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    meta: JSON = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns if column_definitions else None,
        "rows": rows,
    }
