"""Chapter 1's explorer in the browser: the polynomial fit and its test-error curve on a grid of n, noise and p,
each state the kernel explorer's own (`explorers.polynomial.polynomial_state`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ddd_utils.experiments import polynomial
from ddd_utils.notebook.explorers import polynomial as kernel
from ddd_utils.notebook.explorers.core import noise_floor
from ddd_utils.notebook.web import vegalite as vl
from ddd_utils.notebook.web.explorer import FIGURE_TITLE_CHARACTERS, Slider, WebExplorer, grid_note, grid_with, trials

WEB_N = (4, 8, 12, 16, 24, 32, 48, 64)
WEB_NOISE = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)
WEB_P = (1, 2, 4, 8, 12, 16, 24, 32, 64, 128, 256, 1000)
PLOT_STRIDE = 4  # every 4th of the fit's 400 plot points (0.02 apart): the fit's wiggles, a quarter of the bytes
FIT_LIMIT = 5.0  # the fit panel's y axis: the target (within +-1) and samples at noise variance 1, +-(2 + 3 sd)


@lru_cache(maxsize=4 * len(WEB_N) * len(WEB_NOISE))
def _fits(n: int, noise: float, ps: tuple[int, ...]) -> dict:
    """One training set at (n, noise) and its fits at every p of the slider (one design matrix for all)."""
    config = polynomial.with_overrides(kernel.EXPLORER, n=n, noise=noise)
    return polynomial.example_fits(config, ps)


def polynomial_web_explorer(n: int = 16, noise: float = 0.1, num_features: int = 128) -> WebExplorer:
    """Chapter 1's explorer on a grid (legendre features, no ridge): n, noise variance and p."""
    sliders = (Slider("n", "samples n", grid_with(WEB_N, n), n),
               Slider("noise", "noise variance", grid_with(WEB_NOISE, noise), noise),
               Slider("p", "features p", grid_with(WEB_P, num_features), num_features))
    web = WebExplorer(sliders, grid_note(sliders, "Legendre features, no ridge",
                                         "computes any setting, basis and ridge"))

    ps = sliders[2].values
    plot_x = web.share("plot_x", _fits(n, noise, ps)["grid"][::PLOT_STRIDE])

    def fit(n, noise, p):
        fits = _fits(n, noise, ps)
        return [{"series": "fit", "x": plot_x,
                 "y": np.clip(fits["fits"][p][::PLOT_STRIDE], -FIT_LIMIT, FIT_LIMIT)}]

    def target():
        fits = _fits(n, noise, ps)
        return [{"series": "target", "x": plot_x, "y": fits["target"][::PLOT_STRIDE]}]

    def samples(n, noise):
        fits = _fits(n, noise, ps)
        return [{"series": "training samples", "x": fits["x"], "y": fits["y"]}]

    def error(n, noise):
        curve = kernel.polynomial_curve(n, noise)
        return [trials("test error (median)", curve.num_features, curve.test_error, center="median")]

    def titles(n, noise, p):
        return kernel.polynomial_titles(n, noise, p, kernel.polynomial_curve(n, noise))

    web.table("fit", ("n", "noise", "p"), fit)
    web.table("target", (), target)
    web.table("samples", ("n", "noise"), samples)
    web.table("error", ("n", "noise"), error)
    web.table("marks", ("n", "p"), lambda n, p: [{"series": "p = n", "x": n}, {"series": "slider's p", "x": p}])
    web.text("fit_title", ("n", "p"), lambda n, p: titles(n, noise, p)[0])  # the fit's title: any noise
    web.text("error_title", ("n", "noise", "p"), lambda n, noise, p: titles(n, noise, p)[1])
    web.text("title", ("noise",), lambda noise: titles(n, noise, num_features)[2], characters=FIGURE_TITLE_CHARACTERS)
    return web.chart(_spec(web))


def _spec(web: WebExplorer) -> dict:
    x_fit = vl.axis("x", "x", [-1.05, 1.05])
    y_fit = vl.axis("y", "y", [-FIT_LIMIT, FIT_LIMIT])
    series = {"target": ("grey", "solid"), "fit": ("C0", "solid"), "training samples": ("k", "solid")}
    left = vl.panel("fit_title", vl.lines("target", x_fit, y_fit, series), vl.lines("fit", x_fit, y_fit, series),
                    vl.points("samples", x_fit, y_fit, series))
    x_p = vl.axis("x", "number of features p", vl.log_domain(1, kernel.EXPLORER.max_features), log=True)
    # the kernel explorer's axis: from two decades under the smallest noise to its fixed top (higher peaks cut)
    y_error = vl.axis("y", "test MSE (noise-free target)", [noise_floor(0.0), kernel.POLYNOMIAL_TOP], log=True)
    series = {"test error (median)": ("C0", "solid"), "p = n": ("grey", "dashed"), "slider's p": ("C3", "solid")}
    right = vl.panel("error_title", vl.band("error", x_p, y_error), vl.lines("error", x_p, y_error, series),
                     vl.rules("marks", series))
    return vl.side_by_side(left, right, title="title")
