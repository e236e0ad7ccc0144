"""Tests for ddd_utils.linear.theory: closed-form risks against Monte Carlo of actual fits, limits, and edge cases."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from ddd_utils.linear.theory import (
    asymptotic_min_norm_risk,
    asymptotic_optimal_ridge_risk,
    min_norm_bias_variance,
    min_norm_risk,
    optimal_ridge_lam,
    optimal_ridge_risk,
)

SIGNAL, NOISE = 1.0, 0.25


def _assert_mean_matches(samples: np.ndarray, expected: float, slack: float = 1e-10) -> None:
    """The Monte Carlo mean lies within 4 standard errors (plus `slack`) of `expected`."""
    mean, se = samples.mean(), samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(mean - expected) < 4.0 * se + slack, f"Monte Carlo {mean:.5f} +- {se:.5f}, theory {expected:.5f}"


def _min_norm_errors(n: int, d: int, signal: float, noise: float, draws: int = 4000, seed: int = 0):
    """Per-draw |b_hat - b|^2 of actual min-norm fits X^+ y, with its bias part |X^+ X b - b|^2 and variance part
    |X^+ e|^2 (their cross term has mean zero)."""
    rng = np.random.default_rng(seed)
    b = np.full((d, 1), np.sqrt(signal / d))  # any b with |b|^2 = signal: X is rotation invariant
    X = rng.standard_normal((draws, n, d))
    e = np.sqrt(noise) * rng.standard_normal((draws, n, 1))
    pinv = np.linalg.pinv(X)
    bias_part, variance_part = pinv @ (X @ b) - b, pinv @ e
    return tuple(np.sum(part**2, axis=(1, 2)) for part in (bias_part + variance_part, bias_part, variance_part))


def _ridge_errors(n: int, d: int, signal: float, noise: float, lams, draws: int = 3000, seed: int = 0) -> np.ndarray:
    """Per-draw |b_hat - b|^2 of actual ridge fits for each penalty in `lams`, on the same draws; b uniform on the
    sphere of radius sqrt(signal)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((draws, d, 1))
    b = np.sqrt(signal) * g / np.linalg.norm(g, axis=1, keepdims=True)
    X = rng.standard_normal((draws, n, d))
    y = X @ b + np.sqrt(noise) * rng.standard_normal((draws, n, 1))
    Xt = np.swapaxes(X, 1, 2)
    gram, Xty = Xt @ X, Xt @ y
    return np.array([np.sum((np.linalg.solve(gram + lam * np.eye(d), Xty) - b) ** 2, axis=(1, 2)) for lam in lams])


# --- minimum norm -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 10, 15, 25, 35, 60])
def test_min_norm_risk_and_its_split_match_monte_carlo_of_actual_fits(n):
    d = 20
    total, bias_part, variance_part = _min_norm_errors(n, d, SIGNAL, NOISE, seed=n)
    bias, variance = min_norm_bias_variance(n, d, SIGNAL, NOISE)
    _assert_mean_matches(total, min_norm_risk(n, d, SIGNAL, NOISE))
    _assert_mean_matches(bias_part, bias)
    _assert_mean_matches(variance_part, variance)


@pytest.mark.parametrize("n, d, bias, variance", [
    (10, 20, 0.5, 0.25 * 10 / 9),  # n <= d - 2: signal (1 - n/d), noise n / (d - n - 1)
    (18, 20, 0.1, 0.25 * 18 / 1),
    (22, 20, 0.0, 0.25 * 20 / 1),  # n >= d + 2: noise d / (n - d - 1)
    (60, 20, 0.0, 0.25 * 20 / 39),
    (3, 1, 0.0, 0.25 * 1 / 1),
])
def test_min_norm_bias_variance_hand_values_sum_to_the_risk(n, d, bias, variance):
    assert min_norm_bias_variance(n, d, SIGNAL, NOISE) == pytest.approx((bias, variance), rel=1e-14, abs=0)
    assert min_norm_risk(n, d, SIGNAL, NOISE) == pytest.approx(bias + variance, rel=1e-14, abs=0)


def test_min_norm_bias_vanishes_exactly_from_n_equal_d_on():
    d, ns = 20, np.arange(1, 80)
    bias, variance = min_norm_bias_variance(ns, d, SIGNAL, NOISE)
    assert np.all(bias[ns >= d] == 0.0) and np.all(bias[ns < d] > 0.0)
    np.testing.assert_array_equal(bias + variance, min_norm_risk(ns, d, SIGNAL, NOISE))


@pytest.mark.parametrize("d", [1, 2, 20])
def test_min_norm_risk_is_infinite_within_one_of_the_threshold_when_noisy(d):
    ns = np.arange(max(d - 1, 1), d + 2)
    assert np.all(np.isinf(min_norm_risk(ns, d, SIGNAL, NOISE)))
    assert np.isfinite(min_norm_risk(d + 2, d, SIGNAL, NOISE))
    assert np.isinf(min_norm_bias_variance(d, d, 0.0, 1e-12)[1])


def test_noise_free_min_norm_risk_is_the_bias_alone_even_at_the_threshold():
    d = 20
    ns = np.arange(d - 2, d + 3)
    np.testing.assert_allclose(min_norm_risk(ns, d, SIGNAL, 0.0), SIGNAL * np.array([2, 1, 0, 0, 0]) / d, rtol=1e-15)
    for n in (d - 1, d):  # where the noisy risk is inf, actual noise-free fits still have finite mean error
        total, _, _ = _min_norm_errors(n, d, SIGNAL, 0.0, seed=n)
        _assert_mean_matches(total, min_norm_risk(n, d, SIGNAL, 0.0))


def test_min_norm_risk_broadcasts_and_matches_scalar_calls():
    ns, ds = np.arange(1, 40)[:, None], np.array([5, 20])
    curve = min_norm_risk(ns, ds, SIGNAL, NOISE)
    assert curve.shape == (39, 2) and curve.dtype == np.float64
    expected = [[min_norm_risk(int(n), int(d), SIGNAL, NOISE) for d in ds] for n in ns[:, 0]]
    np.testing.assert_array_equal(curve, expected)
    assert type(min_norm_risk(10, 20, SIGNAL, NOISE)) is float


@pytest.mark.parametrize("gamma", [0.3, 0.5, 2.0, 3.0])
def test_asymptotic_min_norm_risk_is_the_large_n_limit(gamma):
    n = 1000
    d = round(gamma * n)
    assert asymptotic_min_norm_risk(gamma, SIGNAL, NOISE) == pytest.approx(min_norm_risk(n, d, SIGNAL, NOISE), rel=1e-2)


def test_asymptotic_min_norm_risk_at_gamma_one_and_as_an_array():
    assert np.isinf(asymptotic_min_norm_risk(1.0, SIGNAL, NOISE))
    assert asymptotic_min_norm_risk(1.0, SIGNAL, 0.0) == 0.0
    np.testing.assert_allclose(asymptotic_min_norm_risk([0.5, 2.0], SIGNAL, NOISE), [NOISE, 0.5 + NOISE], rtol=1e-15)


# --- optimally tuned ridge --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [25, 50, 100])
def test_optimal_ridge_risk_matches_monte_carlo_of_ridge_at_lam_star(n):
    # The formula is the proportional limit; at d = 50 the exact finite-size risk is 0.3% (n = 25) to 0.9% (n = 100)
    # above it (measured with 40,000 draws), so 3% relative slack on top of the 4 standard errors.
    d = 50
    errors = _ridge_errors(n, d, SIGNAL, NOISE, [optimal_ridge_lam(d, SIGNAL, NOISE)], seed=n)[0]
    theory = optimal_ridge_risk(n, d, SIGNAL, NOISE)
    _assert_mean_matches(errors, theory, slack=0.03 * theory)


@pytest.mark.parametrize("n", [25, 50, 100])
@pytest.mark.parametrize("factor", [0.3, 3.0])
def test_ridge_at_lam_star_beats_mistuned_ridge_in_monte_carlo(n, factor):
    d = 50
    lam = optimal_ridge_lam(d, SIGNAL, NOISE)
    at_best, mistuned = _ridge_errors(n, d, SIGNAL, NOISE, [lam, factor * lam], seed=100 + n)
    gain = mistuned - at_best  # same draws for both penalties, so the difference has a small standard error
    assert gain.mean() > 4.0 * gain.std(ddof=1) / np.sqrt(gain.size)


def test_lam_star_minimises_the_direction_averaged_risk_for_a_fixed_design():
    # For fixed X with eigenvalues s of X^T X, E over b on the sphere and e of |b_hat - b|^2 is
    # sum_s (signal/d lam^2 + noise s) / (s + lam)^2; its minimiser over lam should be lam* = noise d / signal.
    n, d, signal, noise = 30, 50, 2.0, 0.5
    X = np.random.default_rng(0).standard_normal((n, d))
    s = np.linalg.eigvalsh(X.T @ X)

    def risk(log_lam):
        lam = np.exp(log_lam)
        return np.sum((signal / d * lam**2 + noise * s) / (s + lam) ** 2)

    best = minimize_scalar(risk, bounds=(-10.0, 10.0), method="bounded", options={"xatol": 1e-10})
    assert np.exp(best.x) == pytest.approx(optimal_ridge_lam(d, signal, noise), rel=1e-6)
    assert optimal_ridge_lam(d, signal, noise) == 12.5


@pytest.mark.parametrize("signal, noise", [(1.0, 0.25), (1.0, 4.0), (3.0, 0.01), (1.0, 0.0)])
def test_optimal_ridge_risk_never_increases_with_n_and_never_exceeds_min_norm(signal, noise):
    d, ns = 50, np.arange(1, 301)
    ridge = optimal_ridge_risk(ns, d, signal, noise)
    assert np.all(np.isfinite(ridge)) and np.all(np.diff(ridge) <= 0.0)
    rounding = 1.0 + 1e-12  # with noise == 0 the two are equal, up to the last bit
    assert np.all(ridge <= rounding * min_norm_risk(ns, d, signal, noise))
    gammas = np.geomspace(1e-3, 1e3, 601)
    limit_ridge, limit_min_norm = (risk(gammas, signal, noise) for risk in (asymptotic_optimal_ridge_risk,
                                                                             asymptotic_min_norm_risk))
    assert np.all(limit_ridge <= rounding * limit_min_norm)


def test_noise_free_optimal_ridge_is_the_min_norm_limit():
    gammas = np.array([0.2, 1.0, 1.5, 4.0])
    np.testing.assert_allclose(asymptotic_optimal_ridge_risk(gammas, SIGNAL, 0.0),
                               asymptotic_min_norm_risk(gammas, SIGNAL, 0.0), rtol=1e-15, atol=1e-15)


def test_optimal_ridge_risk_limits_without_cancellation():
    # Far past the threshold it is ordinary least squares, noise * gamma (to relative order gamma); with almost no
    # data it is the signal itself (predicting b_hat = 0). The small-gamma value would lose all digits to cancellation
    # in the naive sqrt(a^2 + q) - a.
    assert asymptotic_optimal_ridge_risk(1e-9, SIGNAL, NOISE) == pytest.approx(NOISE * 1e-9, rel=1e-8)
    assert asymptotic_optimal_ridge_risk(1e9, SIGNAL, NOISE) == pytest.approx(SIGNAL, rel=1e-8)
    assert asymptotic_optimal_ridge_risk(2.0, 0.0, NOISE) == 0.0


# --- input errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, message", [
    (lambda: min_norm_risk(0, 20, SIGNAL, NOISE), ValueError, "n must be an integer >= 1; got 0"),
    (lambda: min_norm_risk(np.array([5, 0]), 20, SIGNAL, NOISE), ValueError, "n must be an integer >= 1; got 0"),
    (lambda: min_norm_risk(5.0, 20, SIGNAL, NOISE), TypeError, "n must be an integer >= 1; got 5.0"),
    (lambda: min_norm_bias_variance(5, 0, SIGNAL, NOISE), ValueError, "d must be an integer >= 1; got 0"),
    (lambda: optimal_ridge_risk(5, -3, SIGNAL, NOISE), ValueError, "d must be an integer >= 1; got -3"),
    (lambda: min_norm_risk(5, 20, SIGNAL, -0.1), ValueError, "noise must be a finite number >= 0; got -0.1"),
    (lambda: min_norm_risk(5, 20, -1.0, NOISE), ValueError, "signal must be a finite number >= 0; got -1.0"),
    (lambda: asymptotic_optimal_ridge_risk(0.5, SIGNAL, -1.0), ValueError, "noise must be a finite number >= 0"),
    (lambda: asymptotic_min_norm_risk(0.0, SIGNAL, NOISE), ValueError, r"gamma must be a finite number > 0 .*got 0.0"),
    (lambda: asymptotic_optimal_ridge_risk([1.0, -2.0], SIGNAL, NOISE), ValueError, r"gamma must be .*got -2.0"),
    (lambda: optimal_ridge_lam(50, 0.0, NOISE), ValueError, r"signal must be a finite number > 0 .*got 0.0"),
])
def test_bad_inputs_raise_errors_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()
