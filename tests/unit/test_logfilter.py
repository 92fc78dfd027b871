"""observe/logfilter.py: redaction of every record and the repeat limiter (defects 4, 5)."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubelantern.observe.logfilter import (
    UNLIMITED,
    Redactor,
    RepeatLimiter,
    install,
    redact_text,
    spellings,
)
from kubelantern.proxy.subprotocols import encode_bearer

SECRET = "s3cr3t-" + "t" * 30


@pytest.mark.parametrize(
    "text",
    [
        f"b'Authorization: Bearer {SECRET}\\x01'",
        f"authorization:bearer {SECRET}",
        f"b'X-Kubelantern-Token: {SECRET}'",
        f"Cookie: kl-launch-1={SECRET}; other=1",
        f"bytearray(b'/?token={SECRET}AAAA')",
        f"/x?a=1&access_token={SECRET}",
        f"Client protocols ['v5', '{encode_bearer(SECRET)}']",
        f"b'Bearer {SECRET}BBBB...'",
        "id eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl here",
    ],
)
def test_shapes_of_credentials_are_redacted(text: str) -> None:
    out = redact_text(text)
    assert SECRET not in out and "eyJzdWIi" not in out, out
    assert "REDACTED" in out or "<redacted>" in out


@given(st.text(max_size=40), st.text(max_size=40))
def test_known_secrets_go_in_every_spelling(before: str, after: str) -> None:
    for form in spellings(SECRET):
        assert SECRET not in redact_text(before + form + after, [SECRET])
        assert form not in redact_text(before + form + after, [SECRET])


def test_filter_on_the_handler_covers_library_loggers_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install(handler, [SECRET])
    logger = logging.getLogger("aiohttp.server.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad header X-Kubelantern-Token: {SECRET}")
        except ValueError:
            logger.exception("Error handling request %s", f"?token={SECRET}")
    finally:
        logger.removeHandler(handler)
    assert SECRET not in stream.getvalue()
    assert "Error handling request" in stream.getvalue() and "ValueError" in stream.getvalue()


def test_repeats_are_limited_and_counted() -> None:
    limiter = RepeatLimiter(burst=3, window=60)
    records = [
        logging.LogRecord("asyncio", logging.ERROR, "", 0, "accept() failed", None, None)
        for _ in range(100)
    ]
    passed = [r for r in records if limiter.filter(r)]
    assert len(passed) == 3
    limiter._seen[("asyncio", logging.ERROR, "accept() failed")][0] -= 61  # the window ends
    late = logging.LogRecord("asyncio", logging.ERROR, "", 0, "accept() failed", None, None)
    assert limiter.filter(late)
    assert "[97 similar lines suppressed]" in late.getMessage()


def test_records_marked_unlimited_all_pass() -> None:
    """Start-up kubeconfig problems share one template ("%s"): all of them are said."""
    limiter = RepeatLimiter(burst=3, window=60)
    lines = []
    for i in range(30):
        record = logging.LogRecord("kubelantern", logging.WARNING, "", 0, "%s", (f"ctx {i}",), None)
        record.__dict__.update(UNLIMITED)
        lines.append(record)
    assert all(limiter.filter(r) for r in lines)


def test_redactor_keeps_short_values_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "abc is abc", None, None)
    Redactor(["abc"]).filter(record)
    assert record.getMessage() == "abc is abc"
