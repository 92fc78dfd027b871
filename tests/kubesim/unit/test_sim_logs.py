"""Pod log options, container selection and the deterministic log generator."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kubesim.config import SimConfig
from kubesim.params import format_rfc3339_nano, parse_bool, parse_rfc3339
from kubesim.podlogs import LogOptions, parse_log_options, prepare_pod_log
from kubesim.pods import select_container
from kubesim.state import SimState, make_state
from kubesim.status import StatusError

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z ")


def pod_named(state: SimState, ns: str, prefix: str) -> dict[str, object]:
    return next(p for p in state.store.list("pods", ns) if p["metadata"]["name"].startswith(prefix))


async def collect(state: SimState, pod: dict[str, object], **options: object) -> bytes:
    plan = prepare_pod_log(state, pod, LogOptions(**options))  # type: ignore[arg-type]
    return b"".join([c async for c in plan.chunks()])


@pytest.fixture(scope="module")
def state() -> SimState:
    return make_state(SimConfig())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("0", False),
        ("false", False),
        ("FALSE", False),
        ("1", True),
        ("", True),
        ("True", True),
    ],
)
def test_parse_bool_follows_apimachinery(value: str | None, expected: bool) -> None:
    assert parse_bool(value) is expected


def test_parse_log_options() -> None:
    opts = parse_log_options(
        {"container": "app", "follow": "1", "tailLines": "10", "timestamps": "true"}
    )
    assert opts == LogOptions(container="app", follow=True, timestamps=True, tail_lines=10)
    since = parse_log_options({"sinceTime": "2026-01-02T03:04:05.123456789Z"}).since_time
    assert since == dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("query", "code", "text"),
    [
        ({"tailLines": "x"}, 400, "invalid syntax"),
        ({"tailLines": "-1"}, 422, "must be greater than or equal to 0"),
        ({"limitBytes": "0"}, 422, "must be greater than 0"),
        ({"sinceSeconds": "5", "sinceTime": "2026-01-01T00:00:00Z"}, 422, "at most one of"),
        ({"sinceTime": "yesterday"}, 400, "RFC3339"),
    ],
)
def test_bad_log_options(query: dict[str, str], code: int, text: str) -> None:
    with pytest.raises(StatusError) as err:
        parse_log_options(query, "p")
    assert err.value.code == code and text in err.value.message


def test_rfc3339_nano_trims_zeros() -> None:
    t = dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=dt.UTC)
    assert format_rfc3339_nano(t) == "2026-01-02T03:04:05.12Z"
    assert format_rfc3339_nano(t.replace(microsecond=0)) == "2026-01-02T03:04:05Z"
    assert format_rfc3339_nano(t, nanos=7) == "2026-01-02T03:04:05.120000007Z"
    assert parse_rfc3339("2026-01-02T03:04:05Z") == t.replace(microsecond=0)


def test_container_selection_texts() -> None:
    pod = {
        "metadata": {"name": "web"},
        "spec": {
            "containers": [{"name": "a"}, {"name": "b"}],
            "initContainers": [{"name": "init"}],
        },
    }
    assert select_container(pod, "init") == "init"
    with pytest.raises(StatusError) as err:
        select_container(pod, None)
    assert err.value.message == (
        "a container name must be specified for pod web, choose one of: [a b] "
        "or one of the init containers: [init]"
    )
    with pytest.raises(StatusError) as err:
        select_container(pod, "c")
    assert err.value.code == 400 and err.value.message == "container c is not valid for pod web"
    single = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "only"}]}}
    assert select_container(single, None) == "only"


async def test_logs_are_deterministic_per_seed(state: SimState) -> None:
    pod = pod_named(state, "shop", "cart-")
    first = await collect(state, pod, timestamps=True)
    again = await collect(state, pod, timestamps=True)
    # The same lines every time (a live line may have been added in between).
    assert again.startswith(first) and first.count(b"\n") >= 25
    other = make_state(SimConfig(seed=2))
    other_pod = pod_named(other, "shop", "cart-")
    assert (await collect(other, other_pod, timestamps=True))[:500] != first[:500]
    lines = first.decode().splitlines()
    assert all(TS.match(line) for line in lines)
    stamps = [parse_rfc3339(line.split(" ", 1)[0]) for line in lines]
    assert stamps == sorted(stamps)
    # Mixed content for a log viewer: JSON lines and ANSI colours both appear.
    assert any(line.split(" ", 1)[1].startswith("{") for line in lines)
    assert any("\x1b[" in line for line in lines)


async def test_tail_since_and_limit(state: SimState) -> None:
    pod = pod_named(state, "shop", "frontend-")
    tail = await collect(state, pod, tail_lines=3)
    assert tail.count(b"\n") == 3
    everything = await collect(state, pod)
    assert everything.endswith(tail)
    limited = await collect(state, pod, limit_bytes=100)
    assert limited == everything[:100]
    recent = await collect(state, pod, since_seconds=1)
    assert len(recent) < len(everything)
    future = await collect(state, pod, since_time=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert future == b""


async def test_previous_and_crashloop(state: SimState) -> None:
    crash = pod_named(state, "shop", "checkout-")
    current = await collect(state, crash)
    assert b"panic: runtime error" in current
    previous = await collect(state, crash, previous=True)
    assert b"panic:" in previous and previous != current
    healthy = pod_named(state, "shop", "frontend-")
    with pytest.raises(StatusError) as err:
        prepare_pod_log(state, healthy, LogOptions(previous=True))
    name = healthy["metadata"]["name"]  # type: ignore[index]
    assert err.value.message == f'previous terminated container "nginx" in pod "{name}" not found'


async def test_pending_pod_without_node_has_empty_log(state: SimState) -> None:
    pending = pod_named(state, "shop", "importer-")
    assert await collect(state, pending) == b""


def test_multi_container_pod_needs_a_container(state: SimState) -> None:
    pod = pod_named(state, "shop", "catalog-")
    with pytest.raises(StatusError) as err:
        prepare_pod_log(state, pod, LogOptions())
    assert (
        "choose one of: [catalog envoy] or one of the init containers: [migrate-db]"
        in err.value.message
    )


async def test_firehose_streams_the_configured_size() -> None:
    small = make_state(SimConfig(firehose_bytes=300_000))
    bulk = small.store.get("pods", "bench", "bulk")
    assert bulk is not None
    data = await collect(small, bulk)
    assert len(data) == 300_000
    assert len(await collect(small, bulk, limit_bytes=1000)) == 1000
