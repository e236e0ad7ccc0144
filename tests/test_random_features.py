"""Tests for ddd_utils.linear.random_features, the random-features experiment of chapter 3, and multi-output sweeps."""

import struct

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from ddd_utils.experiments import random_features as rfx
from ddd_utils.experiments.random_features_network import network_vs_min_norm
from ddd_utils.linear.random_features import (
    arccos_kernel,
    feature_scale,
    gaussian_kernel,
    kernel_coefficients,
    kernel_fit,
    kernel_matrix,
    random_features,
)
from ddd_utils.linear.solvers import gradient_descent, min_norm, min_norm_sweep, ridge, ridge_sweep

pytestmark = pytest.mark.usefixtures("no_network")  # nothing here may download


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Every matrix here is small: one BLAS thread is as fast, and immune to OpenBLAS's large slowdowns (10x and
    more, measured) when other processes compete for the cores."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _points(m, d, seed, norm=None):
    X = np.random.default_rng(seed).uniform(0.0, 1.0, (m, d))
    return X if norm is None else norm * X / np.linalg.norm(X, axis=1, keepdims=True)


# --- feature maps -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fourier", "relu"])
def test_maps_are_reproducible_from_the_seed_and_differ_across_seeds(kind):
    X = _points(7, 5, seed=0)
    a, b = random_features(kind, 5, 50, seed=3), random_features(kind, 5, 50, seed=3)
    np.testing.assert_array_equal(a.features(X), b.features(X))
    assert not np.allclose(a.features(X), random_features(kind, 5, 50, seed=4).features(X))


@pytest.mark.parametrize("kind", ["fourier", "relu"])
def test_features_have_shape_m_by_num_features_and_the_documented_scale(kind):
    X = _points(7, 5, seed=1)
    rf = random_features(kind, 5, 40, seed=0, bandwidth=0.7)
    assert rf.features(X).shape == (7, 40) and rf.features(X, 13).shape == (7, 13)
    assert rf.W.shape == (40, 5) and rf.b.shape == (40,)
    projections = X @ rf.W[:13].T
    expected = (np.sqrt(2 / 13) * np.cos(projections + rf.b[:13]) if kind == "fourier"
                else np.sqrt(1 / 13) * np.maximum(projections, 0.0))
    np.testing.assert_allclose(rf.features(X, 13), expected, rtol=1e-14, atol=1e-15)
    assert rf.scale(13) == feature_scale(kind, 13)
    with pytest.raises(ValueError):
        rf.W[0, 0] = 1.0  # read-only: a drawn map cannot change under a sweep


@pytest.mark.parametrize("kind", ["fourier", "relu"])
def test_a_smaller_draw_is_a_prefix_of_a_larger_one(kind):
    X = _points(6, 4, seed=2)
    small, large = random_features(kind, 4, 30, seed=5, bandwidth=2.0), random_features(kind, 4, 500, 5, 2.0)
    np.testing.assert_array_equal(small.W, large.W[:30])
    np.testing.assert_array_equal(small.b, large.b[:30])
    np.testing.assert_array_equal(small.unscaled(X), large.unscaled(X)[:, :30])
    np.testing.assert_array_equal(small.features(X), large.features(X, 30))


def test_fourier_weights_and_phases_have_the_documented_distributions():
    rf = random_features("fourier", 3, 200_000, seed=0, bandwidth=2.0)
    assert abs(rf.W.std() - 0.5) < 0.005 and abs(rf.W.mean()) < 0.005
    assert rf.b.min() >= 0.0 and rf.b.max() <= 2 * np.pi and abs(rf.b.mean() - np.pi) < 0.02


def _kernel_errors(kind, bandwidth, num_features_list, seeds=(0, 1, 2)):
    """Max abs error of phi(x).phi(z) against the kernel over 5 pairs of unit vectors, for each N (rows) and seed."""
    X = _points(5, 6, seed=10, norm=1.0)
    Z = _points(5, 6, seed=11, norm=1.0)
    exact = np.diag(kernel_matrix(kind, X, Z, bandwidth))
    errors = np.empty((len(num_features_list), len(seeds)))
    for s, seed in enumerate(seeds):
        rf = random_features(kind, 6, max(num_features_list), seed=seed, bandwidth=bandwidth)
        for i, N in enumerate(num_features_list):
            approx = np.sum(rf.features(X, N) * rf.features(Z, N), axis=1)
            errors[i, s] = np.max(np.abs(approx - exact))
    return errors


# Standard deviation bounds of one term of phi(x).phi(z) for unit x, z: 2 cos(a) cos(b) has variance <= 1; for ReLU
# (w.x)_+ (w.z)_+ has second moment <= E[(w.x)^2 (w.z)^2] <= 3 at bandwidth 1.
TERM_STD = {"fourier": 1.0, "relu": np.sqrt(3.0)}


@pytest.mark.parametrize("kind, bandwidth", [("fourier", 0.8), ("relu", 1.0)])
def test_inner_products_approach_the_kernel_like_one_over_sqrt_n(kind, bandwidth):
    # A mean of N independent terms: its error is about TERM_STD / sqrt(N); C = 6 TERM_STD is 6 standard deviations.
    sizes = [100, 10_000]
    errors = _kernel_errors(kind, bandwidth, sizes)
    for i, N in enumerate(sizes):
        assert np.all(errors[i] <= 6.0 * TERM_STD[kind] / np.sqrt(N)), (N, errors[i])
    assert errors[1].mean() < errors[0].mean() / 3  # really decreases (1/sqrt(N) predicts a factor 10)


def test_gaussian_kernel_matches_its_definition_pair_by_pair():
    X, Z = _points(4, 3, seed=3), _points(5, 3, seed=4)
    K = gaussian_kernel(X, Z, bandwidth=0.6)
    for i in range(4):
        for j in range(5):
            assert K[i, j] == pytest.approx(np.exp(-np.sum((X[i] - Z[j]) ** 2) / (2 * 0.36)), rel=1e-12)


def test_arccos_kernel_special_cases_fix_its_normalisation():
    x = np.array([[3.0, 4.0]])
    # theta = 0: E[max(0, w.x)^2] = |x|^2 / 2 for w ~ N(0, I); bandwidth 2 divides by 4.
    assert arccos_kernel(x, x)[0, 0] == pytest.approx(12.5, rel=1e-12)
    assert arccos_kernel(x, x, bandwidth=2.0)[0, 0] == pytest.approx(12.5 / 4, rel=1e-12)
    # theta = pi/2: |x||z| / (2 pi); theta = pi: 0 (the two half-spaces never overlap).
    assert arccos_kernel([[1.0, 0.0]], [[0.0, 2.0]])[0, 0] == pytest.approx(2 / (2 * np.pi), rel=1e-12)
    assert arccos_kernel([[1.0, 0.0]], [[-1.0, 0.0]])[0, 0] == pytest.approx(0.0, abs=1e-15)
    assert arccos_kernel([[0.0, 0.0]], [[1.0, 0.0]])[0, 0] == 0.0


# --- kernel least squares --------------------------------------------------------------------------------------


def _features_problem(kind="fourier", n=20, N=120, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X, X_test = rng.uniform(0, 1, (n, 5)), rng.uniform(0, 1, (30, 5))
    rf = random_features(kind, 5, N, seed=seed, bandwidth=0.5)
    return rf.features(X), rf.features(X_test), rng.standard_normal((n, k))


@pytest.mark.parametrize("kind", ["fourier", "relu"])
def test_kernel_form_min_norm_equals_direct_min_norm(kind):
    Phi, Phi_test, Y = _features_problem(kind)
    alpha = kernel_coefficients(Phi @ Phi.T, Y)
    for c in range(Y.shape[1]):
        w = min_norm(Phi, Y[:, c])
        np.testing.assert_allclose(Phi.T @ alpha[:, c], w, rtol=1e-10, atol=1e-10 * np.abs(w).max())
        np.testing.assert_allclose((Phi_test @ Phi.T) @ alpha[:, c], Phi_test @ w, rtol=1e-10,
                                   atol=1e-10 * np.abs(Phi_test @ w).max())


def test_kernel_form_ridge_and_early_stopping_equal_their_direct_solvers():
    Phi, _, Y = _features_problem(N=15)  # fewer features than samples: the dual form must still hold
    y = Y[:, 0]
    np.testing.assert_allclose(Phi.T @ kernel_coefficients(Phi @ Phi.T, y, lam=0.05), ridge(Phi, y, 0.05),
                               rtol=1e-10)
    np.testing.assert_allclose(Phi.T @ kernel_coefficients(Phi @ Phi.T, y, steps=37), gradient_descent(Phi, y, 37),
                               rtol=1e-9)


def test_a_constant_feature_scale_leaves_min_norm_predictions_unchanged_and_divides_the_norm():
    Phi, Phi_test, Y = _features_problem(N=200)
    w, w_scaled = min_norm(Phi, Y[:, 0]), min_norm(7.0 * Phi, Y[:, 0])
    np.testing.assert_allclose(7.0 * Phi_test @ w_scaled, Phi_test @ w, rtol=1e-10)
    assert np.linalg.norm(w_scaled) == pytest.approx(np.linalg.norm(w) / 7.0, rel=1e-10)


def test_kernel_fit_interpolates_and_reports_the_rkhs_norm():
    X, X_test = _points(15, 4, seed=6), _points(10, 4, seed=7)
    y = np.random.default_rng(8).standard_normal(15)
    fit = kernel_fit("fourier", X, y, X_test, bandwidth=0.5)
    np.testing.assert_allclose(fit["train_predictions"], y, atol=1e-8)
    K = gaussian_kernel(X, X, 0.5)
    assert fit["norm"] == pytest.approx(np.sqrt(y @ np.linalg.solve(K, y)), rel=1e-7)


# --- multi-output sweeps (ddd_utils.linear.solvers with targets of shape (n, k)) -------------------------------


@pytest.mark.parametrize("n, lam", [(12, 0.0), (12, 1e-3), (260, 0.0), (260, 1e-2)])
def test_sweep_with_several_outputs_equals_per_column_solves(n, lam):
    rng = np.random.default_rng(n)
    P = 400 if n > 256 else 200  # n > 256 grows the factor by QR updates; smaller n refactors a Gram matrix
    X, X_test = rng.standard_normal((n, P)), rng.standard_normal((40, P))
    Y, Y_test = rng.standard_normal((n, 3)), rng.standard_normal((40, 3))
    ps = np.array(sorted({1, 5, n - 1, n, n + 1, n + 2, P}))
    fit = ridge_sweep(X, Y, X_test, Y_test, ps, lam=lam, keep_predictions=True)
    assert fit.test_predictions.shape == (ps.size, 40, 3) and fit.train_predictions.shape == (ps.size, n, 3)
    for j, p in enumerate(ps):
        W = np.stack([min_norm(X[:, :p], Y[:, c]) if lam == 0 else ridge(X[:, :p], Y[:, c], lam) for c in range(3)],
                     axis=1)
        np.testing.assert_allclose(fit.test_predictions[j], X_test[:, :p] @ W, rtol=1e-8,
                                   atol=1e-9 * np.abs(X_test[:, :p] @ W).max())
        assert fit.weight_norm[j] == pytest.approx(np.linalg.norm(W), rel=1e-8)
        assert fit.test_mse[j] == pytest.approx(np.sum((X_test[:, :p] @ W - Y_test) ** 2) / 40, rel=1e-8)


def test_one_output_column_gives_the_one_dimensional_sweep():
    rng = np.random.default_rng(1)
    X, X_test, y, y_test = rng.standard_normal((10, 40)), rng.standard_normal((20, 40)), rng.standard_normal(10), \
        rng.standard_normal(20)
    ps = np.arange(1, 41)
    one, column = min_norm_sweep(X, y, X_test, y_test, ps), min_norm_sweep(X, y[:, None], X_test, y_test[:, None], ps)
    for name in ("test_mse", "train_mse", "weight_norm"):
        np.testing.assert_allclose(getattr(column, name), getattr(one, name), rtol=1e-12)
    assert one.test_predictions is None


def test_sweep_rejects_targets_with_mismatched_outputs_naming_y_test():
    rng = np.random.default_rng(2)
    X, X_test = rng.standard_normal((4, 6)), rng.standard_normal((3, 6))
    with pytest.raises(ValueError, match="y_test"):
        min_norm_sweep(X, np.ones((4, 2)), X_test, np.ones((3, 3)), [1, 2])
    with pytest.raises(ValueError, match="y must have shape"):
        min_norm_sweep(X, np.ones((4, 0)), X_test, np.ones((3, 0)), [1, 2])
    with pytest.raises(ValueError, match="y must have shape"):
        min_norm(X, np.ones((4, 2)))  # the single-problem solvers stay one-dimensional


# --- the experiment ----------------------------------------------------------------------------------------------

TINY = rfx.RandomFeaturesConfig(n=40, n_test=300, max_ratio=5.0, num_grid=8, seeds=(0, 1))


def _direct(config, seed, N, noise=0.0, solve=None):
    """Test predictions of one seed at N features, by per-class solves on the scaled features."""
    data = rfx.load_data(config, seed, noise)
    rf = random_features(config.kind, data["X"].shape[1], N, seed, config.bandwidth)
    Phi, Phi_test, Y = rf.features(data["X"]), rf.features(data["X_test"]), rfx.one_hot(data["y"])
    solve = solve or min_norm
    W = np.stack([solve(Phi, Y[:, c]) for c in range(Y.shape[1])], axis=1)
    return Phi_test @ W, W, data


@pytest.mark.parametrize("option", [{}, {"lam": 0.05}, {"steps": 50}], ids=["min_norm", "ridge", "early_stopping"])
def test_sweep_agrees_with_per_n_direct_solves_at_and_away_from_the_threshold(option):
    result = rfx.sweep(TINY, **option)
    assert {39, 40, 41} <= set(result.num_features.tolist()) and result.num_features[-1] == 200
    solve = (lambda A, b: ridge(A, b, option["lam"])) if "lam" in option else (
        (lambda A, b: gradient_descent(A, b, option["steps"])) if "steps" in option else None)
    for s, seed in enumerate(TINY.seeds):
        for N in (5, 39, 40, 41, 200):
            j = int(np.flatnonzero(result.num_features == N)[0])
            predictions, W, data = _direct(TINY, seed, N, solve=solve)
            loss = np.sum((predictions - rfx.one_hot(data["y_test"])) ** 2) / data["y_test"].size
            assert result.test_loss[s, j] == pytest.approx(loss, rel=1e-7)
            assert result.test_error[s, j] == np.mean(predictions.argmax(axis=1) != data["y_test"])
            assert result.weight_norm[s, j] == pytest.approx(np.linalg.norm(W), rel=1e-7)


def test_min_norm_sweep_interpolates_past_the_threshold_and_peaks_there():
    result = rfx.sweep(TINY)
    past = result.num_features >= TINY.n
    assert np.all(result.train_loss[:, past] < 1e-12) and np.all(result.train_error[:, past] == 0)
    assert np.all(result.train_loss[:, ~past] > 1e-4)
    peak = rfx.peak(result)
    assert abs(peak["num_features"] - TINY.n) <= 3
    assert peak["value"] > 10 * peak["last"]
    assert peak["last_at"] == result.num_features[-1] and peak["last"] == result.test_loss[:, -1].mean()
    line = rfx.summary(result)
    for number in (f"{peak['value']:.3g}", f"N = {peak['num_features']}", f"{peak['kernel']:.3g}", "N = 200"):
        assert number in line
    assert "kernel" not in rfx.summary(result, "weight_norm")  # no kernel_weight_norm: no kernel limit printed
    median = rfx.peak(result, center="median")
    window = (result.num_features >= 20) & (result.num_features <= 80)  # [n / 2, 2 n]
    assert median["value"] == np.max(np.median(result.test_loss, axis=0)[window])
    assert median["kernel"] == np.median(result.kernel_test_loss)
    assert "median over seeds" in rfx.summary(result, center="median")
    with pytest.raises(ValueError, match="center"):
        rfx.peak(result, center="mode")


def test_relu_threshold_counts_features_dead_on_the_training_set_and_the_peak_sits_there():
    config = rfx.with_overrides(TINY, kind="relu", n=60, max_ratio=3.0, num_grid=6, seeds=(0, 1, 2))
    result = rfx.sweep(config)
    for s, seed in enumerate(config.seeds):
        data = rfx.load_data(config, seed)
        F = random_features("relu", 64, 180, seed, config.bandwidth).unscaled(data["X"])
        dead = np.cumsum(np.all(F == 0.0, axis=0))  # w . x <= 0 on every (non-negative) training image
        t = int(result.threshold[s])
        assert t - dead[t - 1] == config.n and t - 1 - dead[t - 2] == config.n - 1
        assert np.linalg.matrix_rank(F[:, :t]) <= config.n
        assert {t - 1, t, t + 1} <= set(result.num_features.tolist())
        j = int(np.argmax(result.test_loss[s]))
        assert abs(result.num_features[j] - t) <= 3
    assert np.all(rfx.sweep(TINY).threshold == TINY.n)  # Fourier features are never identically zero


def test_random_features_approach_the_kernel_limit_as_n_grows():
    config = rfx.with_overrides(TINY, max_ratio=50.0, num_grid=12)
    result = rfx.sweep(config)
    far = result.num_features >= 4 * config.n
    distance = result.kernel_distance[:, far].mean(axis=0)
    assert np.all(np.diff(distance) < 0) and distance[-1] < 0.35
    # The gap shrinks about like 1/sqrt(N): from 4 n to 50 n, by sqrt(12.5) = 3.5 (allow 2).
    assert distance[0] / distance[-1] > 2.0
    assert np.all(np.abs(result.test_loss[:, -1] - result.kernel_test_loss) < 0.25 * result.kernel_test_loss)
    # distance_decay is the slope of that decay on log-log axes: between the end points' slope and -1/2's ballpark.
    slope = rfx.distance_decay(result)
    two_point = np.log(distance[-1] / distance[0]) / np.log(result.num_features[-1] / result.num_features[far][0])
    assert slope == pytest.approx(two_point, abs=0.1) and -1.0 < slope < -0.3
    with pytest.raises(ValueError, match="from_ratio"):
        rfx.distance_decay(result, from_ratio=60.0)


def test_label_noise_makes_the_peak_higher_over_seeds():
    # The peak height is heavy-tailed across draws (it scales like 1 / s_min^2), so compare geometric means over 8
    # paired seeds (same split and features, labels corrupted or not) rather than seed by seed.
    config = rfx.with_overrides(TINY, max_ratio=3.0, num_grid=6, seeds=tuple(range(8)))
    near = np.abs(rfx.grid(config) - config.n) <= 3
    clean, noisy = rfx.sweep(config), rfx.sweep(config, noise=0.5)
    log_ratio = np.log(noisy.test_loss[:, near].max(axis=1)) - np.log(clean.test_loss[:, near].max(axis=1))
    assert np.exp(log_ratio.mean()) > 1.2
    assert np.sum(log_ratio > 0) >= 5


def test_ridge_shrinks_the_peak():
    config = rfx.with_overrides(TINY, max_ratio=3.0, num_grid=6, seeds=tuple(range(4)))
    near = np.abs(rfx.grid(config) - config.n) <= 3
    ridgeless, ridged = rfx.sweep(config).test_loss[:, near].max(axis=1), rfx.sweep(config, lam=1e-2).test_loss
    assert ridged[:, near].max() < 0.25 * ridgeless.min()
    assert ridged.max() < 3.0  # no peak anywhere: one-hot targets have squared norm 1


def test_frozen_first_layer_network_trained_by_gd_equals_min_norm_random_features():
    config = rfx.with_overrides(rfx.PRESETS["smoke"], network_n=10, network_features=400, network_steps=3000)
    result = network_vs_min_norm(config, num_checkpoints=6)
    assert result["steps"][-1] == 3000
    assert np.all(np.diff(result["relative_distance"]) < 0)
    assert result["relative_distance"][-1] < 1e-5
    assert result["train_loss"][-1] < 1e-8
    # And at every step it is the closed-form gradient-descent iterate (spectral filter of the Gram matrix).
    data = rfx.load_data(config, 0)
    rf = random_features("relu", 64, 400, 0, config.bandwidth)
    Phi, Phi_test = rf.features(data["X"][:10]), rf.features(data["X_test"])
    alpha = kernel_coefficients(Phi @ Phi.T, rfx.one_hot(data["y"][:10]), steps=3000)
    closed_form = Phi_test @ Phi.T @ alpha
    target, _, _ = _direct(rfx.with_overrides(config, kind="relu", n=10), 0, 400)
    assert np.linalg.norm(closed_form - target) / np.linalg.norm(target) == pytest.approx(
        result["relative_distance"][-1], rel=1e-3)


def test_the_network_check_names_its_bad_parameters_and_their_ranges():
    config = rfx.with_overrides(rfx.PRESETS["smoke"], network_n=10, network_features=50, network_steps=5)
    with pytest.raises(ValueError, match=r"lr must be in \(0, 2 / s_max\^2\) = \(0, [0-9.e-]+\).*got 1000"):
        network_vs_min_norm(config, lr=1e3)
    with pytest.raises(ValueError, match="network_n must be at most n = 60; got 61"):
        network_vs_min_norm(rfx.with_overrides(config, network_n=61))


def test_load_split_holds_out_a_fixed_test_set_and_corrupts_only_training_labels():
    data = rfx.load_split("digits", 100, 200, seed=3, noise=0.3)
    assert data["X"].shape == (100, 64) and data["X_test"].shape == (200, 64)
    assert data["X"].min() >= 0.0 and data["X"].max() == 1.0
    assert 0.15 < data["corrupted"].mean() < 0.45
    assert np.all(data["y"][data["corrupted"]] != data["y_clean"][data["corrupted"]])
    again = rfx.load_split("digits", 100, 200, seed=3, noise=0.0)
    np.testing.assert_array_equal(again["X_test"], data["X_test"])
    np.testing.assert_array_equal(again["y"], data["y_clean"])


def _write_idx(path, magic, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(f">{1 + array.ndim}i", magic, *array.shape) + array.astype(np.uint8).tobytes())


def test_full_preset_path_reads_mnist_idx_files_and_runs_the_sweep(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    for prefix, count in (("train", 60), ("t10k", 30)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", 2051, rng.integers(0, 256, (count, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", 2049, np.arange(count) % 10)
    full = rfx.PRESETS["full"]
    assert full.dataset == "mnist" and full.n == 10_000
    config = rfx.with_overrides(full, n=30, n_test=20, max_ratio=3.0, num_grid=5, data_root=str(tmp_path))
    data = rfx.load_data(config, 0)
    assert data["X"].shape == (30, 784) and data["X_test"].shape == (20, 784)
    assert data["X"].max() <= 1.0 and data["X"].max() > 0.99  # pixels / 255
    result = rfx.sweep(config)
    assert result.test_error.shape == (1, result.num_features.size)
    assert np.all(result.train_error[:, result.num_features >= 30] == 0)
    with pytest.raises(ValueError, match="n must be at most 60"):
        rfx.load_data(rfx.with_overrides(config, n=61), 0)


def test_presets_are_ordered_by_size():
    smoke, cpu, full = (rfx.PRESETS[name] for name in ("smoke", "cpu", "full"))
    assert smoke.n < cpu.n < full.n and cpu.max_ratio >= 10
    assert set(rfx.PRESETS) == {"smoke", "cpu", "full"}


# --- bad inputs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: random_features("fourier", 3, 0), "max_features"),
    (lambda: random_features("fourier", 3, 10).features(np.ones((2, 3)), 0), "num_features"),
    (lambda: random_features("fourier", 3, 10).features(np.ones((2, 3)), 11), "num_features"),
    (lambda: feature_scale("relu", 0), "num_features"),
    (lambda: random_features("sigmoid", 3, 10), "kind"),
    (lambda: kernel_matrix("laplace", np.ones((2, 3)), np.ones((2, 3)), 1.0), "kind"),
    (lambda: random_features("fourier", 3, 10, bandwidth=-1.0), "bandwidth"),
    (lambda: random_features("relu", 3, 10, bandwidth=0.0), "bandwidth"),
    (lambda: gaussian_kernel(np.ones((2, 3)), np.ones((2, 3)), -0.5), "bandwidth"),
    (lambda: random_features("fourier", 3, 10).features(np.ones((2, 4))), "X"),
    (lambda: kernel_coefficients(np.eye(3), np.ones(3), lam=-1.0), "lam"),
    (lambda: kernel_coefficients(np.eye(3), np.ones(3), lam=1.0, steps=3), "lam"),
    (lambda: rfx.RandomFeaturesConfig(noise=1.5), "noise"),
    (lambda: rfx.RandomFeaturesConfig(kind="tanh"), "kind"),
    (lambda: rfx.RandomFeaturesConfig(bandwidth=-2.0), "bandwidth"),
    (lambda: rfx.RandomFeaturesConfig(dataset="cifar10"), "dataset"),
    (lambda: rfx.RandomFeaturesConfig(max_ratio=1.0), "max_ratio"),
    (lambda: rfx.RandomFeaturesConfig(noises=(0.1, 1.5)), "noises"),
    (lambda: rfx.RandomFeaturesConfig(noises=()), "noises"),
    (lambda: rfx.sweep(TINY, noise=-0.1), "noise"),
    (lambda: rfx.load_data(rfx.with_overrides(TINY, n=1700), 0), "n must be at most 1497"),
    (lambda: rfx.load_data(rfx.with_overrides(TINY, n_test=1797), 0), "n_test"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_bad_inputs_raise_errors_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_explorer_state_recomputes_for_a_new_setting_and_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ddd_utils.notebook.explorers import random_features as random_features_explorers

    state = random_features_explorers.random_features_state(num_features=55, noise=0.1, n=50, lam=0.0)
    curve = state["curve"]
    assert state["num_features"] in curve.num_features and abs(state["num_features"] - 55) <= 5
    assert curve.n == 50 and curve.test_error.shape == (1, curve.num_features.size)
    assert random_features_explorers.random_features_state(num_features=55, noise=0.1, n=50)["curve"] is curve  # cached
    plt.close(random_features_explorers.draw_random_features_state(state))


def test_samplewise_at_all_training_images_equals_the_feature_sweep_at_that_n():
    result = rfx.samplewise(TINY, num_features=38, num_sizes=6)
    assert result.sizes[0] == 1 and result.sizes[-1] == TINY.n and {35, 38, 40} <= set(result.sizes.tolist())
    by_n = rfx.sweep(TINY)  # its grid holds every N within 3 of n = 40
    column = int(np.flatnonzero(by_n.num_features == 38)[0])
    assert np.allclose(result.test_loss[:, -1], by_n.test_loss[:, column], rtol=1e-8)
    assert np.array_equal(result.test_error[:, -1], by_n.test_error[:, column])
    with pytest.raises(ValueError, match="num_features"):
        rfx.samplewise(TINY, num_features=0)
