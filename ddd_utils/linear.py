"""Least-squares solvers in float64: minimum-norm, ridge, and plain gradient descent.

Why an explicit rank cutoff: at the interpolation threshold the design has tiny but genuine singular values, and
those are exactly what make the test error peak. A loose cutoff (or float32) silently drops them and regularises
the peak away, so every solver here states which singular values it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ddd_utils._checks import as_design_and_targets, check_nonnegative, check_positive_int


def default_rcond(X: np.ndarray) -> float:
    """The smallest relative cutoff float64 round-off justifies: max(n, p) * machine epsilon."""
    return max(X.shape) * np.finfo(np.float64).eps


def min_norm(X, y, rcond: float | None = None) -> np.ndarray:
    """Minimum-norm least-squares solution w = X^+ y (the limit of gradient descent from zero).

    Singular values below `rcond * s_max` are treated as zero; `rcond=None` uses `default_rcond(X)`.
    """
    X, y = as_design_and_targets(X, y)
    rcond = default_rcond(X) if rcond is None else check_nonnegative("rcond", rcond)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > rcond * s[0]
    return Vt[keep].T @ ((U[:, keep].T @ y) / s[keep])


def ridge(X, y, lam: float) -> np.ndarray:
    """Ridge solution: argmin_w ||X w - y||^2 + lam ||w||^2 (sum of squares, not mean); lam = 0 gives min_norm."""
    X, y = as_design_and_targets(X, y)
    lam = check_nonnegative("lam", lam)
    if lam == 0.0:
        return min_norm(X, y)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    return Vt.T @ (s / (s**2 + lam) * (U.T @ y))


def gradient_descent(X, y, steps: int, lr: float | None = None, w0=None) -> np.ndarray:
    """Run `steps` of gradient descent on (1/2) ||X w - y||^2 from `w0` (zeros by default); return the weights.

    `lr=None` uses 1 / s_max^2, safely inside the stable range (0, 2 / s_max^2). From zero the iterates never leave
    the row space of X, which is why they converge to the minimum-norm solution.
    """
    X, y = as_design_and_targets(X, y)
    steps = check_positive_int("steps", steps, minimum=0)
    s_max = np.linalg.norm(X, 2)
    if lr is None:
        lr = 1.0 / s_max**2
    elif not 0.0 < lr < 2.0 / s_max**2:
        raise ValueError(f"lr must be in (0, 2 / s_max^2) = (0, {2.0 / s_max**2:.4g}) for this X; got {lr!r}")
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w0 must have shape (p,) = ({X.shape[1]},); got shape {w.shape}")
    for _ in range(steps):
        w -= lr * (X.T @ (X @ w - y))
    return w


@dataclass(frozen=True)
class SweepFit:
    """Per-p results of fitting the first p columns, for every p of a sweep."""

    num_features: np.ndarray  # (P,) the p values, increasing
    test_mse: np.ndarray      # (P,) mean squared error on (X_test, y_test)
    train_mse: np.ndarray     # (P,) mean squared error on (X, y)
    weight_norm: np.ndarray   # (P,) Euclidean norm of the fitted weights


# Above this condition number of the Gram matrix X_p X_p^T (i.e. above 10^3.5 for X_p) its eigenvalues lose more
# than ~1e-9 relative accuracy, so the sweep solves that p by an SVD of X_p instead.
_GRAM_CONDITION_LIMIT = 1e7


def _check_sweep_inputs(X, y, X_test, y_test, num_features) -> tuple[np.ndarray, ...]:
    X, y = as_design_and_targets(X, y)
    X_test, y_test = as_design_and_targets(X_test, y_test)
    if X_test.shape[1] != X.shape[1]:
        raise ValueError(f"X_test must have the same number of columns as X ({X.shape[1]}); got {X_test.shape[1]}")
    ps = np.asarray(num_features)
    if ps.ndim != 1 or ps.size == 0 or not np.issubdtype(ps.dtype, np.integer):
        raise ValueError("num_features must be a non-empty 1-D sequence of integers")
    if np.any(np.diff(ps) <= 0):
        raise ValueError("num_features must be strictly increasing")
    if ps[0] < 1 or ps[-1] > X.shape[1]:
        raise ValueError(f"num_features must lie in [1, {X.shape[1]}] (the number of columns of X); "
                         f"got values from {ps[0]} to {ps[-1]}")
    return X, y, X_test, y_test, ps


def ridge_sweep(X, y, X_test, y_test, num_features, lam: float = 0.0, rcond: float | None = None) -> SweepFit:
    """Fit min-norm (lam = 0) or ridge on the first p columns for every p in `num_features`; float64 throughout.

    For p <= n each fit is a small SVD. For p > n the fit only needs the n x n Gram matrix X_p X_p^T and the cross
    matrix X_test,p X_p^T, which grow by rank-one updates as columns are added: they are accumulated once, chunk by
    chunk, instead of refactoring an n x p matrix for every p. Where that Gram matrix is too ill-conditioned to be
    trusted (just past the threshold) the fit falls back to an SVD of X_p, so the rank cutoff stays `rcond`.
    """
    X, y, X_test, y_test, ps = _check_sweep_inputs(X, y, X_test, y_test, num_features)
    lam = check_nonnegative("lam", lam)
    n = X.shape[0]
    gram, cross, done = np.zeros((n, n)), np.zeros((X_test.shape[0], n)), 0
    test_mse, train_mse, weight_norm = (np.empty(ps.size) for _ in range(3))
    for j, p in enumerate(ps):
        gram += X[:, done:p] @ X[:, done:p].T
        cross += X_test[:, done:p] @ X[:, done:p].T
        done = p
        eigvals, eigvecs = np.linalg.eigh(gram)
        well_conditioned = eigvals[0] + lam > (eigvals[-1] + lam) / _GRAM_CONDITION_LIMIT
        if p > n and well_conditioned:
            alpha = eigvecs @ ((eigvecs.T @ y) / (eigvals + lam))  # w = X_p^T alpha
            test_pred, train_pred = cross @ alpha, gram @ alpha
            weight_norm[j] = np.sqrt(max(alpha @ gram @ alpha, 0.0))
        else:
            w = min_norm(X[:, :p], y, rcond) if lam == 0.0 else ridge(X[:, :p], y, lam)
            test_pred, train_pred = X_test[:, :p] @ w, X[:, :p] @ w
            weight_norm[j] = np.linalg.norm(w)
        test_mse[j] = np.mean((test_pred - y_test) ** 2)
        train_mse[j] = np.mean((train_pred - y) ** 2)
    return SweepFit(ps, test_mse, train_mse, weight_norm)


def min_norm_sweep(X, y, X_test, y_test, num_features, rcond: float | None = None) -> SweepFit:
    """Minimum-norm fits on the first p columns for every p in `num_features` (see `ridge_sweep`)."""
    return ridge_sweep(X, y, X_test, y_test, num_features, lam=0.0, rcond=rcond)
