"""setup_logging: the access line's format, with the record switches that make it cheap."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from kubelantern.proxy.headers import redact_path
from kubelantern.web.logs import access_line, access_log, logfmt, setup_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    flags = (logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    srcfile = logging._srcfile
    yield
    root.handlers[:], level = saved
    root.setLevel(level)
    logging.logThreads, logging.logProcesses, logging.logMultiprocessing = flags
    logging._srcfile = srcfile


def test_access_line_format_and_cheap_records(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("info", secrets=["s3cr3t-token-value"])
    assert not (logging.logThreads or logging.logProcesses or logging.logMultiprocessing)
    access_log.info(
        logfmt(method="GET", path="/clusters/dev/api?token=s3cr3t-token-value", status=200,
               duration_ms="1.5", bytes=12, remote="127.0.0.1", cluster=None)
    )  # fmt: skip
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO kubelantern\.access: method=GET path=\S+ status=200 "
        r"duration_ms=1\.5 bytes=12 remote=127\.0\.0\.1",
        line,
    ), line
    assert "s3cr3t-token-value" not in line
    assert logfmt(path="a b", q='x"y', n=3) == 'path="a b" q="x\\"y" n=3'


@pytest.mark.parametrize(
    ("path", "cluster", "remote"),
    [
        ("/clusters/dev/api/v1/pods", "dev", "127.0.0.1"),
        ("/clusters/dev/api?token=s3cr3t&watch=1", None, None),
        ('/a b/"q"', "a cluster", "::1"),
        ("/x\\y=z", "", "10.0.0.1"),
    ],
)
def test_access_line_is_the_logfmt_line(path: str, cluster: str | None, remote: str | None) -> None:
    # The hand-built line (one a request) says exactly what the generic logfmt said.
    expected = logfmt(method="GET", path=redact_path(path)[:2000], cluster=cluster, status=404,
                      duration_ms="1.5", bytes=12, remote=remote)  # fmt: skip
    assert access_line("GET", path, cluster, 404, 0.0015, 12, remote) == expected
