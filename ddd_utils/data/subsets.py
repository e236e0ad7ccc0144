"""Training subsets for sample-wise sweeps: nested (a smaller set is a prefix of a larger one) and stratified."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def nested_stratified_order(labels: ArrayLike, seed: int = 0) -> np.ndarray:
    """An order of the indices of `labels` whose every prefix holds each class as evenly as the classes allow:
    each class's indices are shuffled (by `seed`), then dealt out one class at a time in turn. Training on the
    first n of this order gives nested, class-balanced subsets, so that a sample-wise curve varies n and nothing
    else."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D array of integer classes; got {labels.dtype}, "
                         f"shape {labels.shape}")
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    # Rank of each index within its class, then deal by rank: all first members, all second members, ...
    ranks = np.concatenate([np.arange(len(indices)) for indices in per_class])
    classes = np.concatenate([np.full(len(indices), c) for c, indices in enumerate(per_class)])
    order = np.lexsort((classes, ranks))
    return np.concatenate(per_class)[order]
