"""Timing helpers shared by the benchmark scripts: medians, because these machines are noisy, and clocks that wait
for a GPU's queued work."""

from __future__ import annotations

import time

import numpy as np
import torch


def median_time(function, repeats: int, *args) -> tuple[float, object]:
    """Median wall time in seconds of `function(*args)` over `repeats` calls, and the value of the last call."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), value


def synchronized_seconds(function, device: torch.device) -> float:
    """Wall time in seconds of `function()`, with `device`'s queued work finished before and after (a GPU runs its
    kernels asynchronously, so the clock would otherwise stop before they do)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
