"""Closed-form excess test risk of min-norm and optimally tuned ridge regression on isotropic Gaussian data.

Setting: x ~ N(0, I_d), y = x.b + e with |b|^2 = signal and Var(e) = noise; n training samples (X, y). Because x is
isotropic the excess test risk E[(x.(b_hat - b))^2] equals E|b_hat - b|^2, the expectation over X and e. Since X is
rotation invariant, this depends on b only through |b|^2 = signal.

Minimum norm, b_hat = X^+ y = P b + X^+ e, where P projects onto the row space of X (exact for every n, d):
  bias     = E|(I - P) b|^2 = signal * (1 - n/d) for n < d (the row space is a uniformly random n-dim subspace),
             and 0 for n >= d (then P = I);
  variance = noise * E tr (X^T X)^+ = noise * min(n, d) / (|n - d| - 1) for |n - d| >= 2, by the inverse-Wishart
             mean E[W^{-1}] = I / (k - p - 1) of W ~ Wishart_p(k, I) (W = X^T X if n > d, W = X X^T if n < d);
             inf for |n - d| <= 1, where that mean diverges; 0 for any n, d when noise == 0.
So the risk is noise * d / (n - d - 1) for n >= d + 2 and signal * (1 - n/d) + noise * n / (d - n - 1) for
n <= d - 2 (Belkin, Hsu, Xu 2020, "Two models of double descent for weak features"; Hastie, Montanari, Rosset,
Tibshirani 2022, "Surprises in high-dimensional ridgeless least squares interpolation"). Its proportional limit
(n, d -> inf, d/n -> gamma) is noise * gamma / (1 - gamma) for gamma < 1 and signal * (1 - 1/gamma) +
noise / (gamma - 1) for gamma > 1 (Hastie et al. 2022, isotropic case).

Optimal ridge, b_hat = argmin |X b - y|^2 + lam |b|^2 (sum of squares, not mean): for b ~ N(0, signal/d I) and
Gaussian noise the Bayes-optimal estimator is ridge with lam* = noise * d / signal; for b uniform on the sphere of
radius sqrt(signal) the Bayes estimator is not linear, but lam* still minimises the direction-averaged risk of ridge
for every X (that risk depends on b only through its second moments). Its risk is the Bayes risk
noise * E tr (X^T X + lam* I)^{-1}, which in the proportional limit is noise * gamma * m(-lambda), with
lambda = lam* / n = gamma * noise / signal and m the Stieltjes transform of the Marchenko-Pastur law of X^T X / n,
the positive root of gamma * lambda * m^2 + (1 - gamma + lambda) * m - 1 = 0. Written out, with
a = 1 - gamma + gamma * noise / signal,
  risk = signal / (2 gamma) * (sqrt(a^2 + 4 gamma^2 noise / signal) - a)
(Dobriban & Wager 2018, "High-dimensional asymptotics of prediction: ridge regression and classification";
Nakkiran, Venkat, Kakade, Ma 2020, "Optimal regularization can mitigate double descent", who also prove monotonicity
in n at finite n, d). It is finite for every gamma, increasing in gamma (so non-increasing in n at fixed d: tuned
ridge never gets worse with more data), and at most the min-norm risk; with noise == 0, lam* = 0 and it equals the
min-norm limit signal * (1 - 1/gamma)_+. At finite size the exact risk is slightly higher, by O(1/d) (under 1% at
d = 50 for d/n in [1/2, 2]).

Scalars in, float out; arrays of n, d (or gamma) broadcast and give float64 arrays, so a whole curve is one call.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils._checks import check_nonnegative, check_positive_int


def _counts(name: str, value) -> np.ndarray:
    """`value` as an int64 array, each entry checked with `check_positive_int` so scalars and arrays fail alike."""
    array = np.asarray(value)
    for entry in array.flat:
        check_positive_int(name, entry.item())  # .item(): a Python scalar, so the message shows 0, not np.int64(0)
    return array.astype(np.int64)


def _ratios(gamma) -> np.ndarray:
    """`gamma` = d / n as a float64 array, checked finite and > 0 (the proportional limit needs both)."""
    gamma = np.asarray(gamma, dtype=np.float64)
    bad = ~(np.isfinite(gamma) & (gamma > 0.0))
    if np.any(bad):
        raise ValueError(f"gamma must be a finite number > 0 (gamma = d / n); got {float(gamma[bad][0])!r}")
    return gamma


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    """A 0-d result as a Python float (scalar in, scalar out); otherwise the float64 array itself."""
    return float(values) if values.ndim == 0 else values


def min_norm_bias_variance(n: ArrayLike, d: ArrayLike, signal: float, noise: float
                           ) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Exact (bias, variance) of the min-norm risk: signal * (1 - n/d)_+ and noise * min(n, d) / (|n - d| - 1).

    The variance is inf for |n - d| <= 1 (the inverse-Wishart mean diverges) unless noise == 0, when it is 0.
    """
    n, d = np.broadcast_arrays(_counts("n", n), _counts("d", d))
    signal, noise = check_nonnegative("signal", signal), check_nonnegative("noise", noise)
    bias = signal * np.maximum(d - n, 0) / d
    gap = np.abs(n - d) - 1.0
    variance = np.divide(noise * np.minimum(n, d), gap, out=np.full(gap.shape, np.inf if noise > 0.0 else 0.0),
                         where=gap >= 1.0)
    return _scalar_or_array(bias), _scalar_or_array(variance)


def min_norm_risk(n: ArrayLike, d: ArrayLike, signal: float, noise: float) -> float | np.ndarray:
    """Exact expected excess risk E|X^+ y - b|^2 at finite n, d: the double-descent curve, inf at |n - d| <= 1."""
    bias, variance = min_norm_bias_variance(n, d, signal, noise)
    return bias + variance


def asymptotic_min_norm_risk(gamma: ArrayLike, signal: float, noise: float) -> float | np.ndarray:
    """Proportional-limit min-norm risk at gamma = d / n; inf at gamma == 1 unless noise == 0 (then it is 0 there)."""
    gamma = _ratios(gamma)
    signal, noise = check_nonnegative("signal", signal), check_nonnegative("noise", noise)
    gap = np.abs(gamma - 1.0)
    variance = np.divide(noise * np.minimum(gamma, 1.0), gap, out=np.full(gap.shape, np.inf if noise > 0.0 else 0.0),
                         where=gap > 0.0)
    return _scalar_or_array(signal * np.maximum(1.0 - 1.0 / gamma, 0.0) + variance)


def optimal_ridge_lam(d: ArrayLike, signal: float, noise: float) -> float | np.ndarray:
    """The Bayes-optimal ridge penalty lam* = noise * d / signal for the sum-of-squares loss (see the module notes)."""
    d = _counts("d", d)
    noise = check_nonnegative("noise", noise)
    signal = check_nonnegative("signal", signal)
    if signal == 0.0:
        raise ValueError(f"signal must be a finite number > 0 (lam* = noise * d / signal); got {signal!r}")
    return _scalar_or_array(noise * d / signal)


def asymptotic_optimal_ridge_risk(gamma: ArrayLike, signal: float, noise: float) -> float | np.ndarray:
    """Proportional-limit risk of ridge at lam* (the Bayes risk) at gamma = d / n: finite, increasing in gamma."""
    gamma = _ratios(gamma)
    signal, noise = check_nonnegative("signal", signal), check_nonnegative("noise", noise)
    if signal == 0.0:  # b = 0: lam* = inf gives b_hat = 0 exactly
        return _scalar_or_array(np.zeros_like(gamma))
    a = 1.0 - gamma + gamma * noise / signal
    q = 4.0 * gamma**2 * noise / signal
    root = np.sqrt(a**2 + q)
    # sqrt(a^2 + q) - a, rewritten as q / (sqrt(a^2 + q) + a) where a > 0 so it does not cancel for small gamma.
    root_minus_a = np.divide(q, root + a, out=np.asarray(root - a), where=a > 0.0)
    return _scalar_or_array(signal * root_minus_a / (2.0 * gamma))


def optimal_ridge_risk(n: ArrayLike, d: ArrayLike, signal: float, noise: float) -> float | np.ndarray:
    """Risk of ridge at lam* for n samples in d dimensions, by the proportional-limit formula at gamma = d / n."""
    n, d = _counts("n", n), _counts("d", d)
    return asymptotic_optimal_ridge_risk(d / n, signal, noise)
