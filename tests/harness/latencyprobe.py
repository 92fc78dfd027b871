"""Times plain requests from a process of its own (so the test's busy event loop does not
count as server latency): `python -m tests.harness.latencyprobe URL CLUSTERS_URL NAME`.

Until stdin closes it GETs URL over one kept-alive connection, and every fifth time
CLUSTERS_URL (the cluster NAME's state); one JSON line per request on stdout:
{"start": <time.monotonic()>, "seconds": ..., "status": ..., "what": "get"|"clusters",
"state": ...}. time.monotonic() is the system's CLOCK_MONOTONIC, the same in every process.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import sys
import time
from urllib.parse import urlsplit


def _get(conn: http.client.HTTPConnection, target: str) -> tuple[int, bytes]:
    conn.request("GET", target)
    resp = conn.getresponse()
    return resp.status, resp.read()


def main(url: str, clusters_url: str, name: str) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    c = urlsplit(clusters_url)
    clusters_target = c.path + (f"?{c.query}" if c.query else "")
    i = 0
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.05)
        if ready and not os.read(sys.stdin.fileno(), 1024):
            return  # stdin closed: stop
        what, path = ("clusters", clusters_target) if i % 5 == 4 else ("get", target)
        start = time.monotonic()
        try:
            status, body = _get(conn, path)
        except (OSError, http.client.HTTPException) as e:  # said, not fatal: a line too
            status, body = 0, repr(e).encode()
            conn.close()  # the next request connects anew
        line: dict[str, object] = {
            "start": start,
            "seconds": time.monotonic() - start,
            "status": status,
            "what": what,
        }
        if what == "clusters" and status == 200:
            line["state"] = next((c["state"] for c in json.loads(body) if c["name"] == name), None)
        elif status != 200:
            line["body"] = body[:300].decode(errors="replace")
        print(json.dumps(line), flush=True)
        i += 1


if __name__ == "__main__":
    main(*sys.argv[1:4])
