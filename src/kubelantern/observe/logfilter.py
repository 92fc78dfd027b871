"""One filter for every log record, ours and the libraries' (aiohttp's parser errors quote
the bad header line or the start of a long URL; its WebSocket warnings list the offered
subprotocols): secrets are redacted, and a line repeated in a tight loop (asyncio's accept()
EMFILE traceback) is rate-limited. Installed on the root logger's handlers, so it sees
records from every logger (issue 10, defects 4 and 5).
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Iterable

REDACTED = "REDACTED"
# `extra=` for records that must all be seen, however many share a template: one line per
# kubeconfig problem at start or reload (a file with 30 broken contexts is 30 lines, once).
UNLIMITED = {"kl_unlimited": True}

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # the bearer subprotocol (browsers' token carrier)
    (
        re.compile(r"(base64url\.bearer\.authorization\.k8s\.io\.)[A-Za-z0-9+/=_.-]*"),
        r"\1<redacted>",
    ),
    # header lines: Authorization / Proxy-Authorization (scheme kept), our token, cookies
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic)\s+)?[^\s'\"\\,]+"
        ),
        r"\1\2 " + REDACTED,
    ),
    (
        re.compile(
            r"(?i)\b((?:x-kubelantern-token|cookie|set-cookie)[\"']?\s*[:=]\s*)[^\r\n'\"\\]+"
        ),
        r"\1" + REDACTED,
    ),
    # a scheme and its credential anywhere (aiohttp quotes a too-long header's value alone)
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=:-]{6,}"), r"\1\2" + REDACTED),
    # query parameters that carry secrets
    (
        re.compile(
            r"(?i)(^|[?&;\s'\"(])((?:access_|id_|refresh_)?token|auth|client_secret|password)=[^&;\s'\"#)]*"
        ),
        r"\1\2=" + REDACTED,
    ),
    # JWTs (OIDC ID tokens, service account tokens) wherever they appear
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
)


def spellings(secret: str) -> set[str]:
    """A secret as is and base64-encoded (standard/URL-safe, padded or not)."""
    raw = secret.encode()
    out = {secret}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        out.add(enc.decode())
        out.add(enc.decode().rstrip("="))
    return out


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credentials replaced: known secrets (any spelling) and the shapes above."""
    for secret in secrets:
        for form in sorted(spellings(secret), key=len, reverse=True):
            text = text.replace(form, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Rewrites each record's message, traceback and stack text through `redact_text`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Short values would redact ordinary words; real tokens are long.
        self.secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg = redact_text(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self.secrets)
        return True


class RepeatLimiter(logging.Filter):
    """At most `burst` records per logger+template in `window` seconds; the first one let
    through after a quiet window says how many were dropped."""

    def __init__(self, burst: int = 20, window: float = 60.0, max_keys: int = 1000) -> None:
        super().__init__()
        self.burst, self.window, self.max_keys = burst, window, max_keys
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # key → [start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "kl_unlimited", False):
            return True
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = time.monotonic()
        state = self._seen.get(key)
        if state is None or now - state[0] > self.window:
            dropped = int(state[2]) if state is not None else 0
            if len(self._seen) >= self.max_keys:
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if dropped:
                record.msg = f"{record.msg} [{dropped} similar lines suppressed]"
            return True
        state[1] += 1
        if state[1] > self.burst:
            state[2] += 1
            return False
        return True


def install(handler: logging.Handler, secrets: Iterable[str] = ()) -> None:
    """Rate-limit first (a dropped record is never formatted), then redact."""
    handler.addFilter(RepeatLimiter())
    handler.addFilter(Redactor(secrets))
