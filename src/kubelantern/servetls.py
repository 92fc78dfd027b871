"""`serve --tls-port`: the TLS listener kubectl talks to (it sends bearer tokens only over
TLS) and the instance record `kubelantern kubeconfig` reads."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from ssl import SSLContext
from typing import Any, TextIO

from kubelantern.settings import Settings


async def serve_tls(
    make_site: Callable[[str, int, SSLContext | None], Any], settings: Settings, out: TextIO
) -> Path:
    """The HTTPS listener kubectl uses, and the record `kubelantern kubeconfig` reads;
    `make_site(host, port, ssl_context)` makes the listener (web/connguard.py's)."""
    from kubelantern.kubectlconfig import INSTANCE_FILE, Instance, write_private
    from kubelantern.localtls import config_dir, load_or_create

    folder = config_dir()
    tls = load_or_create(folder)
    assert settings.tls_port is not None
    site = make_site(settings.host, settings.tls_port, tls.server_context())
    try:
        await site.start()
    except OSError as e:
        raise OSError(
            f"cannot listen on {settings.host}:{settings.tls_port}: {e.strerror or e} (choose "
            "another --tls-port, or 0 for any free port)"
        ) from None
    port = settings.tls_port
    sockets = getattr(site._server, "sockets", None)
    if sockets:
        port = sockets[0].getsockname()[1]
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "*", "::") else settings.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"https://{host}:{port}{settings.base_url}"
    record = folder / INSTANCE_FILE
    write_private(record, Instance(url, settings.launch_token, os.getpid()).to_json())
    print(
        f"kubectl can use {url} (CA {tls.ca_cert}): run `kubelantern kubeconfig -o FILE`",
        file=out,
        flush=True,
    )
    return record


def forget_instance(record: Path) -> None:
    from kubelantern.kubectlconfig import Instance

    with contextlib.suppress(OSError, ValueError):
        if Instance.from_json(record.read_text()).pid == os.getpid():
            record.unlink()
