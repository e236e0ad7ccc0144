"""The pattern-speed toy model: its closed-form gradient flow against numerical integration, and its limits."""

from __future__ import annotations

import numpy as np
import pytest

from ddd_utils.analysis import pattern_speeds as ps
from ddd_utils.analysis.curves import first_reached


def integrate(problem: ps.Problem, times: np.ndarray, steps_per_unit: int) -> ps.Dynamics:
    """The gradient flow by classical Runge-Kutta with a fixed step of 1 / (steps_per_unit * largest curvature),
    independent of the closed form."""
    X, y, n, decay = problem.X, problem.y, problem.config.n, problem.config.decay
    step = 1.0 / (steps_per_unit * (np.linalg.norm(X, 2) ** 2 / n + decay))

    def velocity(w: np.ndarray) -> np.ndarray:
        return -(X.T @ (X @ w - y) / n + decay * w)

    w, now, out = np.zeros(X.shape[1]), 0.0, []
    for target in times:
        while now < target:
            dt = min(step, target - now)
            k1 = velocity(w)
            k2 = velocity(w + dt / 2 * k1)
            k3 = velocity(w + dt / 2 * k2)
            k4 = velocity(w + dt * k3)
            w, now = w + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), now + dt
        out.append(w.copy())
    return ps.dynamics_of(problem, times, np.array(out))


@pytest.mark.parametrize("changes", [{}, {"noise": 0.3, "decay": 0.02}, {"fast": 40, "noise": 0.1}],
                         ids=["grokking-like", "noise-and-decay", "fast-pattern-can-interpolate"])
def test_closed_form_matches_runge_kutta_integration_of_the_same_flow(changes):
    config = ps.PatternSpeeds(**{"n": 30, "slow": 3, "fast": 20, "slow_scale": 0.3, "fast_scale": 1.0, **changes})
    problem = ps.draw(config, seed=1)
    times = np.array([0.0, 0.5, 3.0, 20.0, 150.0])
    exact, integrated = ps.gradient_flow(problem, times), integrate(problem, times, steps_per_unit=50)
    for name in ("train_mse", "test_mse", "weight_norm", "slow_part", "fast_part"):
        np.testing.assert_allclose(getattr(exact, name), getattr(integrated, name), rtol=1e-8, atol=1e-12)


def test_at_time_zero_the_model_predicts_zero_and_at_infinity_it_is_the_least_squares_fit():
    config = ps.PatternSpeeds(n=50, slow=4, fast=30, noise=0.2)
    problem = ps.draw(config, seed=3)
    start = ps.gradient_flow(problem, np.array([0.0]))
    np.testing.assert_allclose(start.train_mse, np.mean(problem.y ** 2))
    np.testing.assert_allclose(start.test_mse, 1.0 + config.noise)  # |beta| = 1: predicting 0 costs Var(y)
    end = ps.gradient_flow(problem, np.array([1e9]))
    w = np.linalg.lstsq(problem.X, problem.y, rcond=None)[0]
    np.testing.assert_allclose(end.train_mse, np.mean((problem.X @ w - problem.y) ** 2), rtol=1e-9)
    np.testing.assert_allclose(end.weight_norm, np.linalg.norm(w), rtol=1e-9)


def test_weight_decay_ends_at_the_ridge_solution():
    config = ps.PatternSpeeds(n=40, slow=3, fast=50, decay=0.05)  # more features than samples
    problem = ps.draw(config, seed=2)
    X, y, n = problem.X, problem.y, config.n
    ridge = np.linalg.solve(X.T @ X / n + config.decay * np.eye(X.shape[1]), X.T @ y / n)
    np.testing.assert_allclose(ps.gradient_flow(problem, np.array([1e7])).weight_norm, np.linalg.norm(ridge),
                               rtol=1e-9)


def test_the_test_error_is_the_population_error_of_the_weights():
    config = ps.PatternSpeeds(n=30, slow=2, fast=10, slow_scale=0.5, noise=0.1, fast_signal=0.3)
    problem = ps.draw(config, seed=4)
    time = np.array([7.0])
    dynamics = ps.gradient_flow(problem, time)
    rng = np.random.default_rng(0)  # Monte Carlo over fresh inputs, with the weights recomputed by a direct solve
    h, V = np.linalg.eigh(problem.X.T @ problem.X / config.n)
    w = V @ ((1 - np.exp(-h * time[0])) / h * (V.T @ problem.X.T @ problem.y / config.n))
    z, xi = rng.standard_normal((400_000, 2)), rng.standard_normal((400_000, 10))
    y = np.hstack([z, xi]) @ problem.beta + np.sqrt(config.noise) * rng.standard_normal(400_000)
    prediction = np.hstack([config.slow_scale * z, config.fast_scale * xi]) @ w
    assert abs(np.mean((prediction - y) ** 2) / dynamics.test_mse[0] - 1) < 0.01


def test_a_draw_keeps_the_slow_pattern_and_labels_when_scales_or_the_fast_size_change():
    base = ps.draw(ps.PatternSpeeds(), seed=5)
    other = ps.draw(ps.PatternSpeeds(slow_scale=0.3, fast_scale=2.0, fast=40, decay=0.1), seed=5)
    np.testing.assert_allclose(base.X[:, :5] / 0.1, other.X[:, :5] / 0.3)
    np.testing.assert_allclose(base.y, other.y)
    assert other.X.shape == (200, 45)


@pytest.mark.parametrize("change, name", [({"n": 0}, "n"), ({"slow_scale": 0.0}, "slow_scale"),
                                          ({"fast_scale": float("nan")}, "fast_scale"), ({"noise": -1.0}, "noise"),
                                          ({"decay": -0.1}, "decay"), ({"fast": -1}, "fast")])
def test_bad_settings_are_refused_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=name):
        ps.PatternSpeeds(**change)


def test_times_must_be_finite_and_nonnegative():
    problem = ps.draw(ps.PatternSpeeds(n=10, slow=2, fast=3))
    with pytest.raises(ValueError, match="times"):
        ps.gradient_flow(problem, np.array([-1.0, 2.0]))


def test_the_time_grid_spans_both_timescales():
    config = ps.PatternSpeeds(slow_scale=0.01, fast_scale=1.0)
    times = ps.time_grid(config)
    assert times[0] < 1.0 and times[-1] > 1e4
    assert first_reached(times, times, 1e3) >= 1e3 and np.isnan(first_reached(times, times, 1e12))


def test_race_reads_the_first_crossings_and_the_bump():
    times = np.array([1.0, 10.0, 100.0, 1000.0])
    dynamics = ps.Dynamics(times, train_mse=np.array([2.0, 0.1, 0.01, 0.0]), test_mse=np.array([2.0, 6.0, 1.0, 0.1]),
                           weight_norm=np.zeros(4), slow_part=np.zeros(4), fast_part=np.zeros(4), label_variance=2.0)
    summary = ps.race(dynamics)
    assert summary["fitted"] == 10.0 and summary["generalised"] == 1000.0 and summary["delay"] == 100.0
    assert summary["peak"] == 3.0 and summary["peak_time"] == 10.0


def test_the_regime_map_has_no_bump_without_a_fast_pattern_and_one_with_a_strong_fast_one():
    base = ps.PatternSpeeds(n=60, slow=3, fast=0)
    grid = ps.regime_map(base, speed_ratios=[1.0, 100.0], fast_sizes=[0, 50], points=120)
    assert grid["delay"].shape == grid["peak"].shape == (2, 2)
    assert np.all(grid["peak"][0] <= 1.0)  # only the slow pattern: the test error never rises above its start
    assert grid["peak"][1, 1] > 1.5 and grid["delay"][1, 1] > 3 * grid["delay"][0, 1]


@pytest.mark.parametrize("lr", [0.3, 1.5], ids=["monotone", "oscillating"])
def test_the_gradient_descent_closed_form_equals_the_iteration(lr):
    config = ps.PatternSpeeds(n=40, slow=4, fast=20, slow_scale=0.3, noise=0.2, fast_signal=0.5, decay=0.01)
    problem = ps.draw(config, seed=6)
    X, y, n = problem.X, problem.y, config.n
    curvature = np.linalg.norm(X, 2) ** 2 / n + config.decay
    lr = lr / curvature  # 1.5: past 1 / curvature, the stiffest direction oscillates (still below 2 / curvature)
    steps = np.array([0, 1, 7, 60, 400])
    w, simulated = np.zeros(X.shape[1]), []
    for k in range(steps[-1] + 1):
        if k in steps:
            simulated.append(w.copy())
        w = w - lr * (X.T @ (X @ w - y) / n + config.decay * w)
    exact = ps.gradient_descent(problem, steps, lr)
    iterated = ps.dynamics_of(problem, steps.astype(float), np.array(simulated))
    for name in ("train_mse", "test_mse", "weight_norm"):
        np.testing.assert_allclose(getattr(exact, name), getattr(iterated, name), rtol=1e-9)
    with pytest.raises(ValueError, match="lr"):
        ps.gradient_descent(problem, steps, 2.5 / curvature)


def test_a_fast_pattern_that_carries_signal_is_part_of_the_teacher():
    problem = ps.draw(ps.PatternSpeeds(n=50, slow=3, fast=10, fast_signal=0.25), seed=0)
    assert np.linalg.norm(problem.beta) == pytest.approx(1.0)
    assert np.linalg.norm(problem.beta[3:]) ** 2 == pytest.approx(0.25)
    plain = ps.draw(ps.PatternSpeeds(n=50, slow=3, fast=10), seed=0)
    assert not plain.beta[3:].any()
    with pytest.raises(ValueError, match="fast_signal"):
        ps.PatternSpeeds(fast_signal=1.5)
