"""Tests for ddd_utils.experiments.linear_regression: isotropic Gaussian linear regression (chapter 2), where the
double-descent risk is known in closed form, so the simulations are checked against ddd_utils.linear.theory."""

import math

import numpy as np
import pytest

from ddd_utils.experiments import linear_regression as lr
from ddd_utils.linear import theory

D = 20  # sample-wise threshold n = d
N = 20  # model-wise threshold p = n
SAMPLE_CONFIG = lr.with_overrides(lr.PRESETS["smoke"], d=D, max_ratio=4.0, grid_points=40, trials=400)
ABLATION_CONFIG = lr.with_overrides(lr.PRESETS["smoke"], d=D, max_ratio=2.0, grid_points=5, trials=100)
MODEL_CONFIG = lr.with_overrides(lr.PRESETS["smoke"], n=N, max_ratio=3.0, grid_points=15, trials=300)


def _mean_and_se(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over trials (axis 0) and its standard error."""
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])


def _assert_means_match(samples: np.ndarray, expected: np.ndarray, sizes: np.ndarray, slack=1e-10) -> None:
    """Every column's mean over trials lies within 4 standard errors (plus `slack`) of `expected`."""
    mean, se = _mean_and_se(samples)
    bad = np.abs(mean - expected) >= 4.0 * se + slack
    assert not bad.any(), (f"at sizes {sizes[bad]}: simulated {mean[bad]} +- {se[bad]}, "
                           f"expected {np.asarray(expected)[bad]}")


def _column(curve: lr.RiskCurve, size: int) -> int:
    return int(np.flatnonzero(curve.sizes == size)[0])


@pytest.fixture(scope="module")
def min_norm_curve():
    return lr.samplewise(SAMPLE_CONFIG, seed=0)


@pytest.fixture(scope="module")
def ridge_curve():
    lam = theory.optimal_ridge_lam(D, SAMPLE_CONFIG.signal, SAMPLE_CONFIG.noise)
    return lr.samplewise(SAMPLE_CONFIG, seed=0, lam=lam)  # seed 0: the same draws as min_norm_curve


# --- sample-wise min-norm against the closed form ---------------------------------------------------------------


def test_samplewise_grid_covers_both_sides_of_the_threshold(min_norm_curve):
    sizes = min_norm_curve.sizes
    np.testing.assert_array_equal(sizes, lr.size_grid(D, int(SAMPLE_CONFIG.max_ratio * D), SAMPLE_CONFIG.grid_points))
    for values in (min_norm_curve.risk, min_norm_curve.bias, min_norm_curve.variance):
        assert values.shape == (SAMPLE_CONFIG.trials, sizes.size)
        assert np.all(np.isfinite(values)) and np.all(values >= 0.0)
    far = np.abs(sizes - D) >= 4
    assert np.sum(far & (sizes < D)) >= 5 and np.sum(far & (sizes > D)) >= 5  # the comparisons below see both sides


def test_samplewise_min_norm_mean_risk_matches_the_closed_form_away_from_the_threshold(min_norm_curve):
    # 4 standard errors: the inverse-Wishart trace has finite variance from |n - d| >= 4 on, so the SE means something.
    far = np.abs(min_norm_curve.sizes - D) >= 4
    sizes = min_norm_curve.sizes[far]
    expected = theory.min_norm_risk(sizes, D, SAMPLE_CONFIG.signal, SAMPLE_CONFIG.noise)
    _assert_means_match(min_norm_curve.risk[:, far], expected, sizes)


def test_samplewise_min_norm_bias_and_variance_match_the_closed_form_split(min_norm_curve):
    far = np.abs(min_norm_curve.sizes - D) >= 4
    sizes = min_norm_curve.sizes[far]
    bias, variance = theory.min_norm_bias_variance(sizes, D, SAMPLE_CONFIG.signal, SAMPLE_CONFIG.noise)
    _assert_means_match(min_norm_curve.variance[:, far], variance, sizes)
    below = sizes < D  # above the threshold the bias is round-off, checked in the next test
    _assert_means_match(min_norm_curve.bias[:, far][:, below], bias[below], sizes[below])
    assert np.all(bias[below] > 0.1 * SAMPLE_CONFIG.signal / D)  # so that comparison is not vacuous


def test_samplewise_min_norm_bias_is_round_off_from_n_equal_d_on(min_norm_curve):
    # From n = d on the fit recovers b exactly; what is left is the round-off of a solve through X^T X (relative
    # error about cond(X)^2 eps, squared; 4e-15 for the worst of 400 square 20 x 20 designs, 1e-24 a step beyond).
    above = min_norm_curve.sizes >= D
    assert np.all(min_norm_curve.bias[:, above] < 1e-12 * SAMPLE_CONFIG.signal)
    # Below d a (d - n)-dimensional part of b is missed: far above round-off (for n = d - 1 it is signal / d times a
    # chi-square with 1 degree of freedom, so single trials can be small, but not 1e-12 small: 7e-6 here).
    assert np.all(min_norm_curve.bias[:, ~above] > 1e-12 * SAMPLE_CONFIG.signal)


def test_samplewise_min_norm_risk_is_exactly_bias_plus_variance(min_norm_curve):
    # For min-norm the signal error (P - I) b lies in the null space of X and the noise fit X^+ e in its row space,
    # so the cross term vanishes trial by trial, not just on average.
    np.testing.assert_allclose(min_norm_curve.risk, min_norm_curve.bias + min_norm_curve.variance, rtol=1e-9)


def test_samplewise_ridge_risk_is_bias_plus_variance_plus_a_bounded_cross_term(ridge_curve):
    risk, bias, variance = ridge_curve.risk, ridge_curve.bias, ridge_curve.variance
    cross = risk - bias - variance  # 2 (signal error) . (noise fit), by Cauchy-Schwarz at most 2 sqrt(bias variance)
    assert np.all(np.abs(cross) <= 2.0 * np.sqrt(bias * variance) * (1.0 + 1e-9) + 1e-12 * risk)
    assert np.mean(np.abs(cross) > 1e-3 * risk) > 0.5  # ridge shrinks inside the row space: the term is really there


def test_samplewise_cross_term_averages_out_so_mean_risk_is_mean_bias_plus_mean_variance(ridge_curve):
    # e -> -e flips the sign of the cross term and nothing else, so it has mean zero.
    cross = ridge_curve.risk - ridge_curve.bias - ridge_curve.variance
    _assert_means_match(cross, np.zeros(cross.shape[1]), ridge_curve.sizes, slack=1e-12)


def test_samplewise_risk_peaks_at_the_threshold(min_norm_curve):
    median = np.median(min_norm_curve.risk, axis=0)
    assert abs(min_norm_curve.sizes[np.argmax(median)] - D) <= 1
    assert median[_column(min_norm_curve, D)] > 4 * max(median[0], median[-1])  # median ~7 at d, ~1 at n = 1


# --- nested draws and seeds -------------------------------------------------------------------------------------


def test_samplewise_training_sets_are_nested_so_each_trials_bias_never_increases(min_norm_curve):
    # The min-norm bias is |(I - P_n) b|^2 with P_n the projection on the row space of the first n samples. Nested
    # training sets give growing row spaces, so it can only go down; independent sets per n would break this often.
    assert np.all(np.diff(min_norm_curve.bias, axis=1) <= 1e-12)


def _common_columns(small: lr.RiskCurve, large: lr.RiskCurve):
    common, i, j = np.intersect1d(small.sizes, large.sizes, return_indices=True)
    assert common.size >= 5 and np.any(common < D) and np.any(common > D)
    return i, j


def test_samplewise_designs_at_a_given_n_do_not_depend_on_max_ratio():
    # The bias depends on the design and b only: the first n rows of X must not depend on how many are drawn.
    short = lr.samplewise(lr.with_overrides(ABLATION_CONFIG, trials=5, max_ratio=2.0), seed=0)
    long = lr.samplewise(lr.with_overrides(ABLATION_CONFIG, trials=5, max_ratio=3.0), seed=0)
    i, j = _common_columns(short, long)
    np.testing.assert_allclose(short.bias[:, i], long.bias[:, j], rtol=1e-10, atol=1e-25)


def test_samplewise_results_at_a_given_n_do_not_depend_on_max_ratio():
    # Regression test: the noise once came from the same stream as X, so it depended on the largest n drawn.
    short = lr.samplewise(lr.with_overrides(ABLATION_CONFIG, trials=5, max_ratio=2.0), seed=0)
    long = lr.samplewise(lr.with_overrides(ABLATION_CONFIG, trials=5, max_ratio=3.0), seed=0)
    i, j = _common_columns(short, long)
    np.testing.assert_allclose(short.variance[:, i], long.variance[:, j], rtol=1e-10)
    np.testing.assert_allclose(short.risk[:, i], long.risk[:, j], rtol=1e-10)


def test_samplewise_trials_do_not_depend_on_how_many_trials_are_run():
    config = lr.with_overrides(ABLATION_CONFIG, trials=2)
    few = lr.samplewise(config, seed=1)
    many = lr.samplewise(lr.with_overrides(config, trials=6), seed=1)
    for a, b in ((few.risk, many.risk), (few.bias, many.bias), (few.variance, many.variance)):
        np.testing.assert_allclose(a, b[:2], rtol=1e-10, atol=1e-25)


def test_samplewise_is_deterministic_in_seed_and_differs_across_seeds():
    config = lr.with_overrides(ABLATION_CONFIG, trials=5)
    a, b, c = lr.samplewise(config, seed=3), lr.samplewise(config, seed=3), lr.samplewise(config, seed=4)
    np.testing.assert_array_equal(a.sizes, c.sizes)
    for field in ("risk", "bias", "variance"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.risk, c.risk) and not np.array_equal(a.bias[:, a.sizes < D], c.bias[:, c.sizes < D])


# --- optimally tuned ridge --------------------------------------------------------------------------------------


def test_samplewise_optimal_ridge_mean_risk_never_rises_with_n_beyond_noise(ridge_curve):
    mean, se = _mean_and_se(ridge_curve.risk)
    combined = np.sqrt(se[1:] ** 2 + se[:-1] ** 2)
    assert np.all(np.diff(mean) <= 3.0 * combined), f"rises at n = {ridge_curve.sizes[1:][np.diff(mean) > 0]}"
    assert mean[-1] < 0.2 * mean[0]  # and it really does come down


def test_samplewise_optimal_ridge_removes_the_peak(ridge_curve, min_norm_curve):
    ridge_mean, min_norm_mean = ridge_curve.risk.mean(axis=0), min_norm_curve.risk.mean(axis=0)
    near = np.abs(ridge_curve.sizes - D) <= 1
    assert np.all(ridge_mean[near] < 0.1 * min_norm_mean[near])
    assert np.all(ridge_mean <= min_norm_mean * (1.0 + 1e-9))  # lam* is Bayes-optimal, and the draws are shared
    assert np.all(ridge_curve.bias[:, ridge_curve.sizes >= D] > 0.0)  # ridge shrinks, so it is biased even for n >= d


def test_samplewise_optimal_ridge_agrees_with_the_proportional_limit(ridge_curve):
    # theory.optimal_ridge_risk is the n, d -> inf limit; at d = 20 the exact risk is higher by O(1/d): 0.1% to 3%
    # over this grid (measured with 4000 trials, SE 0.6%). Hence 5% relative slack on top of the 4 standard errors;
    # a penalty off by a factor n (mean instead of sum loss) or the min-norm risk would still be far outside.
    sizes = ridge_curve.sizes
    expected = theory.optimal_ridge_risk(sizes, D, SAMPLE_CONFIG.signal, SAMPLE_CONFIG.noise)
    _assert_means_match(ridge_curve.risk, expected, sizes, slack=0.05 * expected)


# --- ablations --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ablation_baseline():
    return lr.samplewise(ABLATION_CONFIG, seed=2)


@pytest.mark.parametrize("ablation, factor_at_d, factor_beside_d", [
    ("small_singular_values", 8.0, 3.0),
    ("test_features", 8.0, 3.0),
    ("noise", 1e6, 50.0),
])
def test_each_ablation_flattens_the_peak(ablation_baseline, ablation, factor_at_d, factor_beside_d):
    ablated = lr.samplewise(ABLATION_CONFIG, seed=2, ablation=ablation)
    np.testing.assert_array_equal(ablated.sizes, ablation_baseline.sizes)
    baseline, median = np.median(ablation_baseline.risk, axis=0), np.median(ablated.risk, axis=0)
    at = _column(ablated, D)
    assert median[at] * factor_at_d < baseline[at]
    for n in (D - 1, D + 1):
        assert median[_column(ablated, n)] * factor_beside_d < baseline[_column(ablated, n)]
    if ablation != "small_singular_values":  # that one adds bias where the dropped directions carried signal
        # Same draws: dropping the noise removes the variance (the min-norm cross term is 0), and leaving out test
        # directions projects the error, so neither can make any trial worse.
        assert np.all(ablated.risk <= ablation_baseline.risk * (1.0 + 1e-9) + 1e-20)


def test_noise_ablation_gives_zero_risk_from_n_equal_d_on():
    result = lr.samplewise(ABLATION_CONFIG, seed=5, ablation="noise")
    above = result.sizes >= D
    assert np.all(result.variance == 0.0)
    np.testing.assert_array_equal(result.risk, result.bias)
    assert np.all(result.risk[:, above] < 1e-18 * ABLATION_CONFIG.signal)
    assert np.all(result.risk[:, ~above] > 1e-20 * ABLATION_CONFIG.signal)


def test_noise_ablation_matches_the_noise_free_closed_form():
    result = lr.samplewise(ABLATION_CONFIG, seed=6, ablation="noise")
    below = result.sizes < D
    expected = theory.min_norm_risk(result.sizes[below], D, ABLATION_CONFIG.signal, 0.0)
    _assert_means_match(result.risk[:, below], expected, result.sizes[below])


def test_unknown_ablation_raises_naming_ablation():
    with pytest.raises(ValueError, match="ablation"):
        lr.samplewise(ABLATION_CONFIG, ablation="labels")
    with pytest.raises(ValueError, match="lam"):
        lr.samplewise(ABLATION_CONFIG, lam=-1.0)


# --- model-wise sweep -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decay", [0.0, 1.0])
def test_modelwise_mean_risk_matches_the_exact_theory_away_from_the_threshold(decay):
    config = lr.with_overrides(MODEL_CONFIG, coefficient_decay=decay)
    result = lr.modelwise(config, seed=0)
    assert result.risk.shape == (config.trials, result.sizes.size)
    assert result.sizes[0] == 1 and result.sizes[-1] == int(config.max_ratio * N)
    far = np.abs(result.sizes - N) >= 4
    assert np.any(far & (result.sizes < N)) and np.any(far & (result.sizes > N))
    expected = lr.modelwise_theory(config, result.sizes[far])
    _assert_means_match(result.risk[:, far], expected, result.sizes[far])
    # The fit to y splits into the fits to X_p b_used and to e + X_rest b_rest; their cross term averages out.
    _assert_means_match(result.risk - result.bias - result.variance - result.left_out, np.zeros(result.sizes.size),
                        result.sizes)


@pytest.mark.parametrize("decay", [0.0, 1.0])
def test_modelwise_parts_match_their_exact_expectations_and_left_out_features_act_as_noise(decay):
    config = lr.with_overrides(MODEL_CONFIG, coefficient_decay=decay)
    result = lr.modelwise(config, seed=1)
    bias, variance, left_out = lr.modelwise_theory_parts(config, result.sizes)
    far = np.abs(result.sizes - N) >= 4
    _assert_means_match(result.variance[:, far], variance[far], result.sizes[far])
    _assert_means_match(result.bias[:, far & (result.sizes > N)], bias[far & (result.sizes > N)],
                        result.sizes[far & (result.sizes > N)])
    under = result.sizes < N
    assert np.all(result.bias[:, under] < 1e-20) and np.all(bias[under] == 0.0), \
        "below p = n the model fits its own noise-free targets exactly: no bias, the misfit is left_out"
    if decay:  # b_j^2 is the profile itself, so the left-out signal is exact in every trial
        assert np.allclose(result.left_out, left_out[None, :], rtol=1e-12)
    else:
        _assert_means_match(result.left_out, left_out, result.sizes)
    assert np.all(np.isinf(variance[np.abs(result.sizes - N) <= 1])), "the variance explodes at p = n"


def test_modelwise_theory_depends_on_how_the_signal_is_spread():
    # With decaying coefficients the first features carry more of the signal, so few features do better.
    even, decaying = (lr.modelwise_theory(lr.with_overrides(MODEL_CONFIG, coefficient_decay=c), [1, 5]) for c in (0, 1))
    assert np.all(decaying < even)
    total = int(MODEL_CONFIG.max_ratio * N)
    assert lr.modelwise_theory(MODEL_CONFIG, [total])[0] == pytest.approx(
        theory.min_norm_risk(N, total, MODEL_CONFIG.signal, MODEL_CONFIG.noise), rel=1e-12)  # all features: no misfit


@pytest.mark.parametrize("decay", [0.0, 1.0])
@pytest.mark.parametrize("ratio", [0.3, 3.0])
def test_modelwise_asymptotic_theory_is_close_to_the_exact_one_far_from_the_threshold(decay, ratio):
    config = lr.LinearConfig(n=100, max_ratio=4.0, coefficient_decay=decay)
    p = round(ratio * config.n)
    exact = lr.modelwise_theory(config, [p])[0]
    limit = lr.modelwise_theory(config, [p], asymptotic=True)[0]
    assert np.isfinite(exact) and limit == pytest.approx(exact, rel=0.02)


@pytest.mark.parametrize("noise, decay", [(0.25, 0.0), (0.25, 1.0), (0.01, 0.0)])
def test_modelwise_theory_is_infinite_within_one_of_the_threshold(noise, decay):
    config = lr.with_overrides(MODEL_CONFIG, noise=noise, coefficient_decay=decay)
    assert np.all(np.isinf(lr.modelwise_theory(config, [N - 1, N, N + 1])))
    assert np.all(np.isinf(lr.modelwise_theory(config, [N], asymptotic=True)))
    assert np.all(np.isfinite(lr.modelwise_theory(config, [N - 2, N + 2])))


# --- configs and presets ----------------------------------------------------------------------------------------


def test_presets_are_exactly_smoke_cpu_full():
    assert set(lr.PRESETS) == {"smoke", "cpu", "full"}
    assert all(isinstance(c, lr.LinearConfig) for c in lr.PRESETS.values())


def test_presets_grow_from_smoke_to_full():
    smoke, cpu, full = (lr.PRESETS[k] for k in ("smoke", "cpu", "full"))
    for field in ("d", "n", "grid_points", "trials"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(full, field)


def test_with_overrides_changes_only_the_given_fields():
    base = lr.PRESETS["smoke"]
    changed = lr.with_overrides(base, d=7, noise=0.5)
    assert (changed.d, changed.noise) == (7, 0.5)
    assert (changed.n, changed.trials, changed.max_ratio) == (base.n, base.trials, base.max_ratio)
    assert base.d == 12  # the preset itself is untouched


@pytest.mark.parametrize("field, value", [
    ("d", 0),
    ("n", 0),
    ("n", -3),
    ("grid_points", 0),
    ("trials", 0),
    ("noise", -0.1),
    ("noise", math.nan),
    ("signal", -1.0),
    ("max_ratio", 1.0),
    ("max_ratio", 0.5),
    ("max_ratio", math.nan),
    ("ridge_lams", (1.0, -1.0)),
    ("small_singular_cutoff", -0.1),
    ("small_singular_cutoff", 1.5),
    ("coefficient_decay", -1.0),
])
def test_invalid_linear_config_field_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field} "):
        lr.with_overrides(lr.PRESETS["smoke"], **{field: value})
    with pytest.raises(ValueError, match=f"^{field} "):
        lr.LinearConfig(**{field: value})


# --- size grid --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold, stop, grid_points", [
    (20, 80, 40), (12, 48, 12), (50, 200, 60), (1, 4, 3), (2, 30, 5), (30, 31, 4), (40, 30, 7), (5, 5, 2),
    (200, 800, 120),
    (12, 48, 1),
])
def test_size_grid_is_increasing_bounded_and_covers_the_threshold(threshold, stop, grid_points):
    grid = lr.size_grid(threshold, stop, grid_points)
    assert np.issubdtype(grid.dtype, np.integer)
    assert np.all(np.diff(grid) > 0)
    assert grid[0] >= 1 and grid[-1] <= stop
    for size in range(threshold - 3, threshold + 4):
        if 1 <= size <= stop:
            assert size in grid
    assert grid[-1] == stop  # the sweeps are documented to run to n = max_ratio * d


def test_size_grid_has_at_least_grid_points_sizes_up_to_the_range():
    assert lr.size_grid(20, 80, 40).size >= 40
    assert lr.size_grid(20, 80, 200).size == 80  # every integer once, no more


def test_modelwise_theory_rejects_sizes_outside_the_truths_features():
    config = lr.PRESETS["smoke"]
    with pytest.raises(ValueError, match="sizes must lie in"):
        lr.modelwise_theory(config, [int(config.max_ratio * config.n) + 1])


def test_truncation_ablation_with_ridge_is_a_clear_error():
    with pytest.raises(ValueError, match="small_singular_values"):
        lr.samplewise(lr.PRESETS["smoke"], lam=1.0, ablation="small_singular_values")


# --- every noise level from one set of draws --------------------------------------------------------------------

def _direct_samplewise_risk(config: lr.LinearConfig, noise: float, lam: float, trial: int, n: int) -> float:
    """One trial's excess risk at n samples, redrawn and solved directly (lstsq-based min-norm, or ridge)."""
    from ddd_utils.data import random_direction, sample_gaussian_regression
    from ddd_utils.linear.solvers import min_norm, ridge

    b = random_direction(config.d, config.signal, np.random.default_rng((0, 2, trial)))
    X, y, _ = sample_gaussian_regression(int(config.max_ratio * config.d), b, noise, seed=(0, 3, trial))
    b_hat = min_norm(X[:n], y[:n]) if lam == 0.0 else ridge(X[:n], y[:n], lam)
    return float(np.sum((b_hat - b) ** 2))


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_one_set_of_parts_gives_the_risk_a_direct_solve_gets_at_every_noise_level(lam):
    config = lr.with_overrides(ABLATION_CONFIG, trials=3)
    parts = lr.samplewise_parts(config, seed=0, lam=lam)
    for noise in (0.0, 0.3, 2.0):
        curve = parts.at(noise)
        for n in (curve.sizes[1], D - 1, D, curve.sizes[-1]):
            expected = [_direct_samplewise_risk(config, noise, lam, trial, n) for trial in range(3)]
            np.testing.assert_allclose(curve.risk[:, _column(curve, n)], expected, rtol=1e-8, atol=1e-20)  # round-off


def test_modelwise_parts_give_the_risk_a_direct_solve_gets_at_every_noise_level():
    from ddd_utils.data import random_direction, sample_gaussian_regression
    from ddd_utils.linear.solvers import min_norm

    config = lr.with_overrides(MODEL_CONFIG, trials=2)
    parts = lr.modelwise_parts(config, seed=1)
    total = int(config.max_ratio * config.n)
    for noise in (0.0, 0.7):
        curve = parts.at(noise)
        for trial in range(2):
            b = random_direction(total, config.signal, np.random.default_rng((1, 4, trial)))
            X, y, _ = sample_gaussian_regression(config.n, b, noise, seed=(1, 5, trial))
            for p in (1, N - 1, N, total):
                risk = np.sum((min_norm(X[:, :p], y) - b[:p]) ** 2) + np.sum(b[p:] ** 2)
                np.testing.assert_allclose(curve.risk[trial, _column(curve, p)], risk, rtol=1e-8, atol=1e-20)
    with pytest.raises(ValueError, match="noise"):
        parts.at(-0.1)
