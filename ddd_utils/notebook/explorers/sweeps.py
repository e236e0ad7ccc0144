"""Explorers of finished sweeps (chapters 4-6): the final errors against width, one run's history, the epoch
and sample-size views of a vision sweep, and the Transformer sweep's losses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ddd_utils.analysis import sweep_curves
from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers.core import (
    View,
    explorer,
    legend_below,
    rescale,
)

if TYPE_CHECKING:
    import ipywidgets as widgets


def sweep_state(records: list[dict], noise: float, width: int) -> dict:
    """What the sweep explorer draws: the final errors against width at this noise, and one width's history."""
    curves = sweep_curves.final_curves(records, noise)
    first_seed = min(r["config"]["seed"] for r in records)
    chosen = next(r for r in records if r["config"]["noise"] == noise and r["config"]["width"] == width
                  and r["config"]["seed"] == first_seed)
    return {"noise": noise, "width": width, "curves": curves, "history": chosen["history"]}


def sweep_titles(state: dict) -> tuple[str, str]:
    """Chapter 4's panel titles for one state: the kernel view's and the page explorer's (`notebook/web`)."""
    return f"label noise {state['noise']:g}: final epoch", f"width {state['width']}, first seed: during training"


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
        finals_title, history_title = sweep_titles(state)
        self.left.set_title(finals_title, fontsize=9)
        for line, (key, _) in zip(self.history, self.HISTORY, strict=True):
            line.set_data(history["epoch"], history[key])
        self.right.set_title(history_title, fontsize=9)
        for ax in (self.left, self.right):
            rescale(ax, errors=True)


def draw_sweep_state(state: dict) -> Figure:
    """Chapter 4's explorer figure for one setting, as a static figure."""
    return SweepView(state).fig


def sweep_explorer(records: list[dict]) -> widgets.VBox:
    """Sliders over a finished sweep (noise, width): moving them only indexes the records, it never trains."""
    import ipywidgets as widgets

    noises = sweep_curves.config_values(records, "noise")
    widths = sweep_curves.config_values(records, "width")
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


def epoch_sweep_titles(state: dict) -> tuple[str, str]:
    """Chapter 5's panel titles for one state: the kernel view's and the page explorer's (`notebook/web`)."""
    return (f"label noise {state['noise']:g}, n = {state['n_train']}: epoch {state['epoch']}",
            f"width {state['width']} during training")


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
        epoch_title, history_title = epoch_sweep_titles(state)
        self.left.set_title(epoch_title, fontsize=9)
        self.history.set_data(state["epochs"], state["history"])
        self.current_epoch.set_xdata([state["epoch"]] * 2)
        self.right.set_title(history_title, fontsize=9)
        for ax in (self.left, self.right):
            rescale(ax, errors=True)


def draw_epoch_sweep_state(state: dict) -> Figure:
    """Chapter 5's explorer figure for one setting, as a static figure."""
    return EpochSweepView(state).fig


def epoch_sweep_explorer(records: list[dict]) -> widgets.VBox:
    """Sliders over a finished sweep of one model (width, noise, training-set size, epoch): moving them only
    indexes the records, it never trains."""
    import ipywidgets as widgets

    values = {name: sweep_curves.config_values(records, name) for name in ("width", "noise", "n_train")}
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


def translation_sweep_state(records: list[dict], d_model: int, n_train: int) -> dict:
    """What chapter 6's explorer draws: every training-set size's final test and training loss against d_model
    (means over seeds), and one (d_model, n_train)'s losses over training steps."""
    sizes = sweep_curves.config_values(records, "n_train")
    finals = {size: sweep_curves.final_values(sweep_curves.select(records, n_train=size), ("train_loss", "test_loss"),
                                              knob="d_model") for size in sizes}
    chosen = sweep_curves.select(records, n_train=n_train)
    over_steps = {name: sweep_curves.epoch_table(chosen, name, knob="d_model", time="step")
                  for name in ("test_loss", "train_loss")}
    row = int(np.flatnonzero(over_steps["test_loss"]["widths"] == d_model)[0])
    return {"d_model": d_model, "n_train": n_train, "sizes": sizes, "finals": finals,
            "steps": over_steps["test_loss"]["epochs"], "test_history": over_steps["test_loss"]["test_loss"][row],
            "train_history": over_steps["train_loss"]["train_loss"][row]}


def translation_sweep_titles(state: dict) -> tuple[str, str]:
    """Chapter 6's panel titles for one state: the kernel view's and the page explorer's (`notebook/web`)."""
    return (f"end of training; d_model = {state['d_model']} marked",
            f"d_model = {state['d_model']}, n = {state['n_train']}")


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
        finals_title, history_title = translation_sweep_titles(state)
        self.left.set_title(finals_title, fontsize=9)
        self.test_history.set_data(state["steps"], state["test_history"])
        self.train_history.set_data(state["steps"], state["train_history"])
        self.right.set_title(history_title, fontsize=9)
        legend_below(self.left, columns=len(state["sizes"]))
        for ax in (self.left, self.right):
            rescale(ax)


def draw_translation_sweep_state(state: dict) -> Figure:
    """Chapter 6's explorer figure for one setting, as a static figure."""
    return TranslationSweepView(state).fig


def translation_sweep_explorer(records: list[dict]) -> widgets.VBox:
    """Sliders over a finished Transformer sweep (d_model, training-set size): they only index the records."""
    import ipywidgets as widgets

    d_models = sweep_curves.config_values(records, "d_model")
    sizes = sweep_curves.config_values(records, "n_train")
    controls = {"d_model": widgets.SelectionSlider(options=d_models, value=d_models[len(d_models) // 2],
                                                   description="d_model"),
                "n_train": widgets.Dropdown(options=sizes, value=sizes[-1], description="samples n")}
    return explorer(controls, lambda d_model, n_train: translation_sweep_state(records, d_model, n_train),
                     TranslationSweepView, rows=(2,))
