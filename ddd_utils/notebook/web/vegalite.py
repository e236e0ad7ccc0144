"""Vega-Lite building blocks for the web explorers: panels of lines, bands and rules over named tables, with fixed
axes (a slider move never rescales the frame) and matplotlib's colours, so the page matches the static figures."""

from __future__ import annotations

import numpy as np

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing is fetched
COLOURS = {f"C{i}": colour for i, colour in enumerate(
    ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"))}
COLOURS |= {"k": "#000000", "grey": "#808080"}
DASHES = {"solid": [1, 0], "dashed": [6, 3], "dotted": [2, 2]}
# below the panel, each entry a short stroke in its series' colour and dash (one legend for both channels)
LEGEND = {"orient": "bottom", "columns": 2, "labelLimit": 320, "symbolType": "stroke", "symbolStrokeWidth": 2}
PANEL_WIDTH, PANEL_HEIGHT = 330, 220  # pixels: two panels and their legends fit the book's column


def log_domain(low: float, high: float) -> list[float]:
    """Whole decades around [low, high] (both > 0): for values that span many."""
    return [10.0 ** np.floor(np.log10(low)), 10.0 ** np.ceil(np.log10(high))]


def log_span(low: float, high: float, room: float = 1.15) -> list[float]:
    """[low, high] (both > 0) widened by the factor `room` either side: for a sweep's sizes or epochs."""
    return [low / room, high * room]


def linear_domain(low: float, high: float, floor: float | None = None, ceiling: float | None = None) -> list[float]:
    """[low, high] with 5% room either side, clipped to `floor` and `ceiling` where given."""
    room = 0.05 * (high - low if high > low else max(abs(high), 1.0))
    low, high = low - room, high + room
    return [low if floor is None else max(low, floor), high if ceiling is None else min(high, ceiling)]


def axis(field: str, title: str, domain: list[float], log: bool = False) -> dict:
    """A quantitative position channel with a fixed domain (values outside it are clipped by the panel)."""
    channel = {"field": field, "type": "quantitative", "title": title,
               "scale": {"type": "log" if log else "linear", "domain": domain, "nice": False, "zero": False}}
    if log:  # decades only, plain numbers from 0.001 to 10,000 and powers of ten beyond (1e+6, not 1000000)
        channel["axis"] = {"tickCount": 4, "labelExpr": "datum.value >= 1e4 || datum.value < 1e-3 ? "
                                                         "format(datum.value, '.0e') : format(datum.value, '~g')"}
    return channel


def legend(series: dict[str, tuple[str, str]]) -> tuple[dict, dict]:
    """The colour and dash channels of a panel's series, `{label: (colour, dash)}`: one legend below the panel."""
    names = list(series)
    colour = {"field": "series", "type": "nominal", "title": None,
              "scale": {"domain": names, "range": [COLOURS[c] for c, _ in series.values()]},
              "legend": LEGEND}
    dash = {"field": "series", "type": "nominal", "title": None,
            "scale": {"domain": names, "range": [DASHES[d] for _, d in series.values()]}, "legend": LEGEND}
    return colour, dash


def lines(table: str, x: dict, y: dict, series: dict[str, tuple[str, str]], points: bool = False) -> dict:
    """A line per series of `table` (its rows: x, y, series)."""
    colour, dash = legend(series)
    return {"data": {"name": table}, "mark": {"type": "line", "point": points, "clip": True, "strokeWidth": 1.6},
            "encoding": {"x": x, "y": y, "color": colour, "strokeDash": dash}}


def points(table: str, x: dict, y: dict, series: dict[str, tuple[str, str]]) -> dict:
    """A filled dot per row of `table` (training samples)."""
    colour, _ = legend(series)
    return {"data": {"name": table}, "mark": {"type": "point", "filled": True, "size": 22, "clip": True},
            "encoding": {"x": x, "y": y, "color": colour}}


def band(table: str, x: dict, y: dict, colour: str = "C0") -> dict:
    """A shaded band between each row's lo and hi (the spread over trials), drawn behind the lines."""
    return {"data": {"name": table}, "mark": {"type": "area", "opacity": 0.18, "clip": True,
                                              "color": COLOURS[colour]},
            "encoding": {"x": x, "y": {**y, "field": "lo"}, "y2": {"field": "hi"}}}


def rules(table: str, series: dict[str, tuple[str, str]]) -> dict:
    """Vertical lines at each row's x (a threshold, the slider's setting), in the panel's legend."""
    colour, dash = legend(series)
    return {"data": {"name": table}, "mark": {"type": "rule", "strokeWidth": 1.4, "clip": True},
            "encoding": {"x": {"field": "x", "type": "quantitative"}, "color": colour, "strokeDash": dash}}


def levels(table: str, series: dict[str, tuple[str, str]]) -> dict:
    """Horizontal lines at each row's y (a limit the curves approach), in the panel's legend."""
    colour, dash = legend(series)
    return {"data": {"name": table}, "mark": {"type": "rule", "strokeWidth": 1.4, "clip": True},
            "encoding": {"y": {"field": "y", "type": "quantitative"}, "color": colour, "strokeDash": dash}}


def panel(title: str, *layers: dict) -> dict:
    """One panel: `layers` over shared axes, titled by the text parameter `title`."""
    return {"title": {"text": {"expr": title}, "fontSize": 12, "fontWeight": "normal"},
            "width": PANEL_WIDTH, "height": PANEL_HEIGHT, "layer": list(layers)}


def side_by_side(*panels: dict, title: str | None = None) -> dict:
    """The explorer's chart: panels in a row, each with its own scales and legend, under an optional title."""
    spec = {"$schema": SCHEMA, "background": "white",  # legible under the theme's dark mode too
            "hconcat": list(panels), "resolve": {"scale": {"color": "independent", "strokeDash": "independent"}},
            "config": {"axis": {"labelFontSize": 11, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4},
                       "legend": {"labelFontSize": 11, "symbolSize": 120}, "view": {"stroke": "#bbbbbb"}}}
    if title is not None:
        spec["title"] = {"text": {"expr": title}, "fontSize": 13, "anchor": "middle"}
    return spec
