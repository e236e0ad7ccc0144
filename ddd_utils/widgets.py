"""Interactive explorers: sliders that recompute (cheap linear models) and update a figure in place.

Every explorer splits into a pure `*_state` function (numbers only, testable and benchmarkable) and a view: a
figure built once whose artists a slider move updates (`view.update(state)`), then rendered to one PNG. The
same view, built from one state, is the static figure shown beside the widget.
"""

from __future__ import annotations

import io
from functools import lru_cache, partial
from itertools import chain, zip_longest
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from PIL import Image

from ddd_utils import plots, sweep_curves
from ddd_utils.experiments import linear_regression, polynomial
from ddd_utils.experiments import random_features as random_features_experiment
from ddd_utils.prefetch import Prefetcher, nearest_first
from ddd_utils.theory import min_norm_risk

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
            high = _rounded_out(low, high, parts=5, min_step=1.0)[1]
        else:
            low, high = _rounded_out(low, high, parts=20 if log else 10)
            low, high = low - margin * (high - low), high + margin * (high - low)
        set_limits(*((10.0 ** low, 10.0 ** high) if log else (low, high)), auto=None)  # auto=None: stays autoscaled
    if errors:
        low, high = limits.intervaly
        ax.set_ylim(max(np.floor(low * 10) / 10, 0.0) - 0.02, min(np.ceil(high * 10) / 10, 1.0) + 0.02, auto=None)


def legend_below(ax: Axes, columns: int = 2) -> None:
    """The panel's legend under its x label, where no data goes: part of the frame, so a move never redraws it."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=columns, fontsize=8, frameon=False)


def _rounded_out(low: float, high: float, parts: int = 10, min_step: float = 0.0) -> tuple[float, float]:
    """(low, high) widened to multiples of a step of about 1/`parts` of their span (at least `min_step`), rounded up
    to 1, 2 or 5 times a power of ten, so that a small change of either usually leaves the result unchanged."""
    target = max((high - low) / parts, min_step)
    step = 10.0 ** np.floor(np.log10(target))
    step *= next(m for m in (1, 2, 5, 10) if m * step >= target)
    slack = 1e-9  # a value a rounding error past a multiple of the step counts as on it
    return float(np.floor(low / step + slack) * step), float(np.ceil(high / step - slack) * step)


# The explorer's live curve: few trials, test points and features, so that a move of n recomputes it in about 60 ms
# on 2 cores (the chapter's figures sweep to 10,000 features; 1,000 still shows the second descent for every n).
EXPLORER = polynomial.PolynomialConfig(max_features=1000, num_grid=30, trials=6, n_test=200)


POLYNOMIAL_N = range(2, 65)  # the n slider's values
POLYNOMIAL_TOP = 1e12  # the explorer's test-error axis ends here; higher peaks are cut (their title says so)


class ErrorCurve(NamedTuple):
    """Test error (trials, P) against the numbers of features."""

    num_features: np.ndarray
    test_error: np.ndarray


def noise_floor(noise: float) -> float:
    """The bottom of an explorer's log error axis: two decades under the label noise, rounded down to a decade.
    Set by the noise alone, not by the simulated curve, whose peak height swings by decades from one size to the
    next (a few trials, near-singular designs): following it would redraw the frame on most moves."""
    return 10.0 ** np.floor(np.log10(max(noise, 1e-6) / 100))


@lru_cache(maxsize=2 * len(POLYNOMIAL_N))
def _polynomial_errors(n: int, basis: str, lam: float) -> polynomial.NoiseScaledError:
    """Chapter 1's live curve at every noise level at once: a noise move recomputes nothing."""
    return polynomial.noise_scaled_sweep(polynomial.with_overrides(EXPLORER, n=n), basis=basis, lam=lam)


def polynomial_state(n: int, noise: float, num_features: int, basis: str = "legendre", lam: float = 0.0
                     ) -> dict:
    """Everything the polynomial explorer draws for one slider setting."""
    config = polynomial.with_overrides(EXPLORER, n=n, noise=noise)
    fit = polynomial.example_fits(config, (num_features,), basis=basis, lam=lam)
    errors = _polynomial_errors(n, basis, float(lam))
    return {"n": n, "noise": noise, "num_features": num_features, "basis": basis, "lam": lam, "fit": fit,
            "curve": ErrorCurve(errors.num_features, errors.at(noise))}


def polynomial_neighbours(n: int, basis: str = "legendre", lam: float = 0.0, moved: str | None = None,
                          direction: int = 0, **_) -> list:
    """What the next moves of chapter 1's explorer will need: the curves of the other n, nearest first (ahead of a
    drag of n first). Only after a move of n (or on request, `moved` None): other moves need none of them, and a
    warm-up would compete with their drawing; the curves do not depend on the noise, so they stay valid."""
    if moved not in (None, "n"):
        return []
    ahead = direction if moved == "n" else 0
    return [partial(_polynomial_errors, other, basis, float(lam)) for other in nearest_first(POLYNOMIAL_N, n, ahead)]


class PolynomialView(View):
    """Left: one training set and its fit. Right: test error against p, with the current p marked."""

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        (self.target,) = self.left.plot([], [], color="0.5", label="target")
        (self.fit,) = self.left.plot([], [], color="C0", label="fit")
        self.samples = self.left.scatter([], [], color="k", s=15, zorder=3, label="training samples")
        self.left.set_xlabel("x")
        self.left.set_xlim(-1.05, 1.05)
        self.error = plots.LiveTrials(self.right, label="test error", center="median")
        self.threshold = self.right.axvline(1, label="p = n", **plots.THRESHOLD_STYLE)
        self.current = self.right.axvline(1, color="C3", linewidth=1.5)
        self.current_point = self.right.scatter([], [], color="C3", zorder=3)
        plots.double_descent_axes(self.right, "number of features p", "test MSE (noise-free target)")
        legend_below(self.left, columns=3)
        legend_below(self.right)

    def update(self, state: dict) -> None:
        fit, p, curve = state["fit"], state["num_features"], state["curve"]
        self.target.set_data(fit["grid"], fit["target"])
        self.fit.set_data(fit["grid"], fit["fits"][p])
        self.samples.set_offsets(np.column_stack([fit["x"], fit["y"]]))
        reach = 2.0 + 3.0 * np.sqrt(state["noise"])  # the target (within +-1) and its noisy samples, with room for a
        self.left.set_ylim(*_rounded_out(-reach, reach))  # fit that explodes; set by the noise alone, not the draw
        self.error.set(curve.num_features, curve.test_error)
        self.threshold.set_xdata([state["n"]] * 2)
        self.current.set_xdata([p, p])
        nearest = int(np.argmin(np.abs(np.log(curve.num_features) - np.log(p))))  # the swept p nearest the slider's
        median = np.median(curve.test_error[:, nearest])
        self.current_point.set_offsets([[curve.num_features[nearest], median]])
        self.left.set_title(f"n = {state['n']} samples, fit with p = {p} features", fontsize=9)
        cut = " (peak cut)" if np.median(curve.test_error, axis=0).max() > POLYNOMIAL_TOP else ""
        self.right.set_title(f"swept p nearest the slider's, {curve.num_features[nearest]}: median test MSE "
                             f"{median:.3g}{cut}", fontsize=9)
        rescale(self.right)
        self.right.set_ylim(noise_floor(state["noise"]), POLYNOMIAL_TOP)  # fixed top: the peak (round-off) swings
        ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else ""
        self.fig.suptitle(f"{state['basis']} features, noise variance {state['noise']:g}{ridge}", fontsize=10)


def draw_polynomial_state(state: dict) -> Figure:
    """Chapter 1's explorer figure for one setting, as a static figure."""
    return PolynomialView(state).fig


WARM_AT_DISPLAY = 4  # settings warmed as soon as an explorer shows (per size slider: one step either way, or two)


def explorer(controls: dict, compute, view_class: type[View], rows: tuple[int, ...] = (2, 2), neighbours=None):
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


def polynomial_explorer(n: int = 16, noise: float = 0.1, num_features: int = 32):
    """Sliders for n, noise and p (plus basis and ridge); the figure updates on every change."""
    import ipywidgets as widgets

    # Every p up to 80 (so p = n is reachable for any n on the slider), then the explorer's log-spaced grid.
    choices = sorted(set(range(1, 81)) | {int(p) for p in polynomial.feature_grid(n, EXPLORER.max_features,
                                                                                    EXPLORER.num_grid)})
    controls = {
        "n": widgets.IntSlider(value=n, min=POLYNOMIAL_N[0], max=POLYNOMIAL_N[-1], description="samples n"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.01, description="noise var"),
        "num_features": widgets.SelectionSlider(options=sorted(set(choices) | {num_features}), value=num_features,
                                                description="features p"),
        "basis": widgets.Dropdown(options=["legendre", "legendre_normalized", "monomial"], description="basis"),
        "lam": widgets.SelectionSlider(options=[0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0], value=0.0, description="ridge"),
    }
    return explorer(controls, polynomial_state, PolynomialView, rows=(3, 2), neighbours=polynomial_neighbours)


# Chapter 2's explorer: few trials and a coarse grid. The sample-wise sweep depends on p only and the model-wise one
# on n only, so each is cached on its own and a slider move for n or p recomputes one of them.
LINEAR_EXPLORER = linear_regression.LinearConfig(grid_points=30, trials=8)
RIDGE_CHOICES = (0.0, 0.1, 1.0, 10.0, 100.0)
LINEAR_SIZES = range(5, 101)  # the n and p sliders' values
LINEAR_TOP = 1e4  # the explorer's risk axis ends here (median peaks on the sliders' range: 6 to 2,000 at noise 1)


@lru_cache(maxsize=2 * len(LINEAR_SIZES))
def _linear_samplewise(p: int, lam: float) -> linear_regression.NoiseScaledRisk:
    return linear_regression.samplewise_parts(linear_regression.with_overrides(LINEAR_EXPLORER, d=p), lam=lam)


@lru_cache(maxsize=2 * len(LINEAR_SIZES))
def _linear_modelwise(n: int, lam: float) -> linear_regression.NoiseScaledRisk:
    return linear_regression.modelwise_parts(linear_regression.with_overrides(LINEAR_EXPLORER, n=n), lam=lam)


def linear_state(n: int, p: int, noise: float, lam: float = 0.0) -> dict:
    """Both sweeps of chapter 2 for one slider setting: risk against n at d = p, and against p at this n."""
    config = linear_regression.with_overrides(LINEAR_EXPLORER, d=p, n=n, noise=noise)
    by_n = _linear_samplewise(p, float(lam)).at(noise)  # every noise level from one solve: a noise move is free
    by_p = _linear_modelwise(n, float(lam)).at(noise)
    theory_by_n = theory_by_p = None
    if lam == 0.0:  # the exact curves are for the minimum-norm estimator
        theory_by_n = min_norm_risk(by_n.sizes, p, config.signal, noise)
        theory_by_p = linear_regression.modelwise_theory(config, by_p.sizes)
    return {"n": n, "p": p, "noise": noise, "lam": lam, "by_n": by_n, "by_p": by_p,
            "theory_by_n": theory_by_n, "theory_by_p": theory_by_p}


class LinearView(View):
    """Left: risk against n at d = p. Right: risk against p at fixed n. Monte Carlo medians, exact theory dashed.
    Each panel's x axis is the ratio to its threshold (n / d, p / n): the peak stays at 1, and a move of n or p
    keeps the frame (only the curves move)."""

    # per panel: the state's curve and exact line, the x label, the size the sweep is divided by, the slider shown
    PANELS = (("by_n", "theory_by_n", "samples per feature n / d", "p", "n"),
              ("by_p", "theory_by_p", "features per sample p / n", "n", "p"))

    def build(self) -> None:
        self.axes = self.fig.subplots(1, 2)
        self.parts = []
        for ax, (_, _, label, _, slider) in zip(self.axes, self.PANELS, strict=True):
            risk = plots.LiveTrials(ax, label="simulation (median)", center="median")
            (theory,) = ax.plot([], [], color="k", linestyle="--", linewidth=1)
            ax.axvline(1, label="threshold", **plots.THRESHOLD_STYLE)
            current = ax.axvline(1, color="C3", linewidth=1.5, label=f"slider's {slider}")
            plots.double_descent_axes(ax, label, "excess test risk", logx=False)
            self.parts.append((risk, theory, current))

    def update(self, state: dict) -> None:
        panels = zip(self.axes, self.PANELS, self.parts, strict=True)
        for ax, (key, theory_key, _, threshold_key, slider), (risk, theory, current) in panels:
            curve, threshold = state[key], state[threshold_key]
            ratios = curve.sizes / threshold
            risk.set(ratios, curve.risk)
            exact = state[theory_key]
            theory.set_visible(exact is not None)
            theory.set_label("exact expected risk" if exact is not None else "_hidden")
            if exact is not None:
                theory.set_data(ratios, exact)
            current.set_xdata([state[slider] / threshold] * 2)
            cut = " (peak cut)" if np.median(curve.risk, axis=0).max() > LINEAR_TOP else ""
            size = f"d = {state['p']} features" if key == "by_n" else f"n = {state['n']} samples"
            ax.set_title(size + cut, fontsize=9)
            rescale(ax)
            ax.set_ylim(noise_floor(state["noise"]), LINEAR_TOP)  # a fixed top, like chapter 1's
            legend_below(ax)  # its entries change with the ridge: the exact curve is for min-norm only
        ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else " (min-norm)"
        self.fig.suptitle(f"noise variance {state['noise']:g}{ridge}", fontsize=10)


def linear_neighbours(n: int, p: int, lam: float = 0.0, moved: str | None = None, direction: int = 0, **_) -> list:
    """What the next moves of chapter 2's explorer will need: the sweeps of the other p and n, nearest first. After
    a move of n or p, that slider's values come first, ahead of the drag first; with `moved` None the two
    alternate; after other moves nothing is warmed (the sweeps do not depend on the noise)."""
    if moved not in (None, "n", "p"):
        return []
    by_p = [partial(_linear_samplewise, other, float(lam))
            for other in nearest_first(LINEAR_SIZES, p, direction if moved == "p" else 0)]
    by_n = [partial(_linear_modelwise, other, float(lam))
            for other in nearest_first(LINEAR_SIZES, n, direction if moved == "n" else 0)]
    if moved == "p":
        return by_p + by_n
    if moved == "n":
        return by_n + by_p
    return [task for task in chain.from_iterable(zip_longest(by_p, by_n)) if task is not None]


def draw_linear_state(state: dict) -> Figure:
    """Chapter 2's explorer figure for one setting, as a static figure."""
    return LinearView(state).fig


def linear_explorer(n: int = 50, p: int = 50, noise: float = 0.25):
    """Sliders for n, p, noise and ridge strength over chapter 2's two sweeps."""
    import ipywidgets as widgets

    controls = {
        "n": widgets.IntSlider(value=n, min=LINEAR_SIZES[0], max=LINEAR_SIZES[-1], description="samples n"),
        "p": widgets.IntSlider(value=p, min=LINEAR_SIZES[0], max=LINEAR_SIZES[-1], description="features p"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05, description="noise var"),
        "lam": widgets.SelectionSlider(options=list(RIDGE_CHOICES), value=0.0, description="ridge"),
    }
    return explorer(controls, linear_state, LinearView, neighbours=linear_neighbours)


def sweep_state(records: list[dict], noise: float, width: int) -> dict:
    """What the sweep explorer draws: the final errors against width at this noise, and one width's history."""
    curves = sweep_curves.final_curves(records, noise)
    first_seed = min(r["config"]["seed"] for r in records)
    chosen = next(r for r in records if r["config"]["noise"] == noise and r["config"]["width"] == width
                  and r["config"]["seed"] == first_seed)
    return {"noise": noise, "width": width, "curves": curves, "history": chosen["history"]}


class SweepView(View):
    """Left: train and test error against width, the chosen width marked. Right: its errors against epochs."""

    HISTORY = (("test_error", "test error"), ("train_error", "train error"),
               ("corrupted_error", "train error, corrupted labels"))
    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        (self.test,) = self.left.plot([], [], marker="o", label="test error (mean over seeds)")
        (self.train,) = self.left.plot([], [], marker="s", label="train error (noisy labels)")
        self.current = self.left.axvline(1, color="C3", linewidth=1.5)
        plots.double_descent_axes(self.left, "hidden units (width)", "error", logy=False)
        self.history = [self.right.plot([], [], marker=".", label=label)[0] for _, label in self.HISTORY]
        plots.double_descent_axes(self.right, "epoch", "error", logy=False)
        legend_below(self.left)
        legend_below(self.right, columns=3)

    def update(self, state: dict) -> None:
        curves, history = state["curves"], state["history"]
        self.test.set_data(curves["widths"], curves["test_error"].mean(axis=0))
        self.train.set_data(curves["widths"], curves["train_error"].mean(axis=0))
        self.current.set_xdata([state["width"]] * 2)
        self.left.set_title(f"label noise {state['noise']:g}: final epoch", fontsize=9)
        for line, (key, _) in zip(self.history, self.HISTORY, strict=True):
            line.set_data(history["epoch"], history[key])
        self.right.set_title(f"width {state['width']}, first seed: during training", fontsize=9)
        for ax in (self.left, self.right):
            rescale(ax, errors=True)


def draw_sweep_state(state: dict) -> Figure:
    """Chapter 4's explorer figure for one setting, as a static figure."""
    return SweepView(state).fig


def sweep_explorer(records: list[dict]):
    """Sliders over a finished sweep (noise, width): moving them only indexes the records, it never trains."""
    import ipywidgets as widgets

    noises = sorted({r["config"]["noise"] for r in records})
    widths = sorted({r["config"]["width"] for r in records})
    controls = {"noise": widgets.Dropdown(options=noises, value=noises[-1], description="label noise"),
                "width": widgets.SelectionSlider(options=widths, value=widths[len(widths) // 2], description="width")}
    return explorer(controls, lambda noise, width: sweep_state(records, noise, width), SweepView, rows=(2,))


def epoch_sweep_state(records: list[dict], width: int, noise: float, n_train: int, epoch: int) -> dict:
    """What chapter 5's explorer draws: at one (noise, n_train), the errors against width at the evaluated epoch
    nearest `epoch`, and the chosen width's test error over epochs (means over seeds; records of one model)."""
    try:
        chosen = sweep_curves.select(records, noise=noise, n_train=n_train)
    except ValueError:
        raise ValueError(f"no runs at noise {noise:g} with n_train = {n_train}: the sweep ran its other training "
                         "sizes at its largest noise only") from None
    test, train = sweep_curves.epoch_table(chosen), sweep_curves.epoch_table(chosen, "train_error")
    column = int(np.argmin(np.abs(np.log(test["epochs"]) - np.log(max(epoch, 1)))))
    row = int(np.flatnonzero(test["widths"] == width)[0])
    return {"width": width, "noise": noise, "n_train": n_train, "epoch": int(test["epochs"][column]),
            "widths": test["widths"], "epochs": test["epochs"], "test_error": test["test_error"][:, column],
            "train_error": train["train_error"][:, column], "history": test["test_error"][row]}


class EpochSweepView(View):
    """Left: test and training error against width at one epoch, the chosen width marked. Right: that width's
    test error against epochs, the chosen epoch marked."""

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        (self.test,) = self.left.plot([], [], marker="o", label="test error")
        (self.train,) = self.left.plot([], [], marker="s", label="train error (noisy labels)")
        self.current_width = self.left.axvline(1, color="C3", linewidth=1.5)
        plots.double_descent_axes(self.left, "width", "error (mean over seeds)", logy=False)
        legend_below(self.left)
        (self.history,) = self.right.plot([], [], marker=".", color="C0", label="test error")
        self.current_epoch = self.right.axvline(1, color="C3", linewidth=1.5)
        plots.double_descent_axes(self.right, "epoch", "test error (mean over seeds)", logy=False)

    def update(self, state: dict) -> None:
        self.test.set_data(state["widths"], state["test_error"])
        self.train.set_data(state["widths"], state["train_error"])
        plots.plain_log_ticks(self.left, state["widths"])
        self.current_width.set_xdata([state["width"]] * 2)
        self.left.set_title(f"label noise {state['noise']:g}, n = {state['n_train']}: epoch {state['epoch']}",
                            fontsize=9)
        self.history.set_data(state["epochs"], state["history"])
        self.current_epoch.set_xdata([state["epoch"]] * 2)
        self.right.set_title(f"width {state['width']} during training", fontsize=9)
        for ax in (self.left, self.right):
            rescale(ax, errors=True)


def draw_epoch_sweep_state(state: dict) -> Figure:
    """Chapter 5's explorer figure for one setting, as a static figure."""
    return EpochSweepView(state).fig


def epoch_sweep_explorer(records: list[dict]):
    """Sliders over a finished sweep of one model (width, noise, training-set size, epoch): moving them only
    indexes the records, it never trains."""
    import ipywidgets as widgets

    values = {name: sorted({r["config"][name] for r in records}) for name in ("width", "noise", "n_train")}
    epochs = records[0]["history"]["epoch"]
    noise = max(values["noise"])
    controls = {
        "width": widgets.SelectionSlider(options=values["width"], value=values["width"][len(values["width"]) // 2],
                                         description="width"),
        "noise": widgets.SelectionSlider(options=values["noise"], value=noise, description="label noise"),
        "n_train": widgets.SelectionSlider(options=values["n_train"], value=max(values["n_train"]),
                                           description="samples n"),
        "epoch": widgets.SelectionSlider(options=epochs, value=epochs[-1], description="epoch"),
    }
    return explorer(controls, lambda **setting: epoch_sweep_state(records, **setting), EpochSweepView)


# Chapter 3's explorer: one seed, 400 test digits, n <= 200 and N up to 10 n on a short grid, so that a slider move
# that changes n, noise or ridge recomputes the whole curve (kernel limit included); moving N only redraws.
RANDOM_FEATURES_EXPLORER = random_features_experiment.RandomFeaturesConfig(n=100, n_test=400, max_ratio=10.0,
                                                                           num_grid=20, seeds=(0,))
RANDOM_FEATURES_RIDGE_CHOICES = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # kernel units: (K + lam I) alpha = y
RANDOM_FEATURES_MAX_N = 200  # the n slider's end; the N axis spans every grid it allows, so moving n keeps the frame
RANDOM_FEATURES_N = range(20, RANDOM_FEATURES_MAX_N + 1, 10)  # the n slider's values
RANDOM_FEATURES_LOSS_LIMITS = (1e-2, 1e6)  # the loss and norm axis; higher peaks are cut (the title says so)
RANDOM_FEATURES_N_LIMITS = (0.8, 1.25 * RANDOM_FEATURES_EXPLORER.max_ratio * RANDOM_FEATURES_MAX_N)


@lru_cache(maxsize=64)
def _random_features_curve(n: int, noise: float, lam: float) -> random_features_experiment.RandomFeaturesSweep:
    config = random_features_experiment.with_overrides(RANDOM_FEATURES_EXPLORER, n=n)
    return random_features_experiment.sweep(config, noise=noise, lam=lam)  # one BLAS thread: see ddd_utils.blas


def random_features_state(num_features: int, noise: float, n: int, lam: float = 0.0) -> dict:
    """Chapter 3's curves against N for one setting of n, label noise and ridge, with the grid N nearest
    `num_features` picked out."""
    curve = _random_features_curve(int(n), float(noise), float(lam))
    nearest = int(np.argmin(np.abs(np.log(curve.num_features) - np.log(max(num_features, 1)))))
    return {"num_features": int(curve.num_features[nearest]), "index": nearest, "noise": noise, "n": n,
            "lam": lam, "curve": curve, "kind": RANDOM_FEATURES_EXPLORER.kind}


class RandomFeaturesView(View):
    """Left: test and training error against N, the kernel limit dotted. Right: test squared loss and weight
    norm."""

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        self.test_error = plots.LiveTrials(self.left, label="test error (clean labels)")
        self.train_error = plots.LiveTrials(self.left, label="training error")
        self.kernel_error = self.left.axhline(0, color="C0", linestyle=":", label="kernel limit (N = infinity)")
        plots.double_descent_axes(self.left, "random features N", "zero-one error", logy=False)
        self.test_loss = plots.LiveTrials(self.right, label="test squared loss")
        self.weight_norm = plots.LiveTrials(self.right, label="weight norm")
        self.kernel_loss = self.right.axhline(1, color="C0", linestyle=":", label="kernel limit: loss")
        self.kernel_norm = self.right.axhline(1, color="C1", linestyle=":", label="kernel limit: RKHS norm")
        plots.double_descent_axes(self.right, "random features N", "squared loss / norm")
        self.thresholds, self.currents = [], []
        for ax in (self.left, self.right):
            self.thresholds.append(ax.axvline(1, label="N = n", **plots.THRESHOLD_STYLE))
            self.currents.append(ax.axvline(1, color="C3", linewidth=1.5))
        legend_below(self.left)
        legend_below(self.right, columns=3)

    def update(self, state: dict) -> None:
        curve, j, N = state["curve"], state["index"], state["num_features"]
        x = curve.num_features
        for live, values in ((self.test_error, curve.test_error), (self.train_error, curve.train_error),
                             (self.test_loss, curve.test_loss), (self.weight_norm, curve.weight_norm)):
            live.set(x, values)
        for line, value in ((self.kernel_error, curve.kernel_test_error), (self.kernel_loss, curve.kernel_test_loss),
                            (self.kernel_norm, curve.kernel_norm)):
            line.set_ydata([value.mean()] * 2)
        for ax, threshold, current in zip((self.left, self.right), self.thresholds, self.currents, strict=True):
            threshold.set_xdata([state["n"]] * 2)
            current.set_xdata([N, N])
            rescale(ax)
            ax.set_xlim(*RANDOM_FEATURES_N_LIMITS)
        self.left.set_ylim(-0.02, 1.0)
        # Fixed, like the N axis: the peak at N = n swings by decades from one n to the next, and following it
        # would redraw the frame on most moves of n.
        self.right.set_ylim(*RANDOM_FEATURES_LOSS_LIMITS)
        self.left.set_title(f"N = {N}: test error {curve.test_error[:, j].mean():.3f}, "
                            f"training error {curve.train_error[:, j].mean():.3f}", fontsize=9)
        highest = max(curve.test_loss.mean(axis=0).max(), curve.weight_norm.mean(axis=0).max())
        cut = " (peak cut)" if highest > RANDOM_FEATURES_LOSS_LIMITS[1] else ""
        self.right.set_title(f"test loss {curve.test_loss[:, j].mean():.3g}, "
                             f"norm {curve.weight_norm[:, j].mean():.3g}{cut}", fontsize=9)
        ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else " (min-norm)"
        kind = {"fourier": "Fourier", "relu": "ReLU"}[state["kind"]]
        self.fig.suptitle(f"random {kind} features on {state['n']} digits, label noise {state['noise']:g}{ridge}",
                          fontsize=10)


def random_features_neighbours(n: int, noise: float, lam: float = 0.0, moved: str | None = None,
                               direction: int = 0, **_) -> list:
    """What the next moves of chapter 3's explorer will need: the sweeps of the other n at this noise, nearest
    first, ahead of a drag of n first; only after a move of n (or with `moved` None): N moves index the current
    sweep, and a noise move recomputes anyway, since the corrupted labels change."""
    if moved not in (None, "n"):
        return []
    ahead = direction if moved == "n" else 0
    return [partial(_random_features_curve, other, float(noise), float(lam))
            for other in nearest_first(RANDOM_FEATURES_N, int(n), ahead)]


def draw_random_features_state(state: dict) -> Figure:
    """Chapter 3's explorer figure for one setting, as a static figure."""
    return RandomFeaturesView(state).fig


def random_features_explorer(num_features: int = 100, noise: float = 0.0, n: int = 100):
    """Sliders for N, label noise, n and ridge over chapter 3's random-features sweep on digits."""
    import ipywidgets as widgets

    controls = {
        "num_features": widgets.IntSlider(value=num_features, min=1, max=2000, description="features N"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.05, description="label noise"),
        "n": widgets.IntSlider(value=n, min=RANDOM_FEATURES_N[0], max=RANDOM_FEATURES_N[-1],
                               step=RANDOM_FEATURES_N.step, description="samples n"),
        "lam": widgets.SelectionSlider(options=list(RANDOM_FEATURES_RIDGE_CHOICES), value=0.0, description="ridge"),
    }
    return explorer(controls, random_features_state, RandomFeaturesView, neighbours=random_features_neighbours)


def translation_sweep_state(records: list[dict], d_model: int, n_train: int) -> dict:
    """What chapter 6's explorer draws: every training-set size's final test and training loss against d_model
    (means over seeds), and one (d_model, n_train)'s losses over training steps."""
    sizes = sorted({r["config"]["n_train"] for r in records})
    finals = {size: sweep_curves.final_values(sweep_curves.select(records, n_train=size), ("train_loss", "test_loss"),
                                              knob="d_model") for size in sizes}
    chosen = sweep_curves.select(records, n_train=n_train)
    over_steps = {name: sweep_curves.epoch_table(chosen, name, knob="d_model", time="step")
                  for name in ("test_loss", "train_loss")}
    row = int(np.flatnonzero(over_steps["test_loss"]["widths"] == d_model)[0])
    return {"d_model": d_model, "n_train": n_train, "sizes": sizes, "finals": finals,
            "steps": over_steps["test_loss"]["epochs"], "test_history": over_steps["test_loss"]["test_loss"][row],
            "train_history": over_steps["train_loss"]["train_loss"][row]}


class TranslationSweepView(View):
    """Left: final test loss (solid) and training loss (dotted) against d_model, one colour per training-set size,
    the chosen d_model marked. Right: the chosen run's losses over training steps."""

    MAX_SIZES = 4  # colours prepared for this many training-set sizes

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        self.test_lines, self.train_lines = [], []
        for i in range(self.MAX_SIZES):
            self.test_lines.append(self.left.plot([], [], marker="o", color=f"C{i}")[0])
            self.train_lines.append(self.left.plot([], [], linestyle=":", color=f"C{i}")[0])
        self.current = self.left.axvline(1, color="C3", linewidth=1.5)
        plots.double_descent_axes(self.left, "embedding dimension d_model", "cross-entropy per token", logy=False)
        (self.test_history,) = self.right.plot([], [], marker=".", label="test loss")
        (self.train_history,) = self.right.plot([], [], marker=".", label="training loss (noisy targets)")
        plots.double_descent_axes(self.right, "training step", "cross-entropy per token", logy=False)
        legend_below(self.right)

    def update(self, state: dict) -> None:
        if len(state["sizes"]) > self.MAX_SIZES:
            raise ValueError(f"the explorer draws at most {self.MAX_SIZES} training-set sizes; the records hold "
                             f"{len(state['sizes'])}: select some first")
        for i, (test, train) in enumerate(zip(self.test_lines, self.train_lines, strict=True)):
            visible = i < len(state["sizes"])
            for line in (test, train):
                line.set_visible(visible)
            if visible:
                size = state["sizes"][i]
                finals = state["finals"][size]
                test.set_data(finals["widths"], finals["test_loss"].mean(axis=0))
                train.set_data(finals["widths"], finals["train_loss"].mean(axis=0))
                test.set_label(f"test, n = {size}")
                train.set_label(f"train, n = {size}")
        self.current.set_xdata([state["d_model"]] * 2)
        self.left.set_title(f"end of training; d_model = {state['d_model']} marked", fontsize=9)
        self.test_history.set_data(state["steps"], state["test_history"])
        self.train_history.set_data(state["steps"], state["train_history"])
        self.right.set_title(f"d_model = {state['d_model']}, n = {state['n_train']}", fontsize=9)
        legend_below(self.left, columns=len(state["sizes"]))
        for ax in (self.left, self.right):
            rescale(ax)


def draw_translation_sweep_state(state: dict) -> Figure:
    """Chapter 6's explorer figure for one setting, as a static figure."""
    return TranslationSweepView(state).fig


def translation_sweep_explorer(records: list[dict]):
    """Sliders over a finished Transformer sweep (d_model, training-set size): they only index the records."""
    import ipywidgets as widgets

    d_models = sorted({r["config"]["d_model"] for r in records})
    sizes = sorted({r["config"]["n_train"] for r in records})
    controls = {"d_model": widgets.SelectionSlider(options=d_models, value=d_models[len(d_models) // 2],
                                                   description="d_model"),
                "n_train": widgets.Dropdown(options=sizes, value=sizes[-1], description="samples n")}
    return explorer(controls, lambda d_model, n_train: translation_sweep_state(records, d_model, n_train),
                     TranslationSweepView, rows=(2,))
