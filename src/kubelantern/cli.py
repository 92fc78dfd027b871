"""`kubelantern serve / clusters / doctor`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from kubelantern import __version__
from kubelantern.identity.modes import is_loopback
from kubelantern.identity.sessions import Sealer, SessionSecretError
from kubelantern.limitflags import add_limit_flags, apply_file_limit, limit_settings
from kubelantern.servetls import forget_instance, serve_tls
from kubelantern.sessionflags import add_session_flags, session_settings
from kubelantern.settings import Settings
from kubelantern.teamflags import add_team_flags, serve_mode, team_settings

DEFAULT_PORT = 4477
TOKEN_ENV = "KUBELANTERN_TOKEN"


class UsageError(Exception):
    """Bad flags; the message says which and what to do."""


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """`CLUSTER=NAME` flags → dict. Cluster names may hold `/ : @`, values never hold `=`."""
    out: dict[str, str] = {}
    for value in values or []:
        cluster, sep, name = value.rpartition("=")
        if not sep or not cluster or not name:
            raise UsageError(f"{flag} expects CLUSTER=NAME, got {value!r}")
        out[cluster] = name
    return out


def _add_kubeconfig_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kubeconfig",
        action="append",
        metavar="PATH",
        help="kubeconfig file (repeatable; default: $KUBECONFIG, then ~/.kube/config)",
    )
    p.add_argument(
        "--context",
        action="append",
        metavar="NAME",
        help="serve only this context (repeatable; default: every context)",
    )
    p.add_argument(
        "--in-cluster",
        action="store_true",
        help="use the pod's service account cluster; users log in with their own token",
    )
    p.add_argument("--profile", action="append", metavar="CLUSTER=NAME", help="pin a profile")
    p.add_argument("--strategy", action="append", metavar="CLUSTER=NAME|auto", help="pin one")
    p.add_argument(
        "--exec-plugin-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="kill an exec credential plugin (and its children) after this long (default: 60)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="log verbosity (default: info)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubelantern",
        description="Kubernetes web UI and multi-cluster proxy whose logs and terminals connect.",
    )
    parser.add_argument("--version", action="version", version=f"kubelantern {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the web UI and the cluster proxy")
    _add_kubeconfig_flags(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0: any)"
    )
    serve.add_argument(
        "--tls-port",
        type=int,
        metavar="PORT",
        help="also serve HTTPS on PORT (0: any) with a local CA, for kubectl with the launch "
        "token; then run `kubelantern kubeconfig`",
    )
    token = serve.add_mutually_exclusive_group()
    token.add_argument(
        "--token", help=f"launch token (default: ${TOKEN_ENV}, else a random one per start)"
    )
    token.add_argument(
        "--no-token",
        action="store_true",
        help="no launch token (anyone who can connect can use it)",
    )
    serve.add_argument("--demo", action="store_true", help="serve the built-in demo clusters")
    serve.add_argument(
        "--base-url", default="", metavar="/PREFIX", help="serve under a path prefix"
    )
    serve.add_argument(
        "--allow-host", action="append", metavar="HOST", help="accept this Host header too"
    )
    serve.add_argument(
        "--allow-origin", action="append", metavar="ORIGIN", help="accept this Origin too"
    )

    add_team_flags(serve)
    add_session_flags(serve)
    add_limit_flags(serve)

    clusters = sub.add_parser("clusters", help="list the clusters kubelantern would serve")
    _add_kubeconfig_flags(clusters)
    clusters.add_argument("--json", action="store_true", help="JSON output")

    kubeconfig = sub.add_parser(
        "kubeconfig",
        help="write a kubeconfig for kubectl through the running `serve --tls-port`",
    )
    kubeconfig.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (mode 0600) instead of stdout"
    )

    doctor = sub.add_parser("doctor", help="check each cluster: reachability, logs, exec")
    _add_kubeconfig_flags(doctor)
    doctor.add_argument("cluster", nargs="?", help="only this cluster (context name)")
    doctor.add_argument("--json", action="store_true", help="JSON output")
    return parser


def normalize_base_url(value: str) -> str:
    value = value.strip()
    if not value or value == "/":
        return ""
    if any(c in value for c in "?#\\ ") or "//" in value:
        raise UsageError(f"--base-url must be a plain path such as /kubelantern, got {value!r}")
    return "/" + value.strip("/")


def settings_from(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """The Settings one command line asks for (pure; env supplies KUBELANTERN_TOKEN and the
    team-mode secrets)."""
    env = dict(os.environ) if env is None else env
    token: str | None = None
    # Team mode (a sign-in method) turns the launch token off unless one is given.
    team = args.command == "serve" and bool(
        args.oidc_issuer_url or args.in_cluster or args.auth_header
    )
    if args.command == "serve":
        if args.no_token or (team and args.token is None and not env.get(TOKEN_ENV)):
            token = None
        elif args.token is not None:
            if not args.token.strip():
                raise UsageError("--token must not be empty (use --no-token to turn it off)")
            token = args.token.strip()
        elif env.get(TOKEN_ENV, "").strip():
            token = env[TOKEN_ENV].strip()
        else:
            token = secrets.token_urlsafe(32)
    settings = Settings(
        kubeconfigs=tuple(Path(p).expanduser() for p in args.kubeconfig or ()),
        contexts=tuple(args.context or ()),
        in_cluster=bool(args.in_cluster),
        profile_overrides=_pairs(args.profile, "--profile"),
        strategy_overrides=_pairs(args.strategy, "--strategy"),  # "auto" = profile order
        launch_token=token,
        log_level=args.log_level,
        exec_plugin_timeout=args.exec_plugin_timeout,
    )
    if not settings.exec_plugin_timeout > 0:
        raise UsageError("--exec-plugin-timeout must be > 0 seconds")
    if args.command == "serve":
        if not 0 <= args.port < 65536:
            raise UsageError(f"--port must be 0..65535, got {args.port}")
        settings.host = args.host
        settings.port = args.port
        if args.tls_port is not None:
            if not 0 <= args.tls_port < 65536:
                raise UsageError(f"--tls-port must be 0..65535, got {args.tls_port}")
            settings.tls_port = args.tls_port
        settings.demo = bool(args.demo)
        settings.base_url = normalize_base_url(args.base_url)
        settings.allowed_hosts = tuple(args.allow_host or ())
        settings.allowed_origins = tuple(args.allow_origin or ())
        try:
            team_fields = team_settings(args, env) | session_settings(args) | limit_settings(args)
        except ValueError as e:
            raise UsageError(str(e)) from None
        for key, value in team_fields.items():
            setattr(settings, key, value)
    return settings


def open_url(settings: Settings, port: int) -> str:
    """The URL to print: loopback when bound to a wildcard, with `?token=` when set."""
    host = settings.host
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{port}{settings.base_url}/"
    if settings.launch_token:
        url += f"?token={settings.launch_token}"
    return url


# -- serve -------------------------------------------------------------------------------


async def serve(settings: Settings, out: TextIO = sys.stdout) -> int:
    from kubelantern.malloc import release_free_memory_periodically
    from kubelantern.web import keys
    from kubelantern.web.app import make_app
    from kubelantern.web.connguard import guarded_sites, runner_for

    runner = runner_for(app := make_app(settings), settings)  # + the keep-alive timeout
    await runner.setup()  # loads the clusters (errors are logged, one line each)
    make_site = guarded_sites(runner, settings)  # header timeout, connection cap
    site = make_site(settings.host, settings.port, None)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        print(
            f"kubelantern: cannot listen on {settings.host}:{settings.port}: {e.strerror or e}"
            " (choose another --port, or 0 for any free port)",
            file=sys.stderr,
        )
        return 1
    port = settings.port
    sockets = getattr(site._server, "sockets", None)  # the real port when --port 0
    if sockets:
        port = sockets[0].getsockname()[1]

    registry = app[keys.REGISTRY]
    names = [c.name for c in registry if c.load_error is None]
    demos = sum(c.spec.origin == "demo" for c in registry)
    demo = ""
    if app[keys.STATE].demo:
        demo = " (built-in demo)" if demos == len(names) else f" ({demos} built-in demo)"
    broken = [c.name for c in registry if c.load_error is not None]
    summary = f"kubelantern {__version__}: {len(names)} cluster(s){demo}: {', '.join(names)}"
    if broken:
        summary += f"; {len(broken)} not usable (errors logged): {', '.join(broken)}"
    print(summary, file=out)
    if not is_loopback(settings.host) and serve_mode(settings).name == "local":
        print(
            f"WARNING: listening on {settings.host}, not loopback: anyone who can reach this "
            "port can use your cluster credentials"
            + ("" if settings.launch_token else " (and --no-token is set!)"),
            file=out,
        )
    print(f"kubelantern is serving at {open_url(settings, port)}", file=out, flush=True)
    instance_file: Path | None = None
    if settings.tls_port is not None:
        from kubelantern.localtls import LocalTLSError  # cryptography: ~30 ms, only here

        try:
            instance_file = await serve_tls(make_site, settings, out)
        except (OSError, LocalTLSError) as e:
            await runner.cleanup()
            print(f"kubelantern: cannot serve TLS: {e}", file=sys.stderr)
            return 1

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    releaser = asyncio.create_task(release_free_memory_periodically())
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        releaser.cancel()
        print("kubelantern: shutting down", file=out, flush=True)
        if instance_file is not None:
            forget_instance(instance_file)
        # Stops accepting, closes open streams (on_shutdown), then the cluster sessions.
        await runner.cleanup()
    return 0


# -- clusters ----------------------------------------------------------------------------


async def list_clusters(settings: Settings, as_json: bool, out: TextIO = sys.stdout) -> int:
    from kubelantern.clusters.kubeconfig import shown_url
    from kubelantern.clusters.registry import load_registry

    registry = await load_registry(settings)
    try:
        await registry.build_tls()  # serve builds at first use; this lists what a build finds
        rows: list[dict[str, Any]] = []
        for c in registry:
            profile, source = c.profile.name, c.profile_source
            if source == "default" and c.spec.server:
                # Cluster() already read the server URL: it shows no distribution.
                source = "server URL"
            rows.append(
                {
                    "name": c.name,
                    "server": shown_url(c.spec.server),
                    "namespace": c.spec.namespace,
                    "profile": profile,
                    "profileSource": source,
                    "credentials": c.credentials.describe() if c.load_error is None else None,
                    "error": c.load_error,
                }
            )
        named = {c.load_error for c in registry if c.load_error}
        errors = [e for e in registry.errors if e not in named]
    finally:
        await registry.close()
    if as_json:
        print(json.dumps({"clusters": rows, "errors": errors}, indent=2), file=out)
    else:
        if not rows:
            print("no clusters found", file=out)
        width = max((len(r["name"]) for r in rows), default=4)
        for r in rows:
            if r["error"]:
                print(f"{r['name']:<{width}}  ERROR  {r['error']}", file=out)
            else:
                print(
                    f"{r['name']:<{width}}  {r['server']}  profile={r['profile']}  "
                    f"credentials={r['credentials']}",
                    file=out,
                )
        for e in errors:
            print(f"error: {e}", file=out)
    return 0 if rows and not any(r["error"] for r in rows) and not errors else 1


# -- entry point -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "kubeconfig":
        from kubelantern.kubeconfigcmd import write_kubeconfig

        return write_kubeconfig(args.output)
    try:
        settings = settings_from(args)
    except UsageError as e:
        parser.error(str(e))
    from kubelantern.leanimport import import_aiohttp

    import_aiohttp()  # before anything imports it: its default SSL contexts cost ~40 ms
    from kubelantern.eventloop import new_event_loop
    from kubelantern.malloc import tune_malloc
    from kubelantern.web.logs import setup_logging

    setup_logging(settings.log_level, secrets=settings.secrets)
    try:
        if args.command == "serve":
            mode = serve_mode(settings)
            if mode.refusal is not None:
                print(f"kubelantern: {mode.refusal}", file=sys.stderr)
                return 2
            for warning in mode.warnings:
                print(f"WARNING: {warning}", file=sys.stderr)
            if settings.session_secret is not None:
                try:  # a too-short secret: say so now rather than fail inside the server
                    Sealer(settings.session_secret, settings.session_secrets_old)
                except SessionSecretError as e:
                    print(f"kubelantern: {e}", file=sys.stderr)
                    return 2
            tune_malloc()  # before the first TLS and body buffers are allocated
            apply_file_limit(settings)  # soft → hard; sizes the connection cap
            with asyncio.Runner(loop_factory=new_event_loop) as runner:
                return runner.run(serve(settings))
        if args.command == "clusters":
            return asyncio.run(list_clusters(settings, args.json))
        if args.command == "doctor":
            from kubelantern.doctor import run_doctor

            return asyncio.run(run_doctor(settings, args.cluster, args.json))
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
