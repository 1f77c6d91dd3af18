"""Flows from products to countries (or countries to products): nodes and ribbons laid
out by `layout.sankey_geometry`, each ribbon an SVG path drawn as one symbol."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ticomex import style
from ticomex.charts.declare import DECLARATIONS, Declarations, fill, pixels, titled
from ticomex.charts.layout import (
    LEFT, RIGHT, SANKEY_LABEL_WIDTH, SANKEY_MIN_HEIGHT, SANKEY_LABEL_SPACING, SANKEY_WIDTH,
    drawn_links, ribbon_path, sankey_geometry, side_nodes, spread_labels,
)  # fmt: skip
from ticomex.charts.message import NO_TRADE_MESSAGE, message_chart
from ticomex.charts.text import MEUR_TITLE, meur_label, wrap

SANKEY_LABEL_GAP = 8  # px between a node and its label
SANKEY_NAME_LINES = 2  # a node's name wraps on at most this many lines
# A custom symbol shape is an SVG path drawn at the scale sqrt(size) / 2: size 4 draws
# the ribbon paths at 1:1, in the chart's pixels.
RIBBON_SHAPE_SIZE = 4
SANKEY_RIBBONS, SANKEY_NODES, SANKEY_LABELS, SANKEY_LEADERS = (
    "sankey_liens", "sankey_noeuds", "sankey_etiquettes", "sankey_renvois"
)


def _node_label_lines(name: str, value_eur: int) -> list[str]:
    width = SANKEY_LABEL_WIDTH - SANKEY_LABEL_GAP
    return [*(wrap(name, width, SANKEY_NAME_LINES) or [name]), meur_label(value_eur)]


def _label_height(lines: list[str]) -> float:
    return len(lines) * style.LINE_HEIGHT


def sankey_chart(
    links: pd.DataFrame,
    left: str = "produit",
    right: str = "pays",
    title: str | None = None,
    *,
    declarations: Declarations = DECLARATIONS,
) -> dict:
    """Sankey diagram from the `left` column's labels (left nodes) to the `right`
    column's (right nodes), link widths from `valeur_eur`; links flagged `rouge` in red,
    the others grey-blue and transparent."""
    drawn = drawn_links(links, left, right, "sankey_chart")
    if not drawn:
        return message_chart(NO_TRADE_MESSAGE, title, SANKEY_WIDTH, declarations=declarations)
    label_lines = {
        side: [_node_label_lines(name, value) for name, value in side_nodes(drawn, index)]
        for index, side in enumerate((LEFT, RIGHT))
    }
    needed = max(
        sum(map(_label_height, lines)) + SANKEY_LABEL_SPACING * (len(lines) - 1)
        for lines in label_lines.values()
    )
    height = max(SANKEY_MIN_HEIGHT, int(needed) + 1)
    nodes, placed = sankey_geometry(drawn, SANKEY_WIDTH, height)
    for node in nodes:
        node["valeur_meur"] = style.to_meur(node["valeur_eur"])

    labels = []
    for side, align_x, align in (
        (LEFT, SANKEY_LABEL_WIDTH - SANKEY_LABEL_GAP, "right"),
        (RIGHT, SANKEY_WIDTH - SANKEY_LABEL_WIDTH + SANKEY_LABEL_GAP, "left"),
    ):
        nodes_of_side = [node for node in nodes if node["cote"] == side]
        lines = label_lines[side]
        heights = [_label_height(l) for l in lines]
        centers = [(node["y"] + node["y2"]) / 2 for node in nodes_of_side]
        tops = spread_labels(centers, heights, height)
        for node, node_lines, center, top, label_height in zip(nodes_of_side, lines, centers, tops, heights):
            labels.append(
                {
                    "cote": side,
                    "etiquette": node_lines,
                    "alignement": align,
                    "x": align_x,
                    "y": float(top),
                    # A leader line from the node to its label when the label moved.
                    "noeud_x": node["x"] if side == LEFT else node["x2"],
                    "noeud_y": center,
                    "etiquette_y": float(top + label_height / 2),
                }
            )
    leaders = [label for label in labels if abs(label["etiquette_y"] - label["noeud_y"]) > style.LINE_HEIGHT / 2]
    ribbons = [
        {
            "libelle": f"{link['source']} → {link['cible']}",
            "valeur_meur": style.to_meur(link["valeur_eur"]),
            "rouge": link["rouge"],
            "trace": ribbon_path(link["x0"], link["x1"], link["y0"], link["y1"], link["epaisseur"]),
        }
        for link in placed
    ]
    return fill(
        declarations.get(_sankey_declaration, title),
        {SANKEY_RIBBONS: ribbons, SANKEY_NODES: nodes, SANKEY_LABELS: labels, SANKEY_LEADERS: leaders},
        height=height,
    )


def _sankey_declaration(title: str | None) -> alt.LayerChart:
    value_title = f"Valeur {MEUR_TITLE}"
    link_tooltip = [
        alt.Tooltip("libelle:N", title="Flux"),
        alt.Tooltip("valeur_meur:Q", title=value_title, format=style.MEUR_FORMAT),
    ]
    x = alt.X("x:Q", scale=pixels("width"), axis=None)
    y = alt.Y("y:Q", scale=pixels("height"), axis=None)

    def ribbons(red: bool, color: str, opacity: float) -> alt.Chart:
        # One symbol per link whose shape is the ribbon's path, in pixels from the
        # chart's origin: one item per link, nothing computed by Vega. The red ones are
        # outlined too: told apart by more than their colour.
        outline = (
            {"stroke": style.RED_LINK_BORDER, "strokeWidth": style.RED_LINK_BORDER_WIDTH, "strokeOpacity": 1}
            if red else {"strokeWidth": 0}
        )  # fmt: skip
        return (
            alt.Chart(alt.NamedData(SANKEY_RIBBONS))
            .transform_filter("datum.rouge" if red else "!datum.rouge")
            .mark_point(filled=True, fill=color, fillOpacity=opacity, size=RIBBON_SHAPE_SIZE, **outline)
            .encode(
                x=alt.value(0),
                y=alt.value(0),
                shape=alt.Shape("trace:N", scale=None),
                tooltip=link_tooltip,
                # Read by screen readers; Vega-Lite's default would include the path.
                description=alt.value(alt.ExprRef(
                    f"'Flux: ' + datum.libelle + '; {value_title}: ' + "
                    f"format(datum.valeur_meur, '{style.MEUR_FORMAT}')"
                )),
            )
        )

    node_rects = (
        alt.Chart(alt.NamedData(SANKEY_NODES))
        .mark_rect(color=style.NODE_COLOR)
        .encode(
            x=x,
            x2="x2:Q",
            y=y,
            y2="y2:Q",
            tooltip=[
                alt.Tooltip("libelle:N", title="Libellé"),
                alt.Tooltip("valeur_meur:Q", title=value_title, format=style.MEUR_FORMAT),
            ],
        )
    )
    node_labels = (
        alt.Chart(alt.NamedData(SANKEY_LABELS))
        .mark_text(
            align=alt.ExprRef("datum.alignement"), baseline="top", lineHeight=style.LINE_HEIGHT,
            aria=False,  # the SVG text itself is read; its coordinates are noise
        )
        .encode(x=x, y=y, text="etiquette:N")
    )
    leader_lines = (
        alt.Chart(alt.NamedData(SANKEY_LEADERS))
        .mark_rule(color=style.MUTED_TEXT_COLOR, strokeWidth=0.6, aria=False)
        .encode(
            x=alt.X("noeud_x:Q", scale=pixels("width"), axis=None),
            y=alt.Y("noeud_y:Q", scale=pixels("height"), axis=None),
            x2="x:Q",
            y2="etiquette_y:Q",
        )
    )
    chart = alt.layer(
        ribbons(False, style.NEUTRAL_LINK, style.NEUTRAL_LINK_OPACITY),
        ribbons(True, style.RED_LINK, style.RED_LINK_OPACITY),  # drawn last: on top
        node_rects,
        node_labels,
        leader_lines,
    ).properties(width=SANKEY_WIDTH, height=SANKEY_MIN_HEIGHT)
    return titled(chart, title)
