"""Benchmark: `ddd_utils.linear.prefix_fits.row_prefix_fits` against a batched SVD solve of each prefix.

Chapter 2's sample-wise sweep fits every trial on the first n rows for each n in a grid up to 4d. Both methods
compute the same min-norm fits (lam = 0) for all trials at once; the baseline factorises each prefix with
numpy.linalg.svd, as `solvers.min_norm` does for one design. Prints each median time, the ratio, and the largest
relative difference of the fits, overall and at n = d - 1, d, d + 1.

    python benchmarks/prefix_fits.py [--d 50 100] [--trials 200] [--grid-points 60] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import median_time

from ddd_utils.experiments.linear_regression import size_grid
from ddd_utils.linear.prefix_fits import row_prefix_fits


def svd_per_prefix(X: np.ndarray, targets: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """The baseline: min-norm fits of each prefix from its own batched SVD, with solvers.min_norm's rank cutoff."""
    fits = []
    for n in sizes:
        U, s, Vt = np.linalg.svd(X[:, :n], full_matrices=False)
        keep = s > max(n, X.shape[-1]) * np.finfo(np.float64).eps * s[:, :1]
        inverse = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        fits.append(Vt.transpose(0, 2, 1) @ (inverse[..., None] * (U.transpose(0, 2, 1) @ targets[:, :n])))
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, nargs="+", default=[50, 100], help="input dimensions (threshold at n = d)")
    parser.add_argument("--trials", type=int, default=200, help="designs solved at once")
    parser.add_argument("--grid-points", type=int, default=60, help="sizes n in [1, 4d], plus every n within 3 of d")
    parser.add_argument("--repeats", type=int, default=3, help="timings per method (median reported)")
    args = parser.parse_args()
    for d in args.d:
        rng = np.random.default_rng(d)
        sizes = size_grid(d, 4 * d, args.grid_points)  # to n = 4d, as the chapter's max_ratio
        X = rng.standard_normal((args.trials, 4 * d, d))
        targets = rng.standard_normal((args.trials, 4 * d, 2))  # a signal and a noise target, as in the chapter
        ours, fast = median_time(row_prefix_fits, args.repeats, X, targets, sizes, 0.0)
        theirs, slow = median_time(svd_per_prefix, args.repeats, X, targets, sizes)
        relative = np.array([np.max(np.abs(a - b)) / np.max(np.abs(b)) for a, b in zip(fast, slow, strict=True)])
        near = relative[np.isin(sizes, [d - 1, d, d + 1])].max()
        print(f"d = {d}: {args.trials} trials, {sizes.size} sizes n from {sizes[0]} to {sizes[-1]}")
        print(f"  row_prefix_fits   {ours:8.3f} s")
        print(f"  SVD per prefix    {theirs:8.3f} s   ratio {theirs / ours:6.1f}x   largest relative difference "
              f"{relative.max():.1e} (at n = d - 1, d, d + 1: {near:.1e})")


if __name__ == "__main__":
    main()
