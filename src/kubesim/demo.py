"""One simulator per profile on loopback: the clusters behind `kubelantern serve --demo`.

Plain data out (`DemoCluster`): the product turns them into its own cluster specs, so the
simulator never imports the product.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .app import make_app
from .config import SimConfig

DEMO_PROFILES = ("kubernetes", "rancher", "openshift", "legacy")


@dataclass(frozen=True)
class DemoCluster:
    """One running demo simulator: where it listens and which token it accepts."""

    name: str
    profile: str
    server: str  # URL including the profile's path prefix (Rancher's /k8s/clusters/<id>)
    token: str
    app: web.Application


@dataclass
class Demo:
    clusters: list[DemoCluster] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)

    @property
    def apps(self) -> dict[str, web.Application]:
        return {c.name: c.app for c in self.clusters}

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
            demo.clusters.append(
                DemoCluster(
                    name=f"demo-{profile}",
                    profile=profile,
                    server=f"http://{shown}:{port}{prefix}",
                    token=token,
                    app=app,
                )
            )
    except BaseException:
        await demo.close()
        raise
    return demo
