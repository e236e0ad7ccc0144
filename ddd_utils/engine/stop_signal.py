"""A SIGTERM that arrives while a checkpointed group trains is held back until the end of the epoch, so that its
checkpoint can be saved before the process dies.

`timeout` (a lent GPU's ten-minute call) and SLURM at a job's time limit send SIGTERM, then SIGKILL a few seconds
later (10 s in scripts/gpu_session.sh; SLURM's KillWait, 30 s by default). Dying at once would lose every epoch since
the last periodic checkpoint. Only a process that SIGTERM would kill is changed, and only from its main thread: a
handler someone else installed (submitit's, say) is left alone.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class StopRequest:
    """Whether a SIGTERM arrived while `held_until_saved` held it back."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame) -> None:
        self.requested = True


@contextlib.contextmanager
def held_until_saved(active: bool = True) -> Iterator[StopRequest]:
    """While the block runs, a SIGTERM only sets the yielded request's flag: the block checks it where it can save
    (after each epoch; the Transformer sweep at its checkpoints and its end), saves its checkpoint and leaves. On
    leaving the block the default action is restored, and a held SIGTERM is delivered again, so the process dies of
    it, after the save. Not `active` (nothing to save), or where SIGTERM would not kill the process (another
    handler, or not the main thread), nothing changes and the flag stays False."""
    request = StopRequest()
    if not active or threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield request
        return
    signal.signal(signal.SIGTERM, request._handle)
    try:
        yield request
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if request.requested:
            signal.raise_signal(signal.SIGTERM)
