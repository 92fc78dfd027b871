"""Times plain requests from a process of its own (so the test's busy event loop does not
count as server latency): `python -m tests.harness.latencyprobe URL CLUSTERS_URL NAME`.

Until stdin closes it GETs URL over one kept-alive connection, and every fifth time
CLUSTERS_URL (the cluster NAME's state); with DIRECT_URL (https, CA file and bearer token
in LATENCYPROBE_CA and LATENCYPROBE_TOKEN) also the same list straight from the cluster
after each GET, as the baseline. One JSON line per request on stdout:
{"start": <time.monotonic()>, "seconds": ..., "status": ..., "what":
"get"|"direct"|"clusters", "state": ...}. time.monotonic() is the system's
CLOCK_MONOTONIC, the same in every process.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import ssl
import sys
import time
from urllib.parse import urlsplit


def _get(conn: http.client.HTTPConnection, target: str) -> tuple[int, bytes]:
    conn.request("GET", target)
    resp = conn.getresponse()
    return resp.status, resp.read()


def main(url: str, clusters_url: str, name: str, direct_url: str | None = None) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    c = urlsplit(clusters_url)
    clusters_target = c.path + (f"?{c.query}" if c.query else "")
    direct: http.client.HTTPSConnection | None = None
    direct_target = ""
    if direct_url:
        d = urlsplit(direct_url)
        tls = ssl.create_default_context(cafile=os.environ["LATENCYPROBE_CA"])
        direct = http.client.HTTPSConnection(d.hostname or "", d.port, timeout=120, context=tls)
        direct_target = d.path + (f"?{d.query}" if d.query else "")
    token = os.environ.get("LATENCYPROBE_TOKEN", "")
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
        if direct is not None and what == "get":
            start = time.monotonic()
            try:
                direct.request("GET", direct_target, headers={"Authorization": f"Bearer {token}"})
                resp = direct.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                status = 0
                direct.close()
            seconds = time.monotonic() - start
            print(json.dumps({"start": start, "seconds": seconds, "status": status,
                              "what": "direct"}), flush=True)  # fmt: skip
        i += 1


if __name__ == "__main__":
    main(*sys.argv[1:5])
