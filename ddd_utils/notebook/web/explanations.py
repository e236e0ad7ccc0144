"""Chapters 7 and 8's explorers in the browser: the pattern-speed toy model on a grid of the two speeds and the
label noise, and the random-feature decomposition over finished results, each state the kernel explorers' own
(`explorers.explanations`)."""

from __future__ import annotations

from functools import cache

import numpy as np

from ddd_utils.notebook.explorers import explanations as kernel
from ddd_utils.notebook.web import vegalite as vl
from ddd_utils.notebook.web.explorer import FIGURE_TITLE_CHARACTERS, Slider, WebExplorer, grid_note, grid_with

WEB_PATTERN_NOISE = (0.0, 0.25, 0.5)
TIME_STRIDE = 3  # every third of the kernel's 300 log-spaced times: the curves as drawn, a third of the bytes


def pattern_speeds_web_explorer(slow_speed: float = 0.01, fast_speed: float = 1.0, fast: int = 180,
                                noise: float = 0.0, fast_signal: float = 0.0) -> WebExplorer:
    """The toy model on a grid of both speeds and the label noise; the fast pattern's size and share of the signal
    stay at the chapter's values, and weight decay at 0."""
    speeds = kernel.PATTERN_SPEEDS
    sliders = (Slider("slow_speed", "slow speed", speeds, slow_speed),
               Slider("fast_speed", "fast speed", speeds, fast_speed),
               Slider("noise", "label noise", grid_with(WEB_PATTERN_NOISE, noise), noise))
    web = WebExplorer(sliders, grid_note(sliders, f"the exact gradient flow; the fast pattern's size {fast}, its share "
                                                  f"of the signal {fast_signal:g}, no weight decay",
                                         "also moves those, and the noise in steps of 0.05"))
    times = web.share("times", kernel.PATTERN_TIMES[::TIME_STRIDE])

    @cache  # the tables and titles of one setting share its trajectory
    def state(slow_speed, fast_speed, noise):
        return kernel.pattern_speeds_state(slow_speed=slow_speed, fast_speed=fast_speed, fast=fast, noise=noise,
                                           fast_signal=fast_signal)

    def errors(**setting):
        return [{"series": name, "x": times, "y": values[::TIME_STRIDE]}
                for name, values in zip(("train", "test"), kernel.pattern_errors(state(**setting)["dynamics"]),
                                        strict=True)]

    def parts(**setting):
        dynamics = state(**setting)["dynamics"]
        return [{"series": "slow pattern", "x": times, "y": dynamics.slow_part[::TIME_STRIDE]},
                {"series": "fast pattern", "x": times, "y": dynamics.fast_part[::TIME_STRIDE]}]

    grid = ("slow_speed", "fast_speed", "noise")
    web.table("errors", grid, errors)
    web.table("parts", grid, parts)
    web.table("timescales", ("slow_speed", "fast_speed"), lambda slow_speed, fast_speed: [
        {"series": "1 / fast speed", "x": 1 / fast_speed}, {"series": "1 / slow speed", "x": 1 / slow_speed}])
    web.text("errors_title", grid, lambda **setting: kernel.pattern_speeds_titles(state(**setting))[0])
    web.text("parts_title", (), lambda: kernel.pattern_speeds_titles(state(slow_speed, fast_speed, noise))[1])
    web.text("title", grid, lambda **setting: kernel.pattern_speeds_titles(state(**setting))[2],
             characters=FIGURE_TITLE_CHARACTERS)
    left = {"train": ("C1", "solid"), "test": ("C0", "solid"), "1 / fast speed": ("C1", "dotted"),
            "1 / slow speed": ("C0", "dotted")}
    right = {"slow pattern": ("C0", "solid"), "fast pattern": ("C1", "solid")}
    x = vl.axis("x", "time t (gradient flow)", vl.log_span(kernel.PATTERN_TIMES[0], kernel.PATTERN_TIMES[-1], 1.0),
                log=True)
    y_error = vl.axis("y", "MSE / Var(y)", vl.log_domain(*web.extent("errors", positive=True)), log=True)
    y_part = vl.axis("y", "its part of a prediction (std)", vl.linear_domain(*web.extent("parts"), floor=-0.05))
    return web.chart(vl.side_by_side(
        vl.panel("errors_title", vl.lines("errors", x, y_error, left), vl.rules("timescales", left)),
        vl.panel("parts_title", vl.lines("parts", x, y_part, right)), title="title"))


def decomposition_web_explorer(results: dict[float, dict]) -> WebExplorer:
    """Chapter 8's decomposition over finished results: label noise and N."""
    noises = tuple(sorted(results))
    grid = tuple(int(N) for N in results[noises[0]]["num_features"])
    web = WebExplorer((Slider("noise", "label noise", noises, noises[-1]),
                       Slider("num_features", "features N", grid, grid[len(grid) // 2])), note=(
        "Every setting of the sliders is read from the finished decompositions that the figures above show, as the "
        "widget above does in Jupyter or Colab."))

    def state(noise, num_features=grid[0]):
        return kernel.decomposition_state(results, noise, num_features)

    def parts(noise):
        result = state(noise)["result"]
        return [{"series": label, "x": result["num_features"],
                 "y": np.where(np.asarray(result[name], dtype=float) > 0, result[name], np.nan)}
                for name, label in (("risk", "risk (mean over models)"), ("bias", "bias^2"),
                                    ("variance", "variance"))]

    def errors(noise):
        result = state(noise)["result"]
        return [{"series": "one model (min-norm)", "x": result["num_features"], "y": result["test_error"].mean(axis=0)},
                {"series": "average of the k models", "x": result["num_features"], "y": result["split_average_error"]},
                {"series": "ridge tuned on held-out data", "x": result["num_features"], "y": result["ridge_error"]}]

    def titles(noise, num_features):
        return kernel.decomposition_titles(state(noise, num_features))

    web.table("parts", ("noise",), parts)
    web.table("errors", ("noise",), errors)
    web.table("marks", ("noise", "num_features"), lambda noise, num_features: [
        {"series": "N = n", "x": state(noise)["result"]["threshold"]}, {"series": "slider's N", "x": num_features}])
    web.text("parts_title", ("noise", "num_features"), lambda **s: titles(**s)[0])
    web.text("errors_title", ("noise", "num_features"), lambda **s: titles(**s)[1])
    web.text("title", ("noise",), lambda noise: titles(noise, grid[0])[2], characters=FIGURE_TITLE_CHARACTERS)
    marks = {"N = n": ("grey", "dashed"), "slider's N": ("C1", "solid")}  # not C3: the variance is red
    left = {"risk (mean over models)": ("k", "solid"), "bias^2": ("C0", "solid"), "variance": ("C3", "solid"), **marks}
    right = {"one model (min-norm)": ("k", "solid"), "average of the k models": ("C2", "solid"),
             "ridge tuned on held-out data": ("C4", "solid"), **marks}
    x = vl.axis("x", "random features N", vl.log_span(grid[0], grid[-1]), log=True)
    y_parts = vl.axis("y", "squared loss on one-hot targets", vl.log_domain(*web.extent("parts", positive=True)),
                      log=True)
    y_errors = vl.axis("y", "test error", vl.linear_domain(*web.extent("errors"), floor=-0.02, ceiling=1.02))
    return web.chart(vl.side_by_side(
        vl.panel("parts_title", vl.lines("parts", x, y_parts, left), vl.rules("marks", left)),
        vl.panel("errors_title", vl.lines("errors", x, y_errors, right), vl.rules("marks", right)), title="title"))
