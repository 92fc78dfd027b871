"""Printers of the OpenShift API groups, with the columns `oc get` shows (openshift-apiserver's
printers): routes, projects, deploymentconfigs."""

from __future__ import annotations

from typing import Any

from .columns import INT, NAME, Cells, Printer, col, name_of

JSON = dict[str, Any]


def _route_cells(r: JSON) -> Cells:
    spec = r.get("spec") or {}
    admitted = any(
        c.get("type") == "Admitted" and c.get("status") == "True"
        for i in (r.get("status") or {}).get("ingress") or []
        for c in i.get("conditions") or []
    )
    host = spec.get("host", "")
    to = spec.get("to") or {}
    services = [to.get("name", "")] + [
        b.get("name", "") for b in spec.get("alternateBackends") or []
    ]
    tls = spec.get("tls") or {}
    termination = tls.get("termination", "")
    if termination and tls.get("insecureEdgeTerminationPolicy"):
        termination += f"/{tls['insecureEdgeTerminationPolicy']}"
    return [
        name_of(r),
        host if admitted else f"{host} ... not admitted",
        spec.get("path", ""),
        ",".join(s for s in services if s),
        str((spec.get("port") or {}).get("targetPort", "<all>")),
        termination,
        spec.get("wildcardPolicy", "None"),
    ]


def _project_cells(p: JSON) -> Cells:
    annotations = (p.get("metadata") or {}).get("annotations") or {}
    return [
        name_of(p),
        annotations.get("openshift.io/display-name", ""),
        (p.get("status") or {}).get("phase", ""),
    ]


def _dc_cells(d: JSON) -> Cells:
    spec = d.get("spec") or {}
    status = d.get("status") or {}
    triggers = [t.get("type", "") for t in spec.get("triggers") or []]
    return [
        name_of(d),
        status.get("latestVersion", 0),
        spec.get("replicas", 0),
        status.get("replicas", 0),
        ",".join(t.lower() for t in triggers) or "manual",
    ]


PRINTERS: dict[str, Printer] = {
    "routes.route.openshift.io": (
        [
            NAME,
            col("Host/Port"),
            col("Path"),
            col("Services"),
            col("Port"),
            col("Termination"),
            col("Wildcard"),
        ],
        _route_cells,
    ),
    "projects.project.openshift.io": (
        [NAME, col("Display Name"), col("Status")],
        _project_cells,
    ),
    "deploymentconfigs.apps.openshift.io": (
        [NAME, col("Revision", INT), col("Desired", INT), col("Current", INT), col("Triggered By")],
        _dc_cells,
    ),
}
