"""Credentials: static token, token file, basic auth, impersonation, exec plugins."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kubelantern.clusters.credentials import (
    CredentialError,
    Credentials,
    exec_info,
    parse_exec_credential,
)
from kubelantern.clusters.spec import AuthSpec, ClusterSpec, ExecSpec, TLSSpec

PLUGIN = Path(__file__).resolve().parent.parent / "fixtures" / "exec_plugin.py"
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


def spec(auth: AuthSpec, **kw: Any) -> ClusterSpec:
    return ClusterSpec(name="prod", server="https://10.0.0.1:6443", auth=auth, **kw)


def plugin_spec(
    tmp_path: Path, *, api_version: str = V1, provide: bool = False, **env: str
) -> tuple[ExecSpec, Path]:
    count = tmp_path / "runs"
    full_env = {"FAKE_PLUGIN_COUNT_FILE": str(count), **env}
    ex = ExecSpec(
        command=sys.executable,
        args=(str(PLUGIN), "--region", "eu-west-1"),
        env=tuple(full_env.items()),
        api_version=api_version,
        provide_cluster_info=provide,
    )
    return ex, count


def runs(count: Path) -> int:
    return len(count.read_text().splitlines()) if count.exists() else 0


# -- static kinds --------------------------------------------------------------------


async def test_static_token_header_and_bare_token() -> None:
    creds = Credentials(spec(AuthSpec(token="abc.def")))
    assert await creds.headers() == {"Authorization": "Bearer abc.def"}
    assert await creds.token() == "abc.def"
    assert creds.describe() == "token"
    assert await creds.refresh() is False  # nothing to refresh: a static token stays


async def test_basic_auth() -> None:
    creds = Credentials(spec(AuthSpec(username="alice", password="s3cret:x")))
    headers = await creds.headers()
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret:x").decode()
    assert await creds.token() is None  # no bearer token for WebSocket subprotocols
    assert "alice" in creds.describe() and "s3cret" not in creds.describe()


async def test_impersonation_headers_repeat_groups() -> None:
    creds = Credentials(
        spec(
            AuthSpec(
                token="t",
                impersonate="bob",
                impersonate_groups=("dev", "ops"),
                impersonate_uid="42",
                impersonate_extra=(("scopes", ("view", "edit")),),
            )
        )
    )
    headers = await creds.headers()
    assert headers["Impersonate-User"] == "bob"
    assert headers.getall("Impersonate-Group") == ["dev", "ops"]
    assert headers["Impersonate-Uid"] == "42"
    assert headers.getall("Impersonate-Extra-scopes") == ["view", "edit"]
    assert "impersonating bob" in creds.describe()


async def test_anonymous_has_no_headers() -> None:
    creds = Credentials(spec(AuthSpec()))
    assert dict(await creds.headers()) == {}
    assert creds.describe() == "anonymous"


async def test_client_certificate_is_described() -> None:
    creds = Credentials(spec(AuthSpec(), tls=TLSSpec(client_cert_file=Path("/x/c.crt"))))
    assert creds.describe() == "client certificate"


# -- token file ----------------------------------------------------------------------


async def test_token_file_is_re_read_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first-token\n")
    creds = Credentials(spec(AuthSpec(token_file=path, token="ignored-static")))
    assert await creds.token() == "first-token"  # file wins over the static token (client-go)
    assert "first-token" not in creds.describe()
    path.write_text("second-token-longer\n")
    assert (await creds.headers())["Authorization"] == "Bearer second-token-longer"
    # Same size, new content, mtime forced apart: still noticed.
    path.write_text("third-token-longer!\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert await creds.token() == "third-token-longer!"


async def test_token_file_refresh_reports_change(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one")
    creds = Credentials(spec(AuthSpec(token_file=path)))
    assert await creds.token() == "one"
    assert await creds.refresh() is False  # unchanged file: retrying would not help
    path.write_text("two")
    assert await creds.refresh() is True
    assert await creds.token() == "two"


async def test_token_file_vanishing_keeps_the_last_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("kept")
    creds = Credentials(spec(AuthSpec(token_file=path)))
    assert await creds.token() == "kept"
    path.unlink()
    assert await creds.token() == "kept"  # as client-go: last good value while it is away
    path.write_text("new-one")
    assert await creds.token() == "new-one"


async def test_token_file_missing_is_a_credential_error(tmp_path: Path) -> None:
    creds = Credentials(spec(AuthSpec(token_file=tmp_path / "gone")))
    with pytest.raises(CredentialError) as e:
        await creds.headers()
    assert e.value.cluster == "prod"
    assert "cannot read token file" in str(e.value) and "gone" in str(e.value)


# -- exec plugin: pure parts --------------------------------------------------------------


def test_parse_exec_credential_variants() -> None:
    out = json.dumps(
        {
            "apiVersion": V1,
            "kind": "ExecCredential",
            "status": {"token": "tok", "expirationTimestamp": "2030-01-02T03:04:05Z"},
        }
    ).encode()
    result = parse_exec_credential("aws", V1, out)
    assert result.token == "tok" and result.cert is None
    assert result.expires_at == 1893553445.0
    with pytest.raises(ValueError, match="invalid JSON"):
        parse_exec_credential("aws", V1, b"{nope")
    with pytest.raises(ValueError, match="apiVersion"):
        parse_exec_credential("aws", V1BETA1, out)
    with pytest.raises(ValueError, match=r"neither status\.token nor a client certificate"):
        parse_exec_credential(
            "aws", V1, b'{"apiVersion":"%s","kind":"ExecCredential","status":{}}' % V1.encode()
        )
    with pytest.raises(ValueError, match="only one of"):
        parse_exec_credential(
            "aws",
            V1,
            json.dumps(
                {"apiVersion": V1, "kind": "ExecCredential", "status": {"clientKeyData": "k"}}
            ).encode(),
        )


def test_exec_info_with_and_without_cluster_info() -> None:
    ex = ExecSpec(command="aws", provide_cluster_info=True)
    s = ClusterSpec(
        name="eks",
        server="https://eks.example:443",
        tls=TLSSpec(ca_data=b"PEM", server_name="api.internal", insecure_skip_verify=True),
        proxy_url="http://proxy:3128",
    )
    info = exec_info(s, ex)
    assert info == {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "spec": {
            "interactive": False,
            "cluster": {
                "server": "https://eks.example:443",
                "certificate-authority-data": base64.b64encode(b"PEM").decode(),
                "tls-server-name": "api.internal",
                "insecure-skip-tls-verify": True,
                "proxy-url": "http://proxy:3128",
                "config": None,
            },
        },
    }
    plain = exec_info(s, ExecSpec(command="aws", api_version=V1BETA1))
    assert plain == {
        "apiVersion": V1BETA1,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }


# -- exec plugin: real subprocesses ---------------------------------------------------------


async def test_exec_plugin_token_cached_without_expiry(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_TOKEN="eks")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    assert (await creds.headers())["Authorization"] == "Bearer eks-1"
    assert await creds.token() == "eks-1"
    assert runs(count) == 1  # no expiry: cached until a 401
    assert creds.describe() == f"exec plugin {Path(sys.executable).name}"


async def test_exec_plugin_refresh_after_401_gets_new_token(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_TOKEN="eks")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    assert await creds.token() == "eks-1"
    assert await creds.refresh(stale_token="eks-1") is True
    assert await creds.token() == "eks-2"
    assert runs(count) == 2
    # A second 401 from a request that still carried the old token: already refreshed.
    assert await creds.refresh(stale_token="eks-1") is True
    assert runs(count) == 2


async def test_exec_plugin_reruns_when_expired(tmp_path: Path) -> None:
    # A credential that is already expired when it arrives is used once, never cached.
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_EXPIRES_IN="-5")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    assert await creds.token() == "plugin-token-1"
    assert await creds.token() == "plugin-token-2"
    assert runs(count) == 2


async def test_exec_plugin_cached_until_expiry(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_EXPIRES_IN="3600")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    for _ in range(3):
        assert await creds.token() == "plugin-token-1"
    assert runs(count) == 1
    # The cache ends 30 s before the expiry: pretend that moment has come.
    creds._exec_valid_until = time.time() - 1
    assert await creds.token() == "plugin-token-2"


async def test_exec_plugin_single_flight(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_DELAY="0.3")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    tokens = await asyncio.gather(*(creds.token() for _ in range(10)))
    assert tokens == ["plugin-token-1"] * 10
    assert runs(count) == 1
    # Ten concurrent 401 refreshes also share one run.
    changed = await asyncio.gather(*(creds.refresh() for _ in range(10)))
    assert all(changed)
    assert runs(count) == 2
    assert await creds.token() == "plugin-token-2"


async def test_exec_plugin_cancelled_caller_does_not_break_the_run(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_DELAY="0.3")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    first = asyncio.ensure_future(creds.token())
    second = asyncio.ensure_future(creds.token())
    await asyncio.sleep(0.05)
    first.cancel()
    assert await asyncio.wait_for(second, 30) == "plugin-token-1"
    assert runs(count) == 1


async def test_exec_plugin_v1beta1_args_env_and_cluster_info(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    ex, _ = plugin_spec(
        tmp_path,
        api_version=V1BETA1,
        provide=True,
        FAKE_PLUGIN_INFO_FILE=str(info_file),
        PLUGIN_PROFILE="prod-admin",
    )
    s = spec(
        AuthSpec(exec=ex),
        tls=TLSSpec(ca_data=b"-----CA-----", server_name="kubernetes.default"),
        exec_cluster_config_json='{"audience": "eks"}',
    )
    creds = Credentials(s)
    assert await creds.token() == "plugin-token-1"
    seen = json.loads(info_file.read_text())
    assert seen["argv"] == ["--region", "eu-west-1"]
    assert seen["env"] == {"PLUGIN_PROFILE": "prod-admin"}
    assert seen["info"] == {
        "apiVersion": V1BETA1,
        "kind": "ExecCredential",
        "spec": {
            "interactive": False,
            "cluster": {
                "server": "https://10.0.0.1:6443",
                "certificate-authority-data": base64.b64encode(b"-----CA-----").decode(),
                "tls-server-name": "kubernetes.default",
                "config": {"audience": "eks"},
            },
        },
    }


async def test_exec_plugin_inherits_process_environment(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_INFO_FILE=str(info_file))
    base_env = {**os.environ, "PLUGIN_FROM_PARENT": "yes", "PLUGIN_PROFILE": "parent"}
    creds = Credentials(spec(AuthSpec(exec=ex)), env=base_env)
    await creds.token()
    seen = json.loads(info_file.read_text())
    assert seen["env"] == {"PLUGIN_FROM_PARENT": "yes", "PLUGIN_PROFILE": "parent"}
    assert seen["info"]["spec"] == {"interactive": False}  # no provideClusterInfo


async def test_exec_plugin_missing_binary(tmp_path: Path) -> None:
    ex = ExecSpec(
        command="kubelantern-no-such-plugin",
        install_hint="Install it with:\n  brew install no-such-plugin",
    )
    creds = Credentials(spec(AuthSpec(exec=ex)))
    with pytest.raises(CredentialError) as e:
        await creds.headers()
    assert e.value.message == (
        'exec plugin "kubelantern-no-such-plugin" not found on PATH: Install it with: brew '
        "install no-such-plugin"
    )
    assert str(e.value).startswith('cluster "prod": exec plugin')
    missing_path = ExecSpec(command=str(tmp_path / "bin" / "aws"))
    with pytest.raises(CredentialError, match="not found at"):
        await Credentials(spec(AuthSpec(exec=missing_path))).token()


async def test_exec_plugin_non_zero_exit_shows_stderr(tmp_path: Path) -> None:
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="fail")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    with pytest.raises(CredentialError) as e:
        await creds.token()
    msg = str(e.value)
    assert msg.startswith('cluster "prod": exec plugin')
    assert "exited with code 3" in msg
    # Only the first line (redacted) reaches the error; the rest goes to the log.
    assert msg.endswith("exited with code 3: error: the SSO session has expired")
    assert "aws sso login" not in msg


async def test_exec_plugin_malformed_output(tmp_path: Path) -> None:
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="garbage")
    with pytest.raises(CredentialError, match="printed invalid JSON"):
        await Credentials(spec(AuthSpec(exec=ex))).token()
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="wrong-kind")
    with pytest.raises(CredentialError, match="want ExecCredential"):
        await Credentials(spec(AuthSpec(exec=ex))).token()
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_API_VERSION=V1BETA1)
    with pytest.raises(CredentialError, match="apiVersion"):
        await Credentials(spec(AuthSpec(exec=ex))).token()


async def test_exec_plugin_timeout(tmp_path: Path) -> None:
    ex, _ = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="slow")
    creds = Credentials(spec(AuthSpec(exec=ex)), exec_timeout=0.5)
    with pytest.raises(CredentialError, match=r"did not finish within 0.5 s"):
        await creds.token()


async def test_exec_plugin_interactive_always_is_refused(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path)
    ex = ExecSpec(command=ex.command, args=ex.args, env=ex.env, interactive_mode="Always")
    with pytest.raises(CredentialError, match="cannot prompt"):
        await Credentials(spec(AuthSpec(exec=ex))).token()
    assert runs(count) == 0


async def test_exec_plugin_failure_then_recovery(tmp_path: Path) -> None:
    """A failed run is not cached: the next request runs the plugin again."""
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="fail")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    with pytest.raises(CredentialError):
        await creds.token()
    creds.auth = AuthSpec(exec=plugin_spec(tmp_path)[0])
    assert await creds.token() == "plugin-token-2"
    assert runs(count) == 2


async def test_exec_plugin_client_certificate(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("CERT")
    (tmp_path / "k.pem").write_text("KEY")
    ex, _ = plugin_spec(
        tmp_path,
        FAKE_PLUGIN_MODE="cert",
        FAKE_PLUGIN_CERT_FILE=str(tmp_path / "c.pem"),
        FAKE_PLUGIN_KEY_FILE=str(tmp_path / "k.pem"),
    )
    creds = Credentials(spec(AuthSpec(exec=ex)))
    assert creds.cert_generation == 0
    assert dict(await creds.headers()) == {}  # no token: the certificate authenticates
    assert creds.plugin_cert == (b"CERT", b"KEY")
    assert creds.cert_generation == 1
    assert dict(await creds.headers()) == {}
    assert creds.plugin_cert == (b"CERT", b"KEY")
    assert creds.cert_generation == 1  # cached: same certificate, no TLS rebuild needed


async def test_close_kills_a_plugin_in_flight(tmp_path: Path) -> None:
    ex, count = plugin_spec(tmp_path, FAKE_PLUGIN_MODE="slow")
    creds = Credentials(spec(AuthSpec(exec=ex)))
    waiter = asyncio.ensure_future(creds.token())
    async with asyncio.timeout(30):  # the plugin has started once it counted its run
        while not runs(count):  # noqa: ASYNC110 - another process writes the file
            await asyncio.sleep(0.02)
    assert runs(count) == 1
    await asyncio.wait_for(creds.close(), 10)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, 10)
