"""Reading a double-descent curve: where the peak is and how low each side gets."""

from __future__ import annotations

import numpy as np
import pytest

from ddd_utils.analysis.curves import bump, locate_bump


def test_describe_curve_finds_the_peak_between_the_two_best_points_not_at_the_underfit_end():
    from ddd_utils.analysis.curves import describe_curve

    x = [1, 2, 4, 8, 16, 32]
    errors = [[0.9, 0.5, 0.7, 0.6, 0.4, 0.45]]  # underfit at x = 1, bump at 4, second descent to 16
    summary = describe_curve(x, errors, threshold=6)
    assert (summary.peak_at, summary.peak_error) == (4, 0.7)
    assert (summary.best_below_at, summary.best_above_at, summary.last_at) == (2, 16, 32)
    with pytest.raises(ValueError, match="threshold"):
        describe_curve(x, errors, threshold=64)


def test_wrapped_text_fits_the_page_keeps_its_indent_and_rewraps_cleanly():
    from ddd_utils.analysis.curves import PRINT_WIDTH, wrapped

    text = "  label: " + ", ".join(f"{k}: 0.{k:03d}" for k in range(60))
    once = wrapped(text)
    assert once.startswith("  label: ") and all(len(line) <= PRINT_WIDTH for line in once.splitlines())
    assert wrapped(f"prefix: {once}") == wrapped(f"prefix: {text.strip()}"), "no runs of spaces from a second wrap"


def test_a_bump_is_a_rise_that_falls_again():
    assert bump(np.array([3.0, 2.0, 1.0])) == 0.0
    assert bump(np.array([3.0, 1.0, 2.0, 4.0])) == 0.0  # overfitting: no second descent
    assert bump(np.array([3.0, 1.0, 4.0, 2.0, 2.5])) == 2.0  # up 3 from 1, down 2 to 2: the smaller, 2
    located = locate_bump([3.0, 1.0, 4.0, 2.0, 2.5])
    assert (located.before, located.peak, located.after) == (1, 2, 3)
    flat = locate_bump([3.0, 1.0, 2.0, 4.0])
    assert flat.height == 0.0 and flat.before == flat.peak == flat.after == 1


def test_the_modelwise_peak_is_read_from_the_mean_over_seeds():
    from ddd_utils.analysis.sweep_curves import modelwise_peak

    curves = {"widths": np.array([2, 4, 8, 16, 32]),
              "test_error": np.array([[0.6, 0.3, 0.5, 0.35, 0.32], [0.6, 0.2, 0.4, 0.25, 0.28]])}
    peak = modelwise_peak(curves)
    assert (peak.best_below_width, peak.peak_width, peak.widest_width) == (4, 8, 32)
    assert peak.above_best_below == pytest.approx(0.45 - 0.25)
    assert peak.above_widest == pytest.approx(0.45 - 0.30)


def test_more_data_hurts_only_where_the_gap_exceeds_twice_its_standard_error():
    from ddd_utils.analysis.sweep_curves import sample_wise_gap

    widths = np.array([4, 8, 16])
    small = {"widths": widths, "test_error": np.array([[0.30, 0.20, 0.10], [0.32, 0.22, 0.12]])}
    large = {"widths": widths, "test_error": np.array([[0.20, 0.30, 0.10], [0.22, 0.24, 0.14]])}
    gap = sample_wise_gap(small, large)
    np.testing.assert_allclose(gap["gap"], [-0.10, 0.06, 0.01])
    # se at width 8: sd 0.0141 (small) and 0.0424 (large) over 2 seeds -> hypot / sqrt(2) = 0.0316
    expected_se = np.hypot(np.std([0.2, 0.22], ddof=1), np.std([0.3, 0.24], ddof=1)) / np.sqrt(2)
    assert gap["se"][1] == pytest.approx(expected_se)
    assert gap["hurts"].tolist() == [False, False, False]  # 0.06 < 2 x 0.0316
    large["test_error"][:, 1] = [0.30, 0.31]
    assert sample_wise_gap(small, large)["hurts"].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="same widths"):
        sample_wise_gap(small, {**large, "widths": np.array([4, 8, 32])})


def test_a_late_bump_ignores_the_wiggles_of_the_first_descent():
    from ddd_utils.analysis.curves import late_bump

    curve = [0.9, 0.8, 0.85, 0.5, 0.4, 0.46, 0.42, 0.44]  # a wiggle at 0.85 on the way down, then 0.4 -> 0.46 -> 0.42
    assert bump(curve) == pytest.approx(0.05)
    shape = late_bump(curve)
    assert (shape.before, shape.peak, shape.after) == (4, 5, 6)
    assert shape.height == pytest.approx(0.04)
