"""Benchmark: the nested sweep solver behind chapter 1 and its explorer against per-p numpy.linalg.pinv.

Times one test-error curve (every p of the grid, one training set per trial) both ways in the same run, checks that
they agree, and times one explorer update (recompute + draw). Prints medians over repeats and the speed-up ratio.

    python benchmarks/polynomial_sweep.py [--preset cpu] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ddd_utils import widgets  # noqa: E402
from ddd_utils.data import sample_regression  # noqa: E402
from ddd_utils.experiments import polynomial  # noqa: E402
from ddd_utils.features import design_matrix  # noqa: E402


def pinv_curve(config: polynomial.PolynomialConfig) -> np.ndarray:
    """The baseline: for every trial and p, numpy's float64 pinv of the first p columns, then predict."""
    grid = polynomial.feature_grid(config.n, config.max_features, config.num_grid)
    x_test, f_test = polynomial.test_points(config, 0)
    X_test = design_matrix("legendre", x_test, int(grid[-1]))
    errors = np.empty((config.trials, grid.size))
    for trial in range(config.trials):
        x, y = sample_regression(config.target, config.n, config.noise, seed=(0, 0, trial))
        X = design_matrix("legendre", x, int(grid[-1]))
        for j, p in enumerate(grid):
            w = np.linalg.pinv(X[:, :p]) @ y
            errors[trial, j] = np.mean((X_test[:, :p] @ w - f_test) ** 2)
    return errors


def median_seconds(function, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu", choices=sorted(polynomial.PRESETS))
    parser.add_argument("--trials", type=int, default=10, help="training sets per curve (default 10)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = polynomial.with_overrides(polynomial.PRESETS[args.preset], trials=args.trials)

    ours, swept = median_seconds(lambda: polynomial.sweep(config).test_error, args.repeats)
    base, baseline = median_seconds(lambda: pinv_curve(config), args.repeats)
    grid = polynomial.feature_grid(config.n, config.max_features, config.num_grid)
    relative = np.abs(swept - baseline) / baseline
    print(f"curve: n = {config.n}, {grid.size} values of p up to {grid[-1]}, {config.trials} trials")
    print(f"  ddd_utils sweep (nested Gram updates): {ours * 1e3:9.1f} ms (median of {args.repeats})")
    print(f"  per-p numpy.linalg.pinv baseline:      {base * 1e3:9.1f} ms (median of {args.repeats})")
    print(f"  speed-up: {base / ours:.1f}x; largest relative difference in test MSE: {relative.max():.2e} "
          f"(median {np.median(relative):.2e})")

    def explorer_update(n: int) -> None:
        widgets._error_curve.cache_clear()
        plt.close(widgets.draw_polynomial_state(widgets.polynomial_state(n=n, noise=0.1, num_features=64)))

    update, _ = median_seconds(lambda: explorer_update(16), args.repeats)
    print(f"explorer update (new n: recompute the curve and draw both panels): {update * 1e3:.0f} ms median")


if __name__ == "__main__":
    main()
