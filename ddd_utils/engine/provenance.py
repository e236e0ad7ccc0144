"""Where a result came from: command, preset, device, library versions, date and commit, stored beside it."""

from __future__ import annotations

import datetime
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _source_commit() -> str | None:
    """The commit of the package's source, "+changes" when tracked files differ from it. Outside git (a copy of the
    checkout on a lent GPU machine), `DDD_SOURCE_COMMIT` as the copier wrote it (scripts/gpu_pack.sh), else None."""
    commit = _git("rev-parse", "--short", "HEAD")
    if commit is None:
        return os.environ.get("DDD_SOURCE_COMMIT") or None
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += "+changes"
    return commit


# Read once, when the package is imported: a long run records the source it started with, not whatever the
# repository holds when it finishes.
SOURCE_COMMIT = _source_commit()


def device_name(device: torch.device | str | None = None) -> str:
    """"cpu (<processor>)" or "cuda (<GPU name>)": the kind of device first, then which one. Without `device`, the
    one this process trains on (the first GPU if there is one)."""
    import torch

    device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({platform.processor() or platform.machine()})"


def environment() -> dict:
    """Where this process computes: device, host, library versions, commit and date (stored in every record)."""
    import numpy
    import torch

    return {"device": device_name(), "host": socket.gethostname(),
            "python": platform.python_version(), "torch": str(torch.__version__), "numpy": str(numpy.__version__),
            "commit": SOURCE_COMMIT,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def provenance(command: str, preset: str) -> dict:
    """The evidence for a result: enough to rerun it and to judge where its numbers came from."""
    return {"command": command, "preset": preset, **environment()}
