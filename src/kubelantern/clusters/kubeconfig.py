"""Read and merge kubeconfig files into ClusterSpecs, the way kubectl does.

Sources: explicit paths (merged in order), else $KUBECONFIG (missing entries skipped), else
~/.kube/config. First file wins per named cluster/user/context and for current-context.
Relative paths resolve against the folder of the file that defined them. Every context
becomes one ClusterSpec named after it. Bad input yields one `KubeconfigError` line per
problem (naming the file and the key) and never hides the good contexts.

The only IO here is reading files (the kubeconfigs, and a stat to check referenced files).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yarl import URL

from kubelantern.clusters.looks import BadLook, first, looks_of
from kubelantern.clusters.profiles import PROFILES, STRATEGIES
from kubelantern.clusters.spec import AuthSpec, ClusterSpec, ExecSpec, TLSSpec
from kubelantern.clusters.yamlsafe import MAX_FILE_BYTES, TooLarge, expanded_size
from kubelantern.status import KubelanternError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on big files
EXTENSION_NAME = "kubelantern"
EXEC_EXTENSION_NAME = "client.authentication.k8s.io/exec"  # per-cluster data for exec plugins
SERVICE_ACCOUNT_ROOT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
# Legacy in-tree auth providers and the exec plugin that replaced each.
AUTH_PROVIDER_REPLACEMENTS = {
    "gcp": "gke-gcloud-auth-plugin",
    "azure": "kubelogin (github.com/Azure/kubelogin)",
    "oidc": "kubelogin (github.com/int128/kubelogin)",
}


def _shown(file: Path | None, home: Path | None) -> str:
    if file is None:
        return "kubeconfig"
    if home is not None and home != Path("/"):
        try:
            return "~/" + str(file.relative_to(home))
        except ValueError:
            pass
    return str(file)


class KubeconfigError(KubelanternError):
    """One problem in one kubeconfig file. `str()` is a single line naming file and key.

    `context` is the context this problem keeps from loading (None when it hides none).
    """

    def __init__(
        self,
        file: Path | None,
        key: str,
        message: str,
        *,
        context: str | None = None,
        home: Path | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.message = message
        self.context = context
        where = _shown(file, home)
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        super().__init__(text)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class LoadResult:
    specs: list[ClusterSpec] = field(default_factory=list)
    errors: list[KubeconfigError] = field(default_factory=list)
    current_context: str | None = None
    files: list[Path] = field(default_factory=list)  # the files actually read, in order


@dataclass
class _Entry:
    """A named cluster/user/context as it appeared in one file."""

    file: Path
    key: str  # e.g. `clusters[0] "prod"`
    body: Any


class _Bad(Exception):
    """A problem with one field; `key` is relative to the entry (`certificate-authority-data`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _home() -> Path:
    try:
        return Path.home()
    except RuntimeError:  # no HOME and no passwd entry (some containers)
        return Path("/")


# -- finding the files -------------------------------------------------------------------


def kubeconfig_sources(
    paths: Sequence[Path] | None, env: Mapping[str, str], home: Path
) -> tuple[list[Path], bool]:
    """The files to read and whether they were named explicitly (then missing is an error)."""
    if paths:
        return _dedupe(Path(p).expanduser() for p in paths), True
    listed = env.get("KUBECONFIG", "")
    if listed.strip():
        entries = [e for e in listed.split(os.pathsep) if e.strip()]
        return _dedupe(Path(e).expanduser() for e in entries), False
    return [home / ".kube" / "config"], False


def _dedupe(paths: Any) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p not in out:
            out.append(p)
    return out


# -- loading -----------------------------------------------------------------------------


def load_kubeconfigs(
    paths: Sequence[Path] | None,
    *,
    contexts: Sequence[str] = (),
    env: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> LoadResult:
    """Read, merge and turn into ClusterSpecs. Never raises for bad input: see `.errors`."""
    home = home if home is not None else _home()
    files, explicit = kubeconfig_sources(paths, env, home)
    result = LoadResult()
    merged: dict[str, dict[str, _Entry]] = {"clusters": {}, "users": {}, "contexts": {}}

    def err(file: Path | None, key: str, message: str, context: str | None = None) -> None:
        result.errors.append(KubeconfigError(file, key, message, context=context, home=home))

    for file in files:
        doc = _read(file, explicit, err)
        if doc is None:
            continue
        result.files.append(file)
        current = doc.get("current-context")
        if result.current_context is None and isinstance(current, str) and current:
            result.current_context = current
        for section, body_key in (
            ("clusters", "cluster"),
            ("users", "user"),
            ("contexts", "context"),
        ):
            items = doc.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                err(file, section, "is not a list")
                continue
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    err(file, f"{section}[{i}]", "is not a mapping with name and " + body_key)
                    continue
                name = item.get("name")
                if not isinstance(name, str) or not name:
                    problem = "has no name" if name in (None, "") else "name is not a string"
                    err(file, f"{section}[{i}]", problem)
                    continue
                key = f'{section}[{i}] "{name}"'
                body = item.get(body_key)
                if body is None:
                    body = {}  # kubectl accepts an empty entry; fields are checked when used
                if not isinstance(body, dict):
                    body = _Bad(body_key, "is not a mapping")
                merged[section].setdefault(name, _Entry(file, key, body))

    wanted = list(dict.fromkeys(contexts)) if contexts else list(merged["contexts"])
    for name in wanted:
        entry = merged["contexts"].get(name)
        if entry is None:
            where = ", ".join(_shown(f, home) for f in result.files) or "no kubeconfig file"
            err(None, f'context "{name}"', f"not found (read: {where})")
            continue
        try:
            result.specs.append(_context_spec(name, entry, merged))
        except KubeconfigError as e:
            result.errors.append(KubeconfigError(e.file, e.key, e.message, context=name, home=home))
    return result


def _read(file: Path, explicit: bool, err: Any) -> dict[str, Any] | None:
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            err(file, "", f"is larger than {MAX_FILE_BYTES >> 20} MiB: not read")
            return None
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            err(file, "", "file not found")
        return None  # like kubectl: missing $KUBECONFIG entries and ~/.kube/config are skipped
    except IsADirectoryError:
        err(file, "", "is a directory, not a kubeconfig file")
        return None
    except (OSError, UnicodeDecodeError) as e:
        err(file, "", f"cannot read: {getattr(e, 'strerror', None) or e}")
        return None
    try:
        doc = yaml.load(text, Loader=_LOADER)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        at = f" at line {mark.line + 1}" if mark is not None else ""
        err(file, "", f"invalid YAML{at}: {problem}")
        return None
    try:
        expanded_size(doc)  # before anything walks or serialises it (alias bombs)
    except TooLarge as e:
        err(file, "", f"refused: {e} (YAML aliases repeating nodes)")
        return None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        err(file, "", f"is not a kubeconfig (top level is a {type(doc).__name__}, not a mapping)")
        return None
    return doc


def _context_spec(name: str, entry: _Entry, merged: dict[str, dict[str, _Entry]]) -> ClusterSpec:
    body = entry.body
    if isinstance(body, _Bad):
        raise KubeconfigError(entry.file, entry.key, f"context {body.message}")
    cluster_name = body.get("cluster")
    if not isinstance(cluster_name, str) or not cluster_name:
        raise KubeconfigError(entry.file, entry.key, "names no cluster")
    cluster_entry = merged["clusters"].get(cluster_name)
    if cluster_entry is None:
        raise KubeconfigError(entry.file, entry.key, f'cluster "{cluster_name}" not found')
    user_name = body.get("user") or ""
    if not isinstance(user_name, str):
        raise KubeconfigError(entry.file, f"{entry.key}.user", "is not a string")
    user_entry = merged["users"].get(user_name) if user_name else None
    if user_name and user_entry is None:
        raise KubeconfigError(entry.file, entry.key, f'user "{user_name}" not found')

    namespace = body.get("namespace") or None
    if namespace is not None and not isinstance(namespace, str):
        raise KubeconfigError(entry.file, f"{entry.key}.namespace", "is not a string")
    try:
        profile, strategy, context_looks = _extension(body.get("extensions"))
    except _Bad as b:
        raise KubeconfigError(entry.file, f"{entry.key}.{b.key}", b.message) from None

    try:
        server, tls, proxy_url, ca_b64, exec_config = _cluster(cluster_entry)
        cluster_looks = _extension(cluster_entry.body.get("extensions"))[2]
    except _Bad as b:
        raise KubeconfigError(
            cluster_entry.file, f"{cluster_entry.key}.{b.key}", b.message
        ) from None
    group, color = first(context_looks, cluster_looks)
    auth = AuthSpec()
    if user_entry is not None:
        try:
            auth, tls = _user(user_entry, tls)
        except _Bad as b:
            raise KubeconfigError(user_entry.file, f"{user_entry.key}.{b.key}", b.message) from None
    return ClusterSpec(
        name=name,
        server=server,
        cluster_name=cluster_name,
        user_name=user_name,
        namespace=namespace,
        tls=tls,
        auth=auth,
        proxy_url=proxy_url,
        profile=profile,
        strategy=strategy,
        source=str(entry.file),
        certificate_authority_data_b64=ca_b64,
        exec_cluster_config_json=exec_config,
        group=group,
        color=color,
    )


def _extension(
    extensions: Any,
) -> tuple[str | None, str | None, tuple[str | None, str | None]]:
    """profile, strategy, (group, colour) of the `kubelantern` extension."""
    if extensions is None:
        return None, None, (None, None)
    if not isinstance(extensions, list):
        raise _Bad("extensions", "is not a list")
    for i, ext in enumerate(extensions):
        if not isinstance(ext, dict) or ext.get("name") != EXTENSION_NAME:
            continue
        key = f"extensions[{i}]"
        body = ext.get("extension") or {}
        if not isinstance(body, dict):
            raise _Bad(f"{key}.extension", "is not a mapping")
        profile = body.get("profile") or None
        strategy = body.get("strategy") or None
        if profile is not None and profile not in PROFILES:
            raise _Bad(
                f"{key}.extension.profile",
                f"unknown profile {profile!r} (known: {', '.join(sorted(PROFILES))})",
            )
        if strategy is not None and strategy != "auto" and strategy not in STRATEGIES:
            raise _Bad(
                f"{key}.extension.strategy",
                f"unknown strategy {strategy!r} (known: auto, {', '.join(sorted(STRATEGIES))})",
            )
        try:
            looks = looks_of(body)
        except BadLook as b:
            raise _Bad(f"{key}.extension.{b.key}", b.message) from None
        return profile, strategy, looks
    return None, None, (None, None)


# -- field helpers -------------------------------------------------------------------------


def _str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(key, "is not a string")
    return str(value)


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Bad(key, f"is not true or false: {value!r}")


def _b64(body: dict[str, Any], key: str) -> tuple[bytes, str] | None:
    text = _str(body, key)
    if text is None:
        return None
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True), compact
    except (binascii.Error, ValueError):
        raise _Bad(key, "is not valid base64") from None


def _path(body: dict[str, Any], key: str, base: Path) -> Path | None:
    text = _str(body, key)
    if text is None:
        return None
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise _Bad(key, f"file {path} not found")
    return path


def shown_url(url: str) -> str:
    """`url` fit for messages, logs and the UI: a password in it replaced."""
    try:
        parsed = URL(url)
        if parsed.password is None:
            return url
        return str(parsed.with_password("REDACTED"))
    except (ValueError, TypeError):
        return "<unparsable URL>"


def _cluster(entry: _Entry) -> tuple[str, TLSSpec, str | None, str | None, str | None]:
    body = entry.body
    if isinstance(body, _Bad):
        raise body
    base = entry.file.parent
    server = _str(body, "server")
    if server is None:
        raise _Bad("server", "is missing (the API server URL, e.g. https://host:6443)")
    url = URL(server)
    if url.scheme not in ("http", "https") or not url.host:
        raise _Bad("server", f"{shown_url(server)!r} is not an http:// or https:// URL")
    ca = _b64(body, "certificate-authority-data")
    proxy_url = _str(body, "proxy-url")
    if proxy_url is not None:
        purl = URL(proxy_url)
        if purl.scheme not in ("http", "https", "socks5") or not purl.host:
            raise _Bad(
                "proxy-url", f"{shown_url(proxy_url)!r} is not an http(s):// or socks5:// URL"
            )
    tls = TLSSpec(
        ca_data=ca[0] if ca else None,
        ca_file=None if ca else _path(body, "certificate-authority", base),
        insecure_skip_verify=_bool(body, "insecure-skip-tls-verify"),
        server_name=_str(body, "tls-server-name"),
    )
    return server, tls, proxy_url, ca[1] if ca else None, _exec_cluster_config(body)


def _exec_cluster_config(body: dict[str, Any]) -> str | None:
    extensions = body.get("extensions")
    if extensions is None:
        return None
    if not isinstance(extensions, list):
        raise _Bad("extensions", "is not a list")
    for ext in extensions:
        if isinstance(ext, dict) and ext.get("name") == EXEC_EXTENSION_NAME:
            try:
                return json.dumps(ext.get("extension"))
            except (TypeError, ValueError):
                raise _Bad(f"extensions[{EXEC_EXTENSION_NAME}]", "is not JSON data") from None
    return None


def _user(entry: _Entry, tls: TLSSpec) -> tuple[AuthSpec, TLSSpec]:
    body = entry.body
    if isinstance(body, _Bad):
        raise body
    base = entry.file.parent
    provider = body.get("auth-provider")
    if provider:
        pname = provider.get("name") if isinstance(provider, dict) else None
        plugin = AUTH_PROVIDER_REPLACEMENTS.get(str(pname), "the provider's exec plugin")
        raise _Bad(
            "auth-provider",
            f"the legacy auth-provider {pname!r} is not supported (kubectl dropped it too): "
            f"switch this user to the exec plugin {plugin}",
        )
    cert = _b64(body, "client-certificate-data")
    key = _b64(body, "client-key-data")
    tls = TLSSpec(
        ca_data=tls.ca_data,
        ca_file=tls.ca_file,
        insecure_skip_verify=tls.insecure_skip_verify,
        server_name=tls.server_name,
        client_cert_data=cert[0] if cert else None,
        client_cert_file=None if cert else _path(body, "client-certificate", base),
        client_key_data=key[0] if key else None,
        client_key_file=None if key else _path(body, "client-key", base),
    )
    has_cert = tls.client_cert_data is not None or tls.client_cert_file is not None
    has_key = tls.client_key_data is not None or tls.client_key_file is not None
    if has_cert != has_key:
        missing = "client-key" if has_cert else "client-certificate"
        raise _Bad(missing, "is missing (a client certificate needs both certificate and key)")

    groups = body.get("as-groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _Bad("as-groups", "is not a list of strings")
    extra_raw = body.get("as-user-extra") or {}
    if not isinstance(extra_raw, dict):
        raise _Bad("as-user-extra", "is not a mapping of lists")
    extra: list[tuple[str, tuple[str, ...]]] = []
    for k, values in extra_raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _Bad(f"as-user-extra.{k}", "is not a list of strings")
        extra.append((str(k), tuple(values)))

    username = _str(body, "username")
    password = _str(body, "password")
    if password is not None and username is None:
        raise _Bad("password", "is set without username")
    auth = AuthSpec(
        token=_str(body, "token"),
        token_file=_path(body, "tokenFile", base),
        username=username,
        password=password,
        exec=_exec(body.get("exec"), base),
        impersonate=_str(body, "as"),
        impersonate_groups=tuple(groups),
        impersonate_uid=_str(body, "as-uid"),
        impersonate_extra=tuple(extra),
    )
    return auth, tls


def _exec(body: Any, base: Path) -> ExecSpec | None:
    if body is None:
        return None
    if not isinstance(body, dict):
        raise _Bad("exec", "is not a mapping")
    try:
        command = _str(body, "command")
        api_version = _str(body, "apiVersion")
    except _Bad as b:
        raise _Bad(f"exec.{b.key}", b.message) from None
    if command is None:
        raise _Bad("exec.command", "is missing")
    if api_version is None:
        raise _Bad("exec.apiVersion", f"is missing (use {EXEC_API_VERSIONS[0]})")
    if api_version not in EXEC_API_VERSIONS:
        raise _Bad(
            "exec.apiVersion",
            f"{api_version!r} is not supported (use {' or '.join(EXEC_API_VERSIONS)})",
        )
    # Like client-go: a relative command with a slash is relative to the kubeconfig's folder;
    # a bare name is looked up on PATH.
    if "/" in command and not Path(command).is_absolute():
        command = str(base / command)
    args = body.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise _Bad("exec.args", "is not a list of strings")
    env_list = body.get("env") or []
    if not isinstance(env_list, list):
        raise _Bad("exec.env", "is not a list of {name, value}")
    env: list[tuple[str, str]] = []
    for i, item in enumerate(env_list):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _Bad(f"exec.env[{i}]", "is not a {name, value} mapping")
        value = item.get("value")
        env.append((item["name"], "" if value is None else str(value)))
    mode = body.get("interactiveMode") or "IfAvailable"
    if mode not in INTERACTIVE_MODES:
        raise _Bad("exec.interactiveMode", f"{mode!r} is not one of {', '.join(INTERACTIVE_MODES)}")
    try:
        provide = _bool(body, "provideClusterInfo")
        hint = _str(body, "installHint")
    except _Bad as b:
        raise _Bad(f"exec.{b.key}", b.message) from None
    return ExecSpec(
        command=command,
        args=tuple(args),
        env=tuple(env),
        api_version=api_version,
        provide_cluster_info=provide,
        interactive_mode=str(mode),
        install_hint=hint,
        base_dir=base,
    )


# -- in-cluster ----------------------------------------------------------------------------


def load_in_cluster(
    env: Mapping[str, str] = os.environ, root: Path = SERVICE_ACCOUNT_ROOT
) -> ClusterSpec:
    """The cluster this pod runs in, from its service account mount. Raises KubeconfigError."""
    host = env.get("KUBERNETES_SERVICE_HOST", "").strip()
    port = env.get("KUBERNETES_SERVICE_PORT", "").strip()
    if not host or not port:
        raise KubeconfigError(
            None,
            "",
            "--in-cluster: not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT are not set); use --kubeconfig instead",
        )
    token = root / "token"
    ca = root / "ca.crt"
    for needed in (token, ca):
        if not needed.is_file():
            raise KubeconfigError(
                needed,
                "",
                "--in-cluster: service account file missing (is automountServiceAccountToken "
                "off for this pod?)",
            )
    namespace = None
    try:
        namespace = (root / "namespace").read_text().strip() or None
    except OSError:
        pass
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 service address
    return ClusterSpec(
        name="in-cluster",
        server=f"https://{host}:{port}",
        cluster_name="in-cluster",
        user_name="serviceaccount",
        namespace=namespace,
        tls=TLSSpec(ca_file=ca),
        auth=AuthSpec(token_file=token),
        source=str(root),
        origin="in-cluster",
    )
