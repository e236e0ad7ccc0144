"""How long a sweep took over all the calls that ran it: each `python -m ddd_utils run` keeps a file of its own under
OUT/calls/ (its command, device, start and seconds so far, counted from the start of its sweep, after the imports),
rewritten every HEARTBEAT_S while it runs. A sweep finished over several calls, some of them killed at a time limit
(a lent GPU's ten minutes, a cluster's wall-time limit), then reports the wall time of all of them, short by at most
HEARTBEAT_S for each killed call.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ddd_utils.files import write_atomically

HEARTBEAT_S = 10.0  # a running call rewrites its file this often: what a SIGKILL can take from its count

CALLS = "calls"  # the folder under the sweep's OUT


@contextlib.contextmanager
def timed_call(out: str | Path, note: dict, heartbeat_s: float = HEARTBEAT_S) -> Iterator[None]:
    """While the block runs, OUT/calls/<start>-<pid>.json holds `note` (command, device, ...), the start date, the
    seconds so far and "finished": false; when the block ends, its final seconds, and "finished": true unless the
    block raised."""
    begun = time.perf_counter()
    started = datetime.datetime.now(datetime.timezone.utc)
    path = Path(out) / CALLS / f"{started:%Y%m%dT%H%M%S%f}-{os.getpid()}.json"
    entry = {**note, "started": started.isoformat(timespec="seconds"), "seconds": 0.0, "finished": False}

    def write(finished: bool = False) -> None:
        entry.update(seconds=round(time.perf_counter() - begun, 1), finished=finished)
        write_atomically(path, lambda file: json.dump(entry, file))

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_s):
            write()

    write()
    heart = threading.Thread(target=beat, name="ddd-call-log", daemon=True)
    heart.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        stop.set()
        heart.join()
        write(finished)


def read_calls(out: str | Path) -> list[dict]:
    """Every call noted under OUT/calls, oldest first; a file that cannot be read is skipped with a warning (its
    seconds are then missing from the total)."""
    calls = []
    for path in sorted((Path(out) / CALLS).glob("*.json")):
        try:
            call = json.loads(path.read_text())
            if not isinstance(call["seconds"], int | float):
                raise TypeError("seconds is not a number")
        except (OSError, ValueError, KeyError, TypeError):
            warnings.warn(f"skipping the unreadable call log {path}: its seconds are not counted", stacklevel=2)
            continue
        calls.append(call)
    return calls


def total_seconds(calls: list[dict]) -> float:
    """The wall time of these calls, summed (two commands run on one folder at the same time count twice)."""
    return round(sum(call["seconds"] for call in calls), 1)
