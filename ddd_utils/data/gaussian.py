"""Isotropic Gaussian regression: x ~ N(0, I_d), y = x . b + e, the setting where double descent is exact."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ddd_utils._checks import check_nonnegative, check_positive_int


def random_direction(d: int, signal: float, rng: np.random.Generator) -> np.ndarray:
    """A coefficient vector b, uniform in direction, with |b|^2 = signal exactly."""
    d = check_positive_int("d", d)
    signal = check_nonnegative("signal", signal)
    g = rng.standard_normal(d)
    return np.sqrt(signal) * g / np.linalg.norm(g)


def sample_gaussian_regression(n: int, b: np.ndarray, noise: float, seed: int | Sequence[int]
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw X (n x d) with i.i.d. N(0, 1) entries and noise e ~ N(0, noise); return (X, y, e) with y = X b + e.

    The noise is returned separately so experiments can split a fit into its signal and noise parts. X and e come
    from independent streams, so the first m samples of a draw of n > m are exactly the draw of m (nested sweeps).
    """
    n = check_positive_int("n", n)
    noise = check_nonnegative("noise", noise)
    design_stream, noise_stream = np.random.SeedSequence(seed).spawn(2)
    X = np.random.default_rng(design_stream).standard_normal((n, b.size))
    e = np.sqrt(noise) * np.random.default_rng(noise_stream).standard_normal(n)
    return X, X @ b + e, e
