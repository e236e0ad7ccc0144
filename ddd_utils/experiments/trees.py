"""Chapter 3: trees and forests on digits, Belkin et al.'s (2019) third model, and the critique of its axis.

Belkin et al. grow one tree up to n leaves (`max_leaf_nodes`; a tree on n points has at most n leaves, so n is
"fully grown" and interpolates), then average 2, 3, ... fully grown trees, and plot both on one "complexity" axis,
leaves x trees: the threshold is where one tree interpolates. (A tree stops splitting once its leaves are pure, so
it interpolates with fewer than n leaves, about 110 for n = 500 digits; `leaves_grown` reports it.) We follow the
setup of the reproduction by Curth et al. (2023, github.com/alanjeffares/not-double-descent,
src/trees/main_trees.py): scikit-learn's RandomForestRegressor on one-hot targets (regression trees, squared loss,
one multi-output tree predicting all 10 classes), no bootstrap (so every tree sees, and fits, the whole training set
and the forest interpolates too), and sqrt(d) candidate features per split (the only source of difference between
trees). The critique (John Maxwell, commenting on Hubinger 2019; formalised by Curth et al.): the axis changes
meaning at the threshold, from leaves to trees; fix the number of trees and vary the leaves, or fix the leaves and
vary the trees, and each view is a single descent. `grid` fits every (leaves, trees) pair once, and the three views
are slices of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.data.digit_splits import DATASETS, NUM_CLASSES, load_split, one_hot


@dataclass(frozen=True)
class TreesConfig:
    dataset: str = "digits"        # "digits" (scikit-learn, offline) or "mnist" (read from data_root)
    n: int = 500                   # training images: a tree with n leaves surely interpolates them
    n_test: int = 1000             # test images, clean labels
    num_leaves: int = 12           # log-spaced max_leaf_nodes values in [2, n]; the last, n, is a fully grown tree
    max_trees: int = 20            # forests of 1 .. max_trees trees (prefixes of one forest per leaf limit)
    max_features: str | float | int | None = "sqrt"  # candidate features per split (sqrt(d), as Belkin et al.)
    seeds: tuple[int, ...] = (0, 1, 2)  # each draws a train/test split, the label noise and the trees' randomness
    noise: float = 0.0             # probability a training label is replaced by a wrong class
    fixed_trees: int = 10          # the critique's first view: this many trees, leaves varied
    data_root: str = "data"        # MNIST files in data_root/MNIST/raw (only for dataset "mnist")

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}; got {self.dataset!r}")
        check_positive_int("n", self.n, minimum=2)
        for name in ("n_test", "num_leaves", "max_trees", "fixed_trees"):
            check_positive_int(name, getattr(self, name))
        if self.fixed_trees > self.max_trees:
            raise ValueError(f"fixed_trees must be at most max_trees = {self.max_trees}; got {self.fixed_trees}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")
        check_probability("noise", self.noise)


PRESETS = {
    "smoke": TreesConfig(n=100, n_test=200, num_leaves=5, max_trees=4, fixed_trees=2, seeds=(0,)),
    "cpu": TreesConfig(),
    "full": TreesConfig(dataset="mnist", n=10_000, n_test=10_000, num_leaves=16, max_trees=20, seeds=(0, 1)),
}


@dataclass(frozen=True)
class TreesGrid:
    n: int                      # training images
    leaves: np.ndarray          # (L,) max_leaf_nodes values, increasing; the last is n (fully grown)
    trees: np.ndarray           # (T,) forest sizes 1 .. max_trees
    leaves_grown: np.ndarray    # (seeds, L) mean leaves per tree actually grown (splitting stops at pure leaves)
    test_error: np.ndarray      # (seeds, L, T) zero-one error of the argmax on the clean test labels
    test_loss: np.ndarray       # (seeds, L, T) mean over test images of |prediction - one-hot|^2 (sum over classes)
    train_error: np.ndarray     # (seeds, L, T) zero-one error on the training labels (noisy where corrupted)
    train_loss: np.ndarray      # (seeds, L, T) squared loss on the training labels


def leaf_grid(n: int, num_leaves: int) -> np.ndarray:
    """`num_leaves` log-spaced leaf limits from 2 to n (both included; fewer if rounding makes some equal)."""
    return np.unique(np.round(np.geomspace(2, n, max(num_leaves, 2))).astype(int))


def _scores(predictions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero-one error and squared loss to one-hot targets for predictions of shape (T, m, 10)."""
    error = np.mean(predictions.argmax(axis=-1) != labels, axis=-1)
    return error, np.sum((predictions - one_hot(labels)) ** 2, axis=(-2, -1)) / labels.size


def grid(config: TreesConfig) -> TreesGrid:
    """Fit one forest of max_trees trees per leaf limit and seed; a forest of T trees is the mean of its first T."""
    from sklearn.ensemble import RandomForestRegressor

    leaves = leaf_grid(config.n, config.num_leaves)
    shape = (len(config.seeds), leaves.size, config.max_trees)
    test_error, test_loss, train_error, train_loss = (np.empty(shape) for _ in range(4))
    leaves_grown = np.empty(shape[:2])
    counts = np.arange(1, config.max_trees + 1)[:, None, None]
    for s, seed in enumerate(config.seeds):
        data = load_split(config.dataset, config.n, config.n_test, seed, config.noise, config.data_root)
        Y = one_hot(data["y"])
        for j, max_leaves in enumerate(leaves):
            forest = RandomForestRegressor(n_estimators=config.max_trees, max_leaf_nodes=int(max_leaves),
                                           max_features=config.max_features, bootstrap=False, random_state=seed,
                                           n_jobs=1).fit(data["X"], Y)
            for X, labels, error, loss in ((data["X_test"], data["y_test"], test_error, test_loss),
                                           (data["X"], data["y"], train_error, train_loss)):
                per_tree = np.stack([tree.predict(X).reshape(X.shape[0], NUM_CLASSES) for tree in forest.estimators_])
                error[s, j], loss[s, j] = _scores(np.cumsum(per_tree, axis=0) / counts, labels)
            leaves_grown[s, j] = np.mean([tree.get_n_leaves() for tree in forest.estimators_])
    return TreesGrid(config.n, leaves, counts.ravel(), leaves_grown, test_error, test_loss, train_error, train_loss)


_METRICS = ("test_error", "test_loss", "train_error", "train_loss")


def belkin_path(result: TreesGrid) -> dict[str, np.ndarray]:
    """Belkin et al.'s axis: one tree with leaves up to n, then 2 .. max_trees fully grown trees.

    `parameters` = leaf limit x trees (their N_leaf^max x N_tree); `leaves_total` counts leaves actually grown. The
    threshold (one tree interpolates) is at parameters = n. Metrics have shape (seeds, points).
    """
    L, T = result.leaves.size, result.trees.size
    rows = np.concatenate([np.arange(L), np.full(T - 1, L - 1)])
    cols = np.concatenate([np.zeros(L, dtype=int), np.arange(1, T)])
    path = {name: getattr(result, name)[:, rows, cols] for name in _METRICS}
    path.update(leaves=result.leaves[rows], trees=result.trees[cols],
                parameters=result.leaves[rows] * result.trees[cols],
                leaves_total=result.leaves_grown[:, rows] * result.trees[cols])
    return path


def fixed_trees(result: TreesGrid, trees: int) -> dict[str, np.ndarray]:
    """The critique's first view: forests of `trees` trees, leaf limit varied from 2 to n."""
    if not 1 <= trees <= result.trees[-1]:
        raise ValueError(f"trees must be in [1, {result.trees[-1]}] (the forest sizes fitted); got {trees!r}")
    view = {name: getattr(result, name)[:, :, trees - 1] for name in _METRICS}
    view.update(leaves=result.leaves, trees=np.full(result.leaves.size, trees), parameters=result.leaves * trees)
    return view


def fixed_leaves(result: TreesGrid, leaves: int | None = None) -> dict[str, np.ndarray]:
    """The critique's second view: the leaf limit fixed (fully grown by default), the number of trees varied."""
    leaves = int(result.leaves[-1]) if leaves is None else leaves
    if leaves not in result.leaves:
        raise ValueError(f"leaves must be one of the leaf limits fitted, {result.leaves.tolist()}; got {leaves!r}")
    j = int(np.flatnonzero(result.leaves == leaves)[0])
    view = {name: getattr(result, name)[:, j, :] for name in _METRICS}
    view.update(leaves=np.full(result.trees.size, leaves), trees=result.trees, parameters=leaves * result.trees)
    return view


def with_overrides(config: TreesConfig, **changes: object) -> TreesConfig:
    """A copy of `config` with some fields changed (validated like any config)."""
    return replace(config, **changes)
