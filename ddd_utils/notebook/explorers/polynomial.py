"""Chapter 1's explorer: a polynomial fit and its test-error curve against the number of features, recomputed
live for each number of samples.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from matplotlib.figure import Figure

from ddd_utils.experiments import polynomial
from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers.core import (
    View,
    explorer,
    legend_below,
    noise_floor,
    rescale,
    rounded_out,
)
from ddd_utils.notebook.prefetch import nearest_first

if TYPE_CHECKING:
    import ipywidgets as widgets

# The explorer's live curve: few trials, test points and features, so that a move of n recomputes it in about 60 ms
# on 2 cores (the chapter's figures sweep to 10,000 features; 1,000 still shows the second descent for every n).
EXPLORER = polynomial.PolynomialConfig(max_features=1000, num_grid=30, trials=6, n_test=200)


POLYNOMIAL_N = range(2, 65)  # the n slider's values
POLYNOMIAL_TOP = 1e12  # the explorer's test-error axis ends here; higher peaks are cut (their title says so)


class ErrorCurve(NamedTuple):
    """Test error (trials, P) against the numbers of features."""

    num_features: np.ndarray
    test_error: np.ndarray


@lru_cache(maxsize=2 * len(POLYNOMIAL_N))
def _polynomial_errors(n: int, basis: str, lam: float) -> polynomial.NoiseScaledError:
    """Chapter 1's live curve at every noise level at once: a noise move recomputes nothing."""
    return polynomial.noise_scaled_sweep(polynomial.with_overrides(EXPLORER, n=n), basis=basis, lam=lam)


def polynomial_state(n: int, noise: float, num_features: int, basis: str = "legendre", lam: float = 0.0
                     ) -> dict:
    """Everything the polynomial explorer draws for one slider setting."""
    config = polynomial.with_overrides(EXPLORER, n=n, noise=noise)
    fit = polynomial.example_fits(config, (num_features,), basis=basis, lam=lam)
    return {"n": n, "noise": noise, "num_features": num_features, "basis": basis, "lam": lam, "fit": fit,
            "curve": polynomial_curve(n, noise, basis, lam)}


def polynomial_curve(n: int, noise: float, basis: str = "legendre", lam: float = 0.0) -> ErrorCurve:
    """The explorer's test-error curve at (n, noise), from the cached sweep of every noise level."""
    errors = _polynomial_errors(n, basis, float(lam))
    return ErrorCurve(errors.num_features, errors.at(noise))


def nearest_swept(curve: ErrorCurve, p: int) -> int:
    """The index of the swept p nearest `p` (in log scale): where the explorer marks the slider's p."""
    return int(np.argmin(np.abs(np.log(curve.num_features) - np.log(p))))


def polynomial_titles(n: int, noise: float, p: int, curve: ErrorCurve, basis: str = "legendre", lam: float = 0.0
                      ) -> tuple[str, str, str]:
    """The explorer figure's titles (fit panel, error panel, figure) for one setting: the kernel view's and the
    page explorer's (`notebook/web/polynomial.py`)."""
    nearest = nearest_swept(curve, p)
    cut = " (peak cut)" if np.median(curve.test_error, axis=0).max() > POLYNOMIAL_TOP else ""
    ridge = f", ridge lam = {lam:g}" if lam else ""
    return (f"n = {n} samples, fit with p = {p} features",
            f"swept p nearest the slider's, {curve.num_features[nearest]}: median test MSE "
            f"{np.median(curve.test_error[:, nearest]):.3g}{cut}",
            f"{basis} features, noise variance {noise:g}{ridge}")


def polynomial_neighbours(n: int, basis: str = "legendre", lam: float = 0.0, moved: str | None = None,
                          direction: int = 0, **_: object) -> list:
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
        self.left.set_ylim(*rounded_out(-reach, reach))  # fit that explodes; set by the noise alone, not the draw
        self.error.set(curve.num_features, curve.test_error)
        self.threshold.set_xdata([state["n"]] * 2)
        self.current.set_xdata([p, p])
        nearest = nearest_swept(curve, p)
        self.current_point.set_offsets([[curve.num_features[nearest], np.median(curve.test_error[:, nearest])]])
        fit_title, error_title, title = polynomial_titles(state["n"], state["noise"], p, curve, state["basis"],
                                                          state["lam"])
        self.left.set_title(fit_title, fontsize=9)
        self.right.set_title(error_title, fontsize=9)
        rescale(self.right)
        self.right.set_ylim(noise_floor(state["noise"]), POLYNOMIAL_TOP)  # fixed top: the peak (round-off) swings
        self.fig.suptitle(title, fontsize=10)


def draw_polynomial_state(state: dict) -> Figure:
    """Chapter 1's explorer figure for one setting, as a static figure."""
    return PolynomialView(state).fig


def polynomial_explorer(n: int = 16, noise: float = 0.1, num_features: int = 32) -> widgets.VBox:
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
