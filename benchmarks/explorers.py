"""Latency of the chapters' explorers: what a reader waits for after moving one slider.

A move recomputes the state, updates the view's artists in place and renders the PNG the image widget shows
(`explorer_core.LiveImage`: the content over a saved frame, the frame redrawn only when limits or ticks change). Two
kinds of move per slider, each starting from caches that hold only what the previous setting computed:

- a *drag*: the slider dragged step by step from the start (ipywidgets sends every intermediate value), timed per
  step, with the share of steps that redrew the frame;
- a *jump*: one click far along the slider, the same jump as the baseline;
- a *warm drag*: the same drag after the explorer's background warm-up (`neighbours`, run here to completion and
  timed) has computed the other slider values, as it does while a reader pauses after a first move;
- a *paced drag*: the drag as the live explorer runs it, from cold caches: the explorer shown (which warms the
  `WARM_AT_DISPLAY` settings nearest the start), then the moves, `--pause` seconds apart and the first `--pause`
  seconds after the display (a reader's hand, not a script), with the warm-up running in a background thread after
  every move.

The baseline is what the explorers did before: build a new figure for the jump's setting and render all of it.
Prints medians over repeats, the compute alone, and the ratio to the baseline.

    python benchmarks/explorers.py [--repeats 5] [--only 'chapter 1']
"""

from __future__ import annotations

import argparse
import io

import matplotlib

matplotlib.use("Agg")

import time  # noqa: E402

import numpy as np  # noqa: E402

from ddd_utils.notebook.explorers import core as explorer_core  # noqa: E402
from ddd_utils.notebook.explorers import linear as linear_explorers
from ddd_utils.notebook.explorers import polynomial as polynomial_explorers
from ddd_utils.notebook.explorers import random_features as random_features_explorers
from ddd_utils.notebook.prefetch import Prefetcher  # noqa: E402

# Per explorer: its state function, view, caches, warm-up tasks, a starting setting and, per slider, the eight
# values a drag passes through (the last is also the jump's target).
EXPLORERS = {
    "chapter 1, polynomial": (polynomial_explorers.polynomial_state, polynomial_explorers.PolynomialView,
                              (polynomial_explorers._polynomial_errors,), polynomial_explorers.polynomial_neighbours,
                              {"n": 16, "noise": 0.1, "num_features": 64},
                              {"n": range(17, 25), "noise": np.round(np.arange(0.11, 0.19, 0.01), 2),
                               "num_features": range(63, 55, -1)}),
    "chapter 2, linear regression": (linear_explorers.linear_state, linear_explorers.LinearView,
                                     (linear_explorers._linear_samplewise, linear_explorers._linear_modelwise),
                                     linear_explorers.linear_neighbours,
                                     {"n": 50, "p": 50, "noise": 0.25},
                                     {"n": range(49, 41, -1), "p": range(51, 59),
                                      "noise": np.round(np.arange(0.3, 0.7, 0.05), 2)}),
    "chapter 3, random features": (random_features_explorers.random_features_state,
                                   random_features_explorers.RandomFeaturesView,
                                   (random_features_explorers._random_features_curve,),
                                   random_features_explorers.random_features_neighbours,
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


def drag(live: explorer_core.LiveImage, state_of, caches, start: dict, slider: str, values) -> tuple[list[float], int]:
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


def jump(live: explorer_core.LiveImage, state_of, caches, start: dict, setting: dict) -> float:
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
    view_class(state_of(**setting), managed=False).fig.savefig(io.BytesIO(), format="png",
                                                               dpi=explorer_core.EXPLORER_DPI)
    return time.perf_counter() - start_time


def warm_up(state_of, caches, neighbours, start: dict) -> float:
    """Run the explorer's warm-up from `start` to completion on empty caches; its seconds."""
    clear(caches)
    state_of(**start)
    start_time = time.perf_counter()
    for task in neighbours(**start):
        task()
    return time.perf_counter() - start_time


def warm_drag(live: explorer_core.LiveImage, state_of, start: dict, slider: str, values) -> list[float]:
    """Seconds per step of a drag through `values` with the caches the warm-up filled."""
    live.png(state_of(**start))
    seconds = []
    for value in values:
        start_time = time.perf_counter()
        live.png(state_of(**{**start, slider: plain(value)}))
        seconds.append(time.perf_counter() - start_time)
    return seconds


def paced_drag(live: explorer_core.LiveImage, state_of, caches, neighbours, start: dict, slider: str, values,
               pause: float) -> list[float]:
    """Seconds per step of a drag from cold caches with the explorer's background warm-up running, `pause` seconds
    between the display and the first move and between moves (as `explorer_core.explorer` does it: the settings nearest
    the start warmed at display, the warm-up restarted after each move)."""
    clear(caches)
    live.png(state_of(**start))
    prefetcher, seconds = Prefetcher(), []
    prefetcher.replace(neighbours(**start)[:explorer_core.WARM_AT_DISPLAY])
    time.sleep(pause)
    for value in values:
        setting = {**start, slider: plain(value)}
        start_time = time.perf_counter()
        with prefetcher.paused():
            live.png(state_of(**setting))
        seconds.append(time.perf_counter() - start_time)
        prefetcher.replace(neighbours(moved=slider, direction=int(np.sign(plain(values[-1]) - plain(values[0]))),
                                      **setting))
        time.sleep(pause)
    prefetcher.replace([])
    prefetcher.wait()
    return seconds


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
    parser.add_argument("--pause", type=float, default=0.15, help="seconds between the moves of a paced drag")
    parser.add_argument("--only", default="", help="time only the explorers whose name contains this, e.g. 'chapter 1'")
    args = parser.parse_args()
    for name, (state_of, view_class, caches, neighbours, start, drags) in EXPLORERS.items():
        if args.only not in name:
            continue
        for slider, values in drags.items():
            values = list(values)
            steps, redraws = [], 0
            for _ in range(args.repeats):
                live = explorer_core.LiveImage(view_class(state_of(**start), managed=False))
                seconds, frames = drag(live, state_of, caches, start, slider, values)
                steps += seconds
                redraws += frames
            target = {**start, slider: plain(values[-1])}
            live = explorer_core.LiveImage(view_class(state_of(**start), managed=False))
            ours = float(np.median([jump(live, state_of, caches, start, target) for _ in range(args.repeats)]))
            baseline = float(np.median([jump_with_new_figure(view_class, state_of, caches, start, target)
                                        for _ in range(args.repeats)]))
            compute = float(np.median([compute_only(state_of, caches, start, target) for _ in range(args.repeats)]))
            print(f"{name}, {slider}: drag {values[0]}..{values[-1]}: {np.median(steps) * 1e3:.0f} ms per step "
                  f"(frame redrawn in {redraws}/{len(steps)} steps); jump to {values[-1]}: {ours * 1e3:.0f} ms "
                  f"(compute {compute * 1e3:.0f} ms), {baseline * 1e3:.0f} ms with a new figure: "
                  f"{baseline / ours:.2f}x", flush=True)
        seconds = warm_up(state_of, caches, neighbours, start)
        print(f"{name}: warm-up from the start setting {seconds:.1f} s (in the background after a first move)")
        for slider, values in drags.items():
            steps = []
            for _ in range(args.repeats):
                live = explorer_core.LiveImage(view_class(state_of(**start), managed=False))
                steps += warm_drag(live, state_of, start, slider, list(values))
            paced = []
            for _ in range(args.repeats):
                paced += paced_drag(explorer_core.LiveImage(view_class(state_of(**start), managed=False)), state_of,
                                    caches, neighbours, start, slider, list(values), args.pause)
            print(f"  after it, {slider}: {np.median(steps) * 1e3:.0f} ms per drag step; paced drag from cold "
                  f"caches ({args.pause:g} s between display and moves, warm-up in the background): median "
                  f"{np.median(paced) * 1e3:.0f} ms, slowest {np.max(paced) * 1e3:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
