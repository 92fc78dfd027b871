"""The simulator's request history: a mark taken before keeps finding what came after, also
once the history is trimmed to its cap (len() stops growing there)."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from kubesim.config import SimConfig
from kubesim.state import make_state


def test_requests_since_a_mark_survive_the_history_cap() -> None:
    state = make_state(SimConfig(request_history=5))
    for i in range(5):
        state.record(make_mocked_request("GET", f"/api/v1/a{i}"))
    mark = state.recorded
    assert len(state.requests) == 5 and state.requests_since(mark) == []
    for i in range(3):
        state.record(make_mocked_request("GET", f"/api/v1/b{i}"))
    assert len(state.requests) == 5  # what a len()-based mark saw: nothing new
    assert [r.path for r in state.requests_since(mark)] == [
        "/api/v1/b0",
        "/api/v1/b1",
        "/api/v1/b2",
    ]
