"""Generated 1-D regression problems: x uniform on [-1, 1], y = f(x) + Gaussian noise of a given variance."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ddd_utils._checks import check_nonnegative, check_positive_int

TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    # Smooth, not a polynomial, and wiggly enough that a handful of samples cannot pin it down.
    "sine": lambda x: np.sin(2.0 * np.pi * x),
    # A smooth bump plus a slope: most of its energy sits in low degrees.
    "bump": lambda x: np.exp(-4.0 * x**2) + 0.5 * x,
    # Schaeffer et al. (2023)'s polynomial example: a slope plus an oscillation far too fast for few samples.
    "slope_cosine": lambda x: 2.0 * x + np.cos(25.0 * x),
}


def sample_regression(target: str, n: int, noise: float, seed: int | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Draw n points x ~ Uniform[-1, 1] and y = f(x) + e with e ~ N(0, noise) (`noise` is a variance).

    Deterministic in `seed` (an int, or a sequence such as (seed, trial)); returns `(x, y)` sorted by x, for
    plotting convenience.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {tuple(TARGETS)}; got {target!r}")
    n = check_positive_int("n", n)
    noise = check_nonnegative("noise", noise)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1.0, 1.0, size=n))
    y = TARGETS[target](x) + np.sqrt(noise) * rng.standard_normal(n)
    return x, y
