"""The book's figure style for double-descent curves: a centre line over trials, a band for their spread, and the
interpolation threshold marked, on log axes where the quantities span decades."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from numpy.typing import ArrayLike

from ddd_utils.analysis import sweep_curves
from ddd_utils.analysis.curves import describe_curve, series_text, wrapped
from ddd_utils.notebook import figure_text

if TYPE_CHECKING:
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.typing import ColorType

BAND_PERCENTILES = (25, 75)  # the shaded spread over trials: the interquartile range
THRESHOLD_STYLE = {"color": "0.35", "linestyle": "--", "linewidth": 1.0}


def use_book_style() -> None:
    """Matplotlib settings shared by every chapter (sizes chosen for the book's page width), and the check that
    every figure's text is legible at that width (`figure_text.watch`)."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 4.0), "figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False, "font.size": 10,
    })
    figure_text.watch()


SPREADS = ("iqr", "se", "range")


def trial_summary(values: ArrayLike, num_points: int, center: str = "mean", spread: str = "iqr"
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The centre line over trials of `values` (shape (trials, num_points)) and its band's lower and upper edges
    (None for one trial): `spread="iqr"` the interquartile range (many trials), `spread="se"` the mean +- 2
    standard errors, `spread="range"` the lowest to the highest trial (a few seeds: every one inside the band)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != num_points:
        raise ValueError(f"values must have shape (trials, len(x)) = (*, {num_points}); got {values.shape}")
    if center not in ("mean", "median"):
        raise ValueError(f"center must be 'mean' or 'median'; got {center!r}")
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {SPREADS}; got {spread!r}")
    middle = values.mean(axis=0) if center == "mean" else np.median(values, axis=0)
    if values.shape[0] == 1:
        return middle, None, None
    if spread == "iqr":
        low, high = np.percentile(values, BAND_PERCENTILES, axis=0)
    elif spread == "range":
        low, high = values.min(axis=0), values.max(axis=0)
    else:
        half_width = 2.0 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
        low, high = middle - half_width, middle + half_width
    return middle, low, high


def plot_trials(ax: Axes, x: ArrayLike, values: ArrayLike, label: str | None = None, color: ColorType | None = None,
                center: str = "mean", spread: str = "iqr", **line_kwargs: object) -> Line2D:
    """Plot the mean (or median) over trials of `values` (shape (trials, len(x))) with a band for the spread:
    `spread="iqr"` shades the interquartile range, `spread="se"` the mean +- 2 standard errors, `spread="range"`
    the lowest to the highest trial."""
    middle, low, high = trial_summary(values, len(x), center, spread)
    (line,) = ax.plot(x, middle, label=label, color=color, **line_kwargs)
    if low is not None:
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


class LiveTrials:
    """`plot_trials` whose data can be replaced in place, so that an explorer moves its curves without building
    a new figure (a band is kept even for one trial, drawn with zero width, so that every update has one)."""

    def __init__(self, ax: Axes, label: str | None = None, color: ColorType | None = None, center: str = "mean",
                 spread: str = "iqr", **line_kwargs: object):
        self.center, self.spread = center, spread
        (self.line,) = ax.plot([], [], label=label, color=color, **line_kwargs)
        self.band = ax.fill_between([], [], [], color=self.line.get_color(), alpha=0.2, linewidth=0)

    def set(self, x: ArrayLike, values: ArrayLike) -> None:
        """Show the trials `values` (shape (trials, len(x))) against `x`."""
        middle, low, high = trial_summary(values, len(x), self.center, self.spread)
        self.line.set_data(x, middle)
        set_band(self.band, x, middle if low is None else low, middle if high is None else high)


def set_band(band: PolyCollection, x: ArrayLike, low: ArrayLike, high: ArrayLike) -> None:
    """Move a `fill_between` band to (x, low, high) in place: `set_data` on matplotlib 3.10 and later, the polygon's
    vertices (x along `high`, back along `low`) on older versions, such as older Colab images have."""
    if hasattr(band, "set_data"):
        band.set_data(x, low, high)
        return
    x, low, high = (np.asarray(values, dtype=float) for values in (x, low, high))
    band.set_verts([np.column_stack([np.concatenate([x, x[::-1]]), np.concatenate([high, low[::-1]])])])


def mark_threshold(ax: Axes, at: float, label: str = "interpolation threshold", **style: object) -> None:
    """A vertical dashed line where the model can first fit every training point (`style` overrides the look)."""
    ax.axvline(at, label=label, **{**THRESHOLD_STYLE, **style})


def width_sweep(ax: Axes, curves: dict, thresholds: dict[str, int | None], xlabel: str = "hidden units (width)"
                ) -> None:
    """A model-wise sweep of classifiers: final test and training error against width (mean over seeds, band:
    lowest to highest seed), with each named threshold width marked (the first dashed, the next dotted)."""
    plot_trials(ax, curves["widths"], curves["test_error"], label="test error", marker="o", markersize=3,
                spread="range")
    plot_trials(ax, curves["widths"], curves["train_error"], label="train error (noisy labels)", marker="s",
                markersize=3, spread="range")
    for (label, width), linestyle in zip(thresholds.items(), ("--", ":"), strict=False):
        if width is not None:
            mark_threshold(ax, width, label=f"{label} (width {width})", linestyle=linestyle)
    double_descent_axes(ax, xlabel, "error", logy=False)
    plain_log_ticks(ax, curves["widths"])


def width_sweep_panels(records: list[dict], noises: Sequence[float], title: str, xlabel: str = "hidden units (width)",
                       columns: int | None = None) -> Figure:
    """One panel per noise level of a finished width sweep (`records` of one setting of every other field): the
    errors against width with both thresholds marked (training error 0, and 0.1: where the effective model
    complexity reaches n), and printed beside it the thresholds, the mean test error per width, its spread over
    seeds and the peak's summary. With `columns`, the panels wrap into rows, and a spare slot in the last row
    shows the test error of every noise level on one axis (as in Nakkiran et al.'s figures)."""
    columns = columns or len(noises)
    rows = -(-len(noises) // columns)
    panel_width = figure_text.WIDE_FIGURE_IN / max(columns, 2)  # the whole row at the legible width
    fig, axes = plt.subplots(rows, columns, figsize=(panel_width * columns, 4.4 * rows), squeeze=False)
    slots = list(axes.flat)
    for ax, noise in zip(slots, noises, strict=False):
        curves = sweep_curves.final_curves(records, noise)
        widths = curves["widths"]
        threshold = sweep_curves.interpolation_width(widths, curves["train_error"])
        complexity = sweep_curves.interpolation_width(widths, curves["train_error"], eps=0.1)
        width_sweep(ax, curves, {"train error 0": threshold, "train error 0.1": complexity}, xlabel)
        ax.set_title(f"{title}, label noise {noise:g}; {len(curves['test_error'])} seeds", fontsize=10)
        ax.legend(fontsize=9)
        print(f"noise {noise:g}: train error reaches 0 at width {threshold} and 0.1 at width {complexity}")
        print(series_text("  mean test error", widths, curves["test_error"].mean(axis=0)))
        if len(curves["test_error"]) > 1:
            print(series_text("  its sd over seeds", widths, curves["test_error"].std(axis=0, ddof=1)))
        marked = complexity or threshold
        if marked is not None and widths[0] < marked < widths[-1]:
            summary = describe_curve(widths, curves["test_error"], marked)
            if summary.peak_at in (summary.best_below_at, summary.best_above_at):  # nothing above the best below
                print(wrapped(f"  no peak: no width between {summary.best_below_at:g} and {summary.best_above_at:g} "
                              f"has a higher median test error than width {summary.best_below_at:g} "
                              f"({summary.best_below_error:.3g}); the lowest above the threshold is "
                              f"{summary.best_above_error:.3g}", indent="    "))
            else:
                print(wrapped(f"  {summary}", indent="    "))
    spare = slots[len(noises):]
    if spare and len(noises) > 1:
        overlay = spare.pop(0)
        for noise in noises:
            curves = sweep_curves.final_curves(records, noise)
            plot_trials(overlay, curves["widths"], curves["test_error"], label=f"label noise {noise:g}", marker="o",
                        markersize=3, spread="range")
        double_descent_axes(overlay, xlabel, "test error", logy=False)
        plain_log_ticks(overlay, curves["widths"])
        overlay.set_title(f"{title}: test error at every noise level", fontsize=10)
        overlay.legend(fontsize=9)
    for ax in spare:
        ax.axis("off")
    fig.tight_layout()
    return fig


def sample_wise(ax: Axes, small: dict, large: dict, sizes: tuple[int, int], xlabel: str = "channels per layer"
                ) -> dict[str, np.ndarray]:
    """Two training-set sizes' `final_curves` on one axis, the widths where the larger set is worse by more than
    twice the standard error of the difference shaded (the paper's Figure 11 does so); returns `sample_wise_gap`."""
    gap = sweep_curves.sample_wise_gap(small, large)
    widths = np.asarray(gap["widths"], dtype=float)
    for n_train, curves in zip(sizes, (small, large), strict=True):
        plot_trials(ax, widths, curves["test_error"], label=f"n = {n_train:,}: test error", marker="o",
                    markersize=3, spread="range")
    edges = np.concatenate([[widths[0]], (widths[1:] + widths[:-1]) / 2, [widths[-1]]])
    for first, i in enumerate(np.flatnonzero(gap["hurts"])):
        ax.axvspan(edges[i], edges[i + 1], color="C3", alpha=0.15, linewidth=0,
                   label="more data hurts" if first == 0 else None)
    double_descent_axes(ax, xlabel, "final test error", logx=False, logy=False)
    ax.legend(fontsize=9)
    return gap


def sample_wise_gaps(ax: Axes, gaps: dict[str, dict], xlabel: str) -> None:
    """Several settings' `sample_wise_gap`s on one axis, in points: the larger set's mean test error minus the
    smaller set's against width, with bars of twice the standard error. Above zero more data hurts; a bar wholly
    above zero is a shaded width of `sample_wise`."""
    for label, gap in gaps.items():
        ax.errorbar(gap["widths"], 100 * gap["gap"], yerr=200 * gap["se"], marker="o", markersize=3, capsize=3,
                    label=label)
    ax.axhline(0.0, color="0.5", linewidth=1)
    double_descent_axes(ax, xlabel, "larger set minus smaller set (points)", logx=False, logy=False)
    ax.legend(fontsize=9)


def sample_wise_note(gap: dict, larger: int) -> str:
    """The title line that says whether any width is shaded."""
    return (f"shaded: n = {larger:,} worse by more than twice the standard error" if gap["hurts"].any() else
            f"no width where n = {larger:,} is worse by more than twice the standard error")


def double_descent_axes(ax: Axes, xlabel: str, ylabel: str, logx: bool = True, logy: bool = True) -> Axes:
    """Label an axis for a double-descent plot; log scales by default because errors and sizes span decades."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    return ax


def ticks_at(ax: Axes, values: Sequence[float], axis: str = "x") -> None:
    """Ticks on the x (or y) axis at exactly `values` (a sweep's widths, say), labelled as plain numbers: a log axis
    spanning under two decades would otherwise label its minor ticks as crowded powers of ten."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y'; got {axis!r}")
    getattr(ax, f"set_{axis}ticks")(list(values), labels=[f"{value:g}" for value in values])
    getattr(ax, f"{axis}axis").set_minor_locator(NullLocator())


def plain_log_ticks(ax: Axes, widths: ArrayLike, count: int = 8) -> None:
    """About `count` of a sweep's `widths` as plain-number ticks on a log x axis (not 10^0, 10^1), spread evenly in
    log scale."""
    widths = np.unique(np.asarray(widths, dtype=float))
    targets = np.geomspace(widths[0], widths[-1], min(count, len(widths)))
    picks = np.unique([np.argmin(np.abs(np.log(widths) - np.log(target))) for target in targets])
    ticks_at(ax, widths[picks])


def spread_note(center: str = "mean", spread: str = "iqr") -> str:
    """The caption fragment that says what a line and its band are."""
    if spread == "se":
        return f"line: {center} over trials; band: +- 2 standard errors"
    if spread == "range":
        return f"line: {center} over seeds; band: lowest to highest seed"
    low, high = BAND_PERCENTILES
    return f"line: {center} over trials; band: {low}th to {high}th percentile"


def width_epoch_heatmap(ax: Axes, table: dict, name: str = "test_error", knob_label: str = "width") -> None:
    """The width x epoch table of `sweep_curves.epoch_table` as a heatmap of each run's excess over its own lowest
    value, in points: a colour scale set by the first epochs' high errors would hide a late rise of a few points.
    Columns are the evaluated (log-spaced) epochs; a colour bar is added beside `ax`."""
    values = np.asarray(table[name])
    excess = 100 * (values - values.min(axis=1, keepdims=True))
    top = max(float(np.percentile(excess[:, values.shape[1] // 2:], 99)), 1.0)  # the later half sets the scale
    mesh = ax.pcolormesh(np.arange(values.shape[1] + 1), np.arange(values.shape[0] + 1), excess, cmap="magma",
                         vmin=0, vmax=top, shading="flat")
    epochs, widths = table["epochs"], table["widths"]
    columns = np.unique(np.linspace(0, len(epochs) - 1, 6).round().astype(int))
    ax.set_xticks(columns + 0.5, [str(epochs[i]) for i in columns])
    rows = np.unique(np.linspace(0, len(widths) - 1, min(len(widths), 12)).round().astype(int))
    ax.set_yticks(rows + 0.5, [str(widths[i]) for i in rows])
    ax.set_xlabel("epoch (log-spaced columns)")
    ax.set_ylabel(knob_label)
    ax.grid(False)
    ax.figure.colorbar(mesh, ax=ax, label=f"points above the row's lowest (clipped at {top:.0f})",
                       extend="max")
