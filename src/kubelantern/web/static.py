"""The SPA: files from `web/static/` (built by `make install`), index.html for app routes.

Hashed files under `assets/` are cached for a year; index.html is never cached, so a new
build shows up on reload. Nothing is injected into the HTML (the CSP forbids inline
script): the SPA reads `api/config` with a relative URL.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from kubelantern.status import status_response

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# Missing files with these suffixes are 404s, not the SPA (pod names may hold dots, so
# only known asset suffixes count).
ASSET_SUFFIXES = frozenset(
    {"js", "mjs", "css", "map", "png", "svg", "ico", "jpg", "webp", "woff", "woff2", "ttf", "wasm"}
)

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kubelantern</title></head>
<body style="font:16px system-ui,sans-serif;max-width:40em;margin:4em auto">
<h1>kubelantern is running, but its web app is not built</h1>
<p>Build it with <code>make install</code> (or <code>cd frontend &amp;&amp; npm ci &amp;&amp;
npm run build</code>) and reload. The proxy works already:
<code>/clusters/&lt;context&gt;/api/...</code>, and <code>/api/clusters</code> lists
the clusters.</p></body></html>
"""


_ROOT_URL_ATTR = re.compile(r'(\s(?:src|href)=["\'])/(?!/)')


def rewrite_index(html: str, base: str) -> str:
    """index.html for a server under `base`: root-absolute `src`/`href` get the prefix.

    The build uses absolute asset URLs so deep links (`/c/x/pods/...`) load them; under
    --base-url they must point below the prefix. No script is injected (CSP).
    """
    if not base:
        return html
    return _ROOT_URL_ATTR.sub(lambda m: f"{m.group(1)}{base}/", html)


def resolve_file(root: Path, rel: str) -> Path | None:
    """The file under `root` that `rel` names, or None (never anything outside `root`)."""
    rel = rel.lstrip("/")
    if not rel or "\0" in rel or "\\" in rel:
        return None
    candidate = (root / rel).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def make_handler(root: Path = STATIC_DIR, base: str = "") -> Handler:
    cached: dict[float, str] = {}  # mtime -> rewritten index.html (only under a base URL)

    def rewritten(index: Path) -> str:
        mtime = index.stat().st_mtime
        if mtime not in cached:
            cached.clear()
            cached[mtime] = rewrite_index(index.read_text(encoding="utf-8"), base)
        return cached[mtime]

    async def spa(request: web.Request) -> web.StreamResponse:
        rel = request.match_info.get("path", "")
        if rel.startswith(("api/", "clusters/")) or rel in ("api", "clusters"):
            return status_response(404, f"not found: {request.path}")
        # Path checks touch the disk: keep them off the event loop.
        found = await asyncio.to_thread(resolve_file, root, rel)
        if found is not None and found.name != "index.html":
            cache = IMMUTABLE if rel.startswith("assets/") else "no-cache"
            return web.FileResponse(found, headers={"Cache-Control": cache})
        if rel.startswith("assets/") or rel.rsplit(".", 1)[-1].lower() in ASSET_SUFFIXES:
            # A missing asset must not become index.html (the browser would parse HTML as JS).
            return web.Response(status=404, text=f"not found: {rel}\n")
        index = root / "index.html"
        if not await asyncio.to_thread(index.is_file):
            return web.Response(text=_NOT_BUILT, content_type="text/html")
        if base:
            return web.Response(
                text=await asyncio.to_thread(rewritten, index),
                content_type="text/html",
                headers={"Cache-Control": "no-cache"},
            )
        return web.FileResponse(
            index, headers={"Cache-Control": "no-cache", "Content-Type": "text/html"}
        )

    return spa


def add_routes(app: web.Application, base: str, root: Path = STATIC_DIR) -> None:
    handler = make_handler(root, base)
    if base:

        async def to_base(request: web.Request) -> web.StreamResponse:
            qs = request.rel_url.raw_query_string
            raise web.HTTPFound(base + "/" + (f"?{qs}" if qs else ""))

        app.router.add_get(base, to_base)
    app.router.add_get(f"{base}/{{path:.*}}", handler)
