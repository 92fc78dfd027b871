"""A shallow look at PEM material, cheap enough for every context of a large kubeconfig at
load time (microseconds, no OpenSSL): is there a block of the right kind whose body is
base64 of a DER SEQUENCE? It catches what breaks kubeconfigs in practice (junk or truncated
data, a wrong file, a missing file) without building an SSL context; what only OpenSSL can
tell (a key that does not match its certificate, a bad signature) is found when the context
is built at the cluster's first use. Pure: bytes in, answers out.
"""

from __future__ import annotations

import binascii
import re

# Labels OpenSSL reads as a certificate from a CA bundle or a client certificate file.
CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----(.*?)-----END \1-----", re.S)


def _der_sequence(der: bytes) -> bool:
    """Starts with a DER SEQUENCE header whose length fits in `der` (certificates and every
    private key format are one)."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    first = der[1]
    if first < 0x80:
        return 2 + first <= len(der)
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return False
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big") <= len(der)


def pem_labels(data: bytes) -> list[str]:
    """The labels of the well-formed PEM blocks in `data` (others are skipped)."""
    out: list[str] = []
    for m in _BLOCK.finditer(data):
        body = m.group(2)
        # Legacy encrypted keys carry "Proc-Type: 4,ENCRYPTED" header lines, and their
        # body is ciphertext: base64 only, no DER to look at.
        encrypted = b":" in body
        if encrypted:
            body = b"\n".join(line for line in body.splitlines() if b":" not in line)
        body = b"".join(body.split())  # in C: a per-line loop in Python cost 4x the rest
        try:
            der = binascii.a2b_base64(body, strict_mode=True)
        except binascii.Error:
            continue
        if der and (encrypted or _der_sequence(der)):
            out.append(m.group(1).decode("ascii"))
    return out


def has_certificate(data: bytes) -> bool:
    return any(label in CERTIFICATE_LABELS for label in pem_labels(data))


def has_private_key(data: bytes) -> bool:
    # PRIVATE KEY (PKCS#8), ENCRYPTED PRIVATE KEY, RSA/EC/DSA PRIVATE KEY (traditional).
    return any(label.endswith("PRIVATE KEY") for label in pem_labels(data))
