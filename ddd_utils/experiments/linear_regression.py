"""Chapter 2: linear regression with isotropic Gaussian features, where the double-descent risk is exact.

x ~ N(0, I_d), y = x . b + e with |b|^2 = `signal` and Var(e) = `noise`. For isotropic x the excess test risk of an
estimate b_hat is exactly |b_hat - b|^2, so the sample-wise sweeps need no test set. Every estimator here is a
spectral filter of the training design X = U diag(s) V^T: b_hat = V diag(f(s)) U^T y, which makes min-norm, ridge
and the ablations of Schaeffer et al. (2023) one formula. Min-norm and ridge fits come from
`linear.prefix_fits` (Gram matrices grown along the sweep: about 20x faster than an SVD per size, which the
ablations still use to filter singular values).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils._checks import check_nonnegative, check_positive_int, check_probability
from ddd_utils.blas import config_n, sized_by
from ddd_utils.data import random_direction, sample_gaussian_regression
from ddd_utils.linear.prefix_fits import column_prefix_fits, row_prefix_fits
from ddd_utils.linear.theory import asymptotic_min_norm_risk, min_norm_bias_variance

ABLATIONS = ("small_singular_values", "test_features", "noise")


@dataclass(frozen=True)
class LinearConfig:
    d: int = 50                    # input dimension of the sample-wise sweep (threshold at n = d)
    n: int = 50                    # training samples of the model-wise sweep (threshold at p = n)
    signal: float = 1.0            # |b|^2, the signal's share of Var(y)
    noise: float = 0.25            # variance of the label noise e
    max_ratio: float = 4.0         # sweeps run to n = max_ratio * d and to p = max_ratio * n
    grid_points: int = 60          # sizes per sweep, plus every size within 3 of the threshold
    trials: int = 200              # independent training sets per point
    ridge_lams: tuple[float, ...] = (1.0, 10.0, 100.0)  # fixed ridge strengths (sum-of-squares loss)
    small_singular_cutoff: float = 0.2  # ablations: singular values below this fraction of the largest are "small"
    coefficient_decay: float = 0.0  # model-wise truth: b_j^2 proportional to j^-decay (0: spread evenly)

    def __post_init__(self):
        for name in ("d", "n", "grid_points", "trials"):
            check_positive_int(name, getattr(self, name))
        for name in ("signal", "noise"):
            check_nonnegative(name, getattr(self, name))
        if not self.max_ratio > 1.0:
            raise ValueError(f"max_ratio must be > 1 (the sweeps must cross the threshold); got {self.max_ratio!r}")
        for lam in self.ridge_lams:
            check_nonnegative("ridge_lams", lam)
        check_probability("small_singular_cutoff", self.small_singular_cutoff)
        check_nonnegative("coefficient_decay", self.coefficient_decay)


PRESETS = {
    "smoke": LinearConfig(d=12, n=12, grid_points=12, trials=6),
    "cpu": LinearConfig(),
    "full": LinearConfig(d=200, n=200, grid_points=120, trials=1000),
}


@dataclass(frozen=True)
class RiskCurve:
    """Per training set (conditional on its X), the excess test risk and its parts: risk = |b_hat - b_used|^2 +
    left_out, where b_hat = (fit to the model's own noise-free targets) + (fit to the noise it sees)."""

    sizes: np.ndarray      # (S,) the n (sample-wise) or p (model-wise) values
    risk: np.ndarray       # (trials, S) excess test risk
    bias: np.ndarray       # (trials, S) |fit of the noise-free targets the model can express - b_used|^2
    variance: np.ndarray   # (trials, S) |fit of the noise alone|^2 (label noise, and the left-out features' signal)
    left_out: np.ndarray   # (trials, S) |signal of the features the model does not have|^2 (0 sample-wise)


@dataclass(frozen=True)
class NoiseScaledRisk:
    """A sweep's risk for every noise level at once. The label noise is sqrt(noise) times a fixed standard normal
    draw, and every fit is linear in its targets, so each trial's error is S + sqrt(noise) E: S the error of the fit
    without label noise (including, model-wise, the left-out features' signal R that it fits as noise), E the fit
    of the unit noise. Risks at any noise are then exact quadratics in sqrt(noise); `at` evaluates one."""

    sizes: np.ndarray          # (S,) the n (sample-wise) or p (model-wise) values
    noiseless_sq: np.ndarray   # (trials, S) |S|^2
    noiseless_cross: np.ndarray  # (trials, S) S . E
    unit_noise_sq: np.ndarray  # (trials, S) |E|^2
    bias: np.ndarray           # (trials, S) |fit of the noise-free targets the model can express - b_used|^2
    rest_sq: np.ndarray        # (trials, S) |R|^2 (0 sample-wise)
    rest_cross: np.ndarray     # (trials, S) R . E
    left_out: np.ndarray       # (trials, S) |signal of the features the model does not have|^2

    def at(self, noise: float) -> RiskCurve:
        """The risk curve at label-noise variance `noise`, from the same draws."""
        scale = np.sqrt(check_nonnegative("noise", noise))
        risk = self.noiseless_sq + 2 * scale * self.noiseless_cross + noise * self.unit_noise_sq + self.left_out
        variance = self.rest_sq + 2 * scale * self.rest_cross + noise * self.unit_noise_sq
        return RiskCurve(self.sizes, risk, self.bias, variance, self.left_out)


def _parts(sizes: np.ndarray, signal_error: list, rest_fit: list, unit_noise_fit: list, left_out: np.ndarray
           ) -> NoiseScaledRisk:
    """Sum the per-size fit errors (lists of (trials, features) arrays) into a NoiseScaledRisk."""
    signal_error, rest_fit, unit = (np.stack(parts, axis=1) for parts in (signal_error, rest_fit, unit_noise_fit))
    noiseless = signal_error + rest_fit
    return NoiseScaledRisk(sizes, np.sum(noiseless**2, -1), np.sum(noiseless * unit, -1), np.sum(unit**2, -1),
                           np.sum(signal_error**2, -1), np.sum(rest_fit**2, -1), np.sum(rest_fit * unit, -1),
                           left_out)


def size_grid(threshold: int, stop: int, grid_points: int) -> np.ndarray:
    """Integers from 1 to `stop` (both included): `grid_points` evenly spaced, plus every value within 3 of
    `threshold`."""
    spaced = np.round(np.linspace(1, stop, grid_points)).astype(int)
    near = np.arange(max(1, threshold - 3), min(stop, threshold + 3) + 1)
    return np.union1d(np.union1d(spaced, near), [stop])


def _filter(s: np.ndarray, lam: float, ablation: str | None, config: LinearConfig, columns: int) -> np.ndarray:
    """The spectral filter f(s) for singular values s of shape (trials, k), largest first, of designs with
    `columns` columns: 1/s above the rank cutoff (min-norm), s / (s^2 + lam) (ridge), or 1/s above
    `small_singular_cutoff` only (the first ablation)."""
    if lam > 0.0:
        return s / (s**2 + lam)
    if ablation == "small_singular_values":
        relative_cutoff = config.small_singular_cutoff
    else:
        relative_cutoff = max(s.shape[1], columns) * np.finfo(np.float64).eps  # as in ddd_utils.linear.solvers.min_norm
    keep = s > relative_cutoff * s[:, :1]
    return np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)


def _spectral_fit(U: np.ndarray, f: np.ndarray, Vt: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """b_hat = V diag(f) U^T targets, for every trial at once (leading axis)."""
    return np.einsum("tkd,tk->td", Vt, f * np.einsum("tnk,tn->tk", U, targets))


def samplewise(config: LinearConfig, seed: int = 0, lam: float = 0.0, ablation: str | None = None) -> RiskCurve:
    """Excess risk against the number of samples n at fixed d, with its bias and variance parts.

    `ablation` removes one ingredient of the peak: "small_singular_values" (drop them from the fit),
    "test_features" (measure the error only off the small singular directions), or "noise" (no label noise).
    All trials are solved at once (batched); a smaller training set is a prefix of a larger one.
    """
    if ablation not in (None, *ABLATIONS):
        raise ValueError(f"ablation must be None or one of {ABLATIONS}; got {ablation!r}")
    return samplewise_parts(config, seed, lam, ablation).at(0.0 if ablation == "noise" else config.noise)


def _filtered_fits(X_all, clean_all, e_all, b, sizes, lam: float, ablation: str, config: LinearConfig
                   ) -> tuple[list, list]:
    """Per size n, (signal error, noise fit) of the spectral filter an ablation uses, from batched SVDs of the first
    n rows."""
    signal_errors, noise_fits = [], []
    for n in sizes:
        U, s, Vt = np.linalg.svd(X_all[:, :n], full_matrices=False)
        f = _filter(s, lam, ablation, config, config.d)
        signal_error = _spectral_fit(U, f, Vt, clean_all[:, :n]) - b
        noise_fit = _spectral_fit(U, f, Vt, e_all[:, :n])
        if ablation == "test_features":  # test inputs with no component along the small singular directions
            small = Vt * (s < config.small_singular_cutoff * s[:, :1])[:, :, None]
            signal_error -= np.einsum("tkd,tk->td", small, np.einsum("tkd,td->tk", small, signal_error))
            noise_fit -= np.einsum("tkd,tk->td", small, np.einsum("tkd,td->tk", small, noise_fit))
        signal_errors.append(signal_error)
        noise_fits.append(noise_fit)
    return signal_errors, noise_fits


@sized_by(lambda config, *args, **kwargs: int(config.max_ratio * config.d))  # rows of the largest X
def samplewise_parts(config: LinearConfig, seed: int = 0, lam: float = 0.0, ablation: str | None = None
                     ) -> NoiseScaledRisk:
    """`samplewise` for every noise level at once (`config.noise` unused): `.at(noise)` is samplewise at that noise,
    from the same draws."""
    if ablation not in (None, *ABLATIONS):
        raise ValueError(f"ablation must be None or one of {ABLATIONS}; got {ablation!r}")
    lam = check_nonnegative("lam", lam)
    if lam > 0.0 and ablation == "small_singular_values":
        raise ValueError("ablation 'small_singular_values' truncates the min-norm fit; use it with lam = 0")
    sizes = size_grid(config.d, int(config.max_ratio * config.d), config.grid_points)
    b = np.stack([random_direction(config.d, config.signal, np.random.default_rng((seed, 2, t)))
                  for t in range(config.trials)])
    draws = [sample_gaussian_regression(int(sizes[-1]), b[t], 1.0, seed=(seed, 3, t)) for t in range(config.trials)]
    X_all = np.stack([X for X, _, _ in draws])
    e_all = np.stack([e for _, _, e in draws])  # unit variance: the noise at level v is sqrt(v) e_all
    clean_all = np.einsum("tnd,td->tn", X_all, b)
    if ablation in (None, "noise"):  # min-norm or ridge: solved from Gram matrices grown with n
        fits = row_prefix_fits(X_all, np.stack([clean_all, e_all], axis=-1), sizes, lam)
        signal_errors = [fit[..., 0] - b for fit in fits]
        noise_fits = [fit[..., 1] for fit in fits]
    else:  # the ablations filter singular values: batched SVDs
        signal_errors, noise_fits = _filtered_fits(X_all, clean_all, e_all, b, sizes, lam, ablation, config)
    no_rest = [np.zeros_like(fit) for fit in noise_fits]
    return _parts(sizes, signal_errors, no_rest, noise_fits, np.zeros((config.trials, sizes.size)))


def _signal_profile(config: LinearConfig) -> np.ndarray:
    """Expected b_j^2 of the model-wise truth: proportional to j^-coefficient_decay, summing to `signal`."""
    weights = np.arange(1, int(config.max_ratio * config.n) + 1, dtype=float) ** -config.coefficient_decay
    return config.signal * weights / weights.sum()


def modelwise(config: LinearConfig, seed: int = 0, lam: float = 0.0) -> RiskCurve:
    """Test risk against the number of features p used, at fixed n; the true model has max_ratio * n features.

    A model with the first p features can express b_used = b[:p]; the signal of the other features, X_rest b_rest,
    reaches it as extra noise, and |b_rest|^2 adds to its test error whatever it does. So bias is the error of the
    fit to X_p b_used, variance that of the fit to e + X_rest b_rest, and left_out is |b_rest|^2; with isotropic
    test inputs the risk |b_hat - b_used|^2 + |b_rest|^2 is exact, with no test set. With coefficient_decay = 0 the
    truth is a uniformly random direction; otherwise b_j = +-sqrt(profile_j), random signs. All trials of one p
    are solved at once with a batched SVD.
    """
    return modelwise_parts(config, seed, lam).at(config.noise)


@sized_by(config_n)
def modelwise_parts(config: LinearConfig, seed: int = 0, lam: float = 0.0) -> NoiseScaledRisk:
    """`modelwise` for every noise level at once (`config.noise` unused): `.at(noise)` is modelwise at that noise,
    from the same draws."""
    lam = check_nonnegative("lam", lam)
    total_features = int(config.max_ratio * config.n)
    sizes = size_grid(config.n, total_features, config.grid_points)
    b, X, e = [], [], []
    for trial in range(config.trials):
        rng = np.random.default_rng((seed, 4, trial))
        if config.coefficient_decay == 0.0:
            b.append(random_direction(total_features, config.signal, rng))
        else:
            b.append(rng.choice([-1.0, 1.0], size=total_features) * np.sqrt(_signal_profile(config)))
        X_trial, _, e_trial = sample_gaussian_regression(config.n, b[-1], 1.0, seed=(seed, 5, trial))  # unit noise
        X.append(X_trial)
        e.append(e_trial)
    b, X, e = np.stack(b), np.stack(X), np.stack(e)
    signal_errors, rest_fits, noise_fits = [], [], []
    for p, fit in zip(sizes, column_prefix_fits(X, b, e, sizes, lam), strict=True):
        signal_errors.append(fit[..., 0] - b[:, :p])  # the fit of the used features' signal X_p b_p
        rest_fits.append(fit[..., 1])                # of the left-out features' signal, seen as noise
        noise_fits.append(fit[..., 2])               # of the unit label noise
    left_out = np.stack([np.sum(b[:, p:] ** 2, axis=1) for p in sizes], axis=1)
    # the fits have p entries, a different length per size: pad with zeros to the largest p (adds nothing to a sum)
    width = int(sizes[-1])
    pad = [[np.pad(fit, ((0, 0), (0, width - fit.shape[1]))) for fit in fits]
           for fits in (signal_errors, rest_fits, noise_fits)]
    return _parts(sizes, *pad, left_out)


def modelwise_theory_parts(config: LinearConfig, sizes: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact expected (bias, variance, left_out) of the min-norm model-wise sweep at finite n and p: the p used
    features carry the signal of the first p coefficients and see the rest as extra noise (the parts are linear in
    both, so the expected profile gives the expectation)."""
    p = np.asarray(sizes)
    total_features = int(config.max_ratio * config.n)
    if p.size == 0 or p.min() < 1 or p.max() > total_features:
        raise ValueError(f"sizes must lie in [1, max_ratio * n] = [1, {total_features}]")
    used_signal = np.cumsum(_signal_profile(config))[p - 1]
    left_out = np.maximum(config.signal - used_signal, 0.0)
    parts = [min_norm_bias_variance(config.n, int(k), s, config.noise + r)
             for k, s, r in zip(p, used_signal, left_out, strict=True)]
    return np.array([bias for bias, _ in parts]), np.array([variance for _, variance in parts]), left_out


def modelwise_theory(config: LinearConfig, sizes: ArrayLike, asymptotic: bool = False) -> np.ndarray:
    """Expected risk of the model-wise sweep: the sum of `modelwise_theory_parts`, exact at finite n and p, or with
    `asymptotic=True` the proportional limit of Hastie et al. at gamma = p / n."""
    bias, variance, left_out = modelwise_theory_parts(config, sizes)
    if not asymptotic:
        return bias + variance + left_out
    p = np.asarray(sizes)
    used_signal = config.signal - left_out
    return np.array([asymptotic_min_norm_risk(k / config.n, s, config.noise + r) + r
                     for k, s, r in zip(p, used_signal, left_out, strict=True)])


def with_overrides(config: LinearConfig, **changes: object) -> LinearConfig:
    """A copy of `config` with some fields changed (validated like any config)."""
    return replace(config, **changes)
