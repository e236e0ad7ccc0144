"""Tests for chapter 3's trees and forests (ddd_utils.experiments.trees)."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from threadpoolctl import threadpool_limits

from ddd_utils.experiments import trees as tx
from ddd_utils.experiments.random_features import load_split, one_hot

CONFIG = tx.TreesConfig(n=150, n_test=300, num_leaves=6, max_trees=6, fixed_trees=3, seeds=(0, 1))


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small matrices: one BLAS thread is as fast and immune to slowdowns when other processes share the cores."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def result():
    return tx.grid(CONFIG)


@pytest.fixture(scope="module")
def noisy_result():
    return tx.grid(tx.with_overrides(CONFIG, noise=0.3, seeds=(0,)))


def test_grid_has_the_documented_shapes(result):
    np.testing.assert_array_equal(result.leaves, tx.leaf_grid(150, 6))
    assert result.leaves[0] == 2 and result.leaves[-1] == 150
    np.testing.assert_array_equal(result.trees, np.arange(1, 7))
    for name in ("test_error", "test_loss", "train_error", "train_loss"):
        assert getattr(result, name).shape == (2, result.leaves.size, 6)
    assert np.all((result.test_error >= 0) & (result.test_error <= 1))
    # A limit below the fully grown size is reached exactly; a fully grown tree has at most n leaves.
    np.testing.assert_array_equal(result.leaves_grown[:, :2], np.broadcast_to(result.leaves[:2], (2, 2)))
    assert np.all(result.leaves_grown[:, -1] <= 150)


def test_a_tree_with_n_leaves_interpolates_the_training_set(result, noisy_result):
    for grid in (result, noisy_result):
        assert np.all(grid.train_error[:, -1, 0] == 0.0)
        assert np.all(grid.train_loss[:, -1, 0] < 1e-20)
        assert np.all(grid.train_error[:, 0, 0] > 0.5)  # two leaves cannot fit ten classes


def test_forests_of_fully_grown_trees_interpolate_too(result, noisy_result):
    for grid in (result, noisy_result):
        assert np.all(grid.train_error[:, -1, :] == 0.0)
        assert np.all(grid.train_loss[:, -1, :] < 1e-20)


def test_prefix_of_a_forest_equals_a_forest_fitted_with_that_many_trees():
    # The grid averages the first T trees of one forest; scikit-learn seeds its trees in order from random_state.
    data = load_split("digits", 80, 100, seed=0)
    big = RandomForestRegressor(n_estimators=5, max_leaf_nodes=20, max_features="sqrt", bootstrap=False,
                                random_state=0).fit(data["X"], one_hot(data["y"]))
    small = RandomForestRegressor(n_estimators=3, max_leaf_nodes=20, max_features="sqrt", bootstrap=False,
                                  random_state=0).fit(data["X"], one_hot(data["y"]))
    prefix = np.mean([tree.predict(data["X_test"]) for tree in big.estimators_[:3]], axis=0)
    np.testing.assert_allclose(prefix, small.predict(data["X_test"]), rtol=1e-12)


def test_belkin_path_switches_from_leaves_to_trees_at_the_threshold(result):
    path = tx.belkin_path(result)
    L = result.leaves.size
    assert path["test_error"].shape == (2, L + 5)
    np.testing.assert_array_equal(path["trees"], [1] * L + [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(path["leaves"], list(result.leaves) + [150] * 5)
    assert np.all(np.diff(path["parameters"]) > 0) and path["parameters"][L - 1] == CONFIG.n
    np.testing.assert_array_equal(path["test_loss"][:, :L], result.test_loss[:, :, 0])
    np.testing.assert_array_equal(path["test_loss"][:, L:], result.test_loss[:, -1, 1:])
    assert np.all(path["train_error"][:, L - 1:] == 0.0)  # interpolating from the threshold on


def test_the_critiques_views_are_slices_with_the_axis_held_fixed(result):
    by_leaves = tx.fixed_trees(result, 3)
    np.testing.assert_array_equal(by_leaves["test_error"], result.test_error[:, :, 2])
    assert np.all(by_leaves["trees"] == 3) and np.array_equal(by_leaves["parameters"], 3 * result.leaves)
    by_trees = tx.fixed_leaves(result)
    np.testing.assert_array_equal(by_trees["test_loss"], result.test_loss[:, -1, :])
    assert np.all(by_trees["leaves"] == 150) and np.array_equal(by_trees["trees"], np.arange(1, 7))
    np.testing.assert_array_equal(tx.fixed_leaves(result, 2)["test_loss"], result.test_loss[:, 0, :])


def test_averaging_more_fully_grown_trees_lowers_the_test_loss(result):
    by_trees = tx.fixed_leaves(result)["test_loss"].mean(axis=0)
    assert by_trees[-1] < 0.7 * by_trees[0]
    assert np.all(result.test_loss[:, -1, -1] < result.test_loss[:, -1, 0])  # for every seed


def test_bad_inputs_raise_errors_naming_the_parameter(result):
    for kwargs, name in (({"noise": 1.5}, "noise"), ({"dataset": "svhn"}, "dataset"), ({"n": 1}, "n"),
                         ({"fixed_trees": 30}, "fixed_trees"), ({"max_trees": 0}, "max_trees")):
        with pytest.raises(ValueError, match=name):
            tx.TreesConfig(**kwargs)
    with pytest.raises(ValueError, match="trees"):
        tx.fixed_trees(result, 7)
    with pytest.raises(ValueError, match="leaves"):
        tx.fixed_leaves(result, 7)
    with pytest.raises(ValueError, match="n must be at most"):
        tx.grid(tx.with_overrides(CONFIG, n=1700))


def test_presets():
    assert set(tx.PRESETS) == {"smoke", "cpu", "full"}
    assert tx.PRESETS["full"].dataset == "mnist" and tx.PRESETS["full"].n == 10_000
    assert tx.PRESETS["smoke"].n < tx.PRESETS["cpu"].n


def test_belkin_path_shows_double_descent_in_squared_loss_while_more_trees_only_descend(result):
    path = tx.belkin_path(result)["test_loss"].mean(axis=0)
    L = result.leaves.size
    best_single_tree = path[:L].min()
    assert path[L - 1] > 1.05 * best_single_tree  # the interpolating tree is worse than a pruned one ...
    assert path[-1] < best_single_tree  # ... and the forest of interpolating trees better than both
    by_trees = tx.fixed_leaves(result)["test_loss"].mean(axis=0)
    assert np.all(np.diff(by_trees) < 0)  # more trees at full leaves: only descent
