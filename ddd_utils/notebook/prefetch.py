"""Background warm-up of an explorer's caches: once a reader moves a slider, a thread computes what the next moves
will need (the slider values nearest the current one first), so that a drag finds its results ready. Only the
cached computations run there; drawing stays on the notebook's thread. numpy and scipy release the GIL in their
kernels but not in the Python around them, so the two threads still compete, and the explorer pauses the queue
while it computes and draws a move (`Prefetcher.paused`). Both threads
set BLAS to one thread for these small problems (`blas.sized_by`); that limit is process-wide and the two threads'
save-and-restore can interleave, so a large computation run during or after a warm-up may get one BLAS thread
(slower, never different)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager


class Prefetcher:
    """Runs tasks one at a time in a daemon thread; `replace` drops the tasks not yet started for new ones."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tasks: list[Callable[[], object]] = []
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._free = threading.Event()  # cleared while the foreground computes: no new task starts then
        self._free.set()

    def replace(self, tasks: Iterable[Callable[[], object]]) -> None:
        """Forget the queued tasks and run `tasks`, in order, in the background."""
        with self._lock:
            self._tasks = list(tasks)
            if self._tasks and self._thread is None:
                self._idle.clear()
                self._thread = threading.Thread(target=self._work, name="explorer-prefetch", daemon=True)
                self._thread.start()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Start no queued task while the caller works (a slider move being computed and drawn): the two threads
        share the GIL and two cores, so a warm-up running beside a move slows it. A task already running finishes."""
        self._free.clear()
        try:
            yield
        finally:
            self._free.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued task has run (or `timeout` seconds pass); True if it finished."""
        return self._idle.wait(timeout)

    def _work(self) -> None:
        while True:
            self._free.wait()
            with self._lock:
                if not self._tasks:
                    self._thread = None
                    self._idle.set()
                    return
                task = self._tasks.pop(0)
            try:
                task()
            except Exception:  # noqa: BLE001 - a warm-up that fails costs nothing: that move computes (and reports
                pass           # the error) in the foreground when the reader makes it


def nearest_first(values: Sequence[float], current: float, direction: int = 0) -> list:
    """`values` ordered by distance from `current` (ties: the smaller first), `current` itself left out; with a
    `direction` (+1 or -1, where a drag is heading), the values on that side come first."""
    def order(value):
        behind = direction * (value - current) < 0
        return (behind, abs(value - current), value)

    return sorted((value for value in values if value != current), key=order)
