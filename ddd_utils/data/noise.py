"""Label noise, in the two forms the papers draw it: a corrupted label is a uniformly random *wrong* class (Nakkiran
et al. 2019), or a uniformly random class out of all of them, which may be the right one (Greydanus's MNIST-1D
notebook: with probability 0.15 a label is redrawn, so about 0.15 x 9/10 = 13.5% end up wrong)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils._checks import check_positive_int, check_probability

NOISE_KINDS = ("wrong_class", "any_class")


def corrupt_labels(labels: ArrayLike, noise: float, num_classes: int, seed: int, kind: str = "wrong_class"
                   ) -> tuple[np.ndarray, np.ndarray]:
    """With probability `noise`, replace each label by a uniformly random incorrect class (`kind="wrong_class"`) or
    by a uniformly random class, possibly the same (`kind="any_class"`).

    Returns `(noisy_labels, corrupted_mask)`, the mask marking the labels that are now wrong. The draw is a pure
    function of (labels, noise, num_classes, seed, kind), so every model width in a sweep sees the same corrupted
    set; the mask lets chapters measure memorisation.
    """
    labels = np.asarray(labels)
    noise = check_probability("noise", noise)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind (of label noise) must be one of {NOISE_KINDS}; got {kind!r}")
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of class indices; got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, num_classes - 1] = [0, {num_classes - 1}]")
    rng = np.random.default_rng(seed)
    redrawn = rng.random(labels.size) < noise
    if kind == "wrong_class":
        # An offset in 1 .. num_classes-1 added modulo num_classes is uniform over the wrong classes.
        offsets = rng.integers(1, num_classes, size=labels.size)
        noisy = np.where(redrawn, (labels + offsets) % num_classes, labels)
    else:
        noisy = np.where(redrawn, rng.integers(0, num_classes, size=labels.size), labels)
    return noisy.astype(labels.dtype), noisy != labels
