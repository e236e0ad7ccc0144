"""Latency of the chapters' explorers: what a reader waits for after moving one slider.

A move recomputes the state, updates the view's artists in place and renders the PNG the image widget shows
(`widgets.LiveImage`: the content over a saved frame, the frame redrawn only when limits or ticks change). Two
kinds of move per slider, each starting from caches that hold only what the previous setting computed:

- a *drag*: the slider dragged step by step from the start (ipywidgets sends every intermediate value), timed per
  step, with the share of steps that redrew the frame;
- a *jump*: one click far along the slider, the same jump as the baseline.

The baseline is what the explorers did before: build a new figure for the jump's setting and render all of it.
Prints medians over repeats, the compute alone, and the ratio to the baseline.

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

# Per explorer: its state function, view, caches, a starting setting and, per slider, the eight values a drag passes
# through (the last is also the jump's target).
EXPLORERS = {
    "chapter 1, polynomial": (widgets.polynomial_state, widgets.PolynomialView, (widgets._error_curve,),
                              {"n": 16, "noise": 0.1, "num_features": 64},
                              {"n": range(17, 25), "noise": np.round(np.arange(0.11, 0.19, 0.01), 2),
                               "num_features": range(63, 55, -1)}),
    "chapter 2, linear regression": (widgets.linear_state, widgets.LinearView,
                                     (widgets._linear_samplewise, widgets._linear_modelwise),
                                     {"n": 50, "p": 50, "noise": 0.25},
                                     {"n": range(49, 41, -1), "p": range(51, 59),
                                      "noise": np.round(np.arange(0.3, 0.7, 0.05), 2)}),
    "chapter 3, random features": (widgets.random_features_state, widgets.RandomFeaturesView,
                                   (widgets._random_features_curve,),
                                   {"num_features": 100, "noise": 0.1, "n": 100},
                                   {"num_features": range(101, 109), "noise": np.round(np.arange(0.15, 0.5, 0.05), 2),
                                    "n": range(90, 10, -10)}),
}


def plain(value):
    """A slider value as the explorer passes it: numpy scalars (from np.arange) as Python numbers."""
    return value.item() if hasattr(value, "item") else value


def clear(caches) -> None:
    for cache in caches:
        cache.cache_clear()


def drag(live: widgets.LiveImage, state_of, caches, start: dict, slider: str, values) -> tuple[list[float], int]:
    """Seconds per step of a drag through `values`, each step from caches holding only the previous setting's
    results; and how many steps redrew the frame."""
    live.png(state_of(**start))
    seconds, frames, previous = [], live.frame_draws, start
    for value in values:
        setting = {**start, slider: plain(value)}
        clear(caches)
        state_of(**previous)
        start_time = time.perf_counter()
        live.png(state_of(**setting))
        seconds.append(time.perf_counter() - start_time)
        previous = setting
    return seconds, live.frame_draws - frames


def jump(live: widgets.LiveImage, state_of, caches, start: dict, setting: dict) -> float:
    """Seconds for one jump from `start` to `setting`: what the start needed is cached, what the new setting needs
    is not; then recompute, update, render."""
    clear(caches)
    live.png(state_of(**start))
    start_time = time.perf_counter()
    live.png(state_of(**setting))
    return time.perf_counter() - start_time


def jump_with_new_figure(view_class, state_of, caches, start: dict, setting: dict) -> float:
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
    for name, (state_of, view_class, caches, start, drags) in EXPLORERS.items():
        for slider, values in drags.items():
            values = list(values)
            steps, redraws = [], 0
            for _ in range(args.repeats):
                live = widgets.LiveImage(view_class(state_of(**start), managed=False))
                seconds, frames = drag(live, state_of, caches, start, slider, values)
                steps += seconds
                redraws += frames
            target = {**start, slider: plain(values[-1])}
            live = widgets.LiveImage(view_class(state_of(**start), managed=False))
            ours = float(np.median([jump(live, state_of, caches, start, target) for _ in range(args.repeats)]))
            baseline = float(np.median([jump_with_new_figure(view_class, state_of, caches, start, target)
                                        for _ in range(args.repeats)]))
            compute = float(np.median([compute_only(state_of, caches, start, target) for _ in range(args.repeats)]))
            print(f"{name}, {slider}: drag {values[0]}..{values[-1]}: {np.median(steps) * 1e3:.0f} ms per step "
                  f"(frame redrawn in {redraws}/{len(steps)} steps); jump to {values[-1]}: {ours * 1e3:.0f} ms "
                  f"(compute {compute * 1e3:.0f} ms), {baseline * 1e3:.0f} ms with a new figure: "
                  f"{baseline / ours:.2f}x", flush=True)


if __name__ == "__main__":
    main()
