"""The book's figure style for double-descent curves: a centre line over trials, a band for their spread, and the
interpolation threshold marked, on log axes where the quantities span decades."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

BAND_PERCENTILES = (25, 75)  # the shaded spread over trials: the interquartile range
THRESHOLD_STYLE = {"color": "0.35", "linestyle": "--", "linewidth": 1.0}


def use_book_style() -> None:
    """Matplotlib settings shared by every chapter (sizes chosen for the book's page width)."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 4.0), "figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False, "font.size": 10,
    })


def trial_summary(values, num_points: int, center: str = "mean", spread: str = "iqr"
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The centre line over trials of `values` (shape (trials, num_points)) and its band's lower and upper edges
    (None for one trial): `spread="iqr"` the interquartile range, `spread="se"` the mean +- 2 standard errors."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != num_points:
        raise ValueError(f"values must have shape (trials, len(x)) = (*, {num_points}); got {values.shape}")
    if center not in ("mean", "median"):
        raise ValueError(f"center must be 'mean' or 'median'; got {center!r}")
    if spread not in ("iqr", "se"):
        raise ValueError(f"spread must be 'iqr' or 'se'; got {spread!r}")
    middle = values.mean(axis=0) if center == "mean" else np.median(values, axis=0)
    if values.shape[0] == 1:
        return middle, None, None
    if spread == "iqr":
        low, high = np.percentile(values, BAND_PERCENTILES, axis=0)
    else:
        half_width = 2.0 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
        low, high = middle - half_width, middle + half_width
    return middle, low, high


def plot_trials(ax: Axes, x, values, label: str | None = None, color=None, center: str = "mean",
                spread: str = "iqr", **line_kwargs):
    """Plot the mean (or median) over trials of `values` (shape (trials, len(x))) with a band for the spread:
    `spread="iqr"` shades the interquartile range, `spread="se"` the mean +- 2 standard errors."""
    middle, low, high = trial_summary(values, len(x), center, spread)
    (line,) = ax.plot(x, middle, label=label, color=color, **line_kwargs)
    if low is not None:
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


class LiveTrials:
    """`plot_trials` whose data can be replaced in place, so that an explorer moves its curves without building
    a new figure (a band is kept even for one trial, drawn with zero width, so that every update has one)."""

    def __init__(self, ax: Axes, label: str | None = None, color=None, center: str = "mean", spread: str = "iqr",
                 **line_kwargs):
        self.center, self.spread = center, spread
        (self.line,) = ax.plot([], [], label=label, color=color, **line_kwargs)
        self.band = ax.fill_between([], [], [], color=self.line.get_color(), alpha=0.2, linewidth=0)

    def set(self, x, values) -> None:
        """Show the trials `values` (shape (trials, len(x))) against `x`."""
        middle, low, high = trial_summary(values, len(x), self.center, self.spread)
        self.line.set_data(x, middle)
        self.band.set_data(x, middle if low is None else low, middle if high is None else high)


def mark_threshold(ax: Axes, at: float, label: str = "interpolation threshold", **style) -> None:
    """A vertical dashed line where the model can first fit every training point (`style` overrides the look)."""
    ax.axvline(at, label=label, **{**THRESHOLD_STYLE, **style})


def width_sweep(ax: Axes, curves: dict, thresholds: dict[str, int | None]) -> None:
    """A model-wise sweep of classifiers: final test and training error against width (mean over seeds, band:
    the seeds' spread), with each named threshold width marked (the first dashed, the next dotted)."""
    plot_trials(ax, curves["widths"], curves["test_error"], label="test error", marker="o", markersize=3)
    plot_trials(ax, curves["widths"], curves["train_error"], label="train error (noisy labels)", marker="s",
                markersize=3)
    for (label, width), linestyle in zip(thresholds.items(), ("--", ":"), strict=False):
        if width is not None:
            mark_threshold(ax, width, label=f"{label} (width {width})", linestyle=linestyle)
    double_descent_axes(ax, "hidden units (width)", "error", logy=False)


def double_descent_axes(ax: Axes, xlabel: str, ylabel: str, logx: bool = True, logy: bool = True) -> Axes:
    """Label an axis for a double-descent plot; log scales by default because errors and sizes span decades."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    return ax


def spread_note(center: str = "mean", spread: str = "iqr") -> str:
    """The caption fragment that says what a line and its band are."""
    if spread == "se":
        return f"line: {center} over trials; band: +- 2 standard errors"
    low, high = BAND_PERCENTILES
    return f"line: {center} over trials; band: {low}th to {high}th percentile"
