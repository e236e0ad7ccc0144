"""Where a result came from: command, preset, device, library versions, date and commit, stored beside it."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def provenance(command: str, preset: str) -> dict:
    """The evidence for a result: enough to rerun it and to judge where its numbers came from."""
    import numpy
    import torch

    return {"command": command, "preset": preset, "device": _device(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__, "commit": _commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
