"""A sweep's wall time over all its calls (ddd_utils.engine.call_log): a call that ends writes its final seconds, one
that raises is marked unfinished, one killed with SIGKILL keeps the count of its last heartbeat, and the calls of a
folder add up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddd_utils.engine.call_log import CALLS, read_calls, timed_call, total_seconds

ROOT = Path(__file__).resolve().parents[1]


def test_a_call_that_ends_writes_its_seconds_and_one_that_raises_is_unfinished(tmp_path):
    with timed_call(tmp_path, {"command": "first"}):
        time.sleep(0.3)
    with pytest.raises(KeyboardInterrupt), timed_call(tmp_path, {"command": "second"}):
        raise KeyboardInterrupt
    first, second = read_calls(tmp_path)
    assert (first["command"], first["finished"], second["command"], second["finished"]) == (
        "first", True, "second", False), "oldest first, and a call that raised is not finished"
    assert 0.3 <= first["seconds"] < 5 and second["seconds"] < first["seconds"]
    assert total_seconds([first, second]) == round(first["seconds"] + second["seconds"], 1)
    assert first["started"] <= second["started"]


def test_a_killed_call_keeps_the_count_of_its_last_heartbeat(tmp_path):
    code = ("import time; from ddd_utils.engine.call_log import timed_call\n"
            f"with timed_call({str(tmp_path)!r}, {{'command': 'killed'}}, heartbeat_s=0.1):\n"
            "    time.sleep(120)\n")
    process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen, deadline = 0.0, time.time() + 60  # waits on counts, not on sleeps: a loaded disk can stall a rewrite
    while seen < 1.5 and time.time() < deadline:
        seen = max([call["seconds"] for call in read_calls(tmp_path)], default=0.0)
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert seen >= 1.5, "the heartbeat kept rewriting the count while the call ran"
    (call,) = read_calls(tmp_path)
    assert call["command"] == "killed" and not call["finished"]
    assert call["seconds"] >= seen, "the kill kept the count of the last heartbeat"
    # A kill during a rewrite (while it waits for the disk) can leave that rewrite's temporary file; it is never read.
    assert all(path.suffix == ".tmp" for path in (tmp_path / CALLS).iterdir() if path.suffix != ".json")


def test_an_unreadable_call_log_is_skipped_with_a_warning(tmp_path):
    with timed_call(tmp_path, {"command": "kept"}):
        pass
    (tmp_path / CALLS / "00000000T000000000000-1.json").write_text("{not json")
    (tmp_path / CALLS / "00000000T000000000000-2.json").write_text('{"seconds": "12"}')
    with pytest.warns(UserWarning, match="unreadable call log"):
        calls = read_calls(tmp_path)
    assert [call["command"] for call in calls] == ["kept"]
    assert read_calls(tmp_path / "nothing here") == []
    assert json.loads(next(iter(sorted((tmp_path / CALLS).glob("2*.json")))).read_text())["finished"]
