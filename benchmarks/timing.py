"""Timing helper shared by the benchmark scripts: medians, because these machines are noisy."""

from __future__ import annotations

import time

import numpy as np


def median_time(function, repeats: int, *args) -> tuple[float, object]:
    """Median wall time in seconds of `function(*args)` over `repeats` calls, and the value of the last call."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), value
