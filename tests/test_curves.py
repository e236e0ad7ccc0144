"""Reading a double-descent curve: where the peak is and how low each side gets."""

from __future__ import annotations

import pytest


def test_describe_curve_finds_the_peak_between_the_two_best_points_not_at_the_underfit_end():
    from ddd_utils.curves import describe_curve

    x = [1, 2, 4, 8, 16, 32]
    errors = [[0.9, 0.5, 0.7, 0.6, 0.4, 0.45]]  # underfit at x = 1, bump at 4, second descent to 16
    summary = describe_curve(x, errors, threshold=6)
    assert (summary.peak_at, summary.peak_error) == (4, 0.7)
    assert (summary.best_below_at, summary.best_above_at, summary.last_at) == (2, 16, 32)
    with pytest.raises(ValueError, match="threshold"):
        describe_curve(x, errors, threshold=64)


def test_wrapped_text_fits_the_page_keeps_its_indent_and_rewraps_cleanly():
    from ddd_utils.curves import PRINT_WIDTH, wrapped

    text = "  label: " + ", ".join(f"{k}: 0.{k:03d}" for k in range(60))
    once = wrapped(text)
    assert once.startswith("  label: ") and all(len(line) <= PRINT_WIDTH for line in once.splitlines())
    assert wrapped(f"prefix: {once}") == wrapped(f"prefix: {text.strip()}"), "no runs of spaces from a second wrap"
