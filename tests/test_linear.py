"""Tests for ddd_utils.linear.solvers: minimum-norm, ridge, gradient descent and the per-p sweeps."""

import numpy as np
import pytest
from scipy.linalg import null_space

from ddd_utils.linear.features import legendre
from ddd_utils.linear.solvers import SweepFit, gradient_descent, min_norm, min_norm_sweep, ridge, ridge_sweep


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)), rng.standard_normal(n)


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def _orthogonal(k, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((k, k)))
    return q


# --- min_norm -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, p", [(10, 10), (10, 11), (10, 30), (5, 200)])
def test_min_norm_interpolates_when_p_at_least_n(n, p):
    X, y = _problem(n, p, seed=n + p)
    w = min_norm(X, y)
    assert w.shape == (p,)
    np.testing.assert_allclose(X @ w, y, rtol=0, atol=1e-10 * np.linalg.norm(y))


@pytest.mark.parametrize("n, p", [(10, 11), (10, 30), (5, 60)])
def test_min_norm_is_shorter_than_every_other_interpolant(n, p):
    X, y = _problem(n, p, seed=3)
    w = min_norm(X, y)
    basis = null_space(X)
    assert basis.shape == (p, p - n)
    np.testing.assert_allclose(basis.T @ w, 0.0, atol=1e-12 * np.linalg.norm(w))  # w lies in the row space
    rng = np.random.default_rng(4)
    for scale in (1e-3, 1e-1, 1.0, 10.0):
        for _ in range(10):
            other = w + basis @ (scale * rng.standard_normal(p - n))
            np.testing.assert_allclose(X @ other, y, atol=1e-9 * max(1.0, scale))  # still an interpolant
            assert np.linalg.norm(other) > np.linalg.norm(w)


@pytest.mark.parametrize("n, p", [(30, 5), (12, 11), (100, 40)])
def test_min_norm_equals_normal_equations_when_full_column_rank(n, p):
    X, y = _problem(n, p, seed=5)
    expected = np.linalg.solve(X.T @ X, X.T @ y)
    np.testing.assert_allclose(min_norm(X, y), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, p", [(30, 5), (10, 10), (8, 50), (1, 4), (4, 1)])
def test_min_norm_equals_pinv_times_y(n, p):
    X, y = _problem(n, p, seed=6)
    np.testing.assert_allclose(min_norm(X, y), np.linalg.pinv(X) @ y, rtol=1e-10, atol=1e-12)


def test_min_norm_accepts_lists_and_integers():
    w = min_norm([[1, 0], [0, 2]], [3, 4])
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [3.0, 2.0])


def test_min_norm_of_duplicate_column_is_finite_equals_pinv_and_splits_weight_evenly():
    X, y = _problem(20, 6, seed=7)
    X = np.column_stack([X, X[:, 2]])  # column 6 duplicates column 2: rank 6 < 7 columns
    w = min_norm(X, y)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, rtol=1e-10, atol=1e-12)
    # The minimum-norm way to share a coefficient between two identical columns is half each.
    np.testing.assert_allclose(w[2], w[6], rtol=1e-10)
    reduced = np.linalg.lstsq(np.delete(X, 6, axis=1), y, rcond=None)[0]
    np.testing.assert_allclose(w[2] + w[6], reduced[2], rtol=1e-10)


def test_min_norm_of_duplicate_rows_with_conflicting_targets_is_the_average():
    X = np.array([[1.0, 2.0], [1.0, 2.0]])
    y = np.array([1.0, 3.0])
    # Least squares fits the mean 2; the minimum-norm w with w1 + 2 w2 = 2 is 2 (1, 2) / 5.
    np.testing.assert_allclose(min_norm(X, y), [0.4, 0.8], rtol=1e-12)


def test_min_norm_explicit_rcond_drops_small_singular_values():
    U, V = _orthogonal(6, 1)[:, :3], _orthogonal(4, 2)[:, :3]
    s = np.array([1.0, 1e-1, 1e-3])
    X = U @ np.diag(s) @ V.T
    y = np.random.default_rng(3).standard_normal(6)
    kept_two = V[:, :2] @ ((U[:, :2].T @ y) / s[:2])
    kept_three = V @ ((U.T @ y) / s)
    np.testing.assert_allclose(min_norm(X, y, rcond=1e-2), kept_two, rtol=1e-10)
    np.testing.assert_allclose(min_norm(X, y, rcond=1e-4), kept_three, rtol=1e-9)
    # X is 6 x 4 of rank 3: the default cutoff keeps the genuine 1e-3 and drops the round-off fourth value.
    np.testing.assert_allclose(min_norm(X, y), kept_three, rtol=1e-9)
    # A cutoff above every singular value (relative to s_max) keeps only s_max.
    np.testing.assert_allclose(min_norm(X, y, rcond=0.5), V[:, :1] @ (U[:, :1].T @ y), rtol=1e-10)


def test_min_norm_of_zero_matrix_is_zero():
    w = min_norm(np.zeros((3, 4)), np.ones(3))
    np.testing.assert_array_equal(w, np.zeros(4))


# --- gradient descent -----------------------------------------------------------------------------------------


def test_gradient_descent_from_zero_reaches_min_norm():
    X, y = _problem(10, 30, seed=8)
    w = gradient_descent(X, y, steps=2000)
    assert _rel(w, min_norm(X, y)) < 1e-8


def test_gradient_descent_from_zero_reaches_least_squares_when_p_below_n():
    X, y = _problem(30, 10, seed=9)
    w = gradient_descent(X, y, steps=2000)
    assert _rel(w, np.linalg.solve(X.T @ X, X.T @ y)) < 1e-8


def test_gradient_descent_from_w0_reaches_min_norm_plus_null_space_part_of_w0():
    X, y = _problem(10, 30, seed=10)
    w0 = np.random.default_rng(11).standard_normal(30)
    basis = null_space(X)
    expected = min_norm(X, y) + basis @ (basis.T @ w0)  # the null-space part of w0 never moves
    w = gradient_descent(X, y, steps=2000, w0=w0)
    assert _rel(w, expected) < 1e-8
    assert _rel(w, min_norm(X, y)) > 0.1


def test_gradient_descent_iterates_stay_in_row_space_from_zero():
    X, y = _problem(10, 30, seed=12)
    w = gradient_descent(X, y, steps=3)
    np.testing.assert_allclose(null_space(X).T @ w, 0.0, atol=1e-12)


def test_gradient_descent_with_zero_steps_returns_w0_without_modifying_it():
    X, y = _problem(5, 8, seed=13)
    w0 = np.arange(8.0)
    w = gradient_descent(X, y, steps=0, w0=w0)
    np.testing.assert_array_equal(w, np.arange(8.0))
    gradient_descent(X, y, steps=10, w0=w0)
    np.testing.assert_array_equal(w0, np.arange(8.0))
    np.testing.assert_array_equal(gradient_descent(X, y, steps=0), np.zeros(8))


def test_one_gradient_step_matches_the_update_formula():
    X, y = _problem(6, 9, seed=14)
    w0 = np.random.default_rng(15).standard_normal(9)
    lr = 0.5 / np.linalg.svd(X, compute_uv=False)[0] ** 2
    expected = w0 - lr * X.T @ (X @ w0 - y)
    np.testing.assert_allclose(gradient_descent(X, y, steps=1, lr=lr, w0=w0), expected, rtol=1e-13)


def test_gradient_descent_converges_with_lr_near_the_stability_limit():
    X, y = _problem(10, 30, seed=16)
    s_max = np.linalg.svd(X, compute_uv=False)[0]
    w = gradient_descent(X, y, steps=3000, lr=1.9 / s_max**2)
    assert _rel(w, min_norm(X, y)) < 1e-8


@pytest.mark.parametrize("factor", [0.0, -1.0, 2.0, 2.5, 100.0, np.nan])
def test_lr_outside_stable_range_raises_naming_lr(factor):
    X, y = _problem(10, 30, seed=17)
    s_max = np.linalg.svd(X, compute_uv=False)[0]
    with pytest.raises(ValueError, match="lr"):
        gradient_descent(X, y, steps=5, lr=factor / s_max**2)


@pytest.mark.parametrize("shape", [(29,), (31,), (30, 1), ()])
def test_w0_of_wrong_shape_raises_naming_w0(shape):
    X, y = _problem(10, 30, seed=18)
    with pytest.raises(ValueError, match="w0"):
        gradient_descent(X, y, steps=5, w0=np.zeros(shape))


def test_negative_steps_raise_naming_steps():
    X, y = _problem(4, 6)
    with pytest.raises(ValueError, match="steps"):
        gradient_descent(X, y, steps=-1)


# --- ridge ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, p", [(10, 30), (10, 10), (30, 10)])
def test_ridge_tends_to_min_norm_as_lam_goes_to_zero(n, p):
    X, y = _problem(n, p, seed=19)
    w_star = min_norm(X, y)
    s_min = np.linalg.svd(X, compute_uv=False)[-1]
    lams = [1e-2, 1e-4, 1e-6, 1e-8]
    distances = [_rel(ridge(X, y, lam), w_star) for lam in lams]
    assert np.all(np.diff(distances) < 0)
    for lam, distance in zip(lams, distances, strict=True):
        # Per singular direction ridge shrinks 1/s to s/(s^2 + lam): relative change at most lam / s_min^2.
        assert distance <= lam / s_min**2 * (1 + 1e-6)
    assert distances[-1] < 1e-5


@pytest.mark.parametrize("n, p", [(10, 30), (10, 10), (30, 10), (1, 5)])
@pytest.mark.parametrize("lam", [1e-3, 1e-1, 1.0, 100.0])
def test_ridge_matches_closed_form(n, p, lam):
    X, y = _problem(n, p, seed=20)
    expected = np.linalg.solve(X.T @ X + lam * np.eye(p), X.T @ y)
    np.testing.assert_allclose(ridge(X, y, lam), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lam", [1e-3, 1.0])
def test_ridge_matches_dual_form_when_p_above_n(lam):
    X, y = _problem(8, 40, seed=21)
    expected = X.T @ np.linalg.solve(X @ X.T + lam * np.eye(8), y)
    np.testing.assert_allclose(ridge(X, y, lam), expected, rtol=1e-10, atol=1e-12)


def test_ridge_with_zero_lam_is_min_norm():
    X, y = _problem(10, 30, seed=22)
    np.testing.assert_allclose(ridge(X, y, 0.0), np.linalg.pinv(X) @ y, rtol=1e-10)


def test_ridge_norm_decreases_with_lam():
    X, y = _problem(10, 30, seed=23)
    norms = [np.linalg.norm(ridge(X, y, lam)) for lam in (0.0, 1e-3, 1e-1, 1.0, 10.0, 1e3)]
    assert np.all(np.diff(norms) < 0)


# --- sweeps ---------------------------------------------------------------------------------------------------

N_SWEEP, P_SWEEP, N_TEST = 12, 200, 50


def _sweep_problem(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        X, X_test = rng.standard_normal((N_SWEEP, P_SWEEP)), rng.standard_normal((N_TEST, P_SWEEP))
    else:
        X = legendre(rng.uniform(-1.0, 1.0, N_SWEEP), P_SWEEP)
        X_test = legendre(rng.uniform(-1.0, 1.0, N_TEST), P_SWEEP)
    return X, rng.standard_normal(N_SWEEP), X_test, rng.standard_normal(N_TEST)


def _per_p(X, y, X_test, y_test, ps, solve):
    test, train, norm = [], [], []
    for p in ps:
        w = solve(X[:, :p], y)
        test.append(np.mean((X_test[:, :p] @ w - y_test) ** 2))
        train.append(np.mean((X[:, :p] @ w - y) ** 2))
        norm.append(np.linalg.norm(w))
    return np.array(test), np.array(train), np.array(norm)


def _assert_sweep_matches(fit, expected, ps, y, interpolating):
    test, train, norm = expected
    assert isinstance(fit, SweepFit)
    np.testing.assert_array_equal(fit.num_features, ps)
    np.testing.assert_allclose(fit.test_mse, test, rtol=1e-8, atol=0)
    np.testing.assert_allclose(fit.weight_norm, norm, rtol=1e-8, atol=0)
    # Where the fit interpolates, both train errors are round-off: compare them against the scale of y instead.
    scale = np.mean(y**2)
    np.testing.assert_allclose(fit.train_mse[~interpolating], train[~interpolating], rtol=1e-8, atol=0)
    assert np.all(fit.train_mse[interpolating] < 1e-16 * scale)
    assert np.all(train[interpolating] < 1e-16 * scale)


@pytest.mark.parametrize("kind", ["gaussian", "legendre"])
@pytest.mark.parametrize("ps", [np.arange(1, P_SWEEP + 1), np.array([1, 5, 11, 12, 13, 14, 40, 199, 200])],
                         ids=["every_p", "sparse_grid"])
def test_min_norm_sweep_equals_per_p_min_norm(kind, ps):
    X, y, X_test, y_test = _sweep_problem(kind, seed=0)
    assert {N_SWEEP - 1, N_SWEEP, N_SWEEP + 1} <= set(ps.tolist())
    fit = min_norm_sweep(X, y, X_test, y_test, ps)
    expected = _per_p(X, y, X_test, y_test, ps, min_norm)
    _assert_sweep_matches(fit, expected, ps, y, interpolating=ps >= N_SWEEP)


@pytest.mark.parametrize("kind", ["gaussian", "legendre"])
def test_ridge_sweep_equals_per_p_ridge(kind):
    lam = 1e-3
    X, y, X_test, y_test = _sweep_problem(kind, seed=1)
    ps = np.arange(1, P_SWEEP + 1)
    fit = ridge_sweep(X, y, X_test, y_test, ps, lam=lam)
    expected = _per_p(X, y, X_test, y_test, ps, lambda A, b: ridge(A, b, lam))
    _assert_sweep_matches(fit, expected, ps, y, interpolating=np.zeros(ps.size, dtype=bool))


def test_ridge_sweep_with_zero_lam_is_min_norm_sweep():
    X, y, X_test, y_test = _sweep_problem("gaussian", seed=2)
    ps = np.arange(1, 60)
    a, b = ridge_sweep(X, y, X_test, y_test, ps), min_norm_sweep(X, y, X_test, y_test, ps)
    for name in ("test_mse", "train_mse", "weight_norm"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("rcond", [0.3, 1e-3])
def test_min_norm_sweep_with_explicit_rcond_equals_per_p_min_norm_with_that_rcond(rcond):
    # Regression test: the Gram-matrix path for p > n once ignored rcond (it kept every singular value).
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 40))
    X[:, 20:] *= 1e-2  # a well-conditioned Gram matrix, but a cutoff of 0.3 drops singular values
    X_test, y, y_test = rng.standard_normal((30, 40)), rng.standard_normal(10), rng.standard_normal(30)
    ps = np.array([5, 9, 10, 11, 30, 40])
    fit = min_norm_sweep(X, y, X_test, y_test, ps, rcond=rcond)
    test, train, norm = _per_p(X, y, X_test, y_test, ps, lambda A, b: min_norm(A, b, rcond=rcond))
    np.testing.assert_allclose(fit.weight_norm, norm, rtol=1e-8)
    np.testing.assert_allclose(fit.test_mse, test, rtol=1e-8)
    np.testing.assert_allclose(fit.train_mse, train, rtol=1e-8, atol=1e-16 * np.mean(y**2))


# --- bad inputs -----------------------------------------------------------------------------------------------

SOLVERS = {
    "min_norm": lambda X, y: min_norm(X, y),
    "ridge": lambda X, y: ridge(X, y, 0.1),
    "gradient_descent": lambda X, y: gradient_descent(X, y, steps=3),
}


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
@pytest.mark.parametrize("X, y, match", [
    (np.zeros((0, 3)), np.zeros(0), "X must have at least one"),
    (np.zeros((3, 0)), np.zeros(3), "X must have at least one"),
    (np.ones(3), np.ones(3), "X must be a 2-D"),
    (np.ones((2, 3, 4)), np.ones(2), "X must be a 2-D"),
    (np.ones((3, 2)), np.ones(4), "y must have shape"),
    (np.ones((3, 2)), np.ones((3, 1)), "y must have shape"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2), "finite"),
    (np.eye(2), np.array([1.0, np.inf]), "finite"),
], ids=["no_rows", "no_columns", "X_1d", "X_3d", "y_length", "y_2d", "nan_in_X", "inf_in_y"])
def test_solvers_reject_bad_problems_naming_the_parameter(solver, X, y, match):
    with pytest.raises(ValueError, match=match):
        solver(X, y)


@pytest.mark.parametrize("lam", [-1e-12, -1.0, np.nan, np.inf])
def test_ridge_rejects_bad_lam_naming_lam(lam):
    X, y = _problem(4, 6)
    with pytest.raises(ValueError, match="lam"):
        ridge(X, y, lam)


@pytest.mark.parametrize("rcond", [-1e-12, -1.0, np.nan, np.inf])
def test_min_norm_rejects_bad_rcond_naming_rcond(rcond):
    X, y = _problem(4, 6)
    with pytest.raises(ValueError, match="rcond"):
        min_norm(X, y, rcond=rcond)


@pytest.mark.parametrize("num_features", [
    [0, 3], [-1], [3, 7], [5, 5], [1, 2, 2], [4, 2], [], [[1, 2]], [1.0, 2.0],
], ids=["zero", "negative", "too_large", "repeated", "not_strict", "decreasing", "empty", "2d", "floats"])
def test_sweep_rejects_bad_num_features_naming_num_features(num_features):
    X, y = _problem(4, 6)
    X_test, y_test = _problem(3, 6, seed=1)
    for sweep in (min_norm_sweep, lambda *args: ridge_sweep(*args, lam=0.1)):
        with pytest.raises(ValueError, match="num_features"):
            sweep(X, y, X_test, y_test, np.array(num_features))


def test_sweep_rejects_test_set_with_other_number_of_columns_naming_x_test():
    X, y = _problem(4, 6)
    X_test, y_test = _problem(3, 5, seed=1)
    with pytest.raises(ValueError, match="X_test"):
        min_norm_sweep(X, y, X_test, y_test, [1, 2])


def test_sweep_rejects_bad_training_or_test_problem():
    X, y = _problem(4, 6)
    X_test, y_test = _problem(3, 6, seed=1)
    with pytest.raises(ValueError, match="y must have shape"):
        min_norm_sweep(X, y[:3], X_test, y_test, [1, 2])
    with pytest.raises(ValueError, match="y must have shape"):
        min_norm_sweep(X, y, X_test, y_test[:2], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        min_norm_sweep(X, y, np.full_like(X_test, np.nan), y_test, [1, 2])


@pytest.mark.parametrize("lam", [-1.0, np.nan])
def test_ridge_sweep_rejects_bad_lam_naming_lam(lam):
    X, y = _problem(4, 6)
    X_test, y_test = _problem(3, 6, seed=1)
    with pytest.raises(ValueError, match="lam"):
        ridge_sweep(X, y, X_test, y_test, [1, 2], lam=lam)


@pytest.mark.parametrize("lam", [0.0, 1e-2])
def test_sweep_with_qr_updates_for_large_n_equals_per_p_solves(lam):
    # Above ddd_utils.linear.solvers._GRAM_MAX_N the sweep grows its factor by QR updates instead of Gram matrices.
    n = 300
    rng = np.random.default_rng(7)
    X, X_test = rng.standard_normal((n, 700)), rng.standard_normal((40, 700))
    y, y_test = rng.standard_normal(n), rng.standard_normal(40)
    ps = np.array([100, n - 1, n, n + 1, n + 2, 350, 420, 700])
    solve = (lambda A, b: min_norm(A, b)) if lam == 0.0 else (lambda A, b: ridge(A, b, lam))
    fit = ridge_sweep(X, y, X_test, y_test, ps, lam=lam)
    test, _, norm = _per_p(X, y, X_test, y_test, ps, solve)
    np.testing.assert_allclose(fit.test_mse, test, rtol=1e-8)
    np.testing.assert_allclose(fit.weight_norm, norm, rtol=1e-8)


def test_without_lapacks_condition_estimator_the_exact_condition_number_gives_the_same_fits(monkeypatch):
    # scipy before 1.15 does not wrap dtrcon (older Colab images): the fallback computes the condition number
    # exactly, which LAPACK's estimate approximates from below, and the fits do not change.
    from ddd_utils.linear import solvers as linear

    rng = np.random.default_rng(0)
    R = np.triu(rng.standard_normal((30, 30))) + 5 * np.eye(30)
    estimate = linear._condition(R)
    monkeypatch.setattr(linear, "_TRCON", None)
    exact = linear._condition(R)
    assert exact == pytest.approx(np.linalg.cond(R, 1))
    assert estimate <= exact * (1 + 1e-12) and estimate >= exact / 10
    assert linear._condition(np.triu(np.ones((3, 3))) - np.diag([0.0, 1.0, 1.0])) == np.inf
    X, y = rng.standard_normal((20, 40)), rng.standard_normal(20)
    fallback = min_norm_sweep(X, y, X[:5], y[:5], [5, 10, 20, 30, 40])
    monkeypatch.undo()
    wrapped_lapack = min_norm_sweep(X, y, X[:5], y[:5], [5, 10, 20, 30, 40])
    for name in ("test_mse", "train_mse", "weight_norm"):
        np.testing.assert_allclose(getattr(fallback, name), getattr(wrapped_lapack, name), rtol=1e-8, atol=1e-10)
