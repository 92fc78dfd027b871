"""The simulator's streaming side: exec/attach, port-forward and logs over WebSocket.

The HTTP app (`kubesim`) authenticates, finds the pod, then hands over:

- `handle_exec(request, state, pod, attach=...)` for `.../pods/{name}/exec` and `/attach`;
- `handle_portforward(request, state, pod)` for `.../pods/{name}/portforward`;
- `handle_log_websocket(request, state, chunks)` for a `/log` request that is an upgrade.

Simulated containers run `shell.Shell`, a small interpreter over an in-memory filesystem;
no real process or file of this machine is ever involved.
"""

from .exec import handle_exec, supports_v5
from .logsocket import handle_log_websocket
from .portforward import handle_portforward
from .wsio import is_websocket

__all__ = [
    "handle_exec",
    "handle_log_websocket",
    "handle_portforward",
    "is_websocket",
    "supports_v5",
]
