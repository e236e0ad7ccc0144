"""A kernel-free explorer: sliders whose every setting was computed in Python and embedded in the page.

Each table (a chart's data) and each text (a title) depends on some of the sliders; the page carries one entry per
combination of those sliders' values, and `book/_static/ddd-explorer.js` swaps the entries in as a slider moves, so a
move costs the same whatever the page holds. The kernel explorers compute any setting; these show a grid of them.
"""

from __future__ import annotations

import html
import itertools
import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils.notebook import plots

SIGNIFICANT_DIGITS = 4  # embedded values are rounded to this many: the page stays small, the curves unchanged
# The embedded data's budget for a chapter's page: one explorer may not pass it (checked as it is built), nor may a
# page's explorers together (tests/test_web_pages.py).
MAX_PAYLOAD_BYTES = 1_500_000
TITLE_CHARACTERS = 62  # a panel title's line at most: about the panel's width (vegalite.PANEL_WIDTH) at 12 px
FIGURE_TITLE_CHARACTERS = 110  # the same for the title over both panels


@dataclass(frozen=True)
class Slider:
    """One slider: a name (a Vega parameter, so an identifier), its label and the values it steps through."""

    name: str
    label: str
    values: tuple
    start: object

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"slider name must be an identifier, got {self.name!r}")
        if self.start not in self.values:
            raise ValueError(f"slider {self.name!r}: start {self.start!r} is not one of its values {self.values}")


def grid_with(values: Sequence[float], start: float) -> tuple:
    """A slider's grid with the value a chapter starts it at added (sorted), so that the page opens where the
    kernel explorer does."""
    return tuple(sorted(set(values) | {start}))


def grid_note(sliders: Sequence[Slider], held: str, widget: str) -> str:
    """The line under a grid explorer that says which settings the page holds: each slider's values, what is
    `held` fixed, and what the kernel widget does beyond them."""
    values = ", ".join(f"{s.label} in {', '.join(f'{v:g}' for v in s.values)}" for s in sliders)
    return (f"Computed in Python when the page was built, for {values} ({held}); the widget above, run in Jupyter "
            f"or Colab, {widget}.")


Segment = dict  # one series' rows: arrays of equal length (x, y, ...), or "@name" for an array embedded once with
# `share`, and scalars that every row shares (its series' name)


def trials(series: str, x: ArrayLike, values: ArrayLike, center: str = "mean", spread: str = "iqr") -> Segment:
    """A series drawn from trials (shape (trials, len(x))) as the kernel explorers draw it (`plots.trial_summary`):
    its centre line, with a band (lo, hi) when there is more than one trial."""
    middle, low, high = plots.trial_summary(values, len(x), center=center, spread=spread)
    return {"series": series, "x": x, "y": middle} | ({} if low is None else {"lo": low, "hi": high})


def lines(text: str, characters: int = TITLE_CHARACTERS) -> str | list[str]:
    """`text` as it fits a title: itself, or its lines of at most `characters` (Vega draws a list as lines)."""
    wrapped = textwrap.wrap(text, characters)
    return text if len(wrapped) <= 1 else wrapped


def rounded(value: object) -> object:
    """JSON-ready `value`: arrays and floats rounded to `SIGNIFICANT_DIGITS`, NaN and infinities as null."""
    if isinstance(value, str | bool | int | np.integer) or value is None:
        return value.item() if isinstance(value, np.integer) else value
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(f"{array:.{SIGNIFICANT_DIGITS}g}") if np.isfinite(array) else None
    return [float(f"{v:.{SIGNIFICANT_DIGITS}g}") if np.isfinite(v) else None for v in array.tolist()]


class WebExplorer:
    """Sliders, the tables and texts that depend on them, and a Vega-Lite spec that draws the tables (by name) and
    shows the texts (as parameters of the same name)."""

    def __init__(self, sliders: Sequence[Slider], note: str):
        self.sliders = {slider.name: slider for slider in sliders}
        self.note = note  # what grid the page holds, shown under the sliders
        self.tables: dict[str, dict] = {}
        self.texts: dict[str, dict] = {}
        self.shared: dict[str, list] = {}
        self.spec: dict | None = None  # the Vega-Lite chart, set by `chart` once the tables are in

    def chart(self, spec: dict) -> WebExplorer:
        """Set the Vega-Lite spec that draws the tables (built after them: its axes span their extents)."""
        self.spec = spec
        return self

    def _entries(self, by: Sequence[str], compute: Callable) -> dict[str, object]:
        unknown = [name for name in by if name not in self.sliders]
        if unknown:
            raise ValueError(f"unknown sliders {unknown}; this explorer has {list(self.sliders)}")
        entries = {}
        for indices in itertools.product(*(range(len(self.sliders[name].values)) for name in by)):
            settings = {name: self.sliders[name].values[i] for name, i in zip(by, indices, strict=True)}
            entries[",".join(map(str, indices))] = compute(**settings)
        return entries

    def share(self, name: str, values: ArrayLike) -> str:
        """Embed `values` once (an x grid every entry uses) and return the reference a segment holds instead."""
        self.shared[name] = rounded(values)
        return "@" + name

    def table(self, name: str, by: Sequence[str], segments: Callable[..., list[Segment]]) -> None:
        """Add table `name`: `segments(**settings)` for every setting of the sliders `by`."""
        self.tables[name] = {"by": list(by), "entries": {key: [{field: rounded(value) for field, value in s.items()}
                                                               for s in found]
                                                         for key, found in self._entries(by, segments).items()}}

    def text(self, name: str, by: Sequence[str], text: Callable[..., str], characters: int = TITLE_CHARACTERS
             ) -> None:
        """Add text parameter `name`: `text(**settings)` for every setting of the sliders `by`, one longer than
        `characters` as lines (a title wider than its panel would push the next panel off the page)."""
        self.texts[name] = {"by": list(by), "entries": {key: lines(value, characters) for key, value in
                                                        self._entries(by, text).items()}}

    def extent(self, *tables: str, field: str = "y", positive: bool = False) -> tuple[float, float]:
        """The smallest and largest `field` over every entry of `tables` (only values > 0 with `positive`): an axis
        domain that holds every setting, so that a slider move never rescales the frame."""
        def stored(value):  # a shared array's reference, resolved
            return self.shared[value[1:]] if isinstance(value, str) and value.startswith("@") else value

        values = [v for name in tables for found in self.tables[name]["entries"].values() for s in found
                  for v in np.atleast_1d(np.asarray(stored(s.get(field, [])), dtype=float))]
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values) & ((values > 0) if positive else True)]
        if values.size == 0:
            raise ValueError(f"tables {tables} hold no finite {'positive ' if positive else ''}values of {field!r}")
        return float(values.min()), float(values.max())

    def payload(self) -> dict:
        """What the page embeds: the spec with a parameter per slider and text, the sliders and the entries."""
        if self.spec is None:
            raise ValueError("no chart yet: call chart(spec) after adding the tables")
        params = [{"name": s.name, "value": rounded(s.start)} for s in self.sliders.values()]
        params += [{"name": name, "value": text["entries"][self._start_key(text["by"])]}
                   for name, text in self.texts.items()]
        sliders = [{"name": s.name, "label": s.label, "values": [rounded(v) for v in s.values],
                    "start": s.values.index(s.start)} for s in self.sliders.values()]
        return {"spec": {**self.spec, "params": params}, "sliders": sliders, "tables": self.tables,
                "texts": self.texts, "shared": self.shared, "note": self.note}

    def _start_key(self, by: Sequence[str]) -> str:
        return ",".join(str(self.sliders[name].values.index(self.sliders[name].start)) for name in by)

    def html(self) -> str:
        """The page's markup: an element that ddd-explorer.js fills with the sliders and the chart, holding the
        payload as inert JSON (in Jupyter, where that script is absent, only the fallback line shows)."""
        data = json.dumps(self.payload(), separators=(",", ":"), allow_nan=False)
        if len(data.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"the explorer embeds {len(data.encode()):,} bytes, over MAX_PAYLOAD_BYTES = "
                             f"{MAX_PAYLOAD_BYTES:,}: embed fewer slider values")
        data = data.replace("</", "<\\/")  # no "</script>" inside the script element
        fallback = "The in-browser explorer runs on the book's HTML pages; in a notebook, use the widget above."
        return (f'<div class="ddd-explorer"><p class="ddd-explorer-fallback">{html.escape(fallback)}</p>'
                f'<script type="application/json" class="ddd-explorer-data">{data}</script></div>')

    def _repr_html_(self) -> str:
        """What a notebook cell that ends with the explorer shows (and the book build embeds)."""
        return self.html()
