"""kubesim stands alone: importing every module of it loads nothing of kubelantern, and
`python -m kubesim` serves."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import kubesim
for m in pkgutil.walk_packages(kubesim.__path__, "kubesim."):
    importlib.import_module(m.name)
bad = sorted(n for n in sys.modules if n == "kubelantern" or n.startswith("kubelantern."))
print(",".join(bad))
"""


def test_kubesim_never_imports_kubelantern() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"kubesim imported {out.stdout.strip()}"


def test_python_m_kubesim_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesim", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving http://127.0.0.1:" in line, line
    finally:
        proc.terminate()
        proc.wait(timeout=10)
