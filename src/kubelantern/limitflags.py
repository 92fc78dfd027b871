"""`kubelantern serve`'s connection limits: how long a client may take to send its request
headers, how long an idle keep-alive connection is kept, how many client connections are
served at once (web/connguard.py)."""

from __future__ import annotations

import argparse
from typing import Any

from kubelantern.filelimits import FileLimit, connections_for, raise_open_file_limit
from kubelantern.settings import Settings


def add_limit_flags(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("client connections")
    group.add_argument(
        "--header-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="close a connection that has not sent complete request headers within this long "
        "(default: 30)",
    )
    group.add_argument(
        "--keepalive-timeout",
        type=float,
        default=75.0,
        metavar="SECONDS",
        help="close an idle keep-alive connection after this long (default: 75)",
    )
    group.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="serve at most N client connections at once; more get an immediate 503 "
        "(default: sized from the open-file limit, which serve raises to the hard limit)",
    )


def limit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields these flags set; ValueError with a one-line reason."""
    if not 0 < args.header_timeout <= 3600:
        raise ValueError(
            f"--header-timeout must be > 0 and ≤ 3600 seconds, got {args.header_timeout}"
        )
    if not 0 < args.keepalive_timeout <= 86_400:
        raise ValueError(
            f"--keepalive-timeout must be > 0 and ≤ 86400 seconds, got {args.keepalive_timeout}"
        )
    if args.max_connections is not None and args.max_connections < 1:
        raise ValueError(f"--max-connections must be at least 1, got {args.max_connections}")
    return {
        "header_timeout": float(args.header_timeout),
        "keepalive_timeout": float(args.keepalive_timeout),
        "max_connections": args.max_connections,
    }


def apply_file_limit(settings: Settings) -> FileLimit:
    """At `serve` start: the soft open-file limit raised to the hard one, and the default
    `--max-connections` sized from it."""
    limit = raise_open_file_limit()
    if settings.max_connections is None:
        settings.max_connections = connections_for(limit.soft)
    return limit
