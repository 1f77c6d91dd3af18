"""The main partner countries: imports to the left, exports to the right of a zero line,
the balance in red (negative) or green (positive)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.bars import (
    BAR_BAND, PLOT_WIDTH, ROW_LABEL_WIDTH, ROW_STEP, bounds_layer, row_names, value_extent, value_labels,
)  # fmt: skip
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, titled
from ticomex.charts.frames import (
    EXPORT_FLUX, FLOW_LABELS, IMPORT_FLUX, PARTNERS_COLUMNS, require_columns, require_non_negative, require_unique,
)  # fmt: skip
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.text import MEUR_TITLE, truncate
from ticomex.errors import TicomexError

NEGATIVE_BALANCE = "Solde négatif"
POSITIVE_BALANCE = "Solde positif"
BALANCE_COLUMN_WIDTH = 70  # right of the plot: the balance of each country as text
BALANCE_BAND = 0.26  # the balance bar's thickness, as a share of its row
PARTNERS_BARS, PARTNERS_COUNTRIES, PARTNERS_BOUNDS = "pays_barres", "pays_lignes", "pays_bornes"


def partners_chart(
    partners: pd.DataFrame, title: str | None = None, *, declarations: Declarations = DECLARATIONS
) -> dict:
    """Diverging bars, one row per country in the given order (first row on top).

    Imports go left and exports right of a zero line; a thinner bar from zero to the
    balance, and the balance as text in a right-hand column, are red when the balance
    is negative and green otherwise.
    """
    builder = "partners_chart"
    require_columns(partners, PARTNERS_COLUMNS, builder)
    if partners.empty:
        return message_chart(NO_TRADE_MESSAGE, title, PLOT_WIDTH, declarations=declarations)
    require_unique(partners["pays"], builder, "country")
    for column in ("importations_eur", "exportations_eur"):
        require_non_negative(partners[column], builder)
    wrong = partners[partners["solde_eur"] != partners["exportations_eur"] - partners["importations_eur"]]
    if not wrong.empty:
        raise TicomexError(
            f"{builder}: row {wrong.index[0]} ({wrong['pays'].iloc[0]}): "
            "solde_eur differs from exportations_eur − importations_eur"
        )

    imports_label, exports_label = FLOW_LABELS[IMPORT_FLUX], FLOW_LABELS[EXPORT_FLUX]
    names = partners["pays"].astype(str).to_numpy()
    countries = pd.DataFrame(
        {
            "rang": range(len(partners)),
            "pays": names,
            # Names too long for the label column are cut here, shown whole in the tooltip.
            "pays_court": [truncate(name, ROW_LABEL_WIDTH) for name in names],
            "code_pays": partners["code_pays"].astype(str).to_numpy(),
            "importations_meur": style.to_meur(partners["importations_eur"].to_numpy()),
            "exportations_meur": style.to_meur(partners["exportations_eur"].to_numpy()),
            "solde_meur": style.to_meur(partners["solde_eur"].to_numpy()),
        }
    )
    countries["serie"] = [
        NEGATIVE_BALANCE if s < 0 else POSITIVE_BALANCE for s in partners["solde_eur"]
    ]
    # One row per drawn bar: imports as negative amounts so that they extend left.
    flows = pd.concat(
        [
            countries.assign(serie=imports_label, x=-countries["importations_meur"],
                             montant=countries["importations_meur"]),
            countries.assign(serie=exports_label, x=countries["exportations_meur"],
                             montant=countries["exportations_meur"]),
        ],
        ignore_index=True,
    )

    # Symmetric domain, widened so that the value label of the longest bar fits.
    largest = max(countries["importations_meur"].max(), countries["exportations_meur"].max())
    amounts = pd.concat([partners["importations_eur"], partners["exportations_eur"]])
    half_domain = value_extent(largest, amounts, PLOT_WIDTH / 2)
    return fill(
        declarations.get(_partners_declaration, title),
        {
            PARTNERS_BARS: flows,
            PARTNERS_COUNTRIES: countries,
            PARTNERS_BOUNDS: pd.DataFrame({"x": [-half_domain, half_domain]}),
        },
    )


FLOW_COLOURS = {IMPORT_FLUX: style.IMPORT_BLUE, EXPORT_FLUX: style.EXPORT_VIOLET}


def trade_legend(first: str, second: str) -> alt.Color:
    """The `serie` colour of the trade charts: the two flows in the order given, then the
    negative and positive balance; a legend of squares above the chart."""
    series = [FLOW_LABELS[first], FLOW_LABELS[second], NEGATIVE_BALANCE, POSITIVE_BALANCE]
    colors = [FLOW_COLOURS[first], FLOW_COLOURS[second], style.NEGATIVE_RED, style.POSITIVE_GREEN]
    return alt.Color(
        "serie:N",
        scale=alt.Scale(domain=series, range=colors),
        legend=alt.Legend(title=None, orient="top", direction="horizontal", symbolType="square"),
    )


def _partners_declaration(title: str | None) -> alt.LayerChart:
    imports_label, exports_label = FLOW_LABELS[IMPORT_FLUX], FLOW_LABELS[EXPORT_FLUX]
    color = trade_legend(IMPORT_FLUX, EXPORT_FLUX)
    # The domain is the invisible bounds' extent: ± the largest amount plus room for its label.
    x = alt.X(
        "x:Q",
        scale=alt.Scale(nice=False),
        axis=alt.Axis(
            title=f"{imports_label} ← {MEUR_TITLE} → {exports_label}",
            labelExpr=f"format(abs(datum.value), '{style.MEUR_FORMAT}')",
            grid=False,
            tickCount=5,
        ),
    )
    # Rows by rank, top to bottom; the countries' names are a text layer left of the plot.
    y = alt.Y("rang:O", axis=None)
    tooltip = [
        alt.Tooltip("pays:N", title="Pays"),
        alt.Tooltip("importations_meur:Q", title=f"{imports_label} {MEUR_TITLE}", format=style.MEUR_FORMAT),
        alt.Tooltip("exportations_meur:Q", title=f"{exports_label} {MEUR_TITLE}", format=style.MEUR_FORMAT),
        alt.Tooltip("solde_meur:Q", title=f"Solde {MEUR_TITLE}", format=style.MEUR_FORMAT),
    ]
    flow_base = alt.Chart(alt.NamedData(PARTNERS_BARS))
    country_base = alt.Chart(alt.NamedData(PARTNERS_COUNTRIES))
    bars = flow_base.mark_bar(height=alt.RelativeBandSize(BAR_BAND)).encode(
        x=x, y=y, color=color, tooltip=tooltip
    )
    balance_bars = country_base.mark_bar(height=alt.RelativeBandSize(BALANCE_BAND)).encode(
        x=alt.X("solde_meur:Q"), y=y, color=color, tooltip=tooltip
    )
    import_values, export_values = (
        value_labels(flow_base.transform_filter(f"datum.serie === '{serie}' && datum.montant > 0"),
                     "x", "montant", y, tooltip, align)
        for serie, align in ((imports_label, "right"), (exports_label, "left"))
    )  # fmt: skip
    balance_x = PLOT_WIDTH + BALANCE_COLUMN_WIDTH
    balance_values = country_base.mark_text(
        align="right", baseline="middle", fontWeight="bold"
    ).encode(
        x=alt.value(balance_x),
        y=y,
        text=alt.Text("solde_meur:Q", format="+" + style.MEUR_FORMAT),
        color=color,
        tooltip=tooltip,
    )
    balance_header = (
        alt.Chart(pd.DataFrame({"entete": [f"Solde {MEUR_TITLE}"]}))
        .mark_text(align="right", baseline="bottom", color=style.MUTED_TEXT_COLOR)
        .encode(x=alt.value(balance_x), y=alt.value(-4), text="entete:N")
    )
    zero_line = (
        alt.Chart(pd.DataFrame({"zero": [0]}))
        .mark_rule(color=style.TEXT_COLOR, strokeWidth=0.8)
        .encode(x="zero:Q")
    )
    chart = alt.layer(
        bars, bounds_layer(PARTNERS_BOUNDS, "x"), balance_bars, zero_line, import_values, export_values,
        row_names(country_base, y, "pays_court"), balance_values, balance_header,
    ).properties(width=PLOT_WIDTH, height=alt.Step(ROW_STEP))
    return titled(chart, title)
