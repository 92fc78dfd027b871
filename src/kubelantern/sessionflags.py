"""`kubelantern serve`'s exec/attach session flags: the reattach grace period and the
asciicast recordings (`--record-sessions DIR [--record-input]`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_session_flags(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("exec/attach sessions")
    group.add_argument(
        "--session-grace",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="keep a terminal whose connection dropped this long for a reattach (default: 60)",
    )
    group.add_argument(
        "--record-sessions",
        type=Path,
        metavar="DIR",
        help="record every exec/attach session as asciicast v2 under DIR/<cluster>/<day>/",
    )
    group.add_argument(
        "--record-input",
        action="store_true",
        help="also record what users type (passwords too; off by default)",
    )


def session_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields these flags set; ValueError with a one-line reason."""
    if not 0 <= args.session_grace <= 86_400:
        raise ValueError(f"--session-grace must be 0..86400 seconds, got {args.session_grace}")
    if args.record_input and args.record_sessions is None:
        raise ValueError("--record-input needs --record-sessions DIR")
    return {
        "session_grace": float(args.session_grace),
        "record_sessions": args.record_sessions.expanduser() if args.record_sessions else None,
        "record_input": bool(args.record_input),
    }
