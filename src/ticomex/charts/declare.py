"""How every chart kind is written: declared once with Altair, filled in per call.

Building Altair objects and serialising them costs about 0.1 s per chart; laying out the
data in Python a few milliseconds. A sheet draws eight charts and the publication a
hundred sheets, so a chart kind is declared once per kernel (about 20 s saved on a full
build) and each call only fills the data in:

    def _declaration(title):                       # Altair, no data
        bars = alt.Chart(alt.NamedData("my_rows")).mark_bar().encode(...)
        return titled(bars, title)

    def my_chart(frame, title=None, *, declarations=DECLARATIONS):
        rows = ...                                  # plain Python / pandas layout
        return fill(declarations.get(_declaration, title), {"my_rows": rows})

The rule that makes this safe: a declaration depends only on the builder's arguments
(a title, a colour), never on the data. Data reaches the chart only through its named
datasets (`alt.NamedData`) and the top-level properties listed in `fill` (a height, say).
Anything computed from the data that Vega-Lite must know (an axis extent...) is a dataset
too, e.g. an invisible layer whose extent sets the scale's domain.
`alt.LayerChart.from_dict(spec)` gives an Altair object back when one is wanted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.text import chart_font


class Declarations:
    """Chart declarations (Vega-Lite dicts without data), each built, styled and
    serialised once per builder and arguments.

    `get(builder, *args)` calls `builder(*args)` (an Altair chart) on the first request
    only; the dict it returns is shared: hand it to `fill`, never change it. `clear()`
    forgets them all (after changing a builder in a live kernel, say)."""

    def __init__(self) -> None:
        self._specs: dict[tuple, dict] = {}

    def get(self, builder: Callable[..., alt.TopLevelMixin], *args) -> dict:
        key = (builder, args)
        if key not in self._specs:
            chart = builder(*args)
            self._specs[key] = style.apply_style(chart, chart_font().css_family).to_dict(validate=False)
        return self._specs[key]

    def clear(self) -> None:
        self._specs.clear()

    def __len__(self) -> int:
        return len(self._specs)


DECLARATIONS = Declarations()  # the one the chart builders use unless given another


def fill(declaration: dict, datasets: dict[str, pd.DataFrame | list[dict]], **properties) -> dict:
    """A new spec: the declaration with its named datasets (frames or records) and
    top-level `properties` (e.g. `height=...`) filled in. Each call returns a fresh dict,
    the caller's to change."""
    spec = copy.deepcopy(declaration)
    spec.update(properties)
    spec["datasets"] = {
        **spec.get("datasets", {}),
        **{
            name: rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
            for name, rows in datasets.items()
        },
    }
    return spec


def titled(chart: alt.TopLevelMixin, title: str | None) -> alt.TopLevelMixin:
    """The chart with its title, if any."""
    return chart.properties(title=title) if title else chart


def pixels(size: str) -> alt.Scale:
    """A scale drawing positions computed in Python in pixels (y down) as they are: the
    view's `width` or `height` signal on both sides, whatever the chart's size."""
    extent = [0, alt.ExprRef(size)]
    return alt.Scale(domain=extent, range=extent, nice=False, zero=False)
