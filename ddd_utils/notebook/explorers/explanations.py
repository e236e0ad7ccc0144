"""Explorers of the explanation chapters: chapter 7's pattern-speed toy model (exact, recomputed on every move)
and chapter 8's bias-variance decomposition (read from finished results). Built on `core`'s views and live image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ddd_utils.analysis import pattern_speeds
from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers.core import View, explorer, legend_below, rescale

if TYPE_CHECKING:
    import ipywidgets as widgets

# Chapter 7's toy: one fixed time axis for every setting (the sliders' timescales all fall inside it), so that a
# move redraws the curves only.
PATTERN_TIMES = np.logspace(-2, 7, 300)
PATTERN_SPEEDS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0)  # a pattern's learning speed, s^2
PATTERN_DECAYS = (0.0, 1e-4, 1e-3, 1e-2, 0.1)
PATTERN_ERROR_FLOOR = 1e-4  # errors below this (a noise-free fit converging) are drawn at it


def pattern_speeds_state(slow_speed: float, fast_speed: float, fast: int, noise: float, decay: float = 0.0,
                         fast_signal: float = 0.0, seed: int = 0) -> dict:
    """The toy model's exact gradient flow for one slider setting (speeds are the patterns' scales squared)."""
    config = pattern_speeds.PatternSpeeds(fast=fast, slow_scale=float(np.sqrt(slow_speed)),
                                          fast_scale=float(np.sqrt(fast_speed)), noise=noise, decay=decay,
                                          fast_signal=fast_signal if fast else 0.0)
    return {"config": config, "dynamics": pattern_speeds.gradient_flow(pattern_speeds.draw(config, seed),
                                                                       PATTERN_TIMES)}


def pattern_errors(dynamics: pattern_speeds.Dynamics) -> tuple[np.ndarray, np.ndarray]:
    """Train and test error over time as the explorers draw them: relative to Var(y), floored."""
    return tuple(np.maximum(mse / dynamics.label_variance, PATTERN_ERROR_FLOOR)
                 for mse in (dynamics.train_mse, dynamics.test_mse))


def pattern_speeds_titles(state: dict) -> tuple[str, str, str]:
    """The toy model figure's titles (errors, parts, figure): the kernel view's and the page explorer's."""
    config, dynamics = state["config"], state["dynamics"]
    peak = float(np.max(dynamics.test_mse) / dynamics.label_variance)
    decay = f", weight decay {config.decay:g}" if config.decay else ""
    signal = f", fast pattern's share of the signal {config.fast_signal:g}" if config.fast_signal else ""
    return (f"highest test error {peak:.3g} x Var(y)",
            f"n = {config.n}; slow pattern {config.slow} dims, fast pattern {config.fast}",
            f"speeds: slow {config.slow_scale ** 2:g}, fast {config.fast_scale ** 2:g}; label noise "
            f"{config.noise:g}{decay}{signal}")


class PatternSpeedsView(View):
    """Left: train and test error (relative to predicting 0) over time, with the patterns' timescales marked.
    Right: how much each pattern contributes to predictions on new inputs."""

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        (self.train,) = self.left.plot([], [], color="C1", label="train")
        (self.test,) = self.left.plot([], [], color="C0", label="test")
        self.fast_time = self.left.axvline(1, color="C1", linestyle=":", label="1 / fast speed")
        self.slow_time = self.left.axvline(1, color="C0", linestyle=":", label="1 / slow speed")
        plots.double_descent_axes(self.left, "time t (gradient flow)", "MSE / Var(y)")
        (self.slow_part,) = self.right.plot([], [], color="C0", label="slow pattern")
        (self.fast_part,) = self.right.plot([], [], color="C1", label="fast pattern")
        plots.double_descent_axes(self.right, "time t (gradient flow)", "its part of a prediction (std)", logy=False)
        legend_below(self.left, columns=4)
        legend_below(self.right)

    def update(self, state: dict) -> None:
        config, dynamics = state["config"], state["dynamics"]
        train, test = pattern_errors(dynamics)
        self.train.set_data(dynamics.times, train)
        self.test.set_data(dynamics.times, test)
        self.fast_time.set_xdata([1 / config.fast_scale ** 2] * 2)
        self.slow_time.set_xdata([1 / config.slow_scale ** 2] * 2)
        self.slow_part.set_data(dynamics.times, dynamics.slow_part)
        self.fast_part.set_data(dynamics.times, dynamics.fast_part)
        errors_title, parts_title, title = pattern_speeds_titles(state)
        self.left.set_title(errors_title, fontsize=9)
        self.right.set_title(parts_title, fontsize=9)
        self.fig.suptitle(title, fontsize=10)
        rescale(self.left)
        top = np.ceil(max(dynamics.slow_part.max(), dynamics.fast_part.max(), 1.0))  # whole units: a stable frame
        self.right.set_xlim(self.left.get_xlim())
        self.right.set_ylim(-0.05 * top, 1.05 * top)


def draw_pattern_speeds_state(state: dict) -> Figure:
    """Chapter 7's explorer figure for one setting, as a static figure."""
    return PatternSpeedsView(state).fig


def pattern_speeds_explorer(slow_speed: float = 0.01, fast_speed: float = 1.0, fast: int = 180,
                            noise: float = 0.0, fast_signal: float = 0.0) -> widgets.VBox:
    """Sliders for the two patterns' learning speeds, the fast pattern's size and share of the signal, the label
    noise and weight decay."""
    import ipywidgets as widgets

    n = pattern_speeds.PatternSpeeds().n
    controls = {
        "slow_speed": widgets.SelectionSlider(options=list(PATTERN_SPEEDS), value=slow_speed,
                                              description="slow speed"),
        "fast_speed": widgets.SelectionSlider(options=list(PATTERN_SPEEDS), value=fast_speed,
                                              description="fast speed"),
        "fast": widgets.IntSlider(value=fast, min=0, max=n - 10, step=10, description="fast size"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.05, description="label noise"),
        "decay": widgets.SelectionSlider(options=list(PATTERN_DECAYS), value=0.0, description="weight decay"),
        "fast_signal": widgets.FloatSlider(value=fast_signal, min=0.0, max=0.9, step=0.1, description="fast signal"),
    }
    return explorer(controls, pattern_speeds_state, PatternSpeedsView, rows=(3, 3))


def decomposition_state(results: dict[float, dict], noise: float, num_features: int) -> dict:
    """Chapter 8's explorer for one setting: the random-feature decomposition at label noise `noise` (a key of
    `results`, as `experiments.decomposition.random_features_decomposition` returns them), N marked."""
    result = results[noise]
    index = int(np.searchsorted(result["num_features"], num_features))
    return {"noise": noise, "result": result, "index": min(index, len(result["num_features"]) - 1)}


def decomposition_titles(state: dict) -> tuple[str, str, str]:
    """The decomposition figure's titles (parts, errors, figure): the kernel view's and the page explorer's."""
    result, index = state["result"], state["index"]
    N = result["num_features"][index]
    bias = result["bias"][index]
    shown = f"{bias:.3g}" if bias > 0 else "too small to measure (its estimate is at or below 0)"
    return (f"N = {N}: bias^2 {shown}, variance {result['variance'][index]:.3g}",
            f"N = {N}: one model {result['test_error'][:, index].mean():.3f}, average "
            f"{result['split_average_error'][index]:.3f}, ridge {result['ridge_error'][index]:.3f}",
            f"label noise {state['noise']:g}: random features on digits")


class DecompositionView(View):
    """Left: risk, squared bias and variance against N. Right: test error of one model, of the average over the
    disjoint training sets, and of ridge tuned on held-out data. The slider's N is marked on both."""

    def build(self) -> None:
        self.left, self.right = self.fig.subplots(1, 2)
        self.lines = {name: self.left.plot([], [], label=label, color=color)[0] for name, label, color in (
            ("risk", "risk (mean over models)", "k"), ("bias", "bias^2", "C0"), ("variance", "variance", "C3"))}
        self.errors = {name: self.right.plot([], [], label=label, color=color)[0] for name, label, color in (
            ("single", "one model (min-norm)", "k"), ("split_average_error", "average of the k models", "C2"),
            ("ridge_error", "ridge tuned on held-out data", "C4"))}
        self.marks = [ax.axvline(1, color="C3", linewidth=1.5) for ax in (self.left, self.right)]
        self.thresholds = [ax.axvline(1, label="N = n", **plots.THRESHOLD_STYLE) for ax in (self.left, self.right)]
        plots.double_descent_axes(self.left, "random features N", "squared loss on one-hot targets")
        plots.double_descent_axes(self.right, "random features N", "test error", logy=False)
        legend_below(self.left, columns=4)
        legend_below(self.right, columns=2)

    def update(self, state: dict) -> None:
        result, index = state["result"], state["index"]
        N = result["num_features"]
        for name, line in self.lines.items():
            values = np.asarray(result[name], dtype=float)
            line.set_data(N, np.where(values > 0, values, np.nan))  # a bias estimate at or below 0 is noise
        self.errors["single"].set_data(N, result["test_error"].mean(axis=0))
        for name in ("split_average_error", "ridge_error"):
            self.errors[name].set_data(N, result[name])
        for mark in self.marks:
            mark.set_xdata([N[index]] * 2)
        for threshold in self.thresholds:
            threshold.set_xdata([result["threshold"]] * 2)
        parts_title, errors_title, title = decomposition_titles(state)
        self.left.set_title(parts_title, fontsize=9)
        self.right.set_title(errors_title, fontsize=9)
        self.fig.suptitle(title, fontsize=10)
        rescale(self.left)
        rescale(self.right, errors=True)


def draw_decomposition_state(state: dict) -> Figure:
    """Chapter 8's explorer figure for one setting, as a static figure."""
    return DecompositionView(state).fig


def decomposition_explorer(results: dict[float, dict]) -> widgets.VBox:
    """Sliders over finished random-feature decompositions (label noise, N): they only index the results."""
    import ipywidgets as widgets

    noises = sorted(results)
    grid = [int(N) for N in results[noises[0]]["num_features"]]
    controls = {"noise": widgets.SelectionSlider(options=noises, value=noises[-1], description="label noise"),
                "num_features": widgets.SelectionSlider(options=grid, value=grid[len(grid) // 2],
                                                        description="features N")}
    return explorer(controls, lambda noise, num_features: decomposition_state(results, noise, num_features),
                     DecompositionView, rows=(2,))
