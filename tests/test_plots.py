"""The width-sweep figure of the network chapters: its panels, and the numbers it prints beside them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ddd_utils.notebook import plots  # noqa: E402


def fake_sweep(test_errors: dict[float, list[float]], widths=(1, 2, 4, 8)) -> list[dict]:
    """Records of a finished sweep: two seeds per (noise, width), the second 0.01 worse; training error reaching
    0.1 at width 4 and 0 at width 8."""
    train = {1: 0.5, 2: 0.3, 4: 0.1, 8: 0.0}
    records = []
    for noise, errors in test_errors.items():
        for seed in (0, 1):
            for width, error in zip(widths, errors, strict=True):
                history = {"train_error": [train[width]], "corrupted_error": [train[width]],
                           "test_error": [error + 0.01 * seed], "num_parameters": 10 * width}
                records.append({"config": {"noise": noise, "seed": seed, "width": width}, "history": history})
    return records


def test_panels_wrap_into_rows_and_a_spare_slot_overlays_every_noise_level(capsys):
    records = fake_sweep({0.0: [0.5, 0.3, 0.2, 0.1], 0.1: [0.5, 0.35, 0.3, 0.2], 0.2: [0.5, 0.3, 0.4, 0.2]})
    fig = plots.width_sweep_panels(records, (0.0, 0.1, 0.2), "test", columns=2)
    axes = fig.axes
    assert len(axes) == 4 and [ax.get_visible() and ax.axison for ax in axes] == [True] * 4
    assert "every noise level" in axes[3].get_title()
    assert [line.get_label() for line in axes[3].get_lines()] == ["label noise 0", "label noise 0.1",
                                                                  "label noise 0.2"]
    printed = capsys.readouterr().out
    assert "noise 0.2: train error reaches 0 at width 8 and 0.1 at width 4" in printed
    assert "peak: 0.405 at 4; best below the threshold: 0.305 at 2" in printed  # medians over the two seeds
    assert printed.count("no peak") == 2  # the two curves that never rise above their best point below
    assert all(len(line) <= 96 for line in printed.splitlines())
    plt.close(fig)


def test_one_row_by_default_with_no_overlay():
    fig = plots.width_sweep_panels(fake_sweep({0.0: [0.5, 0.3, 0.2, 0.1], 0.2: [0.5, 0.3, 0.4, 0.2]}), (0.0, 0.2),
                                   "test")
    assert len(fig.axes) == 2 and all("label noise" in ax.get_title() for ax in fig.axes)
    plt.close(fig)


def test_ticks_at_puts_plain_labels_at_the_widths_and_no_minor_ticks_on_a_log_axis():
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.plot([16, 512], [1, 2])
    plots.ticks_at(ax, [16, 32, 512])
    fig.canvas.draw()
    assert list(ax.get_xticks()) == [16, 32, 512]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["16", "32", "512"]
    assert len(ax.xaxis.get_minorticklocs()) == 0
    plt.close(fig)


def test_ticks_at_the_y_axis_too_and_a_clear_error_for_another_axis():
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.plot([1, 2], [0.08, 0.8])
    plots.ticks_at(ax, [0.1, 0.2, 0.4], axis="y")
    fig.canvas.draw()
    assert [label.get_text() for label in ax.get_yticklabels()] == ["0.1", "0.2", "0.4"]
    assert len(ax.yaxis.get_minorticklocs()) == 0
    with pytest.raises(ValueError, match="axis must be 'x' or 'y'"):
        plots.ticks_at(ax, [1], axis="z")
    plt.close(fig)


def test_the_range_band_spans_every_seed_and_the_ticks_are_plain_widths():
    values = np.array([[1.0, 4.0, 2.0], [3.0, 0.0, 2.0], [2.0, 2.0, 5.0]])
    middle, low, high = plots.trial_summary(values, 3, spread="range")
    np.testing.assert_array_equal(low, [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(high, [3.0, 4.0, 5.0])
    np.testing.assert_allclose(middle, values.mean(axis=0))
    assert plots.spread_note(spread="range") == "line: mean over seeds; band: lowest to highest seed"
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    plots.plain_log_ticks(ax, [2, 4, 8, 16, 32, 64, 100], count=4)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels[0] == "2" and labels[-1] == "100" and all("^" not in label for label in labels)
    plt.close(fig)


def test_a_band_moves_to_the_same_polygon_on_matplotlib_before_and_after_3_10():
    """Older matplotlib (no PolyCollection.set_data, as older Colab images have) gets the same filled region."""
    x, low, high = np.array([1.0, 2.0, 4.0]), np.array([0.1, 0.2, 0.15]), np.array([0.3, 0.4, 0.2])

    class OldBand:  # a fill_between collection of matplotlib < 3.10: set_verts only
        def set_verts(self, verts):
            self.verts = verts

    old = OldBand()
    plots.set_band(old, x, low, high)
    polygon = old.verts[0]
    assert polygon.shape == (6, 2)
    np.testing.assert_array_equal(polygon[:3], np.column_stack([x, high]))
    np.testing.assert_array_equal(polygon[3:], np.column_stack([x[::-1], low[::-1]]))
    fig, ax = plt.subplots()
    band = ax.fill_between([], [], [])
    plots.set_band(band, x, low, high)  # matplotlib >= 3.10 here: its own set_data
    covered = band.get_paths()[0].vertices
    for point in polygon:  # every corner of the old-API polygon is on the new one
        assert np.isclose(covered, point).all(axis=1).any()
    plt.close(fig)


def test_sample_wise_gaps_draws_each_gap_in_points_with_bars_of_twice_its_standard_error():
    gap = {"widths": np.array([4, 8, 12]), "gap": np.array([-0.05, 0.01, 0.03]), "se": np.array([0.01, 0.02, 0.005]),
           "hurts": np.array([False, False, True])}
    fig, ax = plt.subplots()
    plots.sample_wise_gaps(ax, {"setting": gap}, xlabel="k")
    (points, _, (bars,)) = ax.containers[0].lines
    assert np.allclose(points.get_ydata(), [-5.0, 1.0, 3.0])
    lows, highs = (np.array([segment[end][1] for segment in bars.get_segments()]) for end in (0, 1))
    assert np.allclose(highs - lows, [4.0, 8.0, 2.0])  # 2 SE either side
    assert lows[2] > 0 and not lows[1] > 0  # only the width that `hurts` has its bar wholly above zero
    plt.close(fig)
