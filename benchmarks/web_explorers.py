"""Latency of the in-browser explorers (ddd_utils/notebook/web) in headless Chromium, against the kernel explorers.

Opens each chapter of a built book from disk (networking off), drags every slider of every explorer one step at a
time to its end and back with the arrow keys, and reads each move's redraw time as the page measures it: from the
input event to the frame painted (the table entries swapped in, Vega's dataflow run, the SVG drawn). The baseline,
timed in the same run for the explorers whose states are pure functions of their sliders (chapters 1, 2, 3 and 7's
toy model): the kernel explorer's move to the same settings (the state computed from warm caches, the view updated
in place and rendered to the PNG the widget shows; the comm round trip to a kernel comes on top). Prints medians
and the ratio.

    bash scripts/build_book.sh && python benchmarks/web_explorers.py [--html _build/html]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from ddd_utils.notebook.explorers import core as explorer_core  # noqa: E402
from ddd_utils.notebook.explorers import explanations, linear, polynomial, random_features  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Per chapter page with a pure-state explorer: its kernel state function and view, and the state's arguments
# that the web explorer's sliders set (web slider name -> kernel argument) with the kernel's other arguments.
KERNEL = {
    "01_polynomial_regression": (polynomial.polynomial_state, polynomial.PolynomialView,
                                 {"n": "n", "noise": "noise", "p": "num_features"}, {}),
    "02_linear_regression": (linear.linear_state, linear.LinearView,
                             {"n": "n", "p": "p", "noise": "noise", "lam": "lam"}, {}),
    "03_random_features": (random_features.random_features_state, random_features.RandomFeaturesView,
                           {"num_features": "num_features", "noise": "noise", "n": "n", "lam": "lam"}, {}),
    "07_grokking": (explanations.pattern_speeds_state, explanations.PatternSpeedsView,
                    {"slow_speed": "slow_speed", "fast_speed": "fast_speed", "noise": "noise"}, {"fast": 180}),
}


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))


def redrawn_after(explorer, redraws: int):
    """A wait condition: the explorer has redrawn more than `redraws` times (its page counts them)."""
    return lambda _: int(explorer.get_attribute("data-redraws")) > redraws


def drag(driver, explorer, slider) -> tuple[list[float], list[int]]:
    """Every step of the slider to its end and back: the page's redraw times and the slider indices passed."""
    last, start = int(slider.get_attribute("max")), int(slider.get_attribute("value"))
    keys = [Keys.ARROW_RIGHT] * (last - start) + [Keys.ARROW_LEFT] * last + [Keys.ARROW_RIGHT] * start
    times, indices = [], []
    for key in keys:
        redraws = int(explorer.get_attribute("data-redraws"))
        slider.send_keys(key)
        WebDriverWait(driver, 10).until(redrawn_after(explorer, redraws))
        times.append(float(explorer.get_attribute("data-redraw-ms")))
        indices.append(int(slider.get_attribute("value")))
    return times, indices


def kernel_moves(page: str, moves: list[dict]) -> list[float]:
    """The kernel explorer's time for each move (one setting of the web sliders each), caches warmed first."""
    state_of, view_class, names, fixed = KERNEL[page]

    def state(setting):
        return state_of(**{names[name]: value for name, value in setting.items()}, **fixed)

    for setting in moves:
        state(setting)  # warm: a reader of the kernel explorer has its caches filled by the background warm-up
    live = explorer_core.LiveImage(view_class(state(moves[0]), managed=False))
    times = []
    for setting in moves:
        started = time.perf_counter()
        live.png(state(setting))
        times.append(1000 * (time.perf_counter() - started))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="a built book's html folder")
    args = parser.parse_args()
    pages = sorted((args.html / "book").glob("0*.html"))
    if not pages:
        raise SystemExit(f"no chapter pages under {args.html / 'book'}: build the book first (--html names it)")
    driver = browser()
    print(f"{'page':28s} {'moves':>5s} {'browser ms (median, max)':>25s} {'kernel ms':>10s} {'ratio':>6s}")
    try:
        for page in pages:
            driver.get(page.as_uri())
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return [...document.querySelectorAll('.ddd-explorer')].every(e => e.dataset.redraws)"))
            times, kernel = [], []
            for explorer in driver.find_elements(By.CSS_SELECTOR, ".ddd-explorer"):
                payload = json.loads(explorer.find_element(By.CSS_SELECTOR, "script.ddd-explorer-data")
                                     .get_attribute("textContent"))
                sliders = explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
                for slider, spec in zip(sliders, payload["sliders"], strict=True):
                    moved, indices = drag(driver, explorer, slider)
                    times += moved
                    if page.stem in KERNEL and len(payload["sliders"]) == len(KERNEL[page.stem][2]):
                        start = {s["name"]: s["values"][s["start"]] for s in payload["sliders"]}
                        kernel += kernel_moves(page.stem, [{**start, spec["name"]: spec["values"][i]} for i in indices])
            browser_median = statistics.median(times)
            shown = f"{statistics.median(kernel):10.1f} {statistics.median(kernel) / browser_median:6.1f}" \
                if kernel else f"{'-':>10s} {'-':>6s}"
            print(f"{page.stem:28s} {len(times):5d} {browser_median:16.1f}, {max(times):6.1f} {shown}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
