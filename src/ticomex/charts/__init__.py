"""The sheet's charts, each a function from a frame to a Vega-Lite spec (a dict).

To add a chart kind: write `charts/<kind>.py` with an Altair declaration that reads named
datasets and depends on no data, and a function that checks and lays out the frame, then
returns `fill(declarations.get(_declaration, title), {name: rows})` (see `declare`);
re-export the function here. Simple rankings need no new module: `ranked_bars_chart`.
"""

from ticomex.charts.bars import ranked_bars_chart
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, pixels, titled
from ticomex.charts.layout import ribbon_path, sankey_layout, spread_labels, treemap_layout
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.partners import partners_chart
from ticomex.charts.sankey import sankey_chart
from ticomex.charts.series import series_chart
from ticomex.charts.text import chart_font, configured_font, text_width
from ticomex.charts.treemap import treemap_chart

__all__ = [
    "DECLARATIONS",
    "NO_TRADE_MESSAGE",
    "Declarations",
    "chart_font",
    "configured_font",
    "fill",
    "message_chart",
    "partners_chart",
    "pixels",
    "ranked_bars_chart",
    "ribbon_path",
    "sankey_chart",
    "sankey_layout",
    "series_chart",
    "spread_labels",
    "text_width",
    "titled",
    "treemap_chart",
]
