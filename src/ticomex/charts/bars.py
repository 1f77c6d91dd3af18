"""Horizontal bars, one row each: `ranked_bars_chart`, and the pieces the partners chart
shares with it (row names on the left, amounts at the bars' ends, an x extent leaving
room for the longest amount).

    ranked_bars_chart(top_products, label="produit", value="valeur_eur",
                      title="Premiers produits exportés vers les États-Unis")

draws the frame's rows largest first, each bar's amount at its end in M€, French format.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, titled
from ticomex.charts.frames import require_columns, require_non_negative
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.text import MEUR_TITLE, text_width, truncate
from ticomex.texts import millions

PLOT_WIDTH = 360
ROW_STEP = 28  # px per row
ROW_LABEL_WIDTH = 150  # px left of the plot for each row's name
ROW_LABEL_GAP = 6  # px between a row's name and the plot
BAR_BAND = 0.72  # a bar's thickness, as a share of its row
VALUE_LABEL_OFFSET = 4  # px between a bar's end and its value
VALUE_LABEL_MARGIN = 6  # px between the longest bar's value and the plot's edge

RANKED_ROWS, RANKED_BOUNDS = "barres_lignes", "barres_bornes"


def value_extent(largest: float, amounts_eur: Iterable[int], plot_px: float) -> float:
    """The axis end (in the unit of `largest`) at which the longest bar, `largest`, leaves
    `plot_px` room for its amount's label; 1.0 when there is nothing to draw."""
    longest_label = max(text_width(millions(v)) for v in amounts_eur)
    label_px = longest_label + VALUE_LABEL_OFFSET + VALUE_LABEL_MARGIN
    return largest * plot_px / (plot_px - label_px) if largest > 0 else 1.0


def bounds_layer(dataset: str, field: str) -> alt.Chart:
    """An invisible rule whose extent, read from `dataset`, sets the x scale's domain."""
    return alt.Chart(alt.NamedData(dataset)).mark_rule(opacity=0, aria=False).encode(x=f"{field}:Q")


def value_labels(base: alt.Chart, x: str, value: str, y: alt.Y, tooltip: list, align: str) -> alt.Chart:
    """The `value` amounts (M€) as text at the bars' ends `x`, outside the bar: `align`
    "left" for bars extending right, "right" for bars extending left."""
    dx = -VALUE_LABEL_OFFSET if align == "right" else VALUE_LABEL_OFFSET
    return base.mark_text(align=align, baseline="middle", dx=dx).encode(
        x=f"{x}:Q", y=y, text=alt.Text(f"{value}:Q", format=style.MEUR_FORMAT), tooltip=tooltip
    )


def row_names(base: alt.Chart, y: alt.Y, field: str) -> alt.Chart:
    """Each row's name, right-aligned just left of the plot."""
    return base.mark_text(align="right", baseline="middle", dx=-ROW_LABEL_GAP).encode(
        x=alt.value(0), y=y, text=f"{field}:N"
    )


def ranked_bars_chart(
    frame: pd.DataFrame,
    label: str,
    value: str = "valeur_eur",
    title: str | None = None,
    color: str = style.EXPORT_VIOLET,
    *,
    declarations: Declarations = DECLARATIONS,
) -> dict:
    """Horizontal bars ranked by `value` (whole euros), largest on top, ties in the
    frame's order; each row named by its `label` (cut with "…" to fit, whole in the
    tooltip), its amount in M€ at the bar's end. No rows: the "no trade" message."""
    builder = "ranked_bars_chart"
    require_columns(frame, [label, value], builder)
    if frame.empty:
        return message_chart(NO_TRADE_MESSAGE, title, PLOT_WIDTH, declarations=declarations)
    require_non_negative(frame[value], builder)
    ranked = frame.sort_values(value, ascending=False, kind="stable")
    names = ranked[label].astype(str).tolist()
    amounts = ranked[value].astype("int64").tolist()
    rows = [
        {
            "rang": rank,
            "libelle": name,
            "libelle_court": truncate(name, ROW_LABEL_WIDTH),
            "valeur_meur": style.to_meur(amount),
        }
        for rank, (name, amount) in enumerate(zip(names, amounts))
    ]
    extent = value_extent(style.to_meur(max(amounts)), amounts, PLOT_WIDTH)
    return fill(
        declarations.get(_ranked_bars_declaration, title, color),
        {RANKED_ROWS: rows, RANKED_BOUNDS: [{"valeur_meur": 0.0}, {"valeur_meur": extent}]},
    )


def _ranked_bars_declaration(title: str | None, color: str) -> alt.LayerChart:
    y = alt.Y("rang:O", axis=None)
    x = alt.X(
        "valeur_meur:Q",
        scale=alt.Scale(nice=False),
        axis=alt.Axis(title=MEUR_TITLE, format=style.MEUR_FORMAT, grid=False, tickCount=5),
    )
    tooltip = [
        alt.Tooltip("libelle:N", title="Libellé"),
        alt.Tooltip("valeur_meur:Q", title=f"Valeur {MEUR_TITLE}", format=style.MEUR_FORMAT),
    ]
    rows = alt.Chart(alt.NamedData(RANKED_ROWS))
    bars = rows.mark_bar(height=alt.RelativeBandSize(BAR_BAND), color=color).encode(x=x, y=y, tooltip=tooltip)
    chart = alt.layer(
        bars,
        bounds_layer(RANKED_BOUNDS, "valeur_meur"),
        value_labels(rows, "valeur_meur", "valeur_meur", y, tooltip, "left"),
        row_names(rows, y, "libelle_court"),
    ).properties(width=PLOT_WIDTH, height=alt.Step(ROW_STEP))
    return titled(chart, title)
