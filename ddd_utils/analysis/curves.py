"""Read a double-descent curve: where its peak is and how low it gets on each side of the threshold.

Chapters print these numbers beside their figures instead of writing them into the prose, so the text never
claims what a run did not show.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

PRINT_WIDTH = 96  # characters of printed output that fit the book's code boxes without being cut


@dataclass(frozen=True)
class CurveSummary:
    peak_at: float          # x of the largest median error between the best points below and above the threshold
    peak_error: float
    best_below_at: float    # x with the smallest median error below the threshold
    best_below_error: float
    best_above_at: float    # x with the smallest median error above the threshold
    best_above_error: float
    last_at: float          # the largest x of the sweep
    last_error: float

    def __str__(self) -> str:
        return wrapped(f"peak: {self.peak_error:.3g} at {self.peak_at:g}; best below the threshold: "
                       f"{self.best_below_error:.3g} at {self.best_below_at:g}; best above: "
                       f"{self.best_above_error:.3g} at {self.best_above_at:g}; at the largest size "
                       f"({self.last_at:g}): {self.last_error:.3g}")


def wrapped(text: str, indent: str = "  ") -> str:
    """`text` broken into lines of at most PRINT_WIDTH characters, continuation lines indented; runs of whitespace
    inside it (an already wrapped text, say) become one space, a leading indent is kept."""
    lead = text[:len(text) - len(text.lstrip())]
    return textwrap.fill(lead + " ".join(text.split()), PRINT_WIDTH, subsequent_indent=indent,
                         break_on_hyphens=False)


def series_text(label: str, xs: ArrayLike, values: ArrayLike, digits: int = 3) -> str:
    """"label: x1: v1, x2: v2, ..." for printing a curve's values beside its figure, wrapped to fit the page."""
    return wrapped(f"{label}: " + ", ".join(f"{x:g}: {v:.{digits}f}" for x, v in zip(xs, values, strict=True)))


def describe_curve(x: ArrayLike, errors: ArrayLike, threshold: float) -> CurveSummary:
    """Summarise `errors` (shape (trials, len(x))) by its median over trials, split at `threshold` on the x axis.

    The peak is searched between the best point below the threshold and the best point above it, so an underfitting
    left end (small models, high error) is not mistaken for the double-descent peak.
    """
    x = np.asarray(x, dtype=float)
    median = np.median(np.asarray(errors, dtype=float).reshape(-1, x.size), axis=0)
    below, above = x < threshold, x > threshold
    if not below.any() or not above.any():
        raise ValueError(f"threshold must lie strictly inside the range of x [{x.min():g}, {x.max():g}]; "
                         f"got {threshold!r}")
    i_below = np.flatnonzero(below)[np.argmin(median[below])]
    i_above = np.flatnonzero(above)[np.argmin(median[above])]
    peak = i_below + int(np.argmax(median[i_below:i_above + 1]))
    return CurveSummary(x[peak], median[peak], x[i_below], median[i_below], x[i_above], median[i_above],
                        x[-1], median[-1])


def first_reached(xs: ArrayLike, values: ArrayLike, level: float) -> float:
    """The first of `xs` at which `values` reaches `level` or more (nan if it never does): when a training run
    first fits, or first generalises."""
    reached = np.flatnonzero(np.asarray(values) >= level)
    return float(np.asarray(xs)[reached[0]]) if reached.size else float("nan")


@dataclass(frozen=True)
class Bump:
    """A rise that falls again (a double descent's bump), read off one curve: its height and the three points."""

    height: float  # the smaller of the rise from the lowest point before the peak and the fall to the lowest after
    before: int    # index of the lowest point before the peak
    peak: int      # index of the peak
    after: int     # index of the lowest point after the peak


def locate_bump(values: ArrayLike) -> Bump:
    """The largest bump of `values`: at each point the smaller of its excess over the lowest value before it and
    over the lowest value after it, at its largest. Height 0 for a curve that only falls, or falls and then only
    rises (plain overfitting), with the three indices all at that curve's lowest point then."""
    values = np.asarray(values, dtype=np.float64)
    excess = np.minimum(values - np.minimum.accumulate(values),
                        values - np.minimum.accumulate(values[::-1])[::-1])
    peak = int(np.argmax(excess))
    if excess[peak] <= 0:
        peak = int(np.argmin(values))
    return Bump(float(max(excess[peak], 0.0)), int(np.argmin(values[:peak + 1])), peak,
                peak + int(np.argmin(values[peak:])))


def bump(values: ArrayLike) -> float:
    """The height of the largest bump of `values` (`locate_bump`): 0 for a curve with no second descent."""
    return locate_bump(values).height


FIRST_DESCENT_MARGIN = 0.05  # within 5 points of a run's lowest test error, its first descent is over


def late_bump(values: ArrayLike, margin: float = FIRST_DESCENT_MARGIN) -> Bump:
    """The largest bump of a training curve after its first descent (epoch-wise double descent's rise and second
    fall): `locate_bump` from the first point within `margin` of the curve's lowest value, so that wiggles on the
    way down are not read as a second descent. Indices are into the whole curve."""
    values = np.asarray(values, dtype=np.float64)
    start = int(np.flatnonzero(values <= values.min() + margin)[0])
    shape = locate_bump(values[start:])
    return Bump(shape.height, start + shape.before, start + shape.peak, start + shape.after)


def bump_text(epochs: ArrayLike, values: ArrayLike, shape: Bump) -> str:
    """One line for a bump on a training curve: its low, its top and the low after it with their epochs, its
    height in points, and the curve's last value."""
    return (f"{values[shape.before]:.3f} at epoch {epochs[shape.before]}, up to {values[shape.peak]:.3f} at "
            f"{epochs[shape.peak]}, back to {values[shape.after]:.3f} at {epochs[shape.after]} (bump "
            f"{100 * shape.height:.1f} points); last {values[-1]:.3f}")
