"""Interactive explorers: sliders that recompute (cheap linear models) and redraw a figure.

Every explorer splits into a pure `*_state` function (numbers only, testable and benchmarkable) and a drawing
function, so the same figure can be shown statically beside the widget.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ddd_utils import plots
from ddd_utils.experiments import polynomial

# The explorer's live curve: few trials and a short grid, so a slider move recomputes in a few tens of milliseconds.
EXPLORER = polynomial.PolynomialConfig(max_features=2000, num_grid=30, trials=8, n_test=300)


@lru_cache(maxsize=64)
def _error_curve(n: int, noise: float, basis: str, lam: float) -> polynomial.SweepResult:
    return polynomial.sweep(polynomial.with_overrides(EXPLORER, n=n, noise=noise), basis=basis, lam=lam)


def polynomial_state(n: int, noise: float, num_features: int, basis: str = "legendre", lam: float = 0.0
                     ) -> dict:
    """Everything the polynomial explorer draws for one slider setting."""
    config = polynomial.with_overrides(EXPLORER, n=n, noise=noise)
    fit = polynomial.example_fits(config, (num_features,), basis=basis, lam=lam)
    return {"n": n, "noise": noise, "num_features": num_features, "basis": basis, "lam": lam, "fit": fit,
            "curve": _error_curve(n, float(noise), basis, float(lam))}


def draw_polynomial_state(state: dict) -> Figure:
    """Left: one training set and its fit. Right: test error against p, with the current p marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    fit, p = state["fit"], state["num_features"]
    left.plot(fit["grid"], fit["target"], color="0.5", label="target")
    left.plot(fit["grid"], fit["fits"][p], color="C0", label=f"fit, p = {p}")
    left.scatter(fit["x"], fit["y"], color="k", s=15, zorder=3, label=f"n = {state['n']} samples")
    spread = np.ptp(fit["y"]) + 1.0
    left.set_ylim(fit["y"].min() - spread, fit["y"].max() + spread)  # keep the data in view when the fit explodes
    left.set_xlabel("x")
    left.legend(loc="upper left", fontsize=8)
    curve = state["curve"]
    plots.plot_trials(right, curve.num_features, curve.test_error, label="test error", center="median")
    plots.mark_threshold(right, state["n"], label="p = n")
    current = np.searchsorted(curve.num_features, min(p, curve.num_features[-1]))
    right.axvline(p, color="C3", linewidth=1.5, label=f"p = {p}")
    right.scatter([curve.num_features[current]], [np.median(curve.test_error[:, current])], color="C3", zorder=3)
    plots.double_descent_axes(right, "number of features p", "test MSE (noise-free target)")
    right.legend(fontsize=8)
    ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else ""
    fig.suptitle(f"{state['basis']} features, noise variance {state['noise']:g}{ridge}", fontsize=10)
    fig.tight_layout()
    return fig


def polynomial_explorer(n: int = 16, noise: float = 0.1, num_features: int = 32):
    """Sliders for n, noise and p (plus basis and ridge); the figure updates on every change."""
    import ipywidgets as widgets
    from IPython.display import display

    # Every p up to 80 (so p = n is reachable for any n on the slider), then the explorer's log-spaced grid.
    choices = sorted(set(range(1, 81)) | {int(p) for p in polynomial.feature_grid(n, EXPLORER.max_features,
                                                                                    EXPLORER.num_grid)})
    controls = {
        "n": widgets.IntSlider(value=n, min=2, max=64, description="samples n"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.01, description="noise var"),
        "num_features": widgets.SelectionSlider(options=sorted(set(choices) | {num_features}), value=num_features,
                                                description="features p"),
        "basis": widgets.Dropdown(options=["legendre", "legendre_normalized", "monomial"], description="basis"),
        "lam": widgets.SelectionSlider(options=[0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0], value=0.0, description="ridge"),
    }
    output = widgets.Output()

    def redraw(_change=None):
        state = polynomial_state(**{name: control.value for name, control in controls.items()})
        with output:
            output.clear_output(wait=True)
            fig = draw_polynomial_state(state)
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values())[:3]), widgets.HBox(list(controls.values())[3:]),
                         output])
