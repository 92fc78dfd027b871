"""`python -m kubesim --profile rancher --port 0`: serve one simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import sys
from asyncio import sslproto

from aiohttp import web

from .app import make_app
from .config import SimConfig
from .profiles import SIM_PROFILES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kubesim", description=__doc__)
    p.add_argument("--profile", default="kubernetes", choices=sorted(SIM_PROFILES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    p.add_argument(
        "--tls-read-buffer",
        type=int,
        default=0,
        metavar="BYTES",
        help="read buffer per TLS connection (default: asyncio's 256 KiB); benchmarks with "
        "thousands of idle connections set it small, so the simulator's own memory "
        "(256 KiB for each of them) does not bound the run",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cluster-id", default="c-m-abc12", help="Rancher cluster id in the path")
    p.add_argument("--bulk-pods", type=int, default=0, help="extra Running pods (scale work)")
    p.add_argument("--bulk-namespaces", type=int, default=200, help="namespaces they spread over")
    return p


async def _serve(args: argparse.Namespace) -> None:
    config = SimConfig(
        profile=args.profile,
        seed=args.seed,
        cluster_id=args.cluster_id,
        bulk_pods=args.bulk_pods,
        bulk_namespaces=args.bulk_namespaces,
    )
    ctx: ssl.SSLContext | None = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    runner = web.AppRunner(make_app(config))
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, ssl_context=ctx)
    await site.start()
    port = int(runner.addresses[0][1])
    scheme = "https" if ctx else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    prefix = f"/k8s/clusters/{config.cluster_id}" if args.profile == "rancher" else ""
    token = next(
        (t for t in config.tokens if (":" in t) == (args.profile == "rancher")),
        next(iter(config.tokens)),
    )
    print(
        f"kubelantern simulator ({args.profile}) serving {scheme}://{host}:{port}{prefix}",
        flush=True,
    )
    print(f"token: {token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    if args.tls_read_buffer:
        if not 1024 <= args.tls_read_buffer <= 16 * 1024 * 1024:
            print("error: --tls-read-buffer between 1024 and 16777216 bytes", file=sys.stderr)
            return 2
        # asyncio sizes each TLS connection's read buffer (and its decrypted reads) by this
        # class attribute; this process is the simulator alone, so setting it is contained.
        sslproto.SSLProtocol.max_size = args.tls_read_buffer
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
