"""Text measured, wrapped and cut in Python, as vl-convert will draw it.

Labels are sized here, never with Vega's `limit`: a limit makes Vega measure each label
many times, and vl-convert pays about 0.1 ms per measured character. Widths come from a
table of advance widths per font family (`ADVANCE_EM`), measured from vl-convert.

The font is the project's: `format.typst.mainfont` of `_quarto.yml`, the font the PDF
embeds. `chart_font()` reads it once per process (a kernel draws many charts), on the
first chart; a font without a table here is an error, since labels could not be sized.
To use another font, add its table to `ADVANCE_EM` (measure it as
`tests/test_charts.py::measured_width` does).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from ticomex import style
from ticomex.errors import TicomexError
from ticomex.project import config_option, find_project
from ticomex.texts import millions

FONT_KEY = ("format", "typst", "mainfont")
GENERIC_FAMILY = "sans-serif"  # for browsers without the configured font
ELLIPSIS = "…"
MIN_LABEL_WIDTH = 50  # px; less room than this gets no wrapped label at all
# Chart data carry amounts in millions of euros (`style.to_meur`), so that the French number
# locale formats axes and tooltips (`1 070.9`); labels drawn from Python use `meur_label`.
MEUR_TITLE = f"({style.MEUR_UNIT})"

# Advance widths in em by font family, as vl-convert measures them (10 px text, 20 vs 120
# repetitions of each character). Characters not listed count as the widest one.
ADVANCE_EM: dict[str, dict[float, str]] = {
    "DejaVu Sans": {
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
    },
}


@dataclass(frozen=True)
class Font:
    """A font family and its advance widths."""

    family: str
    char_em: dict[str, float]
    widest_em: float

    @classmethod
    def from_table(cls, family: str, table: dict[float, str]) -> Font:
        return cls(family, {char: em for em, chars in table.items() for char in chars}, max(table))

    @property
    def css_family(self) -> str:
        """The family as the charts' config names it, with a generic fallback."""
        return f"{self.family}, {GENERIC_FAMILY}"

    def width(self, text: str, font_size: float = style.FONT_SIZE) -> float:
        """Width in px of `text` on one line, regular weight (no kerning: a hair wide)."""
        return font_size * sum(self.char_em.get(char, self.widest_em) for char in text)


def configured_font(config: Path) -> Font:
    """The font a `_quarto.yml` names at `format.typst.mainfont`, with its widths; a clear
    error when the key is missing or no table here measures that font."""
    key = ".".join(FONT_KEY)
    try:
        node = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TicomexError(f"{config}: not valid YAML ({err})") from None
    node = config_option(node, key, config, "the charts' font")
    if node not in ADVANCE_EM:
        raise TicomexError(
            f"{config}: `{key}` is {node!r}, a font the charts cannot measure; fonts with "
            f"advance widths in ticomex.charts.text.ADVANCE_EM: {', '.join(ADVANCE_EM)}"
        )
    return Font.from_table(node, ADVANCE_EM[node])


@functools.cache
def chart_font() -> Font:
    """The project's font (`configured_font` of its `_quarto.yml`), read once per process."""
    return configured_font(find_project().config)


def text_width(text: str, font_size: float = style.FONT_SIZE) -> float:
    """Width in px of `text` on one line in the project's font."""
    return chart_font().width(text, font_size)


def truncate(text: str, width_px: float) -> str:
    """`text` if it fits in `width_px`, else its longest start that fits with "…"."""
    if text_width(text) <= width_px:
        return text
    while text and text_width(text + ELLIPSIS) > width_px:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def wrap(text: str, width_px: float, max_lines: int) -> list[str]:
    """`text` on at most `max_lines` lines of `width_px` (words kept whole when they fit),
    the last line cut with "…"; [] when `width_px` is below MIN_LABEL_WIDTH."""
    if width_px < MIN_LABEL_WIDTH or max_lines < 1:
        return []
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}") <= width_px:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [truncate(line, width_px) for line in lines or [""]]


def meur_label(euros: int) -> str:
    """Whole euros as the charts print an amount: `1 070.9 M€`."""
    return f"{millions(euros)} {style.MEUR_UNIT}"
