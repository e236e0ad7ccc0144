"""Train/test splits of handwritten digits as numpy arrays, with label noise: scikit-learn's 8 x 8 digits offline, or
MNIST through torchvision. The data of chapter 3's linear models and trees, and of chapter 8's decompositions."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.data.digits import digits
from ddd_utils.data.noise import corrupt_labels

DATASETS = ("digits", "mnist")
NUM_CLASSES = 10


def load_split(dataset: str, n: int, n_test: int, seed: int, noise: float = 0.0, data_root: str = "data"
               ) -> dict[str, np.ndarray]:
    """Training and test images (flattened, pixels in [0, 1]) with labels; training labels corrupted with `noise`.

    digits: one seeded permutation of the 1797 images, the first n_test for testing and the next n for training.
    mnist: n seeded images of the 60,000 training images and n_test of the 10,000 test images, read from
    data_root/MNIST/raw (downloaded there through torchvision when missing). The corrupted labels and their mask
    are a pure function of the training labels, noise and seed.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; got {dataset!r}")
    n, n_test = check_positive_int("n", n), check_positive_int("n_test", n_test)
    noise = check_probability("noise", noise)
    rng = np.random.default_rng((seed, 2))
    if dataset == "digits":
        images, labels = digits()
        if n_test >= labels.size:
            raise ValueError(f"n_test must be less than {labels.size} (the digits data set); got {n_test}")
        if n > labels.size - n_test:
            raise ValueError(f"n must be at most {labels.size - n_test} (digits has {labels.size} images, n_test = "
                             f"{n_test} of them held out); got {n}")
        order = rng.permutation(labels.size)
        test, train = order[:n_test], order[n_test:n_test + n]
        X, y, X_test, y_test = images[train], labels[train], images[test], labels[test]
    else:
        from ddd_utils.data.vision import load_mnist

        train_images, train_labels = load_mnist(data_root, train=True, download=True)
        test_images, test_labels = load_mnist(data_root, train=False, download=True)
        for name, wanted, have in (("n", n, train_labels.size), ("n_test", n_test, test_labels.size)):
            if wanted > have:
                raise ValueError(f"{name} must be at most {have} (the MNIST split's size); got {wanted}")
        train = rng.permutation(train_labels.size)[:n]
        test = rng.permutation(test_labels.size)[:n_test]
        X = train_images[train].reshape(n, -1) / 255.0
        X_test = test_images[test].reshape(n_test, -1) / 255.0
        y, y_test = train_labels[train], test_labels[test]
    noisy, corrupted = corrupt_labels(y, noise, NUM_CLASSES, seed)
    return {"X": X, "y": noisy, "y_clean": y, "corrupted": corrupted, "X_test": X_test, "y_test": y_test}


def one_hot(labels: ArrayLike) -> np.ndarray:
    """Targets of shape (m, 10): 1 at the label's class, 0 elsewhere."""
    return np.eye(NUM_CLASSES)[np.asarray(labels)]
