"""How kubelantern authenticates to one cluster: the headers it adds to every upstream request.

Sources, first match wins (as client-go): token file (re-read when it changes), token,
exec credential plugin (cached until its expiry), username/password. Impersonation headers
are added to any of them. Client certificates from the kubeconfig live in the TLS context
(tls.py); a client certificate returned by an exec plugin is exposed here (`plugin_cert`)
so the cluster can rebuild its TLS context.

Tokens never appear in logs, errors or `describe()`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multidict import CIMultiDict

from kubelantern.clusters import pluginproc
from kubelantern.clusters.spec import AuthSpec, ClusterSpec, ExecSpec
from kubelantern.observe.logfilter import redact_text
from kubelantern.status import KubelanternError

log = logging.getLogger(__name__)

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_TIMEOUT = 60.0  # seconds a plugin may take (a cloud CLI may be slow, but not forever)
EXPIRY_MARGIN = 30.0  # refresh a plugin credential this many seconds before it expires
STDERR_LIMIT = 300  # characters of a failing plugin's first stderr line kept in the error


class CredentialError(KubelanternError):
    """Credentials for `cluster` could not be obtained; `message` says why and what to do."""

    status = 502

    def __init__(self, cluster: str, message: str) -> None:
        super().__init__(f'cluster "{cluster}": {message}')
        self.cluster = cluster
        self.message = message


@dataclass(frozen=True)
class ExecResult:
    """What one successful plugin run gave us."""

    token: str | None
    cert: tuple[bytes, bytes] | None  # (certificate PEM, key PEM)
    expires_at: float | None  # unix time; None: valid until the upstream says 401


def parse_exec_credential(plugin: str, api_version: str, stdout: bytes) -> ExecResult:
    """Parse a plugin's ExecCredential output (pure). Raises ValueError with a clear reason."""
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError as e:
        raise ValueError(f'exec plugin "{plugin}" printed invalid JSON ({e.msg})') from None
    except ValueError:
        raise ValueError(f'exec plugin "{plugin}" printed output that is not UTF-8 JSON') from None
    if not isinstance(doc, dict):
        raise ValueError(f'exec plugin "{plugin}" printed JSON that is not an object')
    if doc.get("kind") != "ExecCredential":
        raise ValueError(
            f'exec plugin "{plugin}" printed kind {doc.get("kind")!r}, want ExecCredential'
        )
    if doc.get("apiVersion") != api_version:
        raise ValueError(
            f'exec plugin "{plugin}" printed apiVersion {doc.get("apiVersion")!r}, '
            f"but the kubeconfig asks for {api_version!r}"
        )
    status = doc.get("status")
    if not isinstance(status, dict):
        raise ValueError(f'exec plugin "{plugin}" printed no status')
    token = status.get("token") or None
    cert_data = status.get("clientCertificateData") or None
    key_data = status.get("clientKeyData") or None
    if token is not None and not isinstance(token, str):
        raise ValueError(f'exec plugin "{plugin}": status.token is not a string')
    if bool(cert_data) != bool(key_data):
        raise ValueError(
            f'exec plugin "{plugin}": status has only one of clientCertificateData/clientKeyData'
        )
    cert: tuple[bytes, bytes] | None = None
    if cert_data and key_data:
        if not isinstance(cert_data, str) or not isinstance(key_data, str):
            raise ValueError(f'exec plugin "{plugin}": client certificate data is not a string')
        cert = (cert_data.encode(), key_data.encode())
    if token is None and cert is None:
        raise ValueError(
            f'exec plugin "{plugin}" returned neither status.token nor a client certificate'
        )
    expires_at: float | None = None
    stamp = status.get("expirationTimestamp")
    if stamp:
        try:
            parsed = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f'exec plugin "{plugin}": status.expirationTimestamp {stamp!r} is not RFC 3339'
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        expires_at = parsed.timestamp()
    return ExecResult(token, cert, expires_at)


def exec_info(spec: ClusterSpec, exec_spec: ExecSpec) -> dict[str, Any]:
    """The KUBERNETES_EXEC_INFO document given to a plugin (pure except for reading a CA file)."""
    info_spec: dict[str, Any] = {"interactive": False}
    if exec_spec.provide_cluster_info:
        cluster: dict[str, Any] = {"server": spec.server}
        ca_b64 = spec.certificate_authority_data_b64
        if ca_b64 is None and spec.tls.ca_data is not None:
            ca_b64 = base64.b64encode(spec.tls.ca_data).decode()
        if ca_b64 is None and spec.tls.ca_file is not None:
            try:
                ca_b64 = base64.b64encode(spec.tls.ca_file.read_bytes()).decode()
            except OSError:
                ca_b64 = None  # the TLS context reports the unreadable file
        if ca_b64:
            cluster["certificate-authority-data"] = ca_b64
        if spec.tls.server_name:
            cluster["tls-server-name"] = spec.tls.server_name
        if spec.tls.insecure_skip_verify:
            cluster["insecure-skip-tls-verify"] = True
        if spec.proxy_url:
            cluster["proxy-url"] = spec.proxy_url
        # client-go always sends `config` (null without the cluster's exec extension).
        config = spec.exec_cluster_config_json
        cluster["config"] = json.loads(config) if config else None
        info_spec["cluster"] = cluster
    return {"apiVersion": exec_spec.api_version, "kind": "ExecCredential", "spec": info_spec}


def _first_line(stderr: bytes, known: list[str]) -> str:
    """The first non-blank stderr line, shortened and redacted: all a body may carry."""
    for raw in stderr.decode(errors="replace").splitlines():
        if raw.strip():
            return _one_line(redact_text(raw, known), STDERR_LIMIT)
    return "no output on stderr"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit:]


class _TokenFile:
    """A token file re-read whenever a stat says it changed (rotated service-account tokens)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self.last: str | None = None  # the token last read

    async def read(self, *, force: bool = False) -> str:
        st = self.path.stat()  # one cheap syscall per request; the read only when it changed
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if force or stamp != self._stamp or self.last is None:
            # The file may sit on a slow or network mount: read it off the event loop.
            self.last = (await asyncio.to_thread(self.path.read_text)).strip()
            self._stamp = stamp
        return self.last


class Credentials:
    """The credentials of one cluster. Safe for concurrent use within one event loop."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        env: Mapping[str, str] | None = None,
        exec_timeout: float = EXEC_TIMEOUT,
    ) -> None:
        self.spec = spec
        self.cluster = spec.name
        self.auth: AuthSpec = spec.auth
        self._env = env  # None: os.environ at run time
        self._exec_timeout = exec_timeout
        self._token_file = _TokenFile(self.auth.token_file) if self.auth.token_file else None
        self._exec_result: ExecResult | None = None
        self._exec_valid_until: float = 0.0
        self._inflight: asyncio.Task[ExecResult] | None = None
        self.cert_generation = 0  # bumped whenever the plugin's client certificate changes

    # -- what the proxy uses ------------------------------------------------------------

    async def headers(self) -> CIMultiDict[str]:
        """Auth headers for one upstream request (Impersonate-Group may repeat)."""
        out: CIMultiDict[str] = CIMultiDict()
        token = await self.token()
        if token:
            out["Authorization"] = f"Bearer {token}"
        elif self.auth.username is not None and not self.auth.exec:
            pair = f"{self.auth.username}:{self.auth.password or ''}".encode()
            out["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        if self.auth.impersonate:
            out["Impersonate-User"] = self.auth.impersonate
        for group in self.auth.impersonate_groups:
            out.add("Impersonate-Group", group)
        if self.auth.impersonate_uid:
            out["Impersonate-Uid"] = self.auth.impersonate_uid
        for key, values in self.auth.impersonate_extra:
            for value in values:
                out.add(f"Impersonate-Extra-{key}", value)
        return out

    async def token(self) -> str | None:
        """The bare bearer token, if this cluster authenticates with one (runs the plugin)."""
        if self._token_file is not None:
            try:
                token = await self._token_file.read()
            except OSError as e:
                last = self._token_file.last
                if last is None:
                    raise CredentialError(
                        self.cluster,
                        f"cannot read token file {self._token_file.path}: {e.strerror}",
                    ) from None
                # As client-go: the last value read stays in use while the file is away
                # (e.g. mid-rotation); the next successful stat picks up the new one.
                log.warning(
                    "cluster %r: token file %s unreadable (%s); using the last token read",
                    self.cluster,
                    self._token_file.path,
                    e.strerror,
                )
                token = last
            if token:
                return token
        if self.auth.token:
            return self.auth.token
        if self.auth.exec is not None:
            return (await self._exec()).token
        return None

    async def refresh(self, stale_token: str | None = None) -> bool:
        """Called after a 401 from upstream: get a fresh credential; True if it changed.

        `stale_token` is the token the failed request carried: when another request already
        refreshed it, no new plugin run is needed.
        """
        if self._token_file is not None:
            before = self._token_file.last
            try:
                after = await self._token_file.read(force=True)
            except OSError:
                return False
            return after != before or (stale_token is not None and after != stale_token)
        if self.auth.exec is None:
            return False
        current = self._exec_result
        if stale_token is not None and current is not None and current.token != stale_token:
            return True
        if self._inflight is None:
            self._exec_valid_until = 0.0  # a 401 says the cached one is no good
        result = await self._run_shared()
        if current is None:
            return True
        return result.token != current.token or result.cert != current.cert

    @property
    def plugin_cert(self) -> tuple[bytes, bytes] | None:
        """The client certificate (PEM cert, PEM key) the exec plugin last returned."""
        return self._exec_result.cert if self._exec_result is not None else None

    @property
    def uses_exec(self) -> bool:
        return self.auth.exec is not None

    def describe(self) -> str:
        """How this cluster authenticates, for humans. Never a secret."""
        a = self.auth
        tls = self.spec.tls
        parts: list[str] = []
        if a.token_file:
            parts.append(f"token file {a.token_file}")
        elif a.token:
            parts.append("token")
        elif a.exec is not None:
            parts.append(f"exec plugin {Path(a.exec.command).name}")
        elif a.username is not None:
            parts.append(f"basic auth (user {a.username})")
        if tls.client_cert_data or tls.client_cert_file:
            parts.append("client certificate")
        if not parts:
            parts.append("anonymous")
        text = " + ".join(parts)
        if a.impersonate:
            text += f", impersonating {a.impersonate}"
        if a.impersonate_groups:
            text += f" (groups {', '.join(a.impersonate_groups)})"
        return text

    async def close(self) -> None:
        """Stop a plugin run still in flight (its process is killed), e.g. at shutdown."""
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- the exec plugin ------------------------------------------------------------------

    async def _exec(self) -> ExecResult:
        if self._exec_result is not None and time.time() < self._exec_valid_until:
            return self._exec_result
        return await self._run_shared()

    async def _run_shared(self) -> ExecResult:
        # Single flight: concurrent callers await one run; a cancelled caller does not
        # cancel the run the others wait for (shield).
        if self._inflight is None:
            task = asyncio.get_running_loop().create_task(self._run_plugin())
            self._inflight = task

            def _done(t: asyncio.Task[ExecResult]) -> None:
                if self._inflight is t:
                    self._inflight = None
                if not t.cancelled():
                    t.exception()  # mark retrieved: errors reach the awaiting callers

            task.add_done_callback(_done)
        return await asyncio.shield(self._inflight)

    async def _run_plugin(self) -> ExecResult:
        ex = self.auth.exec
        assert ex is not None
        name = Path(ex.command).name
        if ex.api_version not in EXEC_API_VERSIONS:
            raise CredentialError(
                self.cluster,
                f'exec plugin "{name}": apiVersion {ex.api_version!r} is not supported '
                f"(use {EXEC_API_VERSIONS[0]})",
            )
        if ex.interactive_mode == "Always":
            raise CredentialError(
                self.cluster,
                f'exec plugin "{name}" has interactiveMode Always, but kubelantern cannot '
                "prompt; log in with the plugin in a terminal first, or set interactiveMode "
                "to IfAvailable",
            )
        env = dict(os.environ if self._env is None else self._env)
        env.update(dict(ex.env))
        # exec_info may read the CA file: off the event loop.
        info = await asyncio.to_thread(exec_info, self.spec, ex)
        env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
        log.debug("cluster %r: running exec plugin %s", self.cluster, name)
        try:
            run = await pluginproc.run_plugin((ex.command, *ex.args), env, self._exec_timeout)
        except (FileNotFoundError, NotADirectoryError):
            where = f"at {ex.command}" if "/" in ex.command else "on PATH"
            hint = _one_line(ex.install_hint, 400) if ex.install_hint else "install it"
            raise CredentialError(
                self.cluster, f'exec plugin "{ex.command}" not found {where}: {hint}'
            ) from None
        except PermissionError:
            raise CredentialError(
                self.cluster, f'exec plugin "{ex.command}" is not executable'
            ) from None
        except pluginproc.PluginTimeout:
            raise CredentialError(
                self.cluster,
                f'exec plugin "{name}" did not finish within {self._exec_timeout:g} s and was '
                "killed (does it wait for a login prompt? run it in a terminal)",
            ) from None
        except pluginproc.PluginOverflow:
            raise CredentialError(
                self.cluster,
                f'exec plugin "{name}" printed more than {pluginproc.STDOUT_LIMIT >> 10} KiB '
                "and was killed (an ExecCredential is a few KiB; run it in a terminal)",
            ) from None
        stdout = run.stdout
        if run.returncode != 0:
            known = (
                [self._exec_result.token] if self._exec_result and self._exec_result.token else []
            )
            detail = _first_line(run.stderr, known)
            # The whole stderr goes to the log only (redacted there too), never to a body.
            log.warning(
                "cluster %r: exec plugin %s exited with code %d; stderr: %s",
                self.cluster,
                name,
                run.returncode,
                _one_line(redact_text(run.stderr.decode(errors="replace"), known), 2000),
            )
            raise CredentialError(
                self.cluster, f'exec plugin "{name}" exited with code {run.returncode}: {detail}'
            )
        try:
            result = parse_exec_credential(name, ex.api_version, stdout)
        except ValueError as e:
            raise CredentialError(self.cluster, str(e)) from None
        now = time.time()
        if result.expires_at is None:
            valid_until = float("inf")
        else:
            margin = min(EXPIRY_MARGIN, max(0.0, (result.expires_at - now) / 2))
            valid_until = result.expires_at - margin
        previous = self._exec_result
        if previous is None or previous.cert != result.cert:
            if result.cert is not None or previous is not None:
                self.cert_generation += 1
        self._exec_result = result
        self._exec_valid_until = valid_until
        return result
