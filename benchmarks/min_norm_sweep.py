"""Benchmark: `ddd_utils.linear.solvers.min_norm_sweep` against per-p numpy.linalg.pinv and per-p numpy.linalg.lstsq.

For n = 1000 and 2000 Gaussian samples and p from n/20 up to 2n (p = n - 1, n, n + 1 included), all three compute
the test MSE of the minimum-norm fit on the first p columns. Prints each time, the ratios, and the largest relative
difference in test MSE against pinv, overall and at p = n - 1, n, n + 1.

    python benchmarks/min_norm_sweep.py [--sizes 1000 2000] [--num-p 40] [--repeats 1]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import median_time

from ddd_utils.linear.solvers import min_norm_sweep


def per_p(solve, X, y, X_test, y_test, ps) -> np.ndarray:
    """The baseline: refit from scratch for each p with `solve(X_p, y) -> w`."""
    return np.array([np.mean((X_test[:, :p] @ solve(X[:, :p], y) - y_test) ** 2) for p in ps])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000], help="training-set sizes n")
    parser.add_argument("--num-p", type=int, default=40, help="evenly spaced p values in [n/20, 2n]")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1, help="timings per method (median reported)")
    args = parser.parse_args()
    solvers = {
        "pinv": lambda Xp, y: np.linalg.pinv(Xp) @ y,
        "lstsq": lambda Xp, y: np.linalg.lstsq(Xp, y, rcond=None)[0],
    }
    for n in args.sizes:
        rng = np.random.default_rng(n)
        d = 2 * n
        w_true = rng.standard_normal(d) / np.sqrt(d)
        X, X_test = rng.standard_normal((n, d)), rng.standard_normal((args.n_test, d))
        y = X @ w_true + 0.5 * rng.standard_normal(n)
        y_test = X_test @ w_true
        ps = np.union1d(np.linspace(n // 20, d, args.num_p).astype(int), [n - 1, n, n + 1])
        ours, fit = median_time(min_norm_sweep, args.repeats, X, y, X_test, y_test, ps)
        fast = fit.test_mse
        print(f"n = {n}: {ps.size} values of p from {ps[0]} to {ps[-1]}, n_test = {args.n_test}")
        print(f"  min_norm_sweep      {ours:8.2f} s")
        for name, solve in solvers.items():
            seconds, slow = median_time(per_p, args.repeats, solve, X, y, X_test, y_test, ps)
            relative = np.abs(fast - slow) / slow
            near = relative[np.isin(ps, [n - 1, n, n + 1])].max()
            print(f"  per-p {name:<13} {seconds:8.2f} s   ratio {seconds / ours:6.1f}x   largest relative "
                  f"difference {relative.max():.1e} (at p = n - 1, n, n + 1: {near:.1e})")


if __name__ == "__main__":
    main()
