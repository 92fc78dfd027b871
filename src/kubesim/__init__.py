"""kubesim: an in-process Kubernetes API simulator on real sockets.

Profiles `kubernetes`, `rancher`, `legacy`, `openshift` reproduce each distribution's front door
(authentication, Rancher's path prefix and Origin rule, discovery, versions). Nothing here runs
commands on this machine: exec/attach talk to a fake shell (see `sim.streaming`).

    app = make_app(SimConfig(profile="rancher"))
    state = state_of(app)  # .store, .requests (what reached the simulator), .config
"""

from .app import make_app
from .config import SimConfig
from .podlogs import LogOptions, parse_log_options, prepare_pod_log
from .profiles import SIM_PROFILES, SimProfile
from .state import RecordedRequest, SimState, state_of

__all__ = [
    "SIM_PROFILES",
    "LogOptions",
    "RecordedRequest",
    "SimConfig",
    "SimProfile",
    "SimState",
    "make_app",
    "parse_log_options",
    "prepare_pod_log",
    "state_of",
]
