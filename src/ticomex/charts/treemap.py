"""The products imported (blue) and exported (violet): areas proportional to values, the
two blocks' areas proportional to the two flow totals (geometry: `layout.treemap_layout`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, pixels, titled
from ticomex.charts.frames import EXPORT_FLUX, FLOW_LABELS, IMPORT_FLUX, check_activities
from ticomex.charts.layout import TREEMAP_HEIGHT, TREEMAP_WIDTH, treemap_layout
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.text import MEUR_TITLE, meur_label, text_width, wrap

FLOW_COLORS = {IMPORT_FLUX: style.IMPORT_BLUE, EXPORT_FLUX: style.EXPORT_VIOLET}
TREEMAP_HEADER = 22  # px above the blocks for "Importations : 178.1 M€"
LABEL_PADDING = 4  # px between a compartment's border and its label
TREEMAP_COMPARTMENTS, TREEMAP_LABELS, TREEMAP_HEADERS = (
    "activites_compartiments", "activites_etiquettes", "activites_entetes"
)


def _compartment_label(product: str, value_eur: int, width: float, height: float) -> list[str]:
    """The product's name (wrapped) and value if they fit in the compartment, else []."""
    value = meur_label(value_eur)
    room = width - 2 * LABEL_PADDING
    if room < text_width(value):
        return []
    lines_available = int((height - 2 * LABEL_PADDING) // style.LINE_HEIGHT)
    name = wrap(product, room, lines_available - 1)
    return [*name, value] if name else []


def treemap_chart(
    activities: pd.DataFrame, title: str | None = None, *, declarations: Declarations = DECLARATIONS
) -> dict:
    """Imports (blue) and exports (violet) as two blocks of compartments, labels on the
    compartments large enough, a header per block with the flow's total."""
    check_activities(activities, "treemap_chart")
    rects = treemap_layout(activities)
    if rects.empty:
        return message_chart(NO_TRADE_MESSAGE, title, TREEMAP_WIDTH, declarations=declarations)
    rects["y"] += TREEMAP_HEADER
    rects["y2"] += TREEMAP_HEADER
    totals = rects.groupby("flux")["valeur_eur"].sum()
    rects["flux_libelle"] = rects["flux"].map(FLOW_LABELS)
    rects["valeur_meur"] = style.to_meur(rects["valeur_eur"])
    rects["part_flux"] = rects["valeur_eur"] / rects["flux"].map(totals)
    rects["etiquette"] = [
        _compartment_label(p, v, x2 - x, y2 - y)
        for p, v, x, x2, y, y2 in zip(
            rects["produit"], rects["valeur_eur"], rects["x"], rects["x2"], rects["y"], rects["y2"]
        )
    ]
    headers = pd.DataFrame(
        {
            "flux": list(totals.index),
            "entete": [f"{FLOW_LABELS[f]} : {meur_label(int(totals[f]))}" for f in totals.index],
            "flux_libelle": [FLOW_LABELS[f] for f in totals.index],
            "x": [0 if f == IMPORT_FLUX else TREEMAP_WIDTH for f in totals.index],
            "y": 0,
        }
    )
    return fill(
        declarations.get(_treemap_declaration, title),
        {
            TREEMAP_COMPARTMENTS: rects,
            TREEMAP_LABELS: rects[rects["etiquette"].map(len) > 0],
            TREEMAP_HEADERS: headers,
        },
    )


def _treemap_declaration(title: str | None) -> alt.LayerChart:
    x = alt.X("x:Q", scale=pixels("width"), axis=None)
    y = alt.Y("y:Q", scale=pixels("height"), axis=None)
    flows = list(FLOW_LABELS)
    color = alt.Color(
        "flux_libelle:N",
        scale=alt.Scale(
            domain=[FLOW_LABELS[f] for f in flows], range=[FLOW_COLORS[f] for f in flows]
        ),
        legend=None,
    )
    tooltip = [
        alt.Tooltip("produit:N", title="Produit"),
        alt.Tooltip("code_a129:N", title="Code A129"),
        alt.Tooltip("flux_libelle:N", title="Flux"),
        alt.Tooltip("valeur_meur:Q", title=f"Valeur {MEUR_TITLE}", format=style.MEUR_FORMAT),
        alt.Tooltip("part_flux:Q", title="Part du flux", format=".1%"),
    ]
    compartments = (
        alt.Chart(alt.NamedData(TREEMAP_COMPARTMENTS))
        .mark_rect(stroke=style.RECT_SEPARATOR, strokeWidth=1)
        .encode(x=x, x2="x2:Q", y=y, y2="y2:Q", color=color, tooltip=tooltip)
    )
    labels = (
        alt.Chart(alt.NamedData(TREEMAP_LABELS))
        .mark_text(
            align="left",
            baseline="top",
            dx=LABEL_PADDING,
            dy=LABEL_PADDING,
            lineHeight=style.LINE_HEIGHT,
            color=style.TEXT_ON_FILL,
        )
        .encode(x=x, y=y, text="etiquette:N", tooltip=tooltip)
    )
    # Imports are titled from the left edge, exports from the right edge, so that the
    # two headers never overlap however narrow one block is.
    header_layers = [
        alt.Chart(alt.NamedData(TREEMAP_HEADERS))
        .transform_filter(f"datum.flux === '{flux}'")
        .mark_text(align=align, baseline="top", fontWeight="bold")
        .encode(x=x, y=y, text="entete:N", color=color)
        for flux, align in ((IMPORT_FLUX, "left"), (EXPORT_FLUX, "right"))
    ]
    chart = alt.layer(compartments, labels, *header_layers).properties(
        width=TREEMAP_WIDTH, height=TREEMAP_HEIGHT + TREEMAP_HEADER
    )
    return titled(chart, title)
