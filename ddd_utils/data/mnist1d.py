"""MNIST-1D (Greydanus, 2020), generated offline: a small 10-class problem on which double descent shows in minutes."""

from __future__ import annotations

import copy
import functools
import random

import mnist1d.data
import numpy as np

from ddd_utils._checks import check_positive_int

NUM_CLASSES = 10


def make_mnist1d(num_samples: int = 5000, seed: int = 42, train_split: float = 0.8) -> dict[str, np.ndarray]:
    """Generate MNIST-1D: x_train / x_test float32 of shape (n, 40), y_train / y_test int64 labels in 0..9.

    The defaults are the published setting (4000 train, 1000 test). `num_samples` is rounded down to a multiple of 10
    (the generator makes equally many of each digit). Generation leaves the global `random` and `np.random` states
    untouched, and is cached in memory; every call returns fresh copies, so callers may modify them freely.
    """
    num_samples = check_positive_int("num_samples", num_samples, minimum=NUM_CLASSES)
    seed = check_positive_int("seed", seed, minimum=0)
    if seed >= 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1] (np.random.seed's range); got {seed!r}")
    train_split = float(train_split)
    if not 0.0 < train_split < 1.0:  # also rejects NaN
        raise ValueError(f"train_split must be in (0, 1) (the fraction of samples for training); got {train_split!r}")
    total = NUM_CLASSES * (num_samples // NUM_CLASSES)
    num_train = int(total * train_split)  # the split the generator itself makes
    if num_train == 0 or num_train == total:
        raise ValueError(
            f"train_split={train_split!r} with num_samples={num_samples} leaves an empty train or test set "
            f"({num_train} train of {total}); raise num_samples or move train_split away from 0 and 1"
        )
    return {key: value.copy() for key, value in _generate(num_samples, seed, train_split).items()}


@functools.lru_cache(maxsize=8)
def _generate(num_samples: int, seed: int, train_split: float) -> dict[str, np.ndarray]:
    """Run the reference generator with its global seeding undone afterwards; cached, so never hand out these arrays."""
    args = copy.deepcopy(mnist1d.data.get_dataset_args())
    args.num_samples, args.seed, args.train_split = num_samples, seed, train_split
    # make_dataset calls random.seed and np.random.seed: restore both so a chapter's own draws are unaffected.
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = mnist1d.data.make_dataset(args)  # never get_dataset, which downloads
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    arrays = {
        "x_train": data["x"].astype(np.float32),
        "y_train": data["y"].astype(np.int64),
        "x_test": data["x_test"].astype(np.float32),
        "y_test": data["y_test"].astype(np.int64),
    }
    for array in arrays.values():
        array.flags.writeable = False
    return arrays
