"""The real kubectl pointed at kubelantern's proxy, with nothing of its own to add.

An empty kubeconfig and `--server <kubelantern>/clusters/<name>` mean every credential
and TLS setting must come from kubelantern; HOME in the test's folder keeps kubectl's
discovery cache out of the user's ~/.kube.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any


def kubectl_command(kubectl: str, server: str, folder: Path) -> list[str]:
    """`kubectl --kubeconfig <empty> --server <server>`; add the subcommand."""
    empty = folder / "empty-kubeconfig"
    if not empty.exists():
        empty.write_text("apiVersion: v1\nkind: Config\n")
    return [kubectl, "--kubeconfig", str(empty), "--server", server]


def kubectl_env(folder: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(folder), "KUBECONFIG": str(folder / "empty-kubeconfig")}


def run_kubectl(
    kubectl: str,
    server: str,
    folder: Path,
    *args: str,
    stdin: bytes | None = None,
    text: bool = False,
    timeout: float = 60,
) -> subprocess.CompletedProcess[Any]:
    """Run one kubectl command against `server` to its end (bounded by `timeout`)."""
    return subprocess.run(
        [*kubectl_command(kubectl, server, folder), *args],
        input=stdin,
        capture_output=True,
        text=text,
        env=kubectl_env(folder),
        timeout=timeout,
        check=False,
    )
