"""Exports, imports and balance over time: one column per period (a year or a quarter),
exports and imports as lines, the balance as a bar from zero (red or green), the periods
of incomplete years on a grey background."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.bars import PLOT_WIDTH
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, titled
from ticomex.charts.frames import (
    EXPORT_FLUX, FLOW_LABELS, IMPORT_FLUX, require_columns, require_non_negative, require_unique,
)  # fmt: skip
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.partners import NEGATIVE_BALANCE, POSITIVE_BALANCE, trade_legend
from ticomex.charts.text import MEUR_TITLE, text_width
from ticomex.texts import INCOMPLETE_YEAR

SERIES_COLUMNS = ["periode", "exportations_eur", "importations_eur", "solde_eur", "annee_complete"]
PLOT_HEIGHT = 200
BALANCE_BAND = 0.45  # the balance bar's width, as a share of its period
POINT_SIZE = 30
LABEL_GAP = 12  # px at least between two period labels written flat
SERIES_LINES, SERIES_BALANCE, SERIES_INCOMPLETE = "series_lignes", "series_solde", "series_incompletes"


def series_chart(frame: pd.DataFrame, title: str | None = None, *, declarations: Declarations = DECLARATIONS) -> dict:
    """One column per row of `frame` in its order (`periode`: its label, unique, sorting as
    time goes); exports and imports as lines with points, the balance as a bar, the rows
    whose `annee_complete` is false on a grey background headed "année incomplète"."""
    builder = "series_chart"
    require_columns(frame, SERIES_COLUMNS, builder)
    if frame.empty:
        return message_chart(NO_TRADE_MESSAGE, title, PLOT_WIDTH, declarations=declarations)
    require_unique(frame["periode"], builder, "periode")
    for column in ("exportations_eur", "importations_eur"):
        require_non_negative(frame[column], builder)
    periods = frame["periode"].astype(str).tolist()
    exports_label, imports_label = FLOW_LABELS[EXPORT_FLUX], FLOW_LABELS[IMPORT_FLUX]
    lines = [
        {"periode": p, "serie": label, "valeur_meur": style.to_meur(int(v))}
        for label, column in ((exports_label, "exportations_eur"), (imports_label, "importations_eur"))
        for p, v in zip(periods, frame[column])
    ]
    balance = [
        {"periode": p, "serie": NEGATIVE_BALANCE if v < 0 else POSITIVE_BALANCE, "valeur_meur": style.to_meur(int(v))}
        for p, v in zip(periods, frame["solde_eur"])
    ]
    incomplete = [{"periode": p} for p, full in zip(periods, frame["annee_complete"]) if not full]
    # Period labels lie flat when they fit side by side, slanted otherwise.
    widest = max(text_width(p) for p in periods)
    angle = 0 if (widest + LABEL_GAP) * len(periods) <= PLOT_WIDTH else -45
    return fill(
        declarations.get(_series_declaration, title, angle),
        {SERIES_LINES: lines, SERIES_BALANCE: balance, SERIES_INCOMPLETE: incomplete},
    )


def _series_declaration(title: str | None, label_angle: int) -> alt.LayerChart:
    color = trade_legend(EXPORT_FLUX, IMPORT_FLUX)
    x = alt.X(
        "periode:O",
        sort="ascending",
        axis=alt.Axis(title=None, labelAngle=label_angle, labelAlign="right" if label_angle else "center",
                      ticks=False, domain=False),
        scale=alt.Scale(paddingInner=0.2, paddingOuter=0.1),
    )
    y = alt.Y("valeur_meur:Q", axis=alt.Axis(title=MEUR_TITLE, format=style.MEUR_FORMAT, tickCount=5))
    tooltip = [
        alt.Tooltip("periode:N", title="Période"),
        alt.Tooltip("serie:N", title="Série"),
        alt.Tooltip("valeur_meur:Q", title=f"Valeur {MEUR_TITLE}", format=style.MEUR_FORMAT),
    ]
    incomplete = alt.Chart(alt.NamedData(SERIES_INCOMPLETE))
    shade = incomplete.mark_rect(color=style.INCOMPLETE_FILL).encode(x=x)
    shade_label = incomplete.mark_text(
        baseline="top", dy=2, color=style.MUTED_TEXT_COLOR, fontStyle="italic"
    ).encode(x=x, y=alt.value(0), text=alt.value(INCOMPLETE_YEAR))
    bars = alt.Chart(alt.NamedData(SERIES_BALANCE)).mark_bar(width=alt.RelativeBandSize(BALANCE_BAND)).encode(
        x=x, y=y, color=color, tooltip=tooltip
    )
    zero_line = (
        alt.Chart(pd.DataFrame({"zero": [0]}))
        .mark_rule(color=style.TEXT_COLOR, strokeWidth=0.8)
        .encode(y="zero:Q")
    )
    lines = alt.Chart(alt.NamedData(SERIES_LINES)).mark_line(
        point=alt.OverlayMarkDef(filled=True, size=POINT_SIZE)
    ).encode(x=x, y=y, color=color, tooltip=tooltip)
    chart = alt.layer(shade, shade_label, bars, zero_line, lines).properties(width=PLOT_WIDTH, height=PLOT_HEIGHT)
    return titled(chart, title)
