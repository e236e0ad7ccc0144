"""Chapter 2's explorer: the sample-wise and model-wise risk of least squares on Gaussian data, with their
closed forms, recomputed live.
"""

from __future__ import annotations

from functools import lru_cache, partial
from itertools import chain, zip_longest
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ddd_utils.experiments import linear_regression
from ddd_utils.linear.theory import min_norm_risk
from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers.core import (
    View,
    explorer,
    legend_below,
    noise_floor,
    rescale,
)
from ddd_utils.notebook.prefetch import nearest_first

if TYPE_CHECKING:
    import ipywidgets as widgets

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


def linear_titles(key: str, size: int, curve: linear_regression.RiskCurve, noise: float, lam: float
                  ) -> tuple[str, str]:
    """The title of panel `key` ("by_n": its sweep at d = `size`; "by_p": at n = `size`) and of the figure: the
    kernel view's and the page explorer's (`notebook/web/linear.py`)."""
    cut = " (peak cut)" if np.median(curve.risk, axis=0).max() > LINEAR_TOP else ""
    panel = f"d = {size} features" if key == "by_n" else f"n = {size} samples"
    ridge = f", ridge lam = {lam:g}" if lam else " (min-norm)"
    return panel + cut, f"noise variance {noise:g}{ridge}"


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
            title, figure_title = linear_titles(key, state["p" if key == "by_n" else "n"], curve, state["noise"],
                                                state["lam"])
            ax.set_title(title, fontsize=9)
            rescale(ax)
            ax.set_ylim(noise_floor(state["noise"]), LINEAR_TOP)  # a fixed top, like chapter 1's
            legend_below(ax)  # its entries change with the ridge: the exact curve is for min-norm only
        self.fig.suptitle(figure_title, fontsize=10)


def linear_neighbours(n: int, p: int, lam: float = 0.0, moved: str | None = None, direction: int = 0,
                      **_: object) -> list:
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


def linear_explorer(n: int = 50, p: int = 50, noise: float = 0.25) -> widgets.VBox:
    """Sliders for n, p, noise and ridge strength over chapter 2's two sweeps."""
    import ipywidgets as widgets

    controls = {
        "n": widgets.IntSlider(value=n, min=LINEAR_SIZES[0], max=LINEAR_SIZES[-1], description="samples n"),
        "p": widgets.IntSlider(value=p, min=LINEAR_SIZES[0], max=LINEAR_SIZES[-1], description="features p"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05, description="noise var"),
        "lam": widgets.SelectionSlider(options=list(RIDGE_CHOICES), value=0.0, description="ridge"),
    }
    return explorer(controls, linear_state, LinearView, neighbours=linear_neighbours)
