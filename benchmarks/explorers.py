"""Latency of the chapters' explorers: what a reader waits for after moving one slider.

A move recomputes the state (from caches holding only what the starting setting computed, as for a reader who
just arrived there), updates the view's
artists in place and renders the PNG the image widget shows (`widgets.LiveImage`: only the moving artists when the
move leaves the rest unchanged). The baseline is what the explorers did before: build a new figure for every move
and render all of it. Prints the median over repeats per slider, the compute alone, and the ratio to the baseline.

    python benchmarks/explorers.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io

import matplotlib

matplotlib.use("Agg")

import time  # noqa: E402

import numpy as np  # noqa: E402

from ddd_utils import widgets  # noqa: E402

# Per explorer: its state function, view, caches, a starting setting and, per slider, the value it moves to.
EXPLORERS = {
    "chapter 1, polynomial": (widgets.polynomial_state, widgets.PolynomialView, (widgets._error_curve,),
                              {"n": 16, "noise": 0.1, "num_features": 64},
                              {"n": 20, "noise": 0.2, "num_features": 16}),
    "chapter 2, linear regression": (widgets.linear_state, widgets.LinearView,
                                     (widgets._linear_samplewise, widgets._linear_modelwise),
                                     {"n": 50, "p": 50, "noise": 0.25}, {"n": 40, "p": 60, "noise": 0.5}),
    "chapter 3, random features": (widgets.random_features_state, widgets.RandomFeaturesView,
                                   (widgets._random_features_curve,),
                                   {"num_features": 100, "noise": 0.1, "n": 100},
                                   {"num_features": 300, "noise": 0.2, "n": 80}),
}


def clear(caches) -> None:
    for cache in caches:
        cache.cache_clear()


def move_in_place(live: widgets.LiveImage, state_of, caches, start: dict, setting: dict) -> float:
    """Seconds for one move from `start` to `setting` as the reader makes it: what the start needed is cached, what
    the new setting needs is not; then recompute, update, render."""
    clear(caches)
    live.png(state_of(**start))
    start_time = time.perf_counter()
    live.png(state_of(**setting))
    return time.perf_counter() - start_time


def move_with_new_figure(view_class, state_of, caches, start: dict, setting: dict) -> float:
    """The baseline, from the same caches: recompute, then a new figure for this setting, laid out and rendered
    whole."""
    clear(caches)
    state_of(**start)
    start_time = time.perf_counter()
    view_class(state_of(**setting), managed=False).fig.savefig(io.BytesIO(), format="png", dpi=widgets.EXPLORER_DPI)
    return time.perf_counter() - start_time


def compute_only(state_of, caches, start: dict, setting: dict) -> float:
    """Seconds to compute the state of `setting` from caches holding only the start's."""
    clear(caches)
    state_of(**start)
    start_time = time.perf_counter()
    state_of(**setting)
    return time.perf_counter() - start_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name, (state_of, view_class, caches, start, moves) in EXPLORERS.items():
        live = widgets.LiveImage(view_class(state_of(**start), managed=False))
        for slider, value in moves.items():
            setting = {**start, slider: value}
            ours = float(np.median([move_in_place(live, state_of, caches, start, setting)
                                    for _ in range(args.repeats)]))
            baseline = float(np.median([move_with_new_figure(view_class, state_of, caches, start, setting)
                                        for _ in range(args.repeats)]))
            compute = float(np.median([compute_only(state_of, caches, start, setting) for _ in range(args.repeats)]))
            print(f"{name}, move {slider} to {value}: {ours * 1e3:.0f} ms in place (compute {compute * 1e3:.0f} ms), "
                  f"{baseline * 1e3:.0f} ms with a new figure: {baseline / ours:.2f}x")


if __name__ == "__main__":
    main()
