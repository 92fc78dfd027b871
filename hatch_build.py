"""Build the frontend into the package's static folder when it is not built yet.

Installing a wheel or an sdist whose static files are present never needs Node.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class FrontendBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        static = root / "src" / "kubelantern" / "web" / "static"
        frontend = root / "frontend"
        # Editable installs come from `make install`, which builds the frontend itself.
        if version == "editable":
            return
        if (static / "index.html").exists() or not (frontend / "package.json").exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "the frontend is not built and npm is missing: install Node.js 20.19+ "
                "or build the frontend first (make frontend)"
            )
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=frontend, check=True)
        subprocess.run([npm, "run", "build"], cwd=frontend, check=True)
