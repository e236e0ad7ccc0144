"""The Gram-matrix prefix fits agree with a direct SVD solve of each prefix, on both sides of the square size."""

import numpy as np
import pytest

from ddd_utils.linear.prefix_fits import column_prefix_fits, row_prefix_fits
from ddd_utils.linear.solvers import min_norm, ridge

TRIALS, SHORT_SIDE = 3, 12
SIZES = np.array([1, 5, SHORT_SIDE - 1, SHORT_SIDE, SHORT_SIDE + 1, 20, 3 * SHORT_SIDE])  # beside and at the threshold


def _direct(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """One fit per column of y by the SVD-based solvers."""
    return min_norm(X, y, multi_output=True) if lam == 0.0 else np.stack([ridge(X, t, lam) for t in y.T], axis=1)


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_row_prefix_fits_equal_a_direct_solve_of_each_training_prefix(lam):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((TRIALS, int(SIZES[-1]), SHORT_SIDE))
    targets = rng.standard_normal((TRIALS, int(SIZES[-1]), 2))
    fits = row_prefix_fits(X, targets, SIZES, lam)
    for n, fit in zip(SIZES, fits, strict=True):
        assert fit.shape == (TRIALS, SHORT_SIDE, 2)
        for t in range(TRIALS):
            np.testing.assert_allclose(fit[t], _direct(X[t, :n], targets[t, :n], lam), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_column_prefix_fits_split_the_target_into_used_signal_left_out_signal_and_noise(lam):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((TRIALS, SHORT_SIDE, int(SIZES[-1])))
    b = rng.standard_normal((TRIALS, int(SIZES[-1])))
    e = rng.standard_normal((TRIALS, SHORT_SIDE))
    fits = column_prefix_fits(X, b, e, SIZES, lam)
    for p, fit in zip(SIZES, fits, strict=True):
        assert fit.shape == (TRIALS, p, 3)
        for t in range(TRIALS):
            used, rest = X[t, :, :p] @ b[t, :p], X[t, :, p:] @ b[t, p:]
            expected = _direct(X[t, :, :p], np.stack([used, rest, e[t]], axis=1), lam)
            np.testing.assert_allclose(fit[t], expected, rtol=1e-7, atol=1e-9)
