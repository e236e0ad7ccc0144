"""Chapter 2's explorer in the browser: least squares' risk against n / d and p / n on a grid of n, p, noise and
ridge, each state the kernel explorer's own (`explorers.linear.linear_state`), exact curves included."""

from __future__ import annotations

from ddd_utils.notebook.explorers import linear as kernel
from ddd_utils.notebook.explorers.core import noise_floor
from ddd_utils.notebook.web import vegalite as vl
from ddd_utils.notebook.web.explorer import FIGURE_TITLE_CHARACTERS, Slider, WebExplorer, grid_note, grid_with, trials

WEB_SIZES = tuple(range(10, 101, 10))
WEB_NOISE = (0.0, 0.1, 0.25, 0.5, 1.0)
SIMULATION, EXACT = "simulation (median)", "exact expected risk"
# per panel: the state's curve and exact line, the x label, the size the sweep is divided by, the slider marked
PANELS = (("by_n", "theory_by_n", "samples per feature n / d", "p", "n"),
          ("by_p", "theory_by_p", "features per sample p / n", "n", "p"))


def linear_web_explorer(n: int = 50, p: int = 50, noise: float = 0.25) -> WebExplorer:
    """Chapter 2's explorer on a grid: n, p, noise variance and ridge."""
    sliders = (Slider("n", "samples n", grid_with(WEB_SIZES, n), n),
               Slider("p", "features p", grid_with(WEB_SIZES, p), p),
               Slider("noise", "noise variance", grid_with(WEB_NOISE, noise), noise),
               Slider("lam", "ridge lam", kernel.RIDGE_CHOICES, 0.0))
    web = WebExplorer(sliders, grid_note(sliders, f"{kernel.LINEAR_EXPLORER.trials} trials; the exact curve is for the "
                                         "minimum-norm fit, ridge 0", "computes every n and p from 5 to 100"))
    for key, theory_key, _, threshold_key, slider in PANELS:
        # the sample-wise sweep depends on p (its threshold) and not on n, the model-wise one the other way round
        web.table(key, (threshold_key, "noise", "lam"), _curve(key, theory_key, threshold_key))
        web.table(f"{key}_marks", ("n", "p"), _marks(slider, threshold_key))
        web.text(f"{key}_title", (threshold_key, "noise", "lam"),
                 lambda noise, lam, key=key, threshold_key=threshold_key, **size: _titles(
                     key, size[threshold_key], noise, lam)[0])
    web.text("title", ("noise", "lam"), lambda noise, lam: _titles("by_n", n, noise, lam)[1],
             characters=FIGURE_TITLE_CHARACTERS)
    return web.chart(_spec(web))


def _titles(key: str, size: int, noise: float, lam: float) -> tuple[str, str]:
    """The kernel view's titles of panel `key` at its threshold size `size`, and of the figure."""
    curve = kernel.linear_state(n=size, p=size, noise=noise, lam=lam)[key]  # the other size: any
    return kernel.linear_titles(key, size, curve, noise, lam)


def _marks(slider: str, threshold_key: str):
    """A panel's rules: its threshold (at ratio 1) and the slider's size as a ratio to the threshold size."""
    def segments(**size) -> list[dict]:
        return [{"series": "threshold", "x": 1.0},
                {"series": f"slider's {slider}", "x": size[slider] / size[threshold_key]}]
    return segments


def _curve(key: str, theory_key: str, threshold_key: str):
    def segments(noise: float, lam: float, **size) -> list[dict]:
        threshold = size[threshold_key]
        state = kernel.linear_state(n=threshold, p=threshold, noise=noise, lam=lam)  # the other size: any
        curve = state[key]
        ratios = curve.sizes / threshold
        found = [trials(SIMULATION, ratios, curve.risk, center="median")]
        if state[theory_key] is not None:
            found.append({"series": EXACT, "x": ratios, "y": state[theory_key]})
        return found
    return segments


def _spec(web: WebExplorer) -> dict:
    panels = []
    for key, _, label, _, slider in PANELS:
        series = {SIMULATION: ("C0", "solid"), EXACT: ("k", "dashed"), "threshold": ("grey", "dashed"),
                  f"slider's {slider}": ("C3", "solid")}
        x = vl.axis("x", label, vl.linear_domain(*web.extent(key, field="x"), floor=0.0))
        low = max(vl.log_domain(*web.extent(key, positive=True))[0], noise_floor(min(WEB_NOISE)))
        y = vl.axis("y", "excess test risk", [low, kernel.LINEAR_TOP], log=True)  # the kernel's top: peaks cut
        panels.append(vl.panel(f"{key}_title", vl.band(key, x, y), vl.lines(key, x, y, series),
                               vl.rules(f"{key}_marks", series)))
    return vl.side_by_side(*panels, title="title")
