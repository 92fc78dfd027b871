"""`POST /api/clusters/{name}/doctor`: `kubelantern doctor`'s checks for one cluster, from
the cluster page ("Run checks"), answering the JSON of `kubelantern doctor NAME --json`.

Doctor acts with the kubeconfig's credentials (it runs `echo` in a pod with each
WebSocket strategy), so it is served in local mode only: in team mode a user must not
borrow kubelantern's identity for it. POST: it runs a command in a pod (the security
middleware checks Origin on every non-GET). One run per cluster at a time; a second
request waits for the same run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from aiohttp import web

from kubelantern.status import status_response
from kubelantern.web import keys
from kubelantern.web.api import cluster_from

if TYPE_CHECKING:
    from kubelantern.doctor.report import ClusterReport


class DoctorRuns:
    def __init__(self) -> None:
        self.inflight: dict[str, asyncio.Task[ClusterReport]] = {}

    async def close(self) -> None:
        tasks = list(self.inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


RUNS: Final = web.AppKey("doctor_runs", DoctorRuns)


def local_mode(request: web.Request) -> bool:
    s = request.app[keys.SETTINGS]
    return not (s.in_cluster or s.oidc or s.auth_header)


async def doctor(request: web.Request) -> web.Response:
    if not local_mode(request):
        return status_response(
            403,
            "the checks run with kubelantern's own credentials: served in local mode only; "
            "run `kubelantern doctor` where kubelantern runs",
        )
    found = cluster_from(request)
    if isinstance(found, web.Response):
        return found
    cluster = found
    # The checks load on the first run, not with every `serve` (issue 12: start-up).
    from kubelantern.doctor.checks import check_cluster
    from kubelantern.doctor.report import report_json

    runs = request.app[RUNS]
    task = runs.inflight.get(cluster.name)
    if task is None:
        task = asyncio.get_running_loop().create_task(check_cluster(cluster))
        runs.inflight[cluster.name] = task
        task.add_done_callback(lambda _: runs.inflight.pop(cluster.name, None))
    report = await asyncio.shield(task)
    # What the checks learned (the profile, a working credential) holds for the pages too.
    request.app[keys.PROBER].forget(cluster.name)
    return web.json_response(report_json([report]), headers={"Cache-Control": "no-store"})


async def _close(app: web.Application) -> None:
    await app[RUNS].close()


def add_routes(app: web.Application, base: str) -> None:
    app[RUNS] = DoctorRuns()
    app.on_cleanup.append(_close)
    app.router.add_post(f"{base}/api/clusters/{{name:.+}}/doctor", doctor)
