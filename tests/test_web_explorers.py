"""The in-browser explorers' embedded data: every table has an entry for every setting of its sliders, and the
entries at a few settings are what the kernel explorers compute there (to the 4 significant digits embedded)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fake_sweeps import DECOMPOSITIONS, RECORDS, TRANSLATION_RECORDS

from ddd_utils.notebook import plots
from ddd_utils.notebook.explorers import explanations as kernel_explanations
from ddd_utils.notebook.explorers import linear as kernel_linear
from ddd_utils.notebook.explorers import polynomial as kernel_polynomial
from ddd_utils.notebook.explorers import random_features as kernel_random_features
from ddd_utils.notebook.explorers import sweeps as kernel_sweeps
from ddd_utils.notebook.web import explanations, linear, polynomial, random_features, sweeps
from ddd_utils.notebook.web.explorer import MAX_PAYLOAD_BYTES, TITLE_CHARACTERS, Slider, WebExplorer, lines, rounded

RTOL = 1e-3  # 4 significant digits embedded


def entry(web: WebExplorer, table: str, **settings) -> list[dict]:
    """The segments table `table` holds for `settings` (slider values, as the page's sliders step through them)."""
    by = web.tables[table]["by"]
    key = ",".join(str(web.sliders[name].values.index(settings[name])) for name in by)
    return web.tables[table]["entries"][key]


def text(web: WebExplorer, name: str, **settings) -> str:
    """The text parameter `name` at `settings` (slider values)."""
    by = web.texts[name]["by"]
    return web.texts[name]["entries"][",".join(str(web.sliders[s].values.index(settings[s])) for s in by)]


def series(segments: list[dict], name: str) -> dict:
    return next(segment for segment in segments if segment["series"] == name)


def close(embedded, expected) -> bool:
    embedded = np.array([np.nan if v is None else v for v in embedded], dtype=float)
    expected = np.asarray(expected, dtype=float)
    expected = np.where(np.isfinite(expected), expected, np.nan)  # embedded as null
    return np.allclose(embedded, expected, rtol=RTOL, atol=1e-12, equal_nan=True)


@pytest.fixture(scope="module")
def built():
    """Each chapter's web explorer, built as its chapter builds it (sweeps from the fake records)."""
    return {
        "polynomial": polynomial.polynomial_web_explorer(n=15, noise=0.1, num_features=120),
        "linear": linear.linear_web_explorer(n=40, p=40, noise=0.25),
        "random_features": random_features.random_features_web_explorer(noise=0.2),
        "sweep": sweeps.sweep_web_explorer(RECORDS),
        "epoch_sweep": sweeps.epoch_sweep_web_explorer(RECORDS),
        "translation": sweeps.translation_sweep_web_explorer(TRANSLATION_RECORDS),
        "pattern_speeds": explanations.pattern_speeds_web_explorer(fast=150, noise=0.25, fast_signal=0.5),
        "decomposition": explanations.decomposition_web_explorer(DECOMPOSITIONS),
    }


@pytest.mark.parametrize("name", ["polynomial", "linear", "random_features", "sweep", "epoch_sweep", "translation",
                                  "pattern_speeds", "decomposition"])
def test_every_table_holds_every_setting_of_its_sliders_and_the_page_fits_its_budget(built, name):
    web = built[name]
    for table in (*web.tables.values(), *web.texts.values()):
        assert len(table["entries"]) == int(np.prod([len(web.sliders[s].values) for s in table["by"]]))
    payload = json.loads(web.html().split('class="ddd-explorer-data">')[1].split("</script>")[0])
    assert [s["start"] for s in payload["sliders"]] == [s.values.index(s.start) for s in web.sliders.values()]
    assert {p["name"] for p in payload["spec"]["params"]} == set(web.sliders) | set(web.texts)
    assert len(web.html()) < MAX_PAYLOAD_BYTES


def test_chapter_1s_entries_are_the_kernel_explorers_fit_and_curve(built):
    web = built["polynomial"]
    for n, noise, p in ((15, 0.1, 120), (8, 0.5, 4), (64, 1.0, 1000)):
        state = kernel_polynomial.polynomial_state(n, noise, p)
        fit = series(entry(web, "fit", n=n, noise=noise, p=p), "fit")
        expected = np.clip(state["fit"]["fits"][p][::polynomial.PLOT_STRIDE], -polynomial.FIT_LIMIT,
                           polynomial.FIT_LIMIT)
        assert close(fit["y"], expected)
        curve = state["curve"]
        middle, low, high = plots.trial_summary(curve.test_error, len(curve.num_features), center="median")
        error = series(entry(web, "error", n=n, noise=noise), "test error (median)")
        assert close(error["x"], curve.num_features) and close(error["y"], middle) and close(error["hi"], high)


def test_chapter_2s_entries_are_the_kernel_explorers_simulation_and_exact_risk(built):
    web = built["linear"]
    for n, p, noise, lam in ((40, 40, 0.25, 0.0), (10, 70, 1.0, 0.0), (100, 20, 0.0, 10.0)):
        state = kernel_linear.linear_state(n, p, noise, lam)
        by_n = entry(web, "by_n", p=p, noise=noise, lam=lam)
        assert close(series(by_n, linear.SIMULATION)["x"], state["by_n"].sizes / p)
        assert close(series(by_n, linear.SIMULATION)["y"], np.median(state["by_n"].risk, axis=0))
        by_p = entry(web, "by_p", n=n, noise=noise, lam=lam)
        assert close(series(by_p, linear.SIMULATION)["y"], np.median(state["by_p"].risk, axis=0))
        cut = np.median(state["by_p"].risk, axis=0).max() > kernel_linear.LINEAR_TOP
        assert text(web, "by_p_title", n=n, noise=noise, lam=lam) == f"n = {n} samples" + (" (peak cut)" if cut else "")
        exact = [segment for segment in by_p if segment["series"] == linear.EXACT]
        assert (not exact) == (lam > 0) and (lam > 0 or close(exact[0]["y"], state["theory_by_p"]))


def test_chapter_3s_entries_are_the_kernel_explorers_sweep_and_its_nearest_swept_n(built):
    web = built["random_features"]
    for num_features, noise, n, lam in ((100, 0.2, 100, 0.0), (2000, 0.0, 20, 1e-2)):
        state = kernel_random_features.random_features_state(num_features, noise, n, lam)
        errors = entry(web, "errors", noise=noise, n=n, lam=lam)
        assert close(series(errors, "test error (clean labels)")["y"], state["curve"].test_error.mean(axis=0))
        marked = series(entry(web, "marks", num_features=num_features, n=n), "slider's N (nearest swept)")
        assert marked["x"] == state["num_features"]


def test_the_sweep_explorers_entries_are_reads_of_the_records(built):
    state = kernel_sweeps.sweep_state(RECORDS, noise=0.2, width=16)
    history = entry(built["sweep"], "history", noise=0.2, width=16)
    assert close(series(history, "test error")["y"], state["history"]["test_error"])
    finals = entry(built["sweep"], "finals", noise=0.2)
    assert close(series(finals, "test error (mean over seeds)")["y"], state["curves"]["test_error"].mean(axis=0))
    epoch = kernel_sweeps.epoch_sweep_state(RECORDS, width=64, noise=0.0, n_train=100, epoch=10)
    at_epoch = entry(built["epoch_sweep"], "at_epoch", noise=0.0, n_train=100, epoch=10)
    assert close(series(at_epoch, "test error")["y"], epoch["test_error"])
    state = kernel_sweeps.translation_sweep_state(TRANSLATION_RECORDS, d_model=32, n_train=200)
    history = entry(built["translation"], "history", d_model=32, n_train=200)
    assert close(series(history, "test loss")["y"], state["test_history"])


def test_a_setting_the_sweep_did_not_run_shows_no_curve_and_says_so():
    records = [r for r in RECORDS if r["config"]["noise"] == 0.2] + [
        {**r, "config": {**r["config"], "n_train": 50}} for r in RECORDS if r["config"]["noise"] == 0.0]
    web = sweeps.epoch_sweep_web_explorer(records)
    assert entry(web, "at_epoch", noise=0.2, n_train=50, epoch=100) == []
    assert text(web, "epoch_title", noise=0.2, n_train=50, epoch=100) == "no runs at label noise 0.2 with n = 50"


def test_chapter_7s_and_8s_entries_are_the_kernel_explorers_dynamics_and_decomposition(built):
    web = built["pattern_speeds"]
    state = kernel_explanations.pattern_speeds_state(slow_speed=0.001, fast_speed=0.3, fast=150, noise=0.5,
                                                     fast_signal=0.5)
    dynamics = state["dynamics"]
    test = series(entry(web, "errors", slow_speed=0.001, fast_speed=0.3, noise=0.5), "test")
    assert close(test["y"], np.maximum(dynamics.test_mse / dynamics.label_variance,
                                       kernel_explanations.PATTERN_ERROR_FLOOR)[::explanations.TIME_STRIDE])
    parts = entry(built["decomposition"], "parts", noise=0.2)
    assert close(series(parts, "variance")["y"], DECOMPOSITIONS[0.2]["variance"])


def test_an_axis_extent_reads_shared_arrays_and_skips_what_a_log_axis_cannot_show():
    web = WebExplorer([Slider("n", "n", (1, 2), 1)], note="")
    grid = web.share("grid", np.array([0.5, 2.0, 8.0]))
    web.table("curve", ("n",), lambda n: [{"series": "s", "x": grid, "y": np.array([0.0, -1.0, n])}])
    assert web.extent("curve", field="x") == (0.5, 8.0)
    assert web.extent("curve", positive=True) == (1.0, 2.0)


def test_embedded_values_keep_four_significant_digits_and_infinities_become_null():
    assert rounded(np.array([1.234567, np.inf, np.nan, -0.000123456])) == [1.235, None, None, -0.0001235]
    assert rounded(np.int64(3)) == 3 and rounded("fit") == "fit"


def test_bad_sliders_and_oversized_pages_are_refused_with_the_limit_named():
    with pytest.raises(ValueError, match="start 3 is not one of its values"):
        Slider("n", "samples n", (1, 2), 3)
    with pytest.raises(ValueError, match="must be an identifier"):
        Slider("noise level", "noise", (0.0,), 0.0)
    web = WebExplorer([Slider("n", "n", tuple(range(400)), 0)], note="")
    web.table("big", ("n",), lambda n: [{"series": "s", "x": np.arange(500.0) + 0.123456, "y": np.ones(500) / 3}])
    with pytest.raises(ValueError, match="MAX_PAYLOAD_BYTES"):
        web.chart({}).html()
    with pytest.raises(ValueError, match="unknown sliders"):
        web.table("other", ("width",), lambda width: [])


def test_the_page_markup_cannot_end_its_script_early():
    web = WebExplorer([Slider("n", "n", (1,), 1)], note="</script><b>")
    web.text("title", (), lambda: "</script>")
    page = web.chart({}).html()
    assert page.count("</script>") == 1


def test_a_title_longer_than_its_panel_is_drawn_as_lines_that_keep_every_word():
    long = "N = 248: bias^2 too small to measure (its estimate is at or below 0), variance 43.5"
    assert lines("N = 155: one model 0.449") == "N = 155: one model 0.449"
    wrapped = lines(long)
    assert len(wrapped) == 2 and all(len(line) <= TITLE_CHARACTERS for line in wrapped)
    assert " ".join(wrapped) == long
