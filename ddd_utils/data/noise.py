"""Label noise as in Nakkiran et al. (2019): a corrupted label is a uniformly random *wrong* class."""

from __future__ import annotations

import numpy as np

from ddd_utils._checks import check_positive_int, check_probability


def corrupt_labels(labels, noise: float, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Replace each label with probability `noise` by a uniformly random incorrect class.

    Returns `(noisy_labels, corrupted_mask)`. The draw is a pure function of (labels, noise, num_classes, seed), so
    every model width in a sweep sees the same corrupted set; the mask lets chapters measure memorisation.
    """
    labels = np.asarray(labels)
    noise = check_probability("noise", noise)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of class indices; got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, num_classes - 1] = [0, {num_classes - 1}]")
    rng = np.random.default_rng(seed)
    corrupted = rng.random(labels.size) < noise
    # An offset in 1 .. num_classes-1 added modulo num_classes is uniform over the wrong classes.
    offsets = rng.integers(1, num_classes, size=labels.size)
    noisy = np.where(corrupted, (labels + offsets) % num_classes, labels)
    return noisy.astype(labels.dtype), corrupted
