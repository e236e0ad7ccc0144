"""Latency of the chapters' explorers: one slider move that recomputes the curves and draws the figure.

A slider move must feel live (well under a second). Each update is timed with the explorer's cache cleared, so it
includes the full recomputation; prints the median over repeats for each explorer.

    python benchmarks/explorers.py [--repeats 5]
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from timing import median_time  # noqa: E402

from ddd_utils import widgets  # noqa: E402


def polynomial_update() -> None:
    widgets._error_curve.cache_clear()
    plt.close(widgets.draw_polynomial_state(widgets.polynomial_state(n=16, noise=0.1, num_features=64)))


def linear_update() -> None:
    widgets._linear_curves.cache_clear()
    plt.close(widgets.draw_linear_state(widgets.linear_state(n=50, p=50, noise=0.25)))


def random_features_update() -> None:
    widgets._random_features_curve.cache_clear()
    plt.close(widgets.draw_random_features_state(widgets.random_features_state(num_features=100, noise=0.1, n=100)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name, update in (("chapter 1, polynomial explorer", polynomial_update),
                         ("chapter 2, linear-regression explorer", linear_update),
                         ("chapter 3, random-features explorer", random_features_update)):
        seconds, _ = median_time(update, args.repeats)
        print(f"{name}: {seconds * 1e3:.0f} ms per slider move (median of {args.repeats}, recompute + draw)")


if __name__ == "__main__":
    main()
