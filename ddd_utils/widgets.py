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
from ddd_utils.experiments import linear_regression, polynomial
from ddd_utils.experiments import random_features as random_features_experiment
from ddd_utils.theory import min_norm_risk

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


def _explorer(controls: dict, compute, draw, rows: tuple[int, ...] = (2, 2)):
    """Lay out `controls` in rows and redraw `draw(compute(**values))` whenever one of them changes."""
    import ipywidgets as widgets
    from IPython.display import display

    output = widgets.Output()

    def redraw(_change=None):
        state = compute(**{name: control.value for name, control in controls.items()})
        with output:
            output.clear_output(wait=True)
            fig = draw(state)
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    boxes, start, items = [], 0, list(controls.values())
    for size in rows:
        boxes.append(widgets.HBox(items[start:start + size]))
        start += size
    return widgets.VBox([*boxes, output])


def polynomial_explorer(n: int = 16, noise: float = 0.1, num_features: int = 32):
    """Sliders for n, noise and p (plus basis and ridge); the figure updates on every change."""
    import ipywidgets as widgets

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
    return _explorer(controls, polynomial_state, draw_polynomial_state, rows=(3, 2))

# Chapter 2's explorer: few trials and a coarse grid so that a slider move recomputes both curves quickly.
LINEAR_EXPLORER = linear_regression.LinearConfig(grid_points=30, trials=8)
RIDGE_CHOICES = (0.0, 0.1, 1.0, 10.0, 100.0)


@lru_cache(maxsize=64)
def _linear_curves(n: int, p: int, noise: float, lam: float):
    config = linear_regression.with_overrides(LINEAR_EXPLORER, d=p, n=n, noise=noise)
    return linear_regression.samplewise(config, lam=lam), linear_regression.modelwise(config, lam=lam)


def linear_state(n: int, p: int, noise: float, lam: float = 0.0) -> dict:
    """Both sweeps of chapter 2 for one slider setting: risk against n at d = p, and against p at this n."""
    config = linear_regression.with_overrides(LINEAR_EXPLORER, d=p, n=n, noise=noise)
    by_n, by_p = _linear_curves(n, p, float(noise), float(lam))
    theory_by_n = theory_by_p = None
    if lam == 0.0:  # the exact curves are for the minimum-norm estimator
        theory_by_n = min_norm_risk(by_n.sizes, p, config.signal, noise)
        theory_by_p = linear_regression.modelwise_theory(config, by_p.sizes)
    return {"n": n, "p": p, "noise": noise, "lam": lam, "by_n": by_n, "by_p": by_p,
            "theory_by_n": theory_by_n, "theory_by_p": theory_by_p}


def draw_linear_state(state: dict) -> Figure:
    """Left: risk against n at d = p. Right: risk against p at fixed n. Monte Carlo medians, exact theory dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = (("by_n", "theory_by_n", "training samples n", state["p"], state["n"], f"d = {state['p']} features"),
              ("by_p", "theory_by_p", "features used p", state["n"], state["p"], f"n = {state['n']} samples"))
    for ax, (key, theory_key, label, threshold, current, title) in zip(axes, panels, strict=True):
        curve = state[key]
        plots.plot_trials(ax, curve.sizes, curve.risk, label="simulation (median)", center="median")
        if state[theory_key] is not None:
            ax.plot(curve.sizes, state[theory_key], color="k", linestyle="--", linewidth=1, label="exact expected risk")
        plots.mark_threshold(ax, threshold, label="threshold")
        ax.axvline(current, color="C3", linewidth=1.5, label=f"{label.split()[-1]} = {current}")
        plots.double_descent_axes(ax, label, "excess test risk", logx=False)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else " (min-norm)"
    fig.suptitle(f"noise variance {state['noise']:g}{ridge}", fontsize=10)
    fig.tight_layout()
    return fig


def linear_explorer(n: int = 50, p: int = 50, noise: float = 0.25):
    """Sliders for n, p, noise and ridge strength over chapter 2's two sweeps."""
    import ipywidgets as widgets

    controls = {
        "n": widgets.IntSlider(value=n, min=5, max=100, description="samples n"),
        "p": widgets.IntSlider(value=p, min=5, max=100, description="features p"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05, description="noise var"),
        "lam": widgets.SelectionSlider(options=list(RIDGE_CHOICES), value=0.0, description="ridge"),
    }
    return _explorer(controls, linear_state, draw_linear_state)


def sweep_state(records: list[dict], noise: float, width: int) -> dict:
    """What the sweep explorer draws: the final errors against width at this noise, and one width's history."""
    from ddd_utils.experiments import mnist1d_sweep  # imports torch: only the network chapters need it

    curves = mnist1d_sweep.final_curves(records, noise)
    first_seed = min(r["config"]["seed"] for r in records)
    chosen = next(r for r in records if r["config"]["noise"] == noise and r["config"]["width"] == width
                  and r["config"]["seed"] == first_seed)
    return {"noise": noise, "width": width, "curves": curves, "history": chosen["history"]}


def draw_sweep_state(state: dict) -> Figure:
    """Left: train and test error against width, the chosen width marked. Right: its errors against epochs."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    curves, history = state["curves"], state["history"]
    left.plot(curves["widths"], curves["test_error"].mean(axis=0), marker="o", label="test error (mean over seeds)")
    left.plot(curves["widths"], curves["train_error"].mean(axis=0), marker="s", label="train error (noisy labels)")
    left.axvline(state["width"], color="C3", linewidth=1.5, label=f"width {state['width']}")
    plots.double_descent_axes(left, "hidden units (width)", "error", logy=False)
    left.set_title(f"label noise {state['noise']:g}: final epoch", fontsize=9)
    left.legend(fontsize=8)
    right.plot(history["epoch"], history["test_error"], marker=".", label="test error")
    right.plot(history["epoch"], history["train_error"], marker=".", label="train error")
    right.plot(history["epoch"], history["corrupted_error"], marker=".", label="train error, corrupted labels")
    plots.double_descent_axes(right, "epoch", "error", logy=False)
    right.set_title(f"width {state['width']}, first seed: during training", fontsize=9)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sweep_explorer(records: list[dict]):
    """Sliders over a finished sweep (noise, width): moving them only indexes the records, it never trains."""
    import ipywidgets as widgets

    noises = sorted({r["config"]["noise"] for r in records})
    widths = sorted({r["config"]["width"] for r in records})
    controls = {"noise": widgets.Dropdown(options=noises, value=noises[-1], description="label noise"),
                "width": widgets.SelectionSlider(options=widths, value=widths[len(widths) // 2], description="width")}
    return _explorer(controls, lambda noise, width: sweep_state(records, noise, width), draw_sweep_state, rows=(2,))


# Chapter 3's explorer: one seed, 400 test digits, n <= 200 and N up to 10 n on a short grid, so that a slider move
# that changes n, noise or ridge recomputes the whole curve (kernel limit included) in about 0.3 s and draws it in
# about as long; moving N only redraws.
RANDOM_FEATURES_EXPLORER = random_features_experiment.RandomFeaturesConfig(n=100, n_test=400, max_ratio=10.0,
                                                                           num_grid=20, seeds=(0,))
RANDOM_FEATURES_RIDGE_CHOICES = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # kernel units: (K + lam I) alpha = y


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


def draw_random_features_state(state: dict) -> Figure:
    """Left: test and training error against N, the kernel limit dashed. Right: test squared loss and weight norm."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    curve, j, N = state["curve"], state["index"], state["num_features"]
    x = curve.num_features
    plots.plot_trials(left, x, curve.test_error, label="test error (clean labels)")
    plots.plot_trials(left, x, curve.train_error, label="training error")
    left.axhline(curve.kernel_test_error.mean(), color="C0", linestyle=":", label="kernel limit (N = infinity)")
    plots.double_descent_axes(left, "random features N", "zero-one error", logy=False)
    left.set_ylim(-0.02, 1.0)
    plots.plot_trials(right, x, curve.test_loss, label="test squared loss")
    plots.plot_trials(right, x, curve.weight_norm, label="weight norm")
    right.axhline(curve.kernel_test_loss.mean(), color="C0", linestyle=":", label="kernel limit: loss")
    right.axhline(curve.kernel_norm.mean(), color="C1", linestyle=":", label="kernel limit: RKHS norm")
    plots.double_descent_axes(right, "random features N", "squared loss / norm")
    for ax in (left, right):
        plots.mark_threshold(ax, state["n"], label="N = n")
        ax.axvline(N, color="C3", linewidth=1.5, label=f"N = {N}")
        ax.legend(fontsize=7)
    left.set_title(f"N = {N}: test error {curve.test_error[:, j].mean():.3f}, "
                   f"training error {curve.train_error[:, j].mean():.3f}", fontsize=9)
    right.set_title(f"test loss {curve.test_loss[:, j].mean():.3g}, norm {curve.weight_norm[:, j].mean():.3g}",
                    fontsize=9)
    ridge = f", ridge lam = {state['lam']:g}" if state["lam"] else " (min-norm)"
    kind = {"fourier": "Fourier", "relu": "ReLU"}[state["kind"]]
    fig.suptitle(f"random {kind} features on {state['n']} digits, label noise {state['noise']:g}{ridge}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def random_features_explorer(num_features: int = 100, noise: float = 0.0, n: int = 100):
    """Sliders for N, label noise, n and ridge over chapter 3's random-features sweep on digits."""
    import ipywidgets as widgets

    controls = {
        "num_features": widgets.IntSlider(value=num_features, min=1, max=2000, description="features N"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.05, description="label noise"),
        "n": widgets.IntSlider(value=n, min=20, max=200, step=10, description="samples n"),
        "lam": widgets.SelectionSlider(options=list(RANDOM_FEATURES_RIDGE_CHOICES), value=0.0, description="ridge"),
    }
    return _explorer(controls, random_features_state, draw_random_features_state)
