"""The local CA and server certificate behind `serve --tls-port` (files only, no sockets)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509

from kubelantern.localtls import LocalTLSError, config_dir, load_or_create


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_made_once_private_and_reused(tmp_path: Path) -> None:
    folder = tmp_path / "kl"
    tls = load_or_create(folder)
    assert _mode(folder) == 0o700
    for path in (tls.ca_cert, tls.ca_key, tls.server_cert, tls.server_key):
        assert _mode(path) == 0o600, path
    before = {p: p.read_bytes() for p in folder.iterdir()}
    again = load_or_create(folder)
    assert {p: p.read_bytes() for p in folder.iterdir()} == before
    cert = x509.load_pem_x509_certificate(again.server_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    ca = x509.load_pem_x509_certificate(again.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    again.server_context()  # loads


def test_server_certificate_renewed_near_expiry_ca_kept(tmp_path: Path) -> None:
    tls = load_or_create(tmp_path)
    ca, server = tls.ca_cert.read_bytes(), tls.server_cert.read_bytes()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=820)
    load_or_create(tmp_path, now=later)
    assert tls.ca_cert.read_bytes() == ca
    assert tls.server_cert.read_bytes() != server


def test_a_damaged_server_certificate_is_replaced(tmp_path: Path) -> None:
    tls = load_or_create(tmp_path)
    tls.server_cert.write_text("garbage")
    os.chmod(tls.server_cert, 0o600)
    load_or_create(tmp_path)
    x509.load_pem_x509_certificate(tls.server_cert.read_bytes())


def test_readable_keys_are_refused_with_advice(tmp_path: Path) -> None:
    tls = load_or_create(tmp_path)
    os.chmod(tls.ca_key, 0o644)
    with pytest.raises(LocalTLSError, match=r"chmod 600"):
        load_or_create(tmp_path)


def test_config_dir_order() -> None:
    assert config_dir({"KUBELANTERN_CONFIG_DIR": "/x/y"}) == Path("/x/y")
    assert config_dir({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/kubelantern")
    assert config_dir({}) == Path.home() / ".config" / "kubelantern"
