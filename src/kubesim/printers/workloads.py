"""Printers of the workload kinds: pods (STATUS as the apiserver's printPod reasons it),
deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..params import parse_rfc3339
from .columns import (
    AGE,
    INT,
    NAME,
    TEMPLATE_COLUMNS,
    Cells,
    Printer,
    age,
    age_of,
    col,
    human_duration,
    meta_of,
    name_of,
    pairs,
    template_cells,
    wide,
)

JSON = dict[str, Any]


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
    if meta_of(pod).get("deletionTimestamp"):
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
        name_of(pod),
        f"{ready}/{total}",
        pod_status_reason(pod),
        restart_cell,
        age_of(pod),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _deploy_cells(d: JSON) -> Cells:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    return [
        name_of(d),
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        age_of(d),
        *template_cells(spec),
    ]


def _rs_cells(r: JSON) -> Cells:
    spec, st = r.get("spec") or {}, r.get("status") or {}
    return [
        name_of(r),
        spec.get("replicas", 1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age_of(r),
        *template_cells(spec),
    ]


def _sts_cells(s: JSON) -> Cells:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    return [
        name_of(s),
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        age_of(s),
        *template_cells(spec)[:2],  # kubectl prints no SELECTOR for a StatefulSet
    ]


def _ds_cells(d: JSON) -> Cells:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [
        name_of(d),
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        pairs(sel),
        age_of(d),
        *template_cells(spec),
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
        name_of(j),
        state,
        f"{st.get('succeeded', 0)}/{spec.get('completions', 1)}",
        duration,
        age_of(j),
        *template_cells(spec),
    ]


def _cronjob_cells(c: JSON) -> Cells:
    spec, st = c.get("spec") or {}, c.get("status") or {}
    last = st.get("lastScheduleTime")
    return [
        name_of(c),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        str(bool(spec.get("suspend", False))),
        len(st.get("active") or []),
        age(last) if last else "<none>",
        age_of(c),
    ]


PRINTERS: dict[str, Printer] = {
    "pods": (
        [
            NAME,
            col("Ready"),
            col("Status"),
            col("Restarts", "string"),
            AGE,
            wide("IP"),
            wide("Node"),
            wide("Nominated Node"),
            wide("Readiness Gates"),
        ],
        _pod_cells,
    ),
    "deployments.apps": (
        [
            NAME,
            col("Ready"),
            col("Up-to-date", INT),
            col("Available", INT),
            AGE,
            *TEMPLATE_COLUMNS,
        ],
        _deploy_cells,
    ),
    "replicasets.apps": (
        [
            NAME,
            col("Desired", INT),
            col("Current", INT),
            col("Ready", INT),
            AGE,
            *TEMPLATE_COLUMNS,
        ],
        _rs_cells,
    ),
    "statefulsets.apps": (
        [NAME, col("Ready"), AGE, *TEMPLATE_COLUMNS[:2]],
        _sts_cells,
    ),
    "daemonsets.apps": (
        [
            NAME,
            col("Desired", INT),
            col("Current", INT),
            col("Ready", INT),
            col("Up-to-date", INT),
            col("Available", INT),
            col("Node Selector"),
            AGE,
            *TEMPLATE_COLUMNS,
        ],
        _ds_cells,
    ),
    "jobs.batch": (
        [
            NAME,
            col("Status"),
            col("Completions"),
            col("Duration"),
            AGE,
            *TEMPLATE_COLUMNS,
        ],
        _job_cells,
    ),
    "cronjobs.batch": (
        [
            NAME,
            col("Schedule"),
            col("Timezone"),
            col("Suspend", "boolean"),
            col("Active", INT),
            col("Last Schedule"),
            AGE,
        ],
        _cronjob_cells,
    ),
}
