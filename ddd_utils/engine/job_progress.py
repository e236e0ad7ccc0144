"""Progress of jobs that train in other processes: a job notes how far its training has come in a small file next
to its checkpoint, and the process that waits for it reads those files, so a sweep run by worker processes shows
its epochs (or steps) while they train instead of a runs bar that sits at zero.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from ddd_utils.files import write_atomically

WRITE_EVERY_S = 2.0  # a job rewrites its file at most this often (full-batch runs take thousands of epochs a minute)
SUFFIX = ".progress"

_reporter: dict = {}  # the running job's file and the time of its last write (one job per process at a time)


@contextlib.contextmanager
def reported_to(path: Path) -> Iterator[None]:
    """While the block runs, `note` writes this process's progress to `path`; the file is removed afterwards."""
    _reporter.update(path=Path(path), written=0.0)
    try:
        yield
    finally:
        _reporter.clear()
        Path(path).unlink(missing_ok=True)


def note(done: int, total: int, unit: str = "epoch") -> None:
    """Training has finished `done` of `total` epochs (or steps) of its current group; a no-op outside
    `reported_to`. The last one is always written; the others at most every WRITE_EVERY_S seconds."""
    path = _reporter.get("path")
    if path is None:
        return
    now = time.monotonic()
    if done < total and now - _reporter["written"] < WRITE_EVERY_S:
        return
    _reporter["written"] = now
    write_atomically(path, lambda file: file.write(f"{unit} {done}/{total}"))


def summary(folder: Path) -> str:
    """One line for every job reporting under `folder`, e.g. 'epoch 120/500; epoch 95/500' ('' when none)."""
    lines = []
    for path in sorted(Path(folder).glob(f"*{SUFFIX}")):
        with contextlib.suppress(OSError):  # a job may finish (and remove its file) while it is read
            lines.append(path.read_text().strip())
    return "; ".join(line for line in lines if line)
