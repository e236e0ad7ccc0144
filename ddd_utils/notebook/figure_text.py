"""Figure text that stays legible on the page. The book shows a figure at most COLUMN_PX wide, so a wide figure is
shrunk and its text with it. As each figure is drawn for the page, a check warns about any text that would land
below MIN_TEXT_PX there (the smoke tests fail on that warning, so an illegible figure cannot be published)."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot
from matplotlib.figure import Figure
from matplotlib.text import Text

COLUMN_PX = 832     # width of the article column at a 1400-pixel-wide window (book/_static/wide.css), in Chromium
MIN_TEXT_PX = 9.0   # the smallest height on screen, in pixels, of a figure's text: its font size at that scale
WIDE_FIGURE_IN = 11.5  # inches: a figure this wide, shrunk to the column, shows 9-point text at MIN_TEXT_PX


class IllegibleFigureText(UserWarning):
    """A figure's text would be smaller than MIN_TEXT_PX on the page."""


def shown_scale(fig: Figure, column_px: float = COLUMN_PX) -> float:
    """Screen pixels per image pixel when the page shows `fig`: below 1 when it is wider than the column."""
    return min(1.0, column_px / (fig.get_figwidth() * fig.dpi))


def pixels_per_point(fig: Figure, column_px: float = COLUMN_PX) -> float:
    """Screen pixels per point of font size when the page shows `fig`."""
    return shown_scale(fig, column_px) * fig.dpi / 72


def small_texts(fig: Figure, column_px: float = COLUMN_PX, min_px: float = MIN_TEXT_PX) -> list[tuple[str, float]]:
    """(text, its height on the page in pixels) for every visible text of `fig` below `min_px`."""
    scale = pixels_per_point(fig, column_px)
    found = {}
    for text in fig.findobj(Text):
        label = text.get_text().strip()
        if label and text.get_visible() and text.get_fontsize() * scale < min_px:
            found.setdefault(label, text.get_fontsize() * scale)
    return sorted(found.items(), key=lambda item: item[1])


def largest_legible_width(font_size: float, column_px: float = COLUMN_PX, min_px: float = MIN_TEXT_PX) -> float:
    """The widest figure, in inches, whose text of `font_size` points still lands at `min_px` on the page."""
    return font_size * column_px / (72 * min_px)


def warn_if_small(fig: Figure) -> None:
    """Warn (IllegibleFigureText) if `fig` has text below MIN_TEXT_PX on the page, naming the width that would fit."""
    small = small_texts(fig)
    if small:
        examples = ", ".join(f"{label[:30]!r} {px:.1f} px" for label, px in small[:3])
        smallest_points = small[0][1] / pixels_per_point(fig)
        warnings.warn(f"a {fig.get_figwidth():g} x {fig.get_figheight():g} in figure shows text below "
                      f"{MIN_TEXT_PX:g} px on the page: {examples}; draw it at most "
                      f"{largest_legible_width(smallest_points):.1f} in wide or its text larger",
                      IllegibleFigureText, stacklevel=2)


def watch() -> None:
    """In IPython, check every figure as it is turned into the PNG the page shows (by `plt.show()` or at the end of
    a cell): `warn_if_small` runs ahead of the PNG formatter already registered for figures. Elsewhere, nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    png = shell.display_formatter.formatters["image/png"]
    if Figure not in png.type_printers:
        # pyplot loads its backend, and the inline backend registers its formatter, at the first figure: now
        matplotlib.pyplot.switch_backend(matplotlib.get_backend())
    try:
        draw_png = png.lookup_by_type(Figure)
    except KeyError:
        return  # a backend without inline figures
    if getattr(draw_png, "checks_figure_text", False):
        return

    def checked_png(fig: Figure, *args, **kwargs):
        warn_if_small(fig)
        return draw_png(fig, *args, **kwargs)

    checked_png.checks_figure_text = True
    png.for_type(Figure, checked_png)
