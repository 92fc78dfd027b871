"""Run the simulators and kubelantern for UI development: `python -m tests.e2e.devserver`.

Prints the launch URL (a free loopback port each time); serves until interrupted.
The same set-up the browser tests use.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from kubelantern.settings import Settings
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.pki import make_pki
from tests.harness.stack import start_kubelantern, start_sim


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kubelantern-dev-"))
    pki = make_pki(tmp)
    sims = [start_sim(pki, p) for p in ("kubernetes", "rancher", "legacy", "openshift")]
    kubeconfig = write_kubeconfig(tmp / "config", [s.context for s in sims])
    token = "devtoken"
    server = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=token))
    print(f"{server.url}/?token={token}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
        for s in sims:
            s.server.stop()


if __name__ == "__main__":
    main()
