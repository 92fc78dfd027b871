"""`meta.k8s.io/v1` Table output for `kubectl get`, with the columns kube-apiserver prints:
whether a client asked for a Table, which printer serves a resource (`printers/` for the
built-in kinds, a CRD's additionalPrinterColumns otherwise), and the Table itself."""

from __future__ import annotations

from typing import Any

from .printers import PRINTERS
from .printers.columns import AGE, NAME, Cells, Printer, age, age_of, col, name_of
from .selectors import field_value

JSON = dict[str, Any]


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
                col(
                    c.get("name", ""),
                    c.get("type", "string"),
                    int(c.get("priority", 0)),
                    desc=c.get("description", ""),
                )
                for c in cols_spec
            ]

            def cells(o: JSON) -> Cells:
                out: Cells = [name_of(o)]
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
                return cols, lambda o: [*cells(o), age_of(o)]
            return cols, cells
    return [NAME, AGE], lambda o: [name_of(o), age_of(o)]


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
