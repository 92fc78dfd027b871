"""`kubelantern kubeconfig`: ask the running `serve --tls-port` which clusters it serves and
write a kubeconfig for kubectl (one command per module: cli.py only parses and dispatches)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO


def write_kubeconfig(output: str | None, out: TextIO = sys.stdout) -> int:
    """Ask the running `serve --tls-port` which clusters it serves; write the kubeconfig."""
    import ssl
    import urllib.error
    import urllib.request

    from kubelantern.kubectlconfig import INSTANCE_FILE, Instance, dump, kubeconfig_doc
    from kubelantern.kubectlconfig import write_private as write_file
    from kubelantern.localtls import LocalTLS, config_dir

    folder = config_dir()
    record = folder / INSTANCE_FILE
    try:
        instance = Instance.from_json(record.read_text())
    except FileNotFoundError:
        print(
            f"kubelantern: no record of a running `kubelantern serve --tls-port PORT` in "
            f"{folder}: start one first (kubectl needs TLS to send the launch token)",
            file=sys.stderr,
        )
        return 1
    except (OSError, ValueError) as e:
        print(f"kubelantern: cannot read {record}: {e}", file=sys.stderr)
        return 1
    tls = LocalTLS(folder)
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    request = urllib.request.Request(f"{instance.url}/api/clusters?wait=0")
    if instance.token:
        request.add_header("Authorization", f"Bearer {instance.token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            clusters = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(
            f"kubelantern: the kubelantern recorded at {instance.url} (pid {instance.pid}) does "
            f"not answer ({e}); start `kubelantern serve --tls-port PORT` again",
            file=sys.stderr,
        )
        return 1
    doc = kubeconfig_doc(instance.url, clusters, tls.ca_pem(), instance.token)
    text = dump(doc)
    if output:
        write_file(Path(output).expanduser(), text)
        names = ", ".join(str(c["name"]) for c in clusters)
        print(f"wrote {output}: contexts {names}", file=out)
    else:
        out.write(text)
    return 0
