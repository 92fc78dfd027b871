"""Port-forward (local mode): `target` finds what a forward points at, `manager` runs the
local listeners and pumps bytes over the upstream WebSocket."""

from kubelantern.proxy.portforward.manager import Forward, PortForwards
from kubelantern.proxy.portforward.target import (
    PortForwardError,
    label_selector,
    parse_port,
    resolve_container_port,
    service_target,
)

__all__ = [
    "Forward",
    "PortForwardError",
    "PortForwards",
    "label_selector",
    "parse_port",
    "resolve_container_port",
    "service_target",
]
