"""The Table printers of the built-in kinds (and OpenShift's API groups), by resource key: a
printer is its columns and a function from one object to its cells (`columns.py`), one module
per family of kinds.
Custom resources get theirs from the CRD (`tables.printer_for`)."""

from __future__ import annotations

from .columns import Printer
from .openshift import PRINTERS as _OPENSHIFT
from .resources import PRINTERS as _RESOURCES
from .workloads import PRINTERS as _WORKLOADS

PRINTERS: dict[str, Printer] = {**_WORKLOADS, **_RESOURCES, **_OPENSHIFT}
