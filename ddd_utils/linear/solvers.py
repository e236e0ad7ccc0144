"""Least-squares solvers in float64: minimum-norm, ridge, and plain gradient descent.

Why an explicit rank cutoff: at the interpolation threshold the design has tiny but genuine singular values, and
those are exactly what make the test error peak. A loose cutoff (or float32) silently drops them and regularises
the peak away, so every solver here states which singular values it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from ddd_utils._checks import as_design_and_targets, check_nonnegative, check_positive_int
from ddd_utils.blas import rows_of_first_argument, sized_by


def default_rcond(X: np.ndarray) -> float:
    """The smallest relative cutoff float64 round-off justifies: max(n, p) * machine epsilon."""
    return max(X.shape) * np.finfo(np.float64).eps


@sized_by(rows_of_first_argument)
def min_norm(X: ArrayLike, y: ArrayLike, rcond: float | None = None, multi_output: bool = False) -> np.ndarray:
    """Minimum-norm least-squares solution w = X^+ y (the limit of gradient descent from zero).

    Singular values below `rcond * s_max` are treated as zero; `rcond=None` uses `default_rcond(X)`. With
    `multi_output`, y may have shape (n, k): k fits sharing one factorisation of X.
    """
    X, y = as_design_and_targets(X, y, multi_output=multi_output)
    return _min_norm(X, y, None if rcond is None else check_nonnegative("rcond", rcond))


def _divide_rows(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """a / s along the first axis, for a of shape (r,) or (r, k)."""
    return (a.T / s).T


def _min_norm(X: np.ndarray, y: np.ndarray, rcond: float | None) -> np.ndarray:
    """`min_norm` on validated float64 input; y may be (n,) or (n, k) (one fit per column)."""
    rcond = default_rcond(X) if rcond is None else rcond
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > rcond * s[0]
    return Vt[keep].T @ _divide_rows(U[:, keep].T @ y, s[keep])


@sized_by(rows_of_first_argument)
def ridge(X: ArrayLike, y: ArrayLike, lam: float) -> np.ndarray:
    """Ridge solution: argmin_w ||X w - y||^2 + lam ||w||^2 (sum of squares, not mean); lam = 0 gives min_norm."""
    X, y = as_design_and_targets(X, y)
    return _ridge(X, y, check_nonnegative("lam", lam))


def _ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """`ridge` on validated float64 input; y may be (n,) or (n, k) (one fit per column)."""
    if lam == 0.0:
        return _min_norm(X, y, None)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    return Vt.T @ (s / (s**2 + lam) * (U.T @ y).T).T


@sized_by(rows_of_first_argument)
def gradient_descent(X: ArrayLike, y: ArrayLike, steps: int, lr: float | None = None, w0: ArrayLike | None = None
                     ) -> np.ndarray:
    """Run `steps` of gradient descent on (1/2) ||X w - y||^2 from `w0` (zeros by default); return the weights.

    `lr=None` uses 1 / s_max^2, safely inside the stable range (0, 2 / s_max^2). From zero the iterates never leave
    the row space of X, which is why they converge to the minimum-norm solution.
    """
    X, y = as_design_and_targets(X, y)
    steps = check_positive_int("steps", steps, minimum=0)
    s_max = np.linalg.norm(X, 2)
    if s_max == 0.0:
        raise ValueError("X must have a non-zero entry: with X = 0 the loss is constant and no step size is defined")
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
    """Per-p results of fitting the first p columns, for every p of a sweep.

    With targets of shape (n, k) the squared errors are summed over the k outputs and averaged over examples, and
    the weight norm is the Frobenius norm of the (p, k) weights.
    """

    num_features: np.ndarray  # (P,) the p values, increasing
    test_mse: np.ndarray      # (P,) mean squared error on (X_test, y_test)
    train_mse: np.ndarray     # (P,) mean squared error on (X, y)
    weight_norm: np.ndarray   # (P,) Euclidean norm of the fitted weights
    test_predictions: np.ndarray | None = None   # (P, m) or (P, m, k) predictions on X_test, if kept
    train_predictions: np.ndarray | None = None  # (P, n) or (P, n, k) predictions on X, if kept


# The sweep's fast paths are used only where their error bound, estimated from the condition number kappa of the
# triangular factor, stays below this relative error: kappa * eps for a QR of X_p, kappa^2 * eps for a factor of
# X_p X_p^T. Elsewhere (close to p = n) the sweep falls back to the SVD that `min_norm` itself uses.
_ERROR_BUDGET = 1e-9
_BLOCK = 32  # block size of LAPACK's triangular-pentagonal QR update (tpqrt)
_GRAM_MAX_N = 256  # up to this n, refactoring the n x n Gram matrix for each p is cheaper than QR updates
_EPS = np.finfo(np.float64).eps


def _check_sweep_inputs(X, y, X_test, y_test, num_features) -> tuple[np.ndarray, ...]:
    X, y = as_design_and_targets(X, y, multi_output=True)
    X_test, y_test = as_design_and_targets(X_test, y_test, multi_output=True)
    if y_test.shape[1:] != y.shape[1:]:
        raise ValueError(f"y_test must have as many outputs as y: shape (m,) + {y.shape[1:]}; got {y_test.shape}")
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


_TRCON = getattr(scipy.linalg.lapack, "dtrcon", None)  # LAPACK's condition estimator: wrapped from scipy 1.15 on


def _condition(R: np.ndarray) -> float:
    """The 1-norm condition number of an upper-triangular R (inf if singular): LAPACK's estimate where scipy wraps
    dtrcon, else computed from R's inverse (older scipy, as on older Colab images; same order of cost as the QR)."""
    if _TRCON is not None:
        reciprocal, info = _TRCON(R, norm="1", uplo="U", diag="N")
        return np.inf if info != 0 or reciprocal <= 0.0 else 1.0 / reciprocal
    if np.any(np.diag(R) == 0.0):
        return np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        inverse = scipy.linalg.solve_triangular(R, np.eye(R.shape[0]), check_finite=False)
        kappa = np.abs(R).sum(axis=0).max() * np.abs(inverse).sum(axis=0).max()
    return float(kappa) if np.isfinite(kappa) else np.inf


def _typical_condition(kappa_1: float, size: int) -> float:
    """The 2-norm condition number that drives the error, typically the 1-norm one over sqrt(size)."""
    return kappa_1 / np.sqrt(size)


def _keeps_every_singular_value(kappa_1: float, shape: tuple[int, int], rcond: float | None) -> bool:
    """Would `min_norm` with this rcond surely keep every singular value? Uses the worst case kappa_2 <= n kappa_1."""
    cutoff = max(shape) * _EPS if rcond is None else rcond
    return kappa_1 * min(shape) * cutoff < 1.0


def _min_norm_from_qr_of_transpose(Xp: np.ndarray, y: np.ndarray, Q: np.ndarray, R: np.ndarray,
                                    rcond: float | None) -> np.ndarray:
    """Minimum-norm solution for a wide X_p (p > n) given X_p^T = QR: w = Q R^-T y; the SVD if R is too
    ill-conditioned for that to meet the error budget."""
    kappa = _condition(R)
    if _typical_condition(kappa, R.shape[0]) * _EPS > _ERROR_BUDGET or not _keeps_every_singular_value(
            kappa, Xp.shape, rcond):
        return _min_norm(Xp, y, rcond)
    return Q @ scipy.linalg.solve_triangular(R, y, trans="T")


def _outcome(Xp: np.ndarray, X_test_p: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(test predictions, training predictions, weight norm) of the weights w on the first p columns."""
    return X_test_p @ w, Xp @ w, float(np.linalg.norm(w))


def _fit_up_to_n(X, y, X_test, ps, lam: float, rcond: float | None):
    """Outcomes for every p <= n: one QR of the first max(ps) columns, then a triangular solve per p."""
    if lam > 0.0:
        yield from (_outcome(X[:, :p], X_test[:, :p], _ridge(X[:, :p], y, lam)) for p in ps)
        return
    qty, R = scipy.linalg.qr_multiply(X[:, :ps[-1]], y.T, mode="right")  # (Q^T y)^T without forming Q
    qty = qty.T
    for p in ps:
        kappa = _condition(R[:p, :p])
        fast_is_accurate = _typical_condition(kappa, p) * _EPS <= _ERROR_BUDGET
        if fast_is_accurate and _keeps_every_singular_value(kappa, (X.shape[0], p), rcond):
            w = scipy.linalg.solve_triangular(R[:p, :p], qty[:p])
        else:  # ill-conditioned or (numerically) rank-deficient: the SVD, with its rank cutoff
            w = _min_norm(X[:, :p], y, rcond)
        yield _outcome(X[:, :p], X_test[:, :p], w)


def _fit_beyond_n(X, y, X_test, ps, lam: float, rcond: float | None, accumulate_cross: bool):
    """Outcomes for every p > n from one triangular factor R that grows by QR updates as columns are added.

    R^T R = X_p X_p^T + lam I, and w = X_p^T alpha with (X_p X_p^T + lam I) alpha = y: two triangular solves per p
    instead of a new factorisation; each block of new columns updates R with LAPACK's tpqrt in O(n^2) per column.
    With `accumulate_cross`, test predictions come from X_test,p X_p^T, grown block by block like R, which reads
    X_test once instead of once per p (cheaper when n is small and p large).
    """
    n = X.shape[0]
    # Small n: accumulate the Gram matrix and refactor it (n^3 / 3 per p is negligible). Large n: update R by QR.
    # Both give R^T R = X_p X_p^T + lam I, and the error budget below already allows for the normal equations.
    use_gram = n <= _GRAM_MAX_N
    Q = R = gram = None
    if use_gram:
        gram = X[:, :ps[0]] @ X[:, :ps[0]].T + lam * np.eye(n)
    elif lam > 0.0:
        R = np.linalg.qr(np.vstack([X[:, :ps[0]].T, np.sqrt(lam) * np.eye(n)]), mode="r")
    else:  # keep Q too: the first p is often just past the threshold, where the fit needs it (see below)
        Q, R = np.linalg.qr(X[:, :ps[0]].T)
    R = None if R is None else np.asfortranarray(R)
    cross = X_test[:, :ps[0]] @ X[:, :ps[0]].T if accumulate_cross else None
    done = ps[0]
    for p in ps:
        if p > done:
            if use_gram:
                gram += X[:, done:p] @ X[:, done:p].T
            else:
                block = np.array(X[:, done:p].T, order="F")  # a copy: tpqrt overwrites it; X must stay intact
                R = scipy.linalg.lapack.dtpqrt(0, min(_BLOCK, p - done, n), R, block, overwrite_a=1,
                                               overwrite_b=1)[0]
            if accumulate_cross:
                cross += X_test[:, done:p] @ X[:, done:p].T
            done = p
        if use_gram:
            try:
                R = scipy.linalg.cholesky(gram, lower=False, check_finite=False)
            except np.linalg.LinAlgError:  # not numerically positive definite: certainly not trusted
                R = np.zeros((n, n))
        kappa = _condition(R)
        fast_is_accurate = _typical_condition(kappa, n) ** 2 * _EPS <= _ERROR_BUDGET
        if fast_is_accurate and (lam > 0.0 or _keeps_every_singular_value(kappa, (n, p), rcond)):
            z = scipy.linalg.solve_triangular(R, y, trans="T", check_finite=False)
            alpha = scipy.linalg.solve_triangular(R, z, check_finite=False)
            if accumulate_cross:  # R alpha = z, so X_p w = R^T z - lam alpha and |w|^2 = |z|^2 - lam |alpha|^2
                norm_squared = np.vdot(z, z) - lam * np.vdot(alpha, alpha)
                yield cross @ alpha, R.T @ z - lam * alpha, float(np.sqrt(max(norm_squared, 0.0)))
                continue
            w = X[:, :p].T @ alpha
        elif lam > 0.0:
            w = _ridge(X[:, :p], y, lam)
        elif p == ps[0] and Q is not None:
            w = _min_norm_from_qr_of_transpose(X[:, :p], y, Q, R, rcond)
        else:
            w = _min_norm_from_qr_of_transpose(X[:, :p], y, *np.linalg.qr(X[:, :p].T), rcond)
        yield _outcome(X[:, :p], X_test[:, :p], w)


@sized_by(rows_of_first_argument)
def ridge_sweep(X: ArrayLike, y: ArrayLike, X_test: ArrayLike, y_test: ArrayLike,
                num_features: Sequence[int], lam: float = 0.0, rcond: float | None = None,
                keep_predictions: bool = False) -> SweepFit:
    """Fit min-norm (lam = 0) or ridge on the first p columns, for every p in `num_features`; float64 throughout.

    y (and y_test) may have shape (n, k): k regressions on the same columns share every factorisation, as one-hot
    targets of k classes do. `keep_predictions` also returns the test and training predictions for every p.

    For p <= n, one QR of X serves every p (a triangular solve each). For p > n, a triangular factor of
    X_p X_p^T (+ lam I) is updated block by block as columns are added (`_fit_beyond_n`). Where a factor is too
    ill-conditioned to trust (close to p = n) the fit falls back to a QR or an SVD of X_p, so the result matches
    `min_norm(X[:, :p], y, rcond)` (or `ridge`) to about 1e-9 relative at every p.
    """
    X, y, X_test, y_test, ps = _check_sweep_inputs(X, y, X_test, y_test, num_features)
    lam = check_nonnegative("lam", lam)
    n = X.shape[0]
    if n <= _GRAM_MAX_N:  # small and read column block by column block: column-major makes each block contiguous
        X = np.asfortranarray(X)
    rcond = None if rcond is None else check_nonnegative("rcond", rcond)  # None: min_norm's default at each p
    under = ps <= n
    # Accumulating X_test,p X_p^T costs ~n flops per test point and column; predicting from w for each p instead
    # reads ~sum(p) columns from memory, roughly 16 times slower per column than a flop: pick the cheaper.
    accumulate_cross = n * ps[-1] < 16 * ps[~under].sum()
    outcomes = list(_fit_up_to_n(X, y, X_test, ps[under], lam, rcond)) if under.any() else []
    if not under.all():
        outcomes += list(_fit_beyond_n(X, y, X_test, ps[~under], lam, rcond, accumulate_cross))
    test_mse, train_mse, weight_norm = (np.empty(ps.size) for _ in range(3))
    for j, (test_pred, train_pred, norm) in enumerate(outcomes):
        # Summed over outputs, averaged over examples: the plain mean when y is 1-D.
        test_mse[j] = np.sum((test_pred - y_test) ** 2) / y_test.shape[0]
        train_mse[j] = np.sum((train_pred - y) ** 2) / y.shape[0]
        weight_norm[j] = norm
    if not keep_predictions:
        return SweepFit(ps, test_mse, train_mse, weight_norm)
    return SweepFit(ps, test_mse, train_mse, weight_norm, np.stack([test for test, _, _ in outcomes]),
                    np.stack([train for _, train, _ in outcomes]))


@sized_by(rows_of_first_argument)
def min_norm_sweep(X: ArrayLike, y: ArrayLike, X_test: ArrayLike, y_test: ArrayLike,
                   num_features: Sequence[int], rcond: float | None = None,
                   keep_predictions: bool = False) -> SweepFit:
    """Test MSE (and train MSE, weight norm) of the minimum-norm fit on the first p columns, for every p.

    Equal to calling `min_norm(X[:, :p], y, rcond)` for each p (each column of y), at a fraction of the cost; see
    `ridge_sweep`.
    """
    return ridge_sweep(X, y, X_test, y_test, num_features, lam=0.0, rcond=rcond, keep_predictions=keep_predictions)
