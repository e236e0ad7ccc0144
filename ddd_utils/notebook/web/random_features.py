"""Chapter 3's explorer in the browser: random-features regression on digits against N, with its kernel limit, on a
grid of n, label noise and ridge, each state the kernel explorer's own (`explorers.random_features`)."""

from __future__ import annotations

from ddd_utils.notebook.explorers import random_features as kernel
from ddd_utils.notebook.web import vegalite as vl
from ddd_utils.notebook.web.explorer import FIGURE_TITLE_CHARACTERS, Slider, WebExplorer, grid_note, grid_with, trials

WEB_N = (20, 50, 100, 150, 200)
WEB_NOISE = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
WEB_N_FEATURES = (1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 500, 1000, 2000)
ERRORS = {"test error (clean labels)": ("C0", "solid"), "training error": ("C1", "solid"),
          "kernel limit (N = infinity)": ("C0", "dotted")}
LOSSES = {"test squared loss": ("C0", "solid"), "weight norm": ("C1", "solid"),
          "kernel limit: loss": ("C0", "dotted"), "kernel limit: RKHS norm": ("C1", "dotted")}
MARKS = {"N = n": ("grey", "dashed"), "slider's N (nearest swept)": ("C3", "solid")}


def random_features_web_explorer(num_features: int = 100, noise: float = 0.0, n: int = 100) -> WebExplorer:
    """Chapter 3's explorer on a grid: N, label noise, n and ridge."""
    sliders = (Slider("num_features", "features N", grid_with(WEB_N_FEATURES, num_features), num_features),
               Slider("noise", "label noise", grid_with(WEB_NOISE, noise), noise),
               Slider("n", "samples n", grid_with(WEB_N, n), n),
               Slider("lam", "ridge lam", kernel.RANDOM_FEATURES_RIDGE_CHOICES, 0.0))
    web = WebExplorer(sliders, grid_note(sliders, "each N marked at the nearest N swept", "computes every N from 1 "
                                         "to 2,000 and every n from 20 to 200 in steps of 10"))

    def state(num_features, noise, n, lam):
        return kernel.random_features_state(num_features=num_features, noise=noise, n=n, lam=lam)

    def curves(names, noise, n, lam):
        curve = state(1, noise, n, lam)["curve"]
        return [trials(label, curve.num_features, getattr(curve, name)) for label, name in names]

    settings = ("noise", "n", "lam")
    web.table("errors", settings, lambda **s: curves((("test error (clean labels)", "test_error"),
                                                      ("training error", "train_error")), **s))
    web.table("losses", settings, lambda **s: curves((("test squared loss", "test_loss"),
                                                      ("weight norm", "weight_norm")), **s))
    web.table("error_limit", settings, lambda **s: [
        {"series": "kernel limit (N = infinity)", "y": state(1, **s)["curve"].kernel_test_error.mean()}])
    web.table("loss_limits", settings, lambda **s: [
        {"series": "kernel limit: loss", "y": state(1, **s)["curve"].kernel_test_loss.mean()},
        {"series": "kernel limit: RKHS norm", "y": state(1, **s)["curve"].kernel_norm.mean()}])
    web.table("marks", ("num_features", "n"), lambda num_features, n: [
        {"series": "N = n", "x": n},
        {"series": "slider's N (nearest swept)", "x": state(num_features, 0.0, n, 0.0)["num_features"]}])
    web.text("errors_title", ("num_features", *settings), lambda **s: kernel.random_features_titles(state(**s))[0])
    web.text("losses_title", ("num_features", *settings), lambda **s: kernel.random_features_titles(state(**s))[1])
    web.text("title", settings, lambda **s: kernel.random_features_titles(state(num_features, **s))[2],
             characters=FIGURE_TITLE_CHARACTERS)
    return web.chart(_spec())


def _spec() -> dict:
    x = vl.axis("x", "random features N", list(kernel.RANDOM_FEATURES_N_LIMITS), log=True)
    y_error = vl.axis("y", "zero-one error", [-0.02, 1.0])
    y_loss = vl.axis("y", "squared loss / norm", list(kernel.RANDOM_FEATURES_LOSS_LIMITS), log=True)
    left, right = {**ERRORS, **MARKS}, {**LOSSES, **MARKS}
    return vl.side_by_side(
        vl.panel("errors_title", vl.band("errors", x, y_error), vl.lines("errors", x, y_error, left),
                 vl.levels("error_limit", left), vl.rules("marks", left)),
        vl.panel("losses_title", vl.band("losses", x, y_loss), vl.lines("losses", x, y_loss, right),
                 vl.levels("loss_limits", right), vl.rules("marks", right)),
        title="title")


