"""Recording files without a server: a full disk, odd cluster names, the header, resolve()."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from kubelantern.observe.castindex import resolve
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.recordings import Recorder, Recording, RecordingMeta, safe_name

META = RecordingMeta("c/..", "ns", "p", "c", ("sh",), "local", "127.0.0.1", "exec")


def test_disk_full_is_counted_and_the_session_goes_on() -> None:
    metrics = Metrics()
    recorder = Recorder(Path("/unused"), False, metrics)
    rec = Recording(recorder, META, os.open("/dev/full", os.O_WRONLY), time.time())
    rec.output(b"hello")
    rec.flush()  # ENOSPC
    rec.output(b"more")  # ignored from now on, no second error
    rec.flush()
    rec.close()
    assert recorder.state.failures == 1
    assert recorder.state.last_error is not None and "space" in recorder.state.last_error
    assert 'kubelantern_recording_failures_total{cluster="c/.."} 1' in metrics.render()


def test_names_cannot_climb(tmp_path: Path) -> None:
    assert safe_name("..") == "%2E%2E"
    assert "/" not in safe_name("a/b") and safe_name("") == "_"
    recorder = Recorder(tmp_path / "rec", False, Metrics())
    rec = recorder.open(META)
    assert rec is not None
    rec.resize(90, 20)
    rec.output("é".encode()[:1])  # half a character: kept until the rest comes
    rec.output("é".encode()[1:])
    rec.exit(0)
    rec.close()
    [path] = list((tmp_path / "rec").rglob("*.cast"))
    assert path.parent.parent.name == "c%2F%2E%2E"
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    assert (header["width"], header["height"]) == (90, 20)
    assert [json.loads(x)[1:] for x in lines[1:]] == [["r", "90x20"], ["o", "é"], ["m", "exit 0"]]
    relative = path.relative_to(tmp_path / "rec").as_posix()
    assert resolve(tmp_path / "rec", relative) == path.resolve()
    assert resolve(tmp_path / "rec", "../" + relative) is None
    assert resolve(tmp_path / "rec", relative.replace(".cast", "")) is None


def test_event_lines_are_what_json_dumps_writes(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, True, Metrics())
    rec = recorder.open(META)
    assert rec is not None
    texts = ["plain", 'quote " backslash \\ slash /', "\x00\x1b[31mred\x1b[0m\r\n\t", "é€😀\u2028"]
    for text in texts:
        rec.output(text.encode())
        rec.input(text.encode())
    rec.close()
    [path] = list(tmp_path.rglob("*.cast"))
    # Lines end at \n only (U+2028 inside a JSON string is not a line break there).
    lines = path.read_text().split("\n")[1:-1]
    assert len(lines) == 2 * len(texts)
    for line in lines:
        event = json.loads(line)
        assert line == json.dumps(event, ensure_ascii=False)
    assert [json.loads(x)[2] for x in lines[::2]] == texts
