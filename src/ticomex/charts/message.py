"""A chart with nothing to draw but a short message: it keeps the page's layout."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, titled

NO_TRADE_MESSAGE = "Aucun échange enregistré pour cette année."


def _message_declaration(message: str, title: str | None, width: int) -> alt.Chart:
    chart = (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(align="left", baseline="middle", color=style.MUTED_TEXT_COLOR)
        .encode(x=alt.value(0), y=alt.value(20), text="message:N")
        .properties(width=width, height=40)
    )
    return titled(chart, title)


def message_chart(
    message: str, title: str | None, width: int, *, declarations: Declarations = DECLARATIONS
) -> dict:
    """`message` in muted text, `width` px wide, under the chart's title."""
    return fill(declarations.get(_message_declaration, message, title, width), {})
