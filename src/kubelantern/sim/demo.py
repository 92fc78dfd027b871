"""The built-in demo: one simulator per profile on loopback, for `kubelantern serve --demo`."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from ..clusters.spec import AuthSpec, ClusterSpec
from .app import make_app
from .config import SimConfig

DEMO_PROFILES = ("kubernetes", "rancher", "openshift", "legacy")


@dataclass
class Demo:
    specs: list[ClusterSpec] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)
    apps: dict[str, web.Application] = field(default_factory=dict)  # cluster name -> sim app

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        self.runners.clear()


async def start_demo(host: str = "127.0.0.1") -> Demo:
    """Start the demo simulators in the running loop, over plain HTTP on ephemeral ports."""
    demo = Demo()
    try:
        for profile in DEMO_PROFILES:
            config = SimConfig(
                profile=profile, pod_startup_seconds=2.0, pod_termination_seconds=3.0
            )
            app = make_app(config)
            runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
            await runner.setup()
            site = web.TCPSite(runner, host, 0)
            await site.start()
            demo.runners.append(runner)
            port = int(runner.addresses[-1][1])
            shown = f"[{host}]" if ":" in host else host
            prefix = f"/k8s/clusters/{config.cluster_id}" if profile == "rancher" else ""
            token = next(t for t in config.tokens if (":" in t) == (profile == "rancher"))
            name = f"demo-{profile}"
            demo.apps[name] = app
            demo.specs.append(
                ClusterSpec(
                    name=name,
                    server=f"http://{shown}:{port}{prefix}",
                    cluster_name=name,
                    user_name=f"{name}-admin",
                    namespace="shop",
                    auth=AuthSpec(token=token),
                    # No profile override: kubelantern detects each one, as for real clusters.
                    source="built-in demo",
                )
            )
    except BaseException:
        await demo.close()
        raise
    return demo
