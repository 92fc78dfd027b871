"""The floor under kubelantern's start-up: the least a Python + asyncio + aiohttp reverse proxy
does before its first answer (import aiohttp, read a kubeconfig with PyYAML, one SSL context,
listen, forward one GET over TLS). bench/startup.py starts it like kubelantern, so that
"kubelantern - floor" is what kubelantern itself adds to a start.

    python -m bench._floor KUBECONFIG --port N    # serves /clusters/<context>/<path>
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import sys

import yaml
from aiohttp import ClientSession, web


def main(argv: list[str]) -> None:
    config, port = argv[0], int(argv[1].removeprefix("--port="))
    with open(config) as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    clusters = {c["name"]: c["cluster"] for c in doc["clusters"]}
    users = {u["name"]: u["user"] for u in doc["users"]}
    routes = {}
    for ctx in doc["contexts"]:
        cluster, user = clusters[ctx["context"]["cluster"]], users[ctx["context"]["user"]]
        routes[ctx["name"]] = (cluster, user["token"])
    contexts: dict[str, ssl.SSLContext] = {}

    async def serve() -> None:
        session = ClientSession()

        async def handler(request: web.Request) -> web.Response:
            name, _, rest = request.match_info["tail"].partition("/")
            cluster, token = routes[name]
            ctx = contexts.get(name)
            if ctx is None:
                ctx = contexts[name] = ssl.create_default_context(
                    cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
                )
            url, auth = f"{cluster['server']}/{rest}", {"Authorization": f"Bearer {token}"}
            async with session.get(url, ssl=ctx, headers=auth) as r:
                return web.Response(status=r.status, body=await r.read())

        app = web.Application()
        app.router.add_get("/clusters/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
