"""The look of every chart, written once: palette, text sizes, French number format.

The config travels inside each Vega-Lite spec (`apply_style`), so a chart looks the same
in the HTML page (vega-embed) and in the PDF (SVG through vl-convert).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing style costs no Altair import (1.4 s)
    import altair as alt

# Palette. The sheets draw imports in blue, exports in violet, a negative balance and
# the five largest flows in red, a positive balance in green.
IMPORT_BLUE = "#2c6fb7"
EXPORT_VIOLET = "#7b3f9e"
NEGATIVE_RED = "#d0312d"
POSITIVE_GREEN = "#2a7d39"  # also the text of positive balances: 5.1:1 on white
RED_LINK = NEGATIVE_RED
RED_LINK_OPACITY = 0.85
# The red flows are also outlined (not told by colour alone: RGAA 3.1), the outline
# contrasting with the grey flows around them (tests/test_style.py checks every ratio).
RED_LINK_BORDER = "#1f2933"
RED_LINK_BORDER_WIDTH = 1.5
# Grey flows at 3:1 at least against the white page (RGAA 3.3, graphics).
NEUTRAL_LINK = "#64789a"
NEUTRAL_LINK_OPACITY = 0.8
NODE_COLOR = "#3b4a5e"
TEXT_COLOR = "#1f2933"
MUTED_TEXT_COLOR = "#5b6776"  # secondary text: axis titles, leader lines, messages
TEXT_ON_FILL = "#ffffff"  # labels drawn inside the blue and violet compartments
RECT_SEPARATOR = "#ffffff"  # thin border between treemap compartments
# The pages and PDFs around the charts.
LINK_COLOR = "#1d4f91"
DEMO_BACKGROUND = "#fff4d6"  # the demo note at the top of each page
DEMO_BORDER = "#d08a00"
DEMO_TEXT = "#8a5a00"  # the demo note heading each PDF page
RULE_COLOR = "#d9dee5"  # the lines under the site's header and above its footer
PAGE_BACKGROUND = "#ffffff"
INCOMPLETE_FILL = "#eceff3"  # behind the quarters of an incomplete year

# The index's map of departments, coloured by classes of an indicator (light to dark):
# exports in violet, imports in blue, the balance from red (deficit) to green (surplus).
MAP_EXPORT_RAMP = ("#efe6f5", "#d3b9e3", "#b48bcf", "#8f5bb3", "#5e2d7e")
MAP_IMPORT_RAMP = ("#e3edf8", "#b3cdea", "#7fa9d8", "#4a80c0", "#1f4f8a")
MAP_BALANCE_RAMP = ("#a3201d", "#ef9a96", "#9fd3a8", "#1f6b2c")  # deficits, then surpluses
MAP_NO_SHEET = "#e4e7eb"  # a territory of the map without a sheet (Saint-Pierre-et-Miquelon)
MAP_BORDER = "#ffffff"

# Every colour by the name the site's CSS (`--ticomex-<name>`) and the PDF template use:
# both are generated from this mapping (render/assets.py, render/pdf.py).
COLOURS = {
    "import": IMPORT_BLUE,
    "export": EXPORT_VIOLET,
    "negative": NEGATIVE_RED,
    "positive": POSITIVE_GREEN,
    "neutral-link": NEUTRAL_LINK,
    "red-link-border": RED_LINK_BORDER,
    "node": NODE_COLOR,
    "text": TEXT_COLOR,
    "muted-text": MUTED_TEXT_COLOR,
    "text-on-fill": TEXT_ON_FILL,
    "link": LINK_COLOR,
    "demo-background": DEMO_BACKGROUND,
    "demo-border": DEMO_BORDER,
    "demo-text": DEMO_TEXT,
    "rule": RULE_COLOR,
    **{f"carte-exportations-{i}": c for i, c in enumerate(MAP_EXPORT_RAMP)},
    **{f"carte-importations-{i}": c for i, c in enumerate(MAP_IMPORT_RAMP)},
    **{f"carte-solde-{i}": c for i, c in enumerate(MAP_BALANCE_RAMP)},
    "carte-sans-fiche": MAP_NO_SHEET,
    "carte-bordure": MAP_BORDER,
    "page": PAGE_BACKGROUND,
}

# Text sizes; the font is the project's (`ticomex.charts.text.chart_font`).
FONT_SIZE = 10
LINE_HEIGHT = 12  # px between two lines of a multi-line label at FONT_SIZE
TITLE_FONT_SIZE = 13

# d3-format locale, as the sheets print figures: `1 070.9` (plain space, decimal point).
FRENCH_NUMBER_LOCALE = {
    "decimal": ".",
    "thousands": " ",
    "grouping": [3],
    "currency": ["", " €"],
}
EUROS_PER_MILLION = 1_000_000
MEUR_FORMAT = ",.1f"  # millions of euros, one decimal, in axes and tooltips
MEUR_UNIT = "M€"


def to_meur(euros):
    """Whole euros (an int or a Series) → millions of euros, the unit charts carry."""
    return euros / EUROS_PER_MILLION


def apply_style(chart: alt.TopLevelMixin, fonts: str) -> alt.TopLevelMixin:
    """The chart with the shared config: `fonts` (a CSS font list), French numbers, no view
    frame.

    Axis and legend labels have no length limit (`labelLimit=0`): a limit makes Vega measure
    every label again, character by character; the charts size their labels themselves."""
    return (
        chart.configure(
            font=fonts,
            locale={"number": FRENCH_NUMBER_LOCALE},
            background="white",
        )
        .configure_view(stroke=None)
        .configure_axis(
            labelFont=fonts,
            titleFont=fonts,
            labelFontSize=FONT_SIZE,
            titleFontSize=FONT_SIZE,
            labelColor=TEXT_COLOR,
            titleColor=MUTED_TEXT_COLOR,
            titleFontWeight="normal",
            labelLimit=0,
        )
        .configure_legend(
            labelFont=fonts,
            titleFont=fonts,
            labelFontSize=FONT_SIZE,
            labelColor=TEXT_COLOR,
            labelLimit=0,
        )
        .configure_title(
            font=fonts,
            fontSize=TITLE_FONT_SIZE,
            color=TEXT_COLOR,
            anchor="start",
        )
        .configure_text(font=fonts, fontSize=FONT_SIZE, color=TEXT_COLOR)
    )
