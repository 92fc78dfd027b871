"""The connection flags and the cap sized from the open-file limit (pure parts)."""

from __future__ import annotations

import resource

import pytest

from kubelantern.cli import UsageError, build_parser, settings_from
from kubelantern.filelimits import ACCEPT_RESERVE, PER_CONNECTION, RESERVED, connections_for
from kubelantern.settings import Settings


def parse(*argv: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *argv]), {})


def test_connection_flags_defaults_and_values() -> None:
    s = parse()
    assert (s.header_timeout, s.keepalive_timeout, s.max_connections) == (30.0, 75.0, None)
    s = parse("--header-timeout", "5", "--keepalive-timeout", "12.5", "--max-connections", "9")
    assert (s.header_timeout, s.keepalive_timeout, s.max_connections) == (5.0, 12.5, 9)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--header-timeout", "0"),
        ("--header-timeout", "-1"),
        ("--keepalive-timeout", "0"),
        ("--max-connections", "0"),
    ],
)
def test_bad_connection_flags_name_themselves(flag: str, value: str) -> None:
    with pytest.raises(UsageError, match=flag):
        parse(flag, value)


def test_cap_leaves_descriptors_for_the_accept_batch_and_each_connections_upstream() -> None:
    assert connections_for(1024) == (1024 - RESERVED - ACCEPT_RESERVE) // PER_CONNECTION == 220
    assert connections_for(1_048_576) > 300_000
    # Never below a usable floor; an unlimited limit is treated as a large one.
    assert connections_for(100) == 32
    assert connections_for(resource.RLIM_INFINITY) == connections_for(1 << 20)
