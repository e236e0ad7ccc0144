"""Chapter 1: double descent of minimum-norm polynomial regression in the number of features p.

n noisy samples of a smooth target on [-1, 1] are fitted with p polynomial features (degrees 0 .. p-1). The test
error is the mean squared distance between the fit and the *noise-free* target at fresh points (add `noise` for the
error on noisy test labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.blas import config_n, sized_by
from ddd_utils.data import TARGETS, sample_regression
from ddd_utils.linear.features import BASES, design_matrix
from ddd_utils.linear.solvers import gradient_descent, min_norm, ridge, ridge_sweep


@dataclass(frozen=True)
class PolynomialConfig:
    target: str = "sine"             # name in ddd_utils.data.TARGETS
    n: int = 16                      # training samples (the threshold sits at p = n)
    noise: float = 0.1               # variance of the Gaussian noise on training targets
    max_features: int = 10_000       # largest p in the sweep
    num_grid: int = 48               # log-spaced p values in [1, max_features], plus every p within 3 of n
    trials: int = 100                # independent training sets per point of a curve
    comparison_trials: int = 30      # training sets per curve in the basis and ridge comparisons
    n_test: int = 1000               # fresh test points (Monte Carlo estimate of the test error)
    ridge_lams: tuple[float, ...] = (1e-8, 1e-4, 1e-1)  # ridge strengths compared with ridgeless (lam = 0)
    gd_features: int = 1024          # p for the gradient-descent-vs-pseudoinverse check (well past the threshold)
    gd_steps: int = 100_000          # gradient-descent steps in that check (learning rate 1 / s_max^2)

    def __post_init__(self):
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {tuple(TARGETS)}; got {self.target!r}")
        for name in ("n", "max_features", "num_grid", "trials", "comparison_trials", "n_test", "gd_features",
                     "gd_steps"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative("noise", self.noise)
        for lam in self.ridge_lams:
            check_nonnegative("ridge_lams", lam)


PRESETS = {
    "smoke": PolynomialConfig(max_features=200, num_grid=12, trials=3, comparison_trials=2, n_test=200,
                              gd_steps=2_000),
    "cpu": PolynomialConfig(),
    "full": PolynomialConfig(max_features=100_000, num_grid=80, trials=500, comparison_trials=200, n_test=2000,
                             gd_steps=200_000),
}


_TRIALS_PER_DESIGN = 64


@dataclass(frozen=True)
class SweepResult:
    num_features: np.ndarray   # (P,) the p values swept
    test_error: np.ndarray     # (trials, P) mean squared error against the noise-free target at test points
    train_error: np.ndarray    # (trials, P) mean squared error on the noisy training targets
    weight_norm: np.ndarray    # (trials, P) Euclidean norm of the fitted coefficients


def feature_grid(n: int, max_features: int, num_grid: int) -> np.ndarray:
    """Sorted p values: `num_grid` log-spaced in [1, max_features] (both ends included) and every p within 3 of n."""
    log_spaced = np.round(np.logspace(0, np.log10(max_features), num_grid)).astype(int)
    near_threshold = np.arange(max(1, n - 3), n + 4)
    grid = np.union1d(np.union1d(log_spaced, near_threshold), [max_features])
    return grid[grid <= max_features]


def test_points(config: PolynomialConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh uniform test inputs and the noise-free target there; shared by every p and trial of a run."""
    x_test = np.random.default_rng((seed, 1)).uniform(-1.0, 1.0, config.n_test)
    return x_test, TARGETS[config.target](x_test)


@sized_by(config_n)
def sweep(config: PolynomialConfig, seed: int = 0, basis: str = "legendre", lam: float = 0.0,
          trials: int | None = None) -> SweepResult:
    """Fit every p of the feature grid on `trials` training sets (min-norm when lam = 0, else ridge)."""
    lam, trials, grid, f_test, X_test = _sweep_setup(config, seed, basis, lam, trials)
    fits = [ridge_sweep(X, y, X_test, f_test, grid, lam=lam)
            for _, X, y in _designs(config, config.noise, seed, basis, trials, int(grid[-1]))]
    return SweepResult(grid, *(np.stack([getattr(fit, name) for fit in fits])
                               for name in ("test_mse", "train_mse", "weight_norm")))


def _sweep_setup(config: PolynomialConfig, seed: int, basis: str, lam: float, trials: int | None) -> tuple:
    """A sweep's checked inputs: (lam, trials, the feature grid, the target at the test points, the test design
    matrix with the largest p's columns: every p uses a prefix of them)."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}; got {basis!r}")
    lam = check_nonnegative("lam", lam)
    trials = config.trials if trials is None else check_positive_int("trials", trials)
    grid = feature_grid(config.n, config.max_features, config.num_grid)
    x_test, f_test = test_points(config, seed)
    return lam, trials, grid, f_test, design_matrix(basis, x_test, int(grid[-1]))


def _designs(config: PolynomialConfig, noise: float, seed: int, basis: str, trials: int, columns: int):
    """(inputs, design matrix, targets) of each trial's training set at label-noise variance `noise`; one design
    matrix is built for a batch of trials (fewer Python loops)."""
    draws = [sample_regression(config.target, config.n, noise, seed=(seed, 0, trial)) for trial in range(trials)]
    for start in range(0, trials, _TRIALS_PER_DESIGN):
        batch = draws[start:start + _TRIALS_PER_DESIGN]
        X_batch = design_matrix(basis, np.concatenate([x for x, _ in batch]), columns)
        for k, (x, y) in enumerate(batch):
            yield x, X_batch[k * config.n:(k + 1) * config.n], y


@dataclass(frozen=True)
class NoiseScaledError:
    """`sweep`'s test error for every noise level at once. A training target is f(x) + sqrt(noise) e with e a
    fixed standard normal draw per trial, and every fit is linear in its targets, so at each test point the error
    is F + sqrt(noise) E (F: the fit of f minus f; E: the fit of e), and its mean square is a quadratic in
    sqrt(noise); `at` evaluates it."""

    num_features: np.ndarray  # (P,)
    signal_sq: np.ndarray     # (trials, P) mean of F^2 over the test points
    cross: np.ndarray         # (trials, P) mean of F E
    noise_sq: np.ndarray      # (trials, P) mean of E^2

    def at(self, noise: float) -> np.ndarray:
        """The test error (trials, P) at label-noise variance `noise`, from the same draws as `sweep`."""
        scale = np.sqrt(check_nonnegative("noise", noise))
        return self.signal_sq + 2 * scale * self.cross + noise * self.noise_sq


@sized_by(config_n)
def noise_scaled_sweep(config: PolynomialConfig, seed: int = 0, basis: str = "legendre", lam: float = 0.0,
                       trials: int | None = None) -> NoiseScaledError:
    """`sweep`'s test error as a function of the noise (config.noise is not used): one fit of the noise-free
    targets and one of the unit noise, per trial."""
    lam, trials, grid, f_test, X_test = _sweep_setup(config, seed, basis, lam, trials)
    zeros = np.zeros((len(f_test), 2))
    parts = []
    for x, X, y in _designs(config, 1.0, seed, basis, trials, int(grid[-1])):
        signal = TARGETS[config.target](x)
        targets = np.column_stack([signal, y - signal])  # f(x) and the unit noise e, fitted together
        fit = ridge_sweep(X, targets, X_test, zeros, grid, lam=lam, keep_predictions=True)
        F = fit.test_predictions[:, :, 0] - f_test  # (P, m)
        E = fit.test_predictions[:, :, 1]
        parts.append((np.mean(F ** 2, axis=1), np.mean(F * E, axis=1), np.mean(E ** 2, axis=1)))
    return NoiseScaledError(grid, *(np.array(values) for values in zip(*parts, strict=True)))


@sized_by(config_n)
def example_fits(config: PolynomialConfig, num_features: tuple[int, ...], seed: int = 0, basis: str = "legendre",
                 lam: float = 0.0, num_plot_points: int = 400) -> dict[str, np.ndarray]:
    """One training set and its fits for each p in `num_features`, evaluated on a grid for plotting."""
    x, y = sample_regression(config.target, config.n, config.noise, seed=(seed, 0, 0))
    grid = np.linspace(-1.0, 1.0, num_plot_points)
    p_max = max(num_features)
    X, X_grid = design_matrix(basis, x, p_max), design_matrix(basis, grid, p_max)
    fits = {}
    for p in num_features:
        w = min_norm(X[:, :p], y) if lam == 0.0 else ridge(X[:, :p], y, lam)
        fits[p] = X_grid[:, :p] @ w
    return {"x": x, "y": y, "grid": grid, "target": TARGETS[config.target](grid), "fits": fits}


@sized_by(config_n)
def gradient_descent_vs_min_norm(config: PolynomialConfig, seed: int = 0, num_checkpoints: int = 12
                                 ) -> dict[str, np.ndarray]:
    """Run gradient descent from zero and record its relative distance to the pseudoinverse solution.

    Also reports the condition number of the design at p = `gd_features` and at p = n + 1: gradient descent needs
    about condition_number^2 steps per factor e of progress, which is why runs near the threshold converge slowly.

    Also runs it from a random start, which converges to a different interpolant: the minimum-norm bias comes from
    starting at zero, not from gradient descent as such.
    """
    x, y = sample_regression(config.target, config.n, config.noise, seed=(seed, 0, 0))
    X = design_matrix("legendre", x, config.gd_features)
    w_star = min_norm(X, y)
    checkpoints = np.unique(np.round(np.logspace(0, np.log10(config.gd_steps), num_checkpoints)).astype(int))
    w_zero = np.zeros(X.shape[1])
    w_random = np.random.default_rng((seed, 2)).standard_normal(X.shape[1])
    rel_zero, rel_random, train_mse, done = [], [], [], 0
    for step in checkpoints:
        w_zero = gradient_descent(X, y, int(step - done), w0=w_zero)
        w_random = gradient_descent(X, y, int(step - done), w0=w_random)
        done = step
        rel_zero.append(np.linalg.norm(w_zero - w_star) / np.linalg.norm(w_star))
        rel_random.append(np.linalg.norm(w_random - w_star) / np.linalg.norm(w_star))
        train_mse.append(np.mean((X @ w_zero - y) ** 2))
    singular_values = np.linalg.svd(X, compute_uv=False)
    just_past = np.linalg.svd(X[:, :config.n + 1], compute_uv=False)
    return {"steps": checkpoints, "relative_distance_from_zero": np.array(rel_zero),
            "relative_distance_from_random": np.array(rel_random), "train_mse_from_zero": np.array(train_mse),
            "condition_number": singular_values[0] / singular_values[-1], "num_features": config.gd_features,
            "condition_number_at_threshold": just_past[0] / just_past[-1]}


# Schaeffer et al. (2023), "Double descent demystified", polynomial example: n = 15 noise-free samples of
# y = 2x + cos(25x), Legendre features of degrees 1..p (no constant), pseudoinverse fit, test MSE on 1,000 evenly
# spaced points, 30 training sets. Their published medians at p = 1, 15 and 30:
SCHAEFFER_PUBLISHED = {1: 0.51, 15: 6.7e6, 30: 0.35}


def parity_steps(num_features: np.ndarray, errors: np.ndarray, up_to: int) -> dict[str, tuple[int, int]]:
    """Read the zig-zag of an odd target's curve: for each grid step p -> p + 1 with p + 1 <= `up_to`, which adds
    the degree-p term, {"even": (steps that raised the error, steps), "odd": (steps that lowered it, steps)}.
    An even-degree term is even, so it adds nothing an odd target needs: only one more direction to fit noise."""
    num_features, errors = np.asarray(num_features), np.asarray(errors)
    steps = [(p, errors[i + 1] - errors[i]) for i, p in enumerate(num_features[:-1])
             if num_features[i + 1] == p + 1 and p + 1 <= up_to]
    even = [change for p, change in steps if p % 2 == 0]
    odd = [change for p, change in steps if p % 2 == 1]
    return {"even": (sum(change > 0 for change in even), len(even)),
            "odd": (sum(change < 0 for change in odd), len(odd))}


@sized_by(lambda *args, **kwargs: 15)
def schaeffer_reference(num_features: Sequence[int] = (1, 15, 30), trials: int = 30, seed: int = 0
                        ) -> dict[int, np.ndarray]:
    """Test MSE of every training set at each p in `num_features`, in Schaeffer et al.'s setting (above)."""
    n, x_test = 15, np.linspace(-1.0, 1.0, 1000)
    target = TARGETS["slope_cosine"]
    p_max = max(num_features)
    X_test = design_matrix("legendre", x_test, p_max + 1)[:, 1:]  # degrees 1..p_max
    errors = {p: np.empty(trials) for p in num_features}
    for trial in range(trials):
        x, y = sample_regression("slope_cosine", n, 0.0, seed=(seed, 7, trial))
        X = design_matrix("legendre", x, p_max + 1)[:, 1:]
        for p in num_features:
            errors[p][trial] = np.mean((X_test[:, :p] @ min_norm(X[:, :p], y) - target(x_test)) ** 2)
    return errors


def with_overrides(config: PolynomialConfig, **changes: object) -> PolynomialConfig:
    """A copy of `config` with some fields changed (validated like any config)."""
    return replace(config, **changes)
