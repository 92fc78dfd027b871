"""aiohttp imported without parsing the CA bundle (kubelantern/leanimport.py, issue 12: ~40 ms
of every start): its default SSL contexts still verify, through the hashed CA directory.
A fresh interpreter per case (the import happens once), a TLS server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness.pki import Pki, make_pki

SCRIPT = """
import asyncio, json, ssl, sys
from kubelantern.leanimport import import_aiohttp

lean = import_aiohttp()
import aiohttp
from aiohttp import web

async def main(cert: str, key: str) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    app = web.Application()
    async def hello(request):
        return web.Response(text="ok")
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:  # aiohttp's default (verified) context
        try:
            async with session.get(f"https://127.0.0.1:{port}/") as resp:
                result = resp.status
        except aiohttp.ClientConnectorCertificateError:
            result = "not verified"
    await runner.cleanup()
    print(json.dumps({"lean": lean, "result": result}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def hashed_dir(folder: Path, ca_pem: bytes) -> Path:
    """A CA directory as OpenSSL looks it up: `<subject hash>.0` holding the CA."""
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to name the CA by its subject hash"
    folder.mkdir(parents=True)
    (folder / "ca.pem").write_bytes(ca_pem)
    done = subprocess.run(
        [openssl, "x509", "-noout", "-subject_hash", "-in", str(folder / "ca.pem")],
        capture_output=True,
        text=True,
        check=True,
    )
    (folder / f"{done.stdout.strip()}.0").write_bytes(ca_pem)
    return folder


def run(pki: Pki, ca_dir: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["SSL_CERT_DIR"] = str(ca_dir)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(pki.folder / "server.crt"),
         str(pki.folder / "server.key")],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_default_context_verifies_through_the_ca_directory(pki: Pki, tmp_path: Path) -> None:
    assert run(pki, hashed_dir(tmp_path / "trusted", pki.ca_pem)) == {"lean": True, "result": 200}


def test_default_context_still_refuses_an_unknown_ca(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    got = run(pki, hashed_dir(tmp_path / "other", other.ca_pem))
    assert got == {"lean": True, "result": "not verified"}
