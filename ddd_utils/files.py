"""Atomic file writes: a crash, a full disk or a second writer leaves either the old file or the new one, never half
of one (records, job files, checkpoints and kept weights all go through here)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Call `write(file)` on a temporary file of this process and call alone, flush it to disk, then rename it over
    `path` (its folder is made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}-{time.time_ns()}.tmp")
    try:
        with open(temporary, "wb" if binary else "w") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
