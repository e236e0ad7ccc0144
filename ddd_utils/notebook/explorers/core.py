"""Interactive explorers' shared core: sliders that recompute and update a figure in place.

Every explorer splits into a pure `*_state` function (numbers only, testable and benchmarkable) and a view: a
figure built once whose artists a slider move updates (`view.update(state)`), then rendered to one PNG. The
same view, built from one state, is the static figure shown beside the widget. One module per chapter family
builds on this one.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from PIL import Image

from ddd_utils.notebook.prefetch import Prefetcher

if TYPE_CHECKING:
    import ipywidgets as widgets

EXPLORER_DPI = 90  # the live figure's resolution: legible at the book's width, and rendered in tens of ms


class View:
    """A figure drawn once and updated in place: subclasses create empty artists in `build` and set their data in
    `update`, so a slider move never lays out a new figure. Legends sit below the panels (`legend_below`), out of
    the data's way, so that they belong to the frame `LiveImage` saves. `managed=True` makes a pyplot figure
    (shown by the notebook like any other); the live explorer uses an unmanaged one that only its image widget
    shows."""

    figsize = (10.0, 4.6)  # legends below the panels

    def __init__(self, state: dict, managed: bool = True):
        self.fig = plt.figure(figsize=self.figsize) if managed else Figure(figsize=self.figsize)
        self.build()
        self.update(state)
        self.fig.tight_layout()

    def build(self) -> None:
        raise NotImplementedError

    def update(self, state: dict) -> None:
        raise NotImplementedError


def content_artists(fig: Figure) -> list[Artist]:
    """What a state sets, in drawing order: every axes' lines, collections, patches, texts and title, then the
    figure's texts (its suptitle). The rest, the frame (axes, ticks, labels, and legends, which views keep outside
    the axes with fixed entries), depends only on the limits, ticks and legend entries."""
    artists = []
    for ax in fig.axes:
        inside = [*ax.lines, *ax.collections, *ax.patches, *ax.texts, ax.title]
        artists += sorted(inside, key=lambda artist: artist.get_zorder())  # stable: the order a full draw uses
    return artists + sorted(fig.texts, key=lambda artist: artist.get_zorder())


def frame_key(fig: Figure) -> tuple:
    """Everything the frame's pixels depend on: per axes, its scales, limits, ticks, axis labels and legend."""
    return tuple((ax.get_xscale(), ax.get_yscale(), ax.get_xlim(), ax.get_ylim(), tuple(ax.get_xticks()),
                  tuple(ax.get_yticks()), ax.get_xlabel(), ax.get_ylabel(),
                  tuple(text.get_text() for text in ax.get_legend().get_texts()) if ax.get_legend() else None)
                 for ax in fig.axes)


class LiveImage:
    """A view rendered to PNG for an image widget: the frame is drawn once and saved, and each move draws only the
    content over it (blitting); a move that changes the frame (new limits, ticks or legend entries) redraws it.
    `rescale` rounds limits out, so most moves keep the frame."""

    def __init__(self, view: View, dpi: int = EXPLORER_DPI):
        self.view, self.canvas = view, FigureCanvasAgg(view.fig)
        view.fig.set_dpi(dpi)
        self.frame, self.background, self.frame_draws = None, None, 0

    def png(self, state: dict) -> bytes:
        """Update the view to `state` and render it."""
        fig = self.view.fig
        self.view.update(state)
        content = content_artists(fig)
        for artist in content:
            artist.set_animated(True)  # left out of the frame's draw
        frame = frame_key(fig)
        if frame != self.frame:
            self.canvas.draw()
            self.background, self.frame = self.canvas.copy_from_bbox(fig.bbox), frame
            self.frame_draws += 1
        else:
            self.canvas.restore_region(self.background)
        for artist in content:
            fig.draw_artist(artist)
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba()).save(
            buffer, format="png", compress_level=1)
        return buffer.getvalue()


def rescale(ax: Axes, errors: bool = False) -> None:
    """Fit the axis limits to the visible artists' data, rounded out so that most slider moves keep the frame: a
    linear axis to `_rounded_out` steps plus the axes' margins, a log x axis the same in decades, a log y axis to
    whole decades, coarser when it spans many (a peak's height may change by decades per move). Log axes have
    ticks at decades only (minor ticks are a third of a frame's drawing time; their labels crowd). `errors`: the
    y axis shows error rates, rounded out to tenths within [0, 1]."""
    ax.relim(visible_only=True)
    ax.get_xlim()  # runs the autoscaling that adding artists left pending, which would replace these limits later
    limits = ax.dataLim
    for (low, high), positive, set_limits, scale, margin, axis in (
            (limits.intervalx, limits.minposx, ax.set_xlim, ax.get_xscale(), ax.margins()[0], "x"),
            (limits.intervaly, limits.minposy, ax.set_ylim, ax.get_yscale(), ax.margins()[1], "y")):
        log = scale == "log"
        if log:
            low, high = np.log10(max(low, positive)), np.log10(high)
        if not np.isfinite([low, high]).all() or high <= low:
            ax.autoscale_view(scalex=axis == "x", scaley=axis == "y")  # one value or none: the default limits
            continue
        if log:
            (ax.xaxis if axis == "x" else ax.yaxis).set_minor_locator(NullLocator())
        if log and axis == "y":  # the floor's decade, and the top rounded out to whole decades (more if it is far)
            low = np.floor(low + 1e-9)
            high = rounded_out(low, high, parts=5, min_step=1.0)[1]
        else:
            low, high = rounded_out(low, high, parts=20 if log else 10)
            low, high = low - margin * (high - low), high + margin * (high - low)
        set_limits(*((10.0 ** low, 10.0 ** high) if log else (low, high)), auto=None)  # auto=None: stays autoscaled
    if errors:
        low, high = limits.intervaly
        ax.set_ylim(max(np.floor(low * 10) / 10, 0.0) - 0.02, min(np.ceil(high * 10) / 10, 1.0) + 0.02, auto=None)


def legend_below(ax: Axes, columns: int = 2) -> None:
    """The panel's legend under its x label, where no data goes: part of the frame, so a move never redraws it."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=columns, fontsize=8, frameon=False)


def rounded_out(low: float, high: float, parts: int = 10, min_step: float = 0.0) -> tuple[float, float]:
    """(low, high) widened to multiples of a step of about 1/`parts` of their span (at least `min_step`), rounded up
    to 1, 2 or 5 times a power of ten, so that a small change of either usually leaves the result unchanged."""
    target = max((high - low) / parts, min_step)
    step = 10.0 ** np.floor(np.log10(target))
    step *= next(m for m in (1, 2, 5, 10) if m * step >= target)
    slack = 1e-9  # a value a rounding error past a multiple of the step counts as on it
    return float(np.floor(low / step + slack) * step), float(np.ceil(high / step - slack) * step)


def noise_floor(noise: float) -> float:
    """The bottom of an explorer's log error axis: two decades under the label noise, rounded down to a decade.
    Set by the noise alone, not by the simulated curve, whose peak height swings by decades from one size to the
    next (a few trials, near-singular designs): following it would redraw the frame on most moves."""
    return 10.0 ** np.floor(np.log10(max(noise, 1e-6) / 100))


WARM_AT_DISPLAY = 4  # settings warmed as soon as an explorer shows (per size slider: one step either way, or two)


def explorer(controls: dict[str, widgets.ValueWidget], compute: Callable[..., dict], view_class: type[View],
             rows: tuple[int, ...] = (2, 2), neighbours: Callable[..., list] | None = None) -> widgets.VBox:
    """Lay out `controls` in rows above one image of a `view_class` figure; a change of any control recomputes
    the state, updates the figure's artists in place and sends one new PNG (errors show below the image). With
    `neighbours(moved=..., direction=..., **settings)` (a list of cached computations; `moved` names the control
    that changed, `direction` the sign of a numeric change), each change then warms those caches in the
    background (`prefetch.Prefetcher`), so the next moves find their results computed. Before any change only the
    `WARM_AT_DISPLAY` settings nearest the start are warmed (a fraction of a second: a page built without a reader
    pays little for it, and a reader's first move finds its result ready)."""
    import ipywidgets as widgets

    image, messages = widgets.Image(format="png"), widgets.Output()
    live: list[LiveImage] = []
    prefetcher = Prefetcher()

    def current() -> dict:
        return {name: control.value for name, control in controls.items()}

    def redraw(change=None):
        with messages, prefetcher.paused():
            messages.clear_output(wait=True)
            settings = current()
            state = compute(**settings)
            if not live:
                live.append(LiveImage(view_class(state, managed=False)))
            image.value = live[0].png(state)
            if change is not None and neighbours is not None:
                moved = next(name for name, control in controls.items() if control is change["owner"])
                step = change["new"] - change["old"] if isinstance(change["new"], (int, float)) else 0
                prefetcher.replace(neighbours(moved=moved, direction=int(np.sign(step)), **settings))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    if neighbours is not None:
        prefetcher.replace(neighbours(**current())[:WARM_AT_DISPLAY])
    boxes, start, items = [], 0, list(controls.values())
    for size in rows:
        boxes.append(widgets.HBox(items[start:start + size]))
        start += size
    return widgets.VBox([*boxes, image, messages])
