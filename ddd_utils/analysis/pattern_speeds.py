"""The pattern-speed toy model of chapter 7: a linear model that can fit its training set two ways, with a fast
pattern that does not generalise and a slow one that does, and its exact gradient-flow dynamics.

The setting (after Davies, Langosco and Krueger 2023's framework; the construction is this book's): n training
samples of x = (s_slow z, s_fast xi), z ~ N(0, I_slow), xi ~ N(0, I_fast) independent, and y = beta.z + noise with
|beta| = 1 and Var(noise) = noise. The *slow pattern* is z: it carries the signal, and its small scale s_slow makes
gradient flow learn it at rate ~s_slow^2. The *fast pattern* is xi: pure noise, independent of y, but with
fast < n features it fits about fast / n of any training target, so on the training set it is a shortcut, learned at
rate ~s_fast^2, that means nothing on new inputs.

Gradient flow from w = 0 on L(w) = |X w - y|^2 / (2 n) + decay |w|^2 / 2 is linear, so it is solved exactly: with
H = X^T X / n + decay I = V diag(h) V^T and g = X^T y / n,
    w(t) = V diag((1 - exp(-h t)) / h) V^T g        ((1 - exp(-h t)) / h -> t where h = 0).
Test error is the population mean square error of w(t), exact for Gaussian inputs:
    test MSE = |s_slow w_slow - beta_slow|^2 + |s_fast w_fast - beta_fast|^2 + noise
(beta_fast = 0 unless `fast_signal` gives the fast pattern part of the signal: Heckel and Yilmaz's two-scale
teacher, where the same formula gives epoch-wise double descent from label noise). Gradient descent with step lr
is exact too: replace (1 - exp(-h t)) / h by (1 - (1 - lr h)^k) / h after k steps.
Errors are reported relative to Var(y) = 1 + noise, the error of predicting 0. So the toy shows, from one formula,
plain learning (test follows train), epoch-wise double descent (test worsens while the fast pattern is fitted, then
recovers) and grokking (train fitted long before test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.analysis.curves import first_reached


@dataclass(frozen=True)
class PatternSpeeds:
    """One toy problem: sizes, the two patterns' scales (a pattern's learning rate is its scale squared), the label
    noise and the weight decay."""

    n: int = 200            # training samples
    slow: int = 5           # dimensions of the slow, generalising pattern z (the target depends on these)
    fast: int = 180         # dimensions of the fast, memorising pattern xi (fast / n: how much of y it can fit)
    slow_scale: float = 0.1  # s_slow: the slow pattern is learned at rate ~ s_slow^2
    fast_scale: float = 1.0  # s_fast: the fast pattern at rate ~ s_fast^2
    noise: float = 0.0      # variance of the label noise
    decay: float = 0.0      # weight decay (an L2 penalty decay |w|^2 / 2 in the loss)
    fast_signal: float = 0.0  # share of the teacher's |beta|^2 = 1 on the fast pattern (0: it only memorises)

    def __post_init__(self):
        check_positive_int("n", self.n)
        check_positive_int("slow", self.slow)
        check_positive_int("fast", self.fast, minimum=0)
        for name in ("slow_scale", "fast_scale"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
        check_nonnegative("noise", self.noise)
        check_nonnegative("decay", self.decay)
        if not 0.0 <= self.fast_signal <= 1.0:
            raise ValueError(f"fast_signal must be in [0, 1] (a share of the signal); got {self.fast_signal!r}")
        if self.fast_signal > 0 and self.fast == 0:
            raise ValueError("fast_signal > 0 needs a fast pattern: fast must be >= 1")


@dataclass(frozen=True)
class Dynamics:
    """Train and test mean square error of gradient flow at each of `times`, the weight norm, and how much
    each pattern contributes to a prediction on a fresh input (the standard deviation of its part: s |w_part|)."""

    times: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    weight_norm: np.ndarray
    slow_part: np.ndarray
    fast_part: np.ndarray
    label_variance: float  # Var(y) = 1 + noise: the error of predicting 0, the unit errors are reported in


@dataclass(frozen=True)
class Problem:
    """One drawn training set: the design X (n, slow + fast), targets y, and the teacher beta on the unscaled
    patterns (z, xi), with |beta| = 1."""

    config: PatternSpeeds
    X: np.ndarray
    y: np.ndarray
    beta: np.ndarray


def draw(config: PatternSpeeds, seed: int = 0) -> Problem:
    """A training set of the toy problem. The scales and the noise multiply fixed standard normal draws, and the
    fast pattern is drawn last, so for one seed a change of scale, noise, decay or fast-pattern size changes the
    dynamics, not the slow pattern or the labels' draw."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((config.n, config.slow))
    beta_slow = rng.standard_normal(config.slow)
    beta_slow *= np.sqrt(1.0 - config.fast_signal) / np.linalg.norm(beta_slow)
    noise = np.sqrt(config.noise) * rng.standard_normal(config.n)
    xi = rng.standard_normal((config.n, config.fast))  # after the slow pattern and the noise: they keep their draw
    beta_fast = rng.standard_normal(config.fast)
    if config.fast_signal > 0:
        beta_fast *= np.sqrt(config.fast_signal) / np.linalg.norm(beta_fast)
    else:
        beta_fast[:] = 0.0
    X = np.hstack([config.slow_scale * z, config.fast_scale * xi])
    return Problem(config, X, z @ beta_slow + xi @ beta_fast + noise, np.concatenate([beta_slow, beta_fast]))


def _population_mse(problem: Problem, w: np.ndarray) -> np.ndarray:
    """Exact test MSE of the weights `w` (..., slow + fast) on fresh Gaussian inputs with noisy labels."""
    config = problem.config
    scales = np.repeat([config.slow_scale, config.fast_scale], [config.slow, config.fast])
    return np.sum((scales * w - problem.beta) ** 2, axis=-1) + config.noise


def _spectrum(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, V, V^T g): the eigenvalues and eigenvectors of H = X^T X / n + decay I, and g = X^T y / n in their
    basis; both the flow and gradient descent are diagonal there."""
    X, y, n = problem.X, problem.y, problem.config.n
    h, V = np.linalg.eigh(X.T @ X / n + problem.config.decay * np.eye(X.shape[1]))
    return np.clip(h, 0.0, None), V, V.T @ (X.T @ y / n)  # clip: round-off can make a zero eigenvalue negative


def gradient_flow(problem: Problem, times: np.ndarray) -> Dynamics:
    """The exact gradient-flow trajectory from w = 0 at each of `times` (>= 0), from one eigendecomposition."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError("times must be a 1-D array of finite numbers >= 0")
    h, V, coordinates = _spectrum(problem)
    ht = h[None, :] * times[:, None]
    # (1 - exp(-h t)) / h, written with expm1 so it is accurate for small h t and equals t where h = 0
    gain = np.where(h > 0, -np.expm1(-ht) / np.where(h > 0, h, 1.0), times[:, None])
    weights = (gain * coordinates) @ V.T  # (len(times), slow + fast)
    return dynamics_of(problem, times, weights)


def gradient_descent(problem: Problem, steps: np.ndarray, lr: float) -> Dynamics:
    """The exact trajectory of gradient descent from w = 0 with step `lr` after each of `steps` (integers >= 0);
    `lr` must be below 2 / (largest curvature), where the iteration is stable. The Dynamics' times are the steps."""
    steps = np.asarray(steps)
    if steps.ndim != 1 or not np.issubdtype(steps.dtype, np.integer) or np.any(steps < 0):
        raise ValueError("steps must be a 1-D array of integers >= 0")
    h, V, coordinates = _spectrum(problem)
    if not 0 < lr < 2 / h.max():
        raise ValueError(f"lr must be in (0, 2 / largest curvature) = (0, {2 / h.max():.4g}) for gradient descent "
                         f"to converge; got {lr!r}")
    k, base = steps.astype(np.float64)[:, None], 1.0 - lr * h
    with np.errstate(invalid="ignore", divide="ignore"):  # each branch is used only where it is valid
        # 1 - base^k: through expm1/log1p where base > 0 (accurate when lr h is tiny), as a power where it is not
        shrunk = np.where(base > 0, -np.expm1(k * np.log1p(-lr * h)), 1.0 - np.power(base, k))
        gain = np.where(h > 0, shrunk / np.where(h > 0, h, 1.0), lr * k)
    weights = (gain * coordinates) @ V.T
    return dynamics_of(problem, steps.astype(np.float64), weights)


def dynamics_of(problem: Problem, times: np.ndarray, weights: np.ndarray) -> Dynamics:
    """Everything `Dynamics` reports, from the weights (len(times), slow + fast) along a trajectory."""
    config = problem.config
    residuals = weights @ problem.X.T - problem.y
    return Dynamics(times, np.mean(residuals ** 2, axis=1), _population_mse(problem, weights),
                    np.linalg.norm(weights, axis=1),
                    config.slow_scale * np.linalg.norm(weights[:, :config.slow], axis=1),
                    config.fast_scale * np.linalg.norm(weights[:, config.slow:], axis=1), 1.0 + config.noise)


def time_grid(config: PatternSpeeds, points: int = 200) -> np.ndarray:
    """Log-spaced times from well before the fast pattern's timescale (1 / s_fast^2) to well after the slow one's
    (1 / s_slow^2), and past 1 / decay when weight decay is on."""
    longest = max(1 / config.slow_scale ** 2, 1 / config.fast_scale ** 2)
    if config.decay > 0:
        longest = max(longest, 1 / config.decay)
    shortest = min(1 / config.slow_scale ** 2, 1 / config.fast_scale ** 2)
    return np.logspace(np.log10(shortest) - 2, np.log10(longest) + 2.5, points)


def race(dynamics: Dynamics, level: float = 0.1) -> dict[str, float]:
    """The race in numbers: when the train and the test error (relative to Var(y)) first fall to `level`, their
    ratio (the delay: about 1 when test follows train, large for grokking), and the highest test error and when it
    happens (above 1, the starting value, is a bump: epoch-wise double descent)."""
    times = dynamics.times
    train, test = dynamics.train_mse / dynamics.label_variance, dynamics.test_mse / dynamics.label_variance
    fitted, generalised = first_reached(times, -train, -level), first_reached(times, -test, -level)
    return {"fitted": fitted, "generalised": generalised, "delay": generalised / fitted,
            "peak": float(test.max()), "peak_time": float(times[np.argmax(test)])}


def regime_map(base: PatternSpeeds, speed_ratios: Sequence[float], fast_sizes: Sequence[int], seed: int = 0,
               points: int = 200) -> dict[str, np.ndarray]:
    """`race` over a grid: the fast pattern's rate over the slow one's (`speed_ratios`, the fast scale fixed) by
    the fast pattern's size; arrays of shape (len(fast_sizes), len(speed_ratios)) for "delay" and "peak"."""
    delay = np.empty((len(fast_sizes), len(speed_ratios)))
    peak = np.empty_like(delay)
    for i, fast in enumerate(fast_sizes):
        for j, ratio in enumerate(speed_ratios):
            config = replace(base, fast=int(fast), slow_scale=base.fast_scale / float(np.sqrt(ratio)))
            summary = race(gradient_flow(draw(config, seed), time_grid(config, points)))
            delay[i, j], peak[i, j] = summary["delay"], summary["peak"]
    return {"speed_ratios": np.asarray(speed_ratios, dtype=float), "fast_sizes": np.asarray(fast_sizes),
            "delay": delay, "peak": peak}

