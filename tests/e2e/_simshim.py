"""Until `kubelantern.sim` re-exports SimConfig/make_app/state_of (tests/conftest.py expects
them there), take them from their modules. A no-op once the package exports them."""

from __future__ import annotations

import kubelantern.sim as _sim

if not hasattr(_sim, "SimConfig"):
    from kubelantern.sim.app import make_app, state_of
    from kubelantern.sim.config import SimConfig

    _sim.SimConfig = SimConfig  # type: ignore[attr-defined]
    _sim.make_app = make_app  # type: ignore[attr-defined]
    _sim.state_of = state_of  # type: ignore[attr-defined]
