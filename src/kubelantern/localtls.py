"""The TLS identity `kubelantern serve --tls-port` listens with: a private CA and a server
certificate for 127.0.0.1/localhost (::1), made on first use, kept 0600 under the user's
config directory and reused, so a kubeconfig written once keeps working across restarts.

kubectl sends credentials only over TLS; this is what lets it present the launch token.
The CA signs nothing else and never leaves the machine (kubeconfigs carry its certificate).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG_DIR_ENV = "KUBELANTERN_CONFIG_DIR"
SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 825  # the longest lifetime clients such as macOS accept for a leaf
RENEW_BEFORE = dt.timedelta(days=30)


class LocalTLSError(Exception):
    """The stored identity cannot be used or made; the message says where and what to do."""


def config_dir(env: dict[str, str] | None = None) -> Path:
    """`$KUBELANTERN_CONFIG_DIR`, else `$XDG_CONFIG_HOME/kubelantern`, else ~/.config/..."""
    env = dict(os.environ) if env is None else env
    if env.get(CONFIG_DIR_ENV):
        return Path(env[CONFIG_DIR_ENV]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "kubelantern"


@dataclass(frozen=True)
class LocalTLS:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    def ca_pem(self) -> bytes:
        return self.ca_cert.read_bytes()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.server_cert, self.server_key)
        return ctx


def _write_private(path: Path, data: bytes) -> None:
    """Create with 0600 from the start (no window where another user could read it)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise LocalTLSError(
            f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}` or "
            "delete the folder to have kubelantern make a new identity"
        )


def load_or_create(folder: Path, now: dt.datetime | None = None) -> LocalTLS:
    """The identity in `folder`: reused when present and valid, made (or renewed) otherwise."""

    now = now or dt.datetime.now(dt.UTC)
    tls = LocalTLS(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise LocalTLSError(f"cannot create {folder}: {exc.strerror or exc}") from None

    ca_key: ec.EllipticCurvePrivateKey
    if tls.ca_cert.exists() and tls.ca_key.exists():
        for path in (tls.ca_cert, tls.ca_key):
            _check_private(path)
        try:
            ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
            loaded = serialization.load_pem_private_key(tls.ca_key.read_bytes(), None)
        except ValueError as exc:
            raise LocalTLSError(
                f"{folder} holds an unreadable CA ({exc}); delete the folder to start over "
                "(kubeconfigs written before must then be written again)"
            ) from None
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise LocalTLSError(f"{tls.ca_key} is not an EC key; delete {folder} to start over")
        ca_key = loaded
        if ca.not_valid_after_utc - RENEW_BEFORE < now:
            ca, ca_key = _make_ca(now)
            _store_ca(tls, ca, ca_key)
            _make_server(tls, ca, ca_key, now)
    else:
        ca, ca_key = _make_ca(now)
        _store_ca(tls, ca, ca_key)
    if not _server_usable(tls, ca, now):
        _make_server(tls, ca, ca_key, now)
    return tls


def _make_ca(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelantern local CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _store_ca(tls: LocalTLS, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    _write_private(tls.ca_key, _pem_key(key))
    _write_private(tls.ca_cert, _pem_cert(cert))


def _server_usable(tls: LocalTLS, ca: x509.Certificate, now: dt.datetime) -> bool:

    if not (tls.server_cert.exists() and tls.server_key.exists()):
        return False
    for path in (tls.server_cert, tls.server_key):
        _check_private(path)
    try:
        cert = x509.load_pem_x509_certificate(tls.server_cert.read_bytes())
    except ValueError:
        return False
    if cert.issuer != ca.subject or cert.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    names = set(sans.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    return set(SERVER_NAMES) <= names and set(SERVER_IPS) <= ips


def _make_server(
    tls: LocalTLS, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, now: dt.datetime
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelantern")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=SERVER_DAYS), ca.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(tls.server_key, _pem_key(key))
    _write_private(tls.server_cert, _pem_cert(cert))
