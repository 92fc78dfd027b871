"""What a local-mode `serve` loads before its first proxied answer (issue 12: start-up ≤ 300 ms
with 50 clusters). Modules only some starts need are imported where they are used: the OIDC
client (joserfc, cryptography's x509) in team mode, cryptography's AEAD at the first sealed
cookie, doctor at the first check, the WebSocket and SPDY paths at the first upgrade, the
simulator with --demo. The timing itself is measured
in bench/startup.py; this guards the structure, in a fresh interpreter (sys.modules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness.kubeconfig import Context, write_kubeconfig

# Loaded by a local-mode start of `serve` (app built, clusters loaded): none of these.
LAZY = (
    "joserfc",
    "cryptography",
    "kubelantern.identity.client",
    "kubelantern.identity.jwks",
    "kubelantern.identity.oidc",
    "kubelantern.web.signin",
    "kubelantern.doctor",
    "kubelantern.doctor.checks",
    "kubelantern.localtls",
    "kubelantern.proxy.ws.bridge",  # the first WebSocket loads it
    "kubelantern.proxy.upgrade.entry",  # the first SPDY upgrade loads it
    "kubesim",
)

START = """
import asyncio, json, sys
from pathlib import Path
import kubelantern.cli  # what `python -m kubelantern` imports first
from kubelantern.settings import Settings
from kubelantern.web import keys
from kubelantern.web.app import make_app
from kubelantern.web.connguard import runner_for

async def main(config: str) -> None:
    settings = Settings(kubeconfigs=(Path(config),), launch_token=None)
    app = make_app(settings)
    runner = runner_for(app, settings)
    await runner.setup()  # loads the registry, as `serve` does before it listens
    loaded = [c.name for c in app[keys.REGISTRY] if c.load_error is None]
    await runner.cleanup()
    print(json.dumps({"clusters": loaded, "modules": sorted(sys.modules)}))

asyncio.run(main(sys.argv[1]))
"""


def loaded_at_start(config: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", START, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_local_serve_start_loads_no_team_doctor_or_crypto_modules(tmp_path: Path) -> None:
    contexts = [
        Context(
            f"c{i}", "https://127.0.0.1:1", token="t", cluster={"insecure-skip-tls-verify": True}
        )
        for i in range(3)
    ]
    got = loaded_at_start(write_kubeconfig(tmp_path / "config", contexts))
    assert got["clusters"] == ["c0", "c1", "c2"]
    modules = set(got["modules"])
    # The start did load what the first proxied answer needs (the check is not vacuous).
    assert {"kubelantern.proxy.http", "kubelantern.clusters.registry", "yaml"} <= modules
    loaded = sorted(m for m in modules if m.split(".")[0] in LAZY or m in LAZY)
    assert loaded == [], f"imported at start-up, only needed later: {loaded}"


def test_team_mode_still_loads_the_oidc_client() -> None:
    """The lazy import happens: OIDC set-up builds its client (joserfc and all)."""
    script = """
import sys
from kubelantern.settings import Settings
from kubelantern.web.app import make_app
make_app(Settings(oidc_issuer_url="https://idp.example", oidc_client_id="kl",
                  public_url="https://kl.example", session_secret="s" * 32, launch_token=None))
wanted = ("kubelantern.identity.client", "joserfc", "kubelantern.web.signin")
print(*(m in sys.modules for m in wanted))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "True", "True"]


SERVE = """
import json, os, signal, sys

real = sys.stdout

class Out:  # serve's output: stop the server once it says it is serving
    def write(self, text):
        if "kubelantern is serving" in text:
            os.kill(os.getpid(), signal.SIGINT)
        return len(text)

    def flush(self):
        pass

sys.stdout = Out()  # before kubelantern.cli binds it as serve's default output
import kubelantern.cli
from kubelantern.leanimport import CAFILE_ENV

env_before = os.environ.get(CAFILE_ENV)
code = kubelantern.cli.main(["serve", "--kubeconfig", sys.argv[1], "--port", "0", "--no-token",
                             "--log-level", "warning"])
import aiohttp.connector
default_cas = aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509"]
real.write(json.dumps({"code": code, "modules": sorted(sys.modules), "default_cas": default_cas,
                       "env_kept": os.environ.get(CAFILE_ENV) == env_before}) + "\\n")
"""


def test_serve_command_start_loads_no_local_tls_and_no_ca_bundle(tmp_path: Path) -> None:
    """`kubelantern serve` itself (cli.main → serve), up to its "serving" line: no
    cryptography (localtls loads only with --tls-port), and aiohttp's default SSL contexts
    found the system CAs through the hashed directory instead of parsing the bundle."""
    import ssl

    from kubelantern.leanimport import CAFILE_ENV, hashed_ca_dir, system_bundle

    contexts = [Context("c0", "https://127.0.0.1:1", token="t")]
    config = write_kubeconfig(tmp_path / "config", contexts)
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["code"] == 130, done.stderr  # stopped by the SIGINT, after serving
    modules = set(got["modules"])
    assert "kubelantern.web.app" in modules
    assert sorted(m for m in modules if m.split(".")[0] in LAZY or m in LAZY) == []
    assert got["env_kept"]  # SSL_CERT_FILE is as it was for everything after the import
    paths = ssl.get_default_verify_paths()
    import os

    if system_bundle(os.environ.get(CAFILE_ENV), paths.openssl_cafile) and hashed_ca_dir(
        paths.capath
    ):
        assert got["default_cas"] == 0  # looked up in the directory per handshake instead
