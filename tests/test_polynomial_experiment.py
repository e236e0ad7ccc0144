"""Tests for ddd_utils.experiments.polynomial: double descent of min-norm polynomial regression in p."""

import math

import numpy as np
import pytest

from ddd_utils.data import TARGETS, sample_regression
from ddd_utils.experiments import polynomial

N = 10
PEAK_CONFIG = polynomial.with_overrides(polynomial.PRESETS["smoke"], n=N, noise=0.1, max_features=500, trials=5)


@pytest.fixture(scope="module")
def ridgeless():
    return polynomial.sweep(PEAK_CONFIG, seed=0)


def _targets_mean_square(config, seed, trials):
    # The training targets of trial t, drawn independently of the sweep to scale its train error.
    ys = [sample_regression(config.target, config.n, config.noise, seed=(seed, 0, t))[1] for t in range(trials)]
    return np.array([np.mean(y**2) for y in ys])


# --- presets and config ---------------------------------------------------------------------------------------


def test_presets_are_exactly_smoke_cpu_full():
    assert set(polynomial.PRESETS) == {"smoke", "cpu", "full"}
    assert all(isinstance(c, polynomial.PolynomialConfig) for c in polynomial.PRESETS.values())


def test_presets_grow_from_smoke_to_full():
    smoke, cpu, full = (polynomial.PRESETS[k] for k in ("smoke", "cpu", "full"))
    for field in ("max_features", "trials", "n_test", "gd_steps"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(full, field)


def test_with_overrides_changes_only_the_given_fields():
    base = polynomial.PRESETS["smoke"]
    changed = polynomial.with_overrides(base, n=7, noise=0.5)
    assert (changed.n, changed.noise) == (7, 0.5)
    assert changed.max_features == base.max_features and changed.target == base.target
    assert base.n == polynomial.PolynomialConfig().n  # the preset itself is untouched


@pytest.mark.parametrize("field, value", [
    ("target", "nope"),
    ("n", 0),
    ("n", -5),
    ("noise", -1.0),
    ("noise", math.nan),
    ("noise", math.inf),
    ("max_features", 0),
    ("num_grid", 0),
    ("trials", 0),
    ("comparison_trials", 0),
    ("n_test", 0),
    ("gd_features", 0),
    ("gd_steps", 0),
    ("ridge_lams", (1e-3, -1.0)),
    ("ridge_lams", (math.nan,)),
])
def test_invalid_config_field_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        polynomial.with_overrides(polynomial.PRESETS["smoke"], **{field: value})


@pytest.mark.parametrize("field", ["n", "max_features", "num_grid", "trials", "n_test", "gd_features", "gd_steps"])
def test_non_integer_count_field_raises_naming_the_field(field):
    with pytest.raises((TypeError, ValueError), match=field):
        polynomial.with_overrides(polynomial.PRESETS["smoke"], **{field: 2.5})


# --- feature grid ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, max_features, num_grid", [
    (10, 500, 12), (16, 10_000, 48), (1, 50, 5), (2, 2, 3), (3, 100, 2), (50, 40, 10), (38, 40, 10), (7, 7, 30),
])
def test_feature_grid_is_increasing_bounded_and_covers_the_threshold(n, max_features, num_grid):
    grid = polynomial.feature_grid(n, max_features, num_grid)
    assert np.issubdtype(grid.dtype, np.integer)
    assert np.all(np.diff(grid) > 0)
    assert grid[0] >= 1 and grid[-1] <= max_features
    assert grid[-1] == max_features  # max_features is documented as the largest p of the sweep
    for p in range(n - 3, n + 4):
        if 1 <= p <= max_features:
            assert p in grid


def test_feature_grid_is_roughly_log_spaced():
    grid = polynomial.feature_grid(16, 10_000, 48)
    far = grid[(grid > 100)]
    ratios = far[1:] / far[:-1]
    np.testing.assert_allclose(ratios, 10 ** (4 / 47), rtol=0.05)


# --- sweep ----------------------------------------------------------------------------------------------------


def test_sweep_shapes_match_the_grid(ridgeless):
    grid = polynomial.feature_grid(PEAK_CONFIG.n, PEAK_CONFIG.max_features, PEAK_CONFIG.num_grid)
    np.testing.assert_array_equal(ridgeless.num_features, grid)
    for values in (ridgeless.test_error, ridgeless.train_error, ridgeless.weight_norm):
        assert values.shape == (PEAK_CONFIG.trials, grid.size)
        assert np.all(np.isfinite(values)) and np.all(values >= 0)


def test_train_error_vanishes_exactly_from_the_threshold_on(ridgeless):
    scale = _targets_mean_square(PEAK_CONFIG, seed=0, trials=PEAK_CONFIG.trials)[:, None]
    relative = ridgeless.train_error / scale
    above = ridgeless.num_features >= N
    assert np.all(relative[:, above] < 1e-12)
    assert np.all(relative[:, ~above] > 1e-6)  # fewer features than points cannot fit noisy data


def test_train_error_does_not_increase_with_p_below_the_threshold(ridgeless):
    below = ridgeless.train_error[:, ridgeless.num_features <= N]  # nested least squares: more columns fit better
    assert np.all(np.diff(below, axis=1) <= 1e-12)


def test_test_error_peaks_at_the_interpolation_threshold(ridgeless):
    median = np.median(ridgeless.test_error, axis=0)
    at_threshold = median[list(ridgeless.num_features).index(N)]
    assert at_threshold > 100 * median[0]
    assert at_threshold > 100 * median[-1]
    assert np.argmax(median) in np.flatnonzero(np.abs(ridgeless.num_features - N) <= 1)


def test_weight_norm_peaks_at_the_interpolation_threshold(ridgeless):
    median = np.median(ridgeless.weight_norm, axis=0)
    at_threshold = median[list(ridgeless.num_features).index(N)]
    assert at_threshold > 10 * median[-1]


def test_ridge_lowers_the_test_error_at_the_threshold(ridgeless):
    ridged = polynomial.sweep(PEAK_CONFIG, seed=0, lam=1e-1)
    i = list(ridged.num_features).index(N)
    assert np.median(ridged.test_error[:, i]) < np.median(ridgeless.test_error[:, i])
    assert np.median(ridged.test_error[:, i]) < 10 * np.median(ridged.test_error[:, 0])  # no peak left
    assert np.all(ridged.train_error[:, ridged.num_features >= N] > 0)  # ridge does not interpolate


def test_sweep_is_deterministic_in_seed_and_differs_across_seeds():
    config = polynomial.with_overrides(PEAK_CONFIG, max_features=40)
    a, b = polynomial.sweep(config, seed=3), polynomial.sweep(config, seed=3)
    c = polynomial.sweep(config, seed=4)
    np.testing.assert_array_equal(a.test_error, b.test_error)
    assert not np.array_equal(a.test_error, c.test_error)


def test_sweep_trials_do_not_depend_on_how_many_trials_are_run():
    # More than one batch of trials shares a design matrix: the first trials must not change.
    config = polynomial.with_overrides(PEAK_CONFIG, max_features=30, n_test=50)
    few = polynomial.sweep(config, seed=1, trials=3)
    many = polynomial.sweep(config, seed=1, trials=70)
    assert many.test_error.shape[0] == 70
    np.testing.assert_allclose(many.test_error[:3], few.test_error, rtol=1e-10)
    np.testing.assert_allclose(many.weight_norm[:3], few.weight_norm, rtol=1e-10)


@pytest.mark.parametrize("basis", ["legendre_normalized", "monomial"])
def test_sweep_other_bases_also_interpolate_past_the_threshold(basis):
    config = polynomial.with_overrides(PEAK_CONFIG, max_features=40, trials=2)
    result = polynomial.sweep(config, seed=0, basis=basis)
    scale = _targets_mean_square(config, seed=0, trials=2)[:, None]
    assert np.all(result.train_error[:, result.num_features >= N] / scale < 1e-10)


def test_sweep_rejects_bad_arguments():
    config = polynomial.with_overrides(PEAK_CONFIG, max_features=20)
    with pytest.raises(ValueError, match="basis"):
        polynomial.sweep(config, basis="fourier")
    with pytest.raises(ValueError, match="lam"):
        polynomial.sweep(config, lam=-1.0)
    with pytest.raises(ValueError, match="trials"):
        polynomial.sweep(config, trials=0)


def test_test_points_are_uniform_on_the_interval_with_noise_free_targets():
    x, f = polynomial.test_points(polynomial.with_overrides(PEAK_CONFIG, n_test=5000), seed=0)
    assert x.shape == (5000,) and np.all(np.abs(x) <= 1)
    np.testing.assert_array_equal(f, TARGETS[PEAK_CONFIG.target](x))
    assert abs(np.mean(x)) < 5 * np.sqrt(1 / 3 / 5000)


# --- gradient descent vs pseudoinverse ------------------------------------------------------------------------

GD_CONFIG = polynomial.with_overrides(PEAK_CONFIG, gd_features=16, gd_steps=20_000)


@pytest.fixture(scope="module")
def gd_run():
    return polynomial.gradient_descent_vs_min_norm(GD_CONFIG, seed=0)


def test_gradient_descent_from_zero_approaches_min_norm_monotonically(gd_run):
    distance = gd_run["relative_distance_from_zero"]
    steps = gd_run["steps"]
    assert steps[0] >= 1 and steps[-1] == GD_CONFIG.gd_steps and np.all(np.diff(steps) > 0)
    assert distance.shape == steps.shape
    assert np.all(np.diff(distance) <= 1e-15)  # every eigen-component contracts at lr = 1 / s_max^2
    assert distance[0] > 1e-2
    assert distance[-1] < 1e-6


def test_gradient_descent_from_zero_drives_train_error_to_zero(gd_run):
    train = gd_run["train_mse_from_zero"]
    scale = _targets_mean_square(GD_CONFIG, seed=0, trials=1)[0]
    assert train[0] > 1e-3 * scale
    assert train[-1] < 1e-12 * scale


def test_gradient_descent_from_random_start_converges_elsewhere(gd_run):
    distance = gd_run["relative_distance_from_random"]
    assert distance[-1] > 0.1
    # It converges (to min-norm plus the start's null-space part), so it stops moving, but not to zero.
    assert abs(distance[-1] - distance[-2]) < 1e-6 * distance[-1]


def test_gradient_descent_report_describes_the_problem(gd_run):
    assert gd_run["num_features"] == GD_CONFIG.gd_features
    assert np.isfinite(gd_run["condition_number"]) and gd_run["condition_number"] >= 1


def test_feature_grid_with_one_log_point_still_reaches_max_features():
    # Regression test: np.logspace(0, log10(m), 1) is just [1.0], which once dropped max_features from the grid.
    assert polynomial.feature_grid(10, 500, 1)[-1] == 500


def test_schaeffer_reference_fits_legendre_degrees_one_and_up_as_scipy_writes_them():
    from scipy.special import eval_legendre

    from ddd_utils.data import sample_regression

    errors = polynomial.schaeffer_reference(num_features=(3, 15), trials=2, seed=4)
    x, y = sample_regression("slope_cosine", 15, 0.0, seed=(4, 7, 1))
    assert np.allclose(y, 2 * x + np.cos(25 * x))
    x_test = np.linspace(-1, 1, 1000)
    for p in (3, 15):
        degrees = np.arange(1, p + 1)  # no constant feature, as in their code
        X, X_test = eval_legendre(degrees, x[:, None]), eval_legendre(degrees, x_test[:, None])
        w = np.linalg.pinv(X) @ y
        expected = np.mean((X_test @ w - (2 * x_test + np.cos(25 * x_test))) ** 2)
        assert errors[p][1] == pytest.approx(expected, rel=1e-6)
    assert set(polynomial.SCHAEFFER_PUBLISHED) == {1, 15, 30}


def test_the_noise_scaled_sweep_equals_the_sweep_at_every_noise():
    config = polynomial.PolynomialConfig(n=12, max_features=300, num_grid=14, trials=4, n_test=200)
    parts = polynomial.noise_scaled_sweep(config)
    away = np.abs(parts.num_features - config.n) > 1  # at p = n the fit's conditioning (~1e13) allows 1e-4
    for noise in (0.0, 0.05, 0.8):
        direct = polynomial.sweep(polynomial.with_overrides(config, noise=noise)).test_error
        np.testing.assert_allclose(parts.at(noise)[:, away], direct[:, away], rtol=1e-7, atol=1e-14)
        np.testing.assert_allclose(parts.at(noise), direct, rtol=1e-3)


def test_parity_steps_reads_only_unit_steps_up_to_the_limit_by_the_added_degree():
    num_features = np.array([1, 2, 3, 4, 5, 7, 8, 9])
    errors = np.array([1.0, 0.8, 0.9, 0.95, 1.2, 1.0, 1.5, 0.1])
    # odd degrees: 1->2 lowered, 3->4 and 7->8 raised; even degrees: 2->3 and 4->5 raised; 5->7 is not a unit step
    # and 8->9 is past up_to
    assert polynomial.parity_steps(num_features, errors, up_to=8) == {"even": (2, 2), "odd": (1, 3)}
    assert polynomial.parity_steps(num_features, errors, up_to=1) == {"even": (0, 0), "odd": (0, 0)}
