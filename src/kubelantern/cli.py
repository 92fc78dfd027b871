"""`kubelantern serve / clusters / doctor`."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("not built yet")
