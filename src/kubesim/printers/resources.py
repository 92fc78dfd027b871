"""Printers of the other built-in kinds: services, ingresses, namespaces, nodes, events,
configmaps, secrets, serviceaccounts, persistentvolumeclaims, CRDs."""

from __future__ import annotations

from typing import Any

from .columns import (
    AGE,
    INT,
    NAME,
    Cells,
    Printer,
    age,
    age_of,
    col,
    meta_of,
    name_of,
    pairs,
    wide,
)

JSON = dict[str, Any]


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
        name_of(s),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        external,
        ports,
        age_of(s),
        pairs(spec.get("selector")),
    ]


def _ing_cells(i: JSON) -> Cells:
    spec = i.get("spec") or {}
    hosts = ",".join(r.get("host", "*") for r in spec.get("rules") or []) or "*"
    lb = ((i.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(x.get("ip") or x.get("hostname", "") for x in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [name_of(i), spec.get("ingressClassName") or "<none>", hosts, address, ports, age_of(i)]


def _ns_cells(n: JSON) -> Cells:
    return [name_of(n), (n.get("status") or {}).get("phase", "Active"), age_of(n)]


def _node_cells(n: JSON) -> Cells:
    st = n.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    status = "Ready" if conds.get("Ready") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = meta_of(n).get("labels") or {}
    roles = (
        ",".join(
            sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        )
        or "<none>"
    )
    info = st.get("nodeInfo") or {}
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    return [
        name_of(n),
        status,
        roles,
        age_of(n),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _event_cells(e: JSON) -> Cells:
    inv = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime") or meta_of(e).get("creationTimestamp")
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
        name_of(e),
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
        name_of(p),
        st.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (st.get("capacity") or {}).get("storage", ""),
        ",".join(modes.get(m, m) for m in st.get("accessModes") or []),
        spec.get("storageClassName") or "<unset>",
        "<unset>",
        age_of(p),
    ]


PRINTERS: dict[str, Printer] = {
    "services": (
        [
            NAME,
            col("Type"),
            col("Cluster-IP"),
            col("External-IP"),
            col("Port(s)"),
            AGE,
            wide("Selector"),
        ],
        _svc_cells,
    ),
    "ingresses.networking.k8s.io": (
        [NAME, col("Class"), col("Hosts"), col("Address"), col("Ports"), AGE],
        _ing_cells,
    ),
    "namespaces": ([NAME, col("Status"), AGE], _ns_cells),
    "nodes": (
        [
            NAME,
            col("Status"),
            col("Roles"),
            AGE,
            col("Version"),
            wide("Internal-IP"),
            wide("External-IP"),
            wide("OS-Image"),
            wide("Kernel-Version"),
            wide("Container-Runtime"),
        ],
        _node_cells,
    ),
    "events": (
        [
            col("Last Seen"),
            col("Type"),
            col("Reason"),
            col("Object"),
            wide("Subobject"),
            wide("Source"),
            col("Message"),
            wide("First Seen"),
            wide("Count", INT),
            wide("Name"),
        ],
        _event_cells,
    ),
    "configmaps": (
        [NAME, col("Data", INT), AGE],
        lambda o: [name_of(o), _data_count(o), age_of(o)],
    ),
    "secrets": (
        [NAME, col("Type"), col("Data", INT), AGE],
        lambda o: [name_of(o), o.get("type", "Opaque"), _data_count(o), age_of(o)],
    ),
    "serviceaccounts": (
        [NAME, col("Secrets", INT), AGE],
        lambda o: [name_of(o), len(o.get("secrets") or []), age_of(o)],
    ),
    "persistentvolumeclaims": (
        [
            NAME,
            col("Status"),
            col("Volume"),
            col("Capacity"),
            col("Access Modes"),
            col("StorageClass"),
            col("VolumeAttributesClass"),
            AGE,
        ],
        _pvc_cells,
    ),
    "customresourcedefinitions.apiextensions.k8s.io": (
        [NAME, col("Created At", "date")],
        lambda o: [name_of(o), meta_of(o).get("creationTimestamp", "")],
    ),
}
