"""Input checks shared by the package: each error names the parameter and the allowed range."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def check_probability(name: str, value: float) -> float:
    """Return `value` as a float if it is a probability in [0, 1], else raise a ValueError naming `name`."""
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1] (a probability); got {value!r}")
    return value


def check_positive_int(name: str, value: int, minimum: int = 1) -> int:
    """Return `value` if it is an integer >= `minimum`, else raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_nonnegative(name: str, value: float) -> float:
    """Return `value` as a float if it is finite and >= 0, else raise a ValueError naming `name`."""
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return value


def as_design_and_targets(X: ArrayLike, y: ArrayLike, multi_output: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate a least-squares problem: X of shape (n, p) with n, p >= 1, y of shape (n,); both as float64.

    With `multi_output`, y may also have shape (n, k), k >= 1: k regressions sharing the design X.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n, p); got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature (n >= 1, p >= 1); got shape {X.shape}")
    allowed_ndim = (1, 2) if multi_output else (1,)
    if y.ndim not in allowed_ndim or y.shape[0] != X.shape[0] or (y.ndim == 2 and y.shape[1] == 0):
        expected = f"(n,) or (n, k) with n = {X.shape[0]}" if multi_output else f"(n,) = ({X.shape[0]},)"
        raise ValueError(f"y must have shape {expected} to match X; got shape {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or inf)")
    return X, y
