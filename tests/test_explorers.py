"""The explorers' views: updating a figure in place must draw exactly what a new figure for that state draws, and
the blitted render of a move (content over a saved frame) must equal a full render."""

from __future__ import annotations

import io
import time

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from fake_sweeps import DECOMPOSITIONS, RECORDS, TRANSLATION_RECORDS
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import Collection, PathCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402

from ddd_utils.notebook.explorers import core as explorer_core  # noqa: E402
from ddd_utils.notebook.explorers import explanations
from ddd_utils.notebook.explorers import linear as linear_explorers
from ddd_utils.notebook.explorers import polynomial as polynomial_explorers
from ddd_utils.notebook.explorers import random_features as random_features_explorers
from ddd_utils.notebook.explorers import sweeps as sweeps_explorers

# Per view: its state function, two settings that differ in every slider (the first is where it is built), and a
# small move from the first whose new curves stay inside the first's rounded limits.
CASES = {
    "polynomial": (polynomial_explorers.polynomial_state, polynomial_explorers.PolynomialView,
                   {"n": 10, "noise": 0.1, "num_features": 40}, {"n": 14, "noise": 0.3, "num_features": 8},
                   {"n": 12}),
    "linear": (linear_explorers.linear_state, linear_explorers.LinearView, {"n": 20, "p": 20, "noise": 0.25},
               {"n": 15, "p": 30, "noise": 0.5, "lam": 1.0}, {"n": 19}),
    "random_features": (random_features_explorers.random_features_state, random_features_explorers.RandomFeaturesView,
                        {"num_features": 50, "noise": 0.0, "n": 40}, {"num_features": 300, "noise": 0.2, "n": 60},
                        {"num_features": 300}),
    "sweep": (lambda **kw: sweeps_explorers.sweep_state(RECORDS, **kw), sweeps_explorers.SweepView,
              {"noise": 0.0, "width": 4}, {"noise": 0.2, "width": 64}, {"width": 16}),
    "epoch_sweep": (lambda **kw: sweeps_explorers.epoch_sweep_state(RECORDS, **kw), sweeps_explorers.EpochSweepView,
                    {"width": 4, "noise": 0.0, "n_train": 100, "epoch": 10},
                    {"width": 64, "noise": 0.2, "n_train": 100, "epoch": 100}, {"width": 16}),
    "translation": (lambda **kw: sweeps_explorers.translation_sweep_state(TRANSLATION_RECORDS, **kw),
                    sweeps_explorers.TranslationSweepView, {"d_model": 8, "n_train": 100},
                    {"d_model": 32, "n_train": 200},
                    {"d_model": 16}),
    "decomposition": (lambda **kw: explanations.decomposition_state(DECOMPOSITIONS, **kw),
                      explanations.DecompositionView, {"noise": 0.0, "num_features": 10},
                      {"noise": 0.2, "num_features": 40}, {"num_features": 12}),
    "pattern_speeds": (explanations.pattern_speeds_state, explanations.PatternSpeedsView,
                       {"slow_speed": 0.01, "fast_speed": 1.0, "fast": 180, "noise": 0.0},
                       {"slow_speed": 0.1, "fast_speed": 0.3, "fast": 100, "noise": 0.2, "decay": 1e-3}, {"fast": 190}),
}


def drawn(fig) -> list:
    """What a figure shows, artist by artist: visible lines' data, collections' paths and offsets, texts, limits."""
    shown = []
    for ax in fig.axes:
        limits = np.round(np.r_[ax.get_xlim(), ax.get_ylim()], 9).tolist()  # autoscaling may differ in the last bit
        shown.append(("limits", limits, ax.get_xscale(), ax.get_yscale()))
        for artist in ax.get_children():
            if not artist.get_visible():
                continue
            if isinstance(artist, Line2D):
                shown.append(("line", artist.get_label(), np.asarray(artist.get_xdata(), float).tolist(),
                              np.asarray(artist.get_ydata(), float).tolist()))
            elif isinstance(artist, Collection):
                shown.append(("collection", [p.vertices.tolist() for p in artist.get_paths()],
                              np.asarray(artist.get_offsets()).tolist()))
            elif isinstance(artist, Text) and artist.get_text():
                shown.append(("text", artist.get_text()))
        legend = ax.get_legend()
        shown.append(("legend", [t.get_text() for t in legend.get_texts()] if legend else None))
    shown.append(("suptitle", fig._suptitle.get_text() if fig._suptitle else None))
    return shown


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def full_render(view: explorer_core.View) -> np.ndarray:
    """The view's figure drawn whole the ordinary way (no saved background), its content no longer animated but
    raised above the frame, where the live image draws it."""
    for artist in explorer_core.content_artists(view.fig):
        artist.set_animated(False)
        artist.set_zorder(1000 + artist.get_zorder())
    view.fig.set_dpi(explorer_core.EXPLORER_DPI)
    canvas = FigureCanvasAgg(view.fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def empty_artists(fig) -> list:
    """Visible lines and collections with no data: an artist that `update` forgot to set."""
    return [artist for ax in fig.axes for artist in ax.get_children() if artist.get_visible() and (
        (isinstance(artist, Line2D) and len(artist.get_xdata()) == 0)
        or (isinstance(artist, PathCollection) and len(artist.get_offsets()) == 0)
        or (isinstance(artist, Collection) and not artist.get_paths()))]


@pytest.mark.parametrize("name", CASES)
def test_a_view_updated_in_place_shows_what_a_new_view_of_that_state_shows(name):
    state_of, view_class, first, second, _ = CASES[name]
    view = view_class(state_of(**first), managed=False)
    before = drawn(view.fig)
    view.update(state_of(**second))
    assert drawn(view.fig) == drawn(view_class(state_of(**second), managed=False).fig)
    assert drawn(view.fig) != before
    assert not empty_artists(view.fig)


@pytest.mark.parametrize("name", CASES)
def test_a_small_move_keeps_the_frame_and_blits_the_pixels_of_a_full_render(name):
    state_of, view_class, first, _, small = CASES[name]
    start = state_of(**first)
    live = explorer_core.LiveImage(view_class(start, managed=False))
    first_png = live.png(start)
    blitted = live.png(state_of(**{**first, **small}))
    assert live.frame_draws == 1  # the frame was drawn once, for the first render
    assert not np.array_equal(pixels(blitted), pixels(first_png))
    np.testing.assert_array_equal(pixels(blitted), full_render(live.view))


@pytest.mark.parametrize("name", CASES)
def test_a_move_that_changes_the_limits_redraws_the_frame(name):
    state_of, view_class, first, second, _ = CASES[name]
    live = explorer_core.LiveImage(view_class(state_of(**first), managed=False))
    live.png(state_of(**first))
    frame = live.frame
    after = live.png(state_of(**second))
    assert (live.frame_draws == 2) == (live.frame != frame)
    np.testing.assert_array_equal(pixels(after), full_render(live.view))


def test_rounded_limits_are_stable_under_small_changes_and_contain_the_data():
    rounded_out = explorer_core.rounded_out
    assert rounded_out(-1.23, 2.71) == rounded_out(-1.21, 2.74) == pytest.approx((-1.5, 3.0))
    low, high = explorer_core.rounded_out(0.013, 0.0871)
    assert low <= 0.013 and high >= 0.0871 and high - low < 2 * (0.0871 - 0.013)


def test_the_explorer_widget_shows_the_render_of_its_sliders_setting():
    explorer = random_features_explorers.random_features_explorer(num_features=50, noise=0.0, n=40)
    sliders = {child.description: child for box in explorer.children[:-2] for child in box.children}
    image = explorer.children[-2]
    sliders["features N"].value = 300
    start = random_features_explorers.random_features_state(num_features=50, noise=0.0, n=40)
    # the same moves, made directly
    live = explorer_core.LiveImage(random_features_explorers.RandomFeaturesView(start, managed=False))
    live.png(start)
    expected = live.png(random_features_explorers.random_features_state(num_features=300, noise=0.0, n=40))
    np.testing.assert_array_equal(pixels(image.value), pixels(expected))
    assert not explorer.children[-1].outputs  # no error shown under the image


def test_the_epoch_sweep_state_reads_the_records_and_names_a_missing_setting():
    state = sweeps_explorers.epoch_sweep_state(RECORDS, width=16, noise=0.2, n_train=100, epoch=12)
    assert state["epoch"] == 10  # the evaluated epoch nearest on a log scale
    chosen = [r["history"] for r in RECORDS if r["config"]["noise"] == 0.2]
    expected = np.mean([[h["test_error"][1] for h in chosen if h["num_parameters"] == 10 * w] for w in (4, 16, 64)],
                       axis=1)
    np.testing.assert_allclose(state["test_error"], expected)
    np.testing.assert_allclose(state["history"], np.mean([h["test_error"] for h in chosen
                                                          if h["num_parameters"] == 160], axis=0))
    with pytest.raises(ValueError, match="n_train = 50"):
        sweeps_explorers.epoch_sweep_state(RECORDS, width=16, noise=0.2, n_train=50, epoch=12)


def test_the_transformer_explorer_refuses_more_sizes_than_it_has_colours_for():
    many = [{**record, "config": {**record["config"], "n_train": record["config"]["n_train"] + 1000 * k}}
            for record in TRANSLATION_RECORDS for k in range(3)]  # six sizes
    state = sweeps_explorers.translation_sweep_state(many, d_model=8, n_train=100)
    assert len(state["sizes"]) == 6
    with pytest.raises(ValueError, match="at most 4 training-set sizes"):
        sweeps_explorers.TranslationSweepView(state, managed=False)


def test_a_prefetched_move_finds_its_sweep_computed():
    polynomial_explorers._polynomial_errors.cache_clear()
    tasks = polynomial_explorers.polynomial_neighbours(n=10, basis="legendre", lam=0.0)
    assert len(tasks) == len(polynomial_explorers.POLYNOMIAL_N) - 1
    tasks[0]()  # the nearest other n: 9
    misses = polynomial_explorers._polynomial_errors.cache_info().misses
    polynomial_explorers.polynomial_state(n=9, noise=0.3, num_features=20)
    assert polynomial_explorers._polynomial_errors.cache_info().misses == misses  # a cache hit: nothing recomputed
    linear = linear_explorers.linear_neighbours(n=50, p=50)
    assert len(linear) == 2 * (len(linear_explorers.LINEAR_SIZES) - 1)
    assert [task.func for task in linear[:2]] == [linear_explorers._linear_samplewise,
                                                  linear_explorers._linear_modelwise]
    assert [task.args[0] for task in linear[:4]] == [49, 49, 51, 51]
    assert linear_explorers.linear_neighbours(n=50, p=50, moved="noise", direction=1) == []  # nothing to warm
    dragging_p_up = linear_explorers.linear_neighbours(n=50, p=50, moved="p", direction=1)
    assert [task.func for task in dragging_p_up[:95]] == [linear_explorers._linear_samplewise] * 95
    assert [task.args[0] for task in dragging_p_up[:3]] == [51, 52, 53]


def test_an_explorer_warms_the_settings_next_to_its_start_before_any_move():
    polynomial_explorers._polynomial_errors.cache_clear()
    explorer = polynomial_explorers.polynomial_explorer(n=10, noise=0.1, num_features=20)
    deadline = time.monotonic() + 60  # the warm-up runs in a background thread: wait for it (it takes ~0.5 s)
    while polynomial_explorers._polynomial_errors.cache_info().currsize < 1 + explorer_core.WARM_AT_DISPLAY:
        assert time.monotonic() < deadline, "the explorer did not warm its neighbours"
        time.sleep(0.05)
    time.sleep(0.2)  # nothing beyond the first few: the rest waits for a move
    assert polynomial_explorers._polynomial_errors.cache_info().currsize == 1 + explorer_core.WARM_AT_DISPLAY
    misses = polynomial_explorers._polynomial_errors.cache_info().misses
    for n in (8, 9, 11, 12):  # one and two steps either way: a first move of n finds its sweep computed
        polynomial_explorers._polynomial_errors(n, "legendre", 0.0)
    assert polynomial_explorers._polynomial_errors.cache_info().misses == misses
    assert explorer.children[-2].value  # and the start's image is shown
