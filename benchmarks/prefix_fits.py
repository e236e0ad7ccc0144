"""Benchmark: `ddd_utils.linear.prefix_fits.row_prefix_fits` against a batched SVD solve of each prefix.

Chapter 2's sample-wise sweep fits every trial on the first n rows for each n in a grid up to 4d. Both methods
compute the same min-norm fits (lam = 0) for all trials at once; the baseline is the chapter's own SVD path (a
batched numpy.linalg.svd of each prefix, which its ablations use to filter singular values). Prints each median
time, the ratio, and the largest relative difference of the fits, overall and at n = d - 1, d, d + 1.

    python benchmarks/prefix_fits.py [--d 50 100] [--trials 200] [--grid-points 60] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import median_time

from ddd_utils.experiments import linear_regression
from ddd_utils.linear.prefix_fits import row_prefix_fits


def svd_per_prefix(X: np.ndarray, targets: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """The baseline: the chapter's min-norm fits from a batched SVD of each prefix (its ablations' path, with no
    ablation), of the two targets, stacked like `row_prefix_fits`'s."""
    config = linear_regression.LinearConfig(d=X.shape[-1])
    zero_truth = np.zeros((X.shape[0], X.shape[-1]))  # so the "signal error" is the signal target's fit itself
    fits = linear_regression._filtered_fits(X, targets[..., 0], targets[..., 1], zero_truth, sizes, 0.0, None, config)
    return [np.stack(pair, axis=-1) for pair in zip(*fits, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, nargs="+", default=[50, 100], help="input dimensions (threshold at n = d)")
    parser.add_argument("--trials", type=int, default=200, help="designs solved at once")
    parser.add_argument("--grid-points", type=int, default=60, help="sizes n in [1, 4d], plus every n within 3 of d")
    parser.add_argument("--repeats", type=int, default=3, help="timings per method (median reported)")
    args = parser.parse_args()
    for d in args.d:
        rng = np.random.default_rng(d)
        sizes = linear_regression.size_grid(d, 4 * d, args.grid_points)  # to n = 4d, as the chapter's max_ratio
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
