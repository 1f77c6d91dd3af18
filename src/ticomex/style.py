"""The look of every chart, written once: palette, font, French number format.

The config travels inside each Vega-Lite spec (`apply_style`), so a chart looks the same
in the HTML page (vega-embed) and in the PDF (SVG through vl-convert).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderer reads the fonts here without Altair's import (1.4 s)
    import altair as alt

# Palette. The sheets draw imports in blue, exports in violet, a negative balance and
# the five largest flows in red, a positive balance in green.
IMPORT_BLUE = "#2c6fb7"
EXPORT_VIOLET = "#7b3f9e"
NEGATIVE_RED = "#d0312d"
POSITIVE_GREEN = "#2e8b3e"
RED_LINK = NEGATIVE_RED
RED_LINK_OPACITY = 0.85
NEUTRAL_LINK = "#8ea2bd"
NEUTRAL_LINK_OPACITY = 0.45
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

# Every colour by the name the site's CSS (`--ticomex-<name>`) and the PDF template use:
# both are generated from this mapping (render/assets.py, render/pdf.py).
COLOURS = {
    "import": IMPORT_BLUE,
    "export": EXPORT_VIOLET,
    "negative": NEGATIVE_RED,
    "positive": POSITIVE_GREEN,
    "neutral-link": NEUTRAL_LINK,
    "node": NODE_COLOR,
    "text": TEXT_COLOR,
    "muted-text": MUTED_TEXT_COLOR,
    "text-on-fill": TEXT_ON_FILL,
    "link": LINK_COLOR,
    "demo-background": DEMO_BACKGROUND,
    "demo-border": DEMO_BORDER,
    "demo-text": DEMO_TEXT,
    "rule": RULE_COLOR,
}

# Installed under /usr/share/fonts; the PDF renderer embeds the same font.
FONT = "DejaVu Sans"
CHART_FONTS = f"{FONT}, sans-serif"
FONT_SIZE = 10
LINE_HEIGHT = 12  # px between two lines of a multi-line label at FONT_SIZE
TITLE_FONT_SIZE = 13

# Advance widths of DejaVu Sans in em, as vl-convert measures them (10 px text, 20 vs 120
# repetitions of each character). Labels are wrapped and cut in Python with these widths:
# Vega's own `limit` would measure each label many times, and vl-convert pays about 0.1 ms
# per measured character. Characters not listed count as the widest one.
ADVANCE_EM = {
    0.199: "\u202f",
    0.275: "'",
    0.278: "ijlîï",
    0.295: "IJÎÏ",
    0.318: ",.’‘· \u00a0",
    0.337: "/:;\\|",
    0.345: "f",
    0.361: "-",
    0.39: "()[]",
    0.392: "t",
    0.394: "r",
    0.401: "!",
    0.46: '"',
    0.5: "*_`–°",
    0.518: "“”",
    0.521: "s",
    0.525: "z",
    0.53: "?",
    0.55: "cç",
    0.557: "L",
    0.575: "F",
    0.579: "k",
    0.592: "vxyÿ",
    0.594: "T",
    0.603: "P",
    0.611: "YŸ",
    0.612: "oôö«»",
    0.613: "aàâä",
    0.615: "eéèêë",
    0.632: "EÉÈÊË",
    0.634: "hnuùûü",
    0.635: "Sbdgpq",
    0.636: "$0123456789{}€",
    0.655: "K",
    0.684: "V",
    0.685: "XZ",
    0.686: "B",
    0.695: "R",
    0.698: "CÇ",
    0.712: "AÀÂÄ",
    0.732: "UÙÛÜ",
    0.748: "N",
    0.752: "H",
    0.77: "D",
    0.775: "G",
    0.78: "&",
    0.787: "OQÔÖ",
    0.818: "w",
    0.838: "#+<=>^~−×",
    0.863: "M",
    0.95: "%",
    0.974: "mÆ",
    0.982: "æ",
    0.989: "W",
    1.0: "@…—",
    1.023: "œ",
    1.07: "Œ",
}
_CHAR_EM = {char: em for em, chars in ADVANCE_EM.items() for char in chars}
_WIDEST_EM = max(ADVANCE_EM)

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


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Width in px of `text` on one line in regular DejaVu Sans (no kerning: a hair wide)."""
    return font_size * sum(_CHAR_EM.get(char, _WIDEST_EM) for char in text)


def apply_style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the shared config: font, French numbers, no view frame.

    Axis and legend labels have no length limit (`labelLimit=0`): a limit makes Vega measure
    every label again, character by character; the charts size their labels themselves."""
    return (
        chart.configure(
            font=CHART_FONTS,
            locale={"number": FRENCH_NUMBER_LOCALE},
            background="white",
        )
        .configure_view(stroke=None)
        .configure_axis(
            labelFont=CHART_FONTS,
            titleFont=CHART_FONTS,
            labelFontSize=FONT_SIZE,
            titleFontSize=FONT_SIZE,
            labelColor=TEXT_COLOR,
            titleColor=MUTED_TEXT_COLOR,
            titleFontWeight="normal",
            labelLimit=0,
        )
        .configure_legend(
            labelFont=CHART_FONTS,
            titleFont=CHART_FONTS,
            labelFontSize=FONT_SIZE,
            labelColor=TEXT_COLOR,
            labelLimit=0,
        )
        .configure_title(
            font=CHART_FONTS,
            fontSize=TITLE_FONT_SIZE,
            color=TEXT_COLOR,
            anchor="start",
        )
        .configure_text(font=CHART_FONTS, fontSize=FONT_SIZE, color=TEXT_COLOR)
    )
