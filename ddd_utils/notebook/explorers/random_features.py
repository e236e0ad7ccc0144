"""Chapter 3's explorer: random-features regression on digits against the number of features, with its
kernel limit, recomputed live.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ddd_utils.experiments import random_features as random_features_experiment
from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers.core import (
    View,
    explorer,
    legend_below,
    rescale,
)
from ddd_utils.notebook.prefetch import nearest_first

if TYPE_CHECKING:
    import ipywidgets as widgets

# Chapter 3's explorer: one seed, 400 test digits, n <= 200 and N up to 10 n on a short grid, so that a slider move
# that changes n, noise or ridge recomputes the whole curve (kernel limit included); moving N only redraws.
RANDOM_FEATURES_EXPLORER = random_features_experiment.RandomFeaturesConfig(n=100, n_test=400, max_ratio=10.0,
                                                                           num_grid=20, seeds=(0,))
RANDOM_FEATURES_RIDGE_CHOICES = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # kernel units: (K + lam I) alpha = y
RANDOM_FEATURES_MAX_N = 200  # the n slider's end; the N axis spans every grid it allows, so moving n keeps the frame
RANDOM_FEATURES_N = range(20, RANDOM_FEATURES_MAX_N + 1, 10)  # the n slider's values
RANDOM_FEATURES_LOSS_LIMITS = (1e-2, 1e6)  # the loss and norm axis; higher peaks are cut (the title says so)
RANDOM_FEATURES_N_LIMITS = (0.8, 1.25 * RANDOM_FEATURES_EXPLORER.max_ratio * RANDOM_FEATURES_MAX_N)


@lru_cache(maxsize=256)  # every setting of the page's grid (notebook/web/random_features.py) once; a few kB each
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


def random_features_titles(state: dict) -> tuple[str, str, str]:
    """The explorer figure's titles (errors, loss and norm, figure) for one state: the kernel view's and the page
    explorer's (`notebook/web/random_features.py`)."""
    curve, j, N = state["curve"], state["index"], state["num_features"]
    highest = max(curve.test_loss.mean(axis=0).max(), curve.weight_norm.mean(axis=0).max())
    cut = " (peak cut)" if highest > RANDOM_FEATURES_LOSS_LIMITS[1] else ""
    ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else " (min-norm)"
    kind = {"fourier": "Fourier", "relu": "ReLU"}[state["kind"]]
    return (f"N = {N}: test error {curve.test_error[:, j].mean():.3f}, training error "
            f"{curve.train_error[:, j].mean():.3f}",
            f"test loss {curve.test_loss[:, j].mean():.3g}, norm {curve.weight_norm[:, j].mean():.3g}{cut}",
            f"random {kind} features on {state['n']} digits, label noise {state['noise']:g}{ridge}")


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
        curve, N = state["curve"], state["num_features"]
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
        errors_title, losses_title, title = random_features_titles(state)
        self.left.set_title(errors_title, fontsize=9)
        self.right.set_title(losses_title, fontsize=9)
        self.fig.suptitle(title, fontsize=10)


def random_features_neighbours(n: int, noise: float, lam: float = 0.0, moved: str | None = None,
                               direction: int = 0, **_: object) -> list:
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


def random_features_explorer(num_features: int = 100, noise: float = 0.0, n: int = 100) -> widgets.VBox:
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
