"""Import aiohttp without parsing the system CA bundle twice (issue 12: start-up).

aiohttp builds two default SSL contexts when it is imported (`aiohttp.connector`), each
loading the system CA bundle: ~20 ms of CPU apiece on this machine kind, about a sixth of a
50-cluster start. kubelantern hands its own SSL context to every upstream request (a
cluster's, clusters/tls.py; the OIDC client's, identity/client.py), so those defaults serve
no request of ours. Rather than leave them without CAs, they are made to find the system CAs
through OpenSSL's hashed CA directory (looked up per handshake, as OpenSSL does for the
directory anyway) instead of the bundle file: same trust where the directory is hashed,
0.4 ms instead of ~40. Where it is not (no hashed directory, or SSL_CERT_FILE names a
bundle other than the system's), aiohttp is imported as it is.
"""

from __future__ import annotations

import os
import re
import ssl
import sys

CAFILE_ENV = "SSL_CERT_FILE"
_HASH_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def hashed_ca_dir(capath: str | None) -> bool:
    """Does `capath` hold OpenSSL's subject-hash links (`1a2b3c4d.0`) to look CAs up by?"""
    if not capath:
        return False
    try:
        with os.scandir(capath) as entries:
            return any(_is_hash_name(e.name) for e in entries)
    except OSError:
        return False


def system_bundle(cafile_env: str | None, openssl_cafile: str) -> bool:
    """SSL_CERT_FILE unset, or naming OpenSSL's own default bundle (some environments set it
    to that): the CAs the hashed directory holds too. A bundle of the user's own: False."""
    if not cafile_env:
        return True
    return os.path.realpath(cafile_env) == os.path.realpath(openssl_cafile)


def _is_hash_name(name: str) -> bool:
    return _HASH_NAME.fullmatch(name) is not None


def import_aiohttp(env: dict[str, str] | None = None) -> bool:
    """Import aiohttp (once; first thing, before anything else imports it). True when its
    default contexts were built from the CA directory rather than the bundle."""
    if "aiohttp.connector" in sys.modules:
        return False
    environ = os.environ if env is None else env
    paths = ssl.get_default_verify_paths()
    lean = system_bundle(environ.get(CAFILE_ENV), paths.openssl_cafile) and hashed_ca_dir(
        paths.capath
    )
    if lean:
        # OpenSSL reads the variable when the contexts load their default paths; a missing
        # file is skipped, the directory stays. Put back before anything else runs.
        saved = os.environ.get(CAFILE_ENV)
        os.environ[CAFILE_ENV] = os.devnull
    try:
        import aiohttp.connector  # noqa: F401
    finally:
        if lean:
            if saved is None:
                del os.environ[CAFILE_ENV]
            else:
                os.environ[CAFILE_ENV] = saved
    return lean
