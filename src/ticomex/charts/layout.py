"""The geometry Vega-Lite cannot compute: treemap compartments, Sankey nodes and ribbons,
label positions. Plain Python and pandas, in pixels with y pointing down; no Altair.

The chart modules (`treemap`, `sankey`) draw these shapes as rectangles, paths and texts
on pixel scales (`declare.pixels`): Vega computes nothing, which keeps vl-convert fast.
"""

from __future__ import annotations

import pandas as pd
import squarify

from ticomex.charts.frames import ACTIVITIES_COLUMNS, EXPORT_FLUX, FLOW_LABELS, IMPORT_FLUX, check_activities, check_links
from ticomex.texts import OTHERS

TREEMAP_WIDTH = 600
TREEMAP_HEIGHT = 340
TREEMAP_GAP = 8  # px between the import block and the export block

SANKEY_WIDTH = 600
SANKEY_MIN_HEIGHT = 400
SANKEY_NODE_WIDTH = 12
SANKEY_NODE_GAP = 6
SANKEY_LABEL_WIDTH = 165  # each side, node labels included
SANKEY_LABEL_SPACING = 3  # px between two labels of a side
LEFT, RIGHT = "gauche", "droite"  # the nodes' `cote`, a chart data field

NODE_COLUMNS = ["cote", "rang", "libelle", "valeur_eur", "x", "x2", "y", "y2"]
LINK_COLUMNS = ["lien", "source", "cible", "valeur_eur", "rouge", "x0", "x1", "y0", "y1", "epaisseur"]


# ---------------------------------------------------------------------- treemap


def treemap_layout(
    activities: pd.DataFrame,
    width: float = TREEMAP_WIDTH,
    height: float = TREEMAP_HEIGHT,
    gap: float = TREEMAP_GAP,
) -> pd.DataFrame:
    """One rectangle per product with a positive value: columns of `activities` plus
    `x, x2, y, y2` in pixels (y down). The import block is on the left, the export
    block on the right, same height, widths proportional to the two flow totals;
    inside a block, squarified compartments with areas proportional to values."""
    check_activities(activities, "treemap_layout")
    drawn = activities[activities["valeur_eur"] > 0]
    totals = {flux: int(drawn.loc[drawn["flux"] == flux, "valeur_eur"].sum()) for flux in FLOW_LABELS}
    present = [flux for flux in (IMPORT_FLUX, EXPORT_FLUX) if totals[flux] > 0]
    columns = [*ACTIVITIES_COLUMNS, "x", "x2", "y", "y2"]
    if not present:
        return pd.DataFrame(columns=columns)
    usable_width = width - gap * (len(present) - 1)
    grand_total = sum(totals[flux] for flux in present)
    blocks, left = [], 0.0
    for flux in present:
        block_width = usable_width * totals[flux] / grand_total
        # squarify expects sizes in descending order; stable keeps ties in input order.
        part = drawn[drawn["flux"] == flux].sort_values("valeur_eur", ascending=False, kind="stable")
        sizes = squarify.normalize_sizes(part["valeur_eur"].astype(float).tolist(), block_width, height)
        rects = squarify.squarify(sizes, left, 0.0, block_width, height)
        blocks.append(
            part[ACTIVITIES_COLUMNS].assign(
                x=[r["x"] for r in rects],
                x2=[r["x"] + r["dx"] for r in rects],
                y=[r["y"] for r in rects],
                y2=[r["y"] + r["dy"] for r in rects],
            )
        )
        left += block_width + gap
    return pd.concat(blocks, ignore_index=True)[columns]


# ---------------------------------------------------------------------- Sankey


def side_nodes(links: list[tuple], side: int) -> list[tuple[str, int]]:
    """A side's nodes (label, total), by total descending (ties in input order), "Autres"
    last. `side`: 0 for the links' sources, 1 for their targets."""
    totals: dict[str, int] = {}
    for link in links:
        totals[link[side]] = totals.get(link[side], 0) + link[2]
    return sorted(totals.items(), key=lambda node: (node[0] == OTHERS, -node[1]))


def drawn_links(links: pd.DataFrame, left: str, right: str, builder: str) -> list[tuple]:
    """(source, target, value, red) of each link drawn, in the frame's order. Plain Python:
    a sheet lays out several Sankeys and pandas' per-call cost dominates such small frames."""
    drawn = check_links(links, left, right, builder)
    return list(
        zip(
            drawn[left].astype(str).tolist(),
            drawn[right].astype(str).tolist(),
            drawn["valeur_eur"].astype("int64").tolist(),
            drawn["rouge"].astype(bool).tolist(),
        )
    )


def sankey_geometry(links: list[tuple], width: float, height: float) -> tuple[list[dict], list[dict]]:
    """`sankey_layout` on `drawn_links`, as records (see there)."""
    if not links:
        return [], []
    sides = {LEFT: side_nodes(links, 0), RIGHT: side_nodes(links, 1)}
    total = sum(link[2] for link in links)
    most_nodes = max(len(n) for n in sides.values())
    px_per_euro = (height - SANKEY_NODE_GAP * (most_nodes - 1)) / total
    node_x = {
        LEFT: (SANKEY_LABEL_WIDTH, SANKEY_LABEL_WIDTH + SANKEY_NODE_WIDTH),
        RIGHT: (width - SANKEY_LABEL_WIDTH - SANKEY_NODE_WIDTH, width - SANKEY_LABEL_WIDTH),
    }
    nodes: list[dict] = []
    placed: dict[str, dict] = {}
    for side, nodes_of_side in sides.items():
        heights = [value * px_per_euro for _, value in nodes_of_side]
        top = (height - (sum(heights) + SANKEY_NODE_GAP * (len(nodes_of_side) - 1))) / 2
        for rank, ((label, value), node_height) in enumerate(zip(nodes_of_side, heights)):
            node = {
                "cote": side, "rang": rank, "libelle": label, "valeur_eur": value,
                "x": node_x[side][0], "x2": node_x[side][1], "y": top, "y2": top + node_height,
            }  # fmt: skip
            nodes.append(node)
            placed[(side, label)] = node
            top += node_height + SANKEY_NODE_GAP
    # Stack each node's links in the order of their other ends, so that ribbons leaving
    # one node do not cross each other.
    ranked = sorted(
        links, key=lambda link: (placed[(LEFT, link[0])]["rang"], placed[(RIGHT, link[1])]["rang"])
    )
    result, below_source, below_target = [], {}, {}
    for link_id, (source, target, value, red) in enumerate(ranked):
        result.append(
            {
                "lien": link_id, "source": source, "cible": target, "valeur_eur": value, "rouge": red,
                "x0": node_x[LEFT][1], "x1": node_x[RIGHT][0], "epaisseur": value * px_per_euro,
            }
        )  # fmt: skip
    for link in result:
        offset = below_source.get(link["source"], 0.0)
        link["y0"] = placed[(LEFT, link["source"])]["y"] + offset
        below_source[link["source"]] = offset + link["epaisseur"]
    for link in sorted(
        result, key=lambda link: (placed[(RIGHT, link["cible"])]["rang"], placed[(LEFT, link["source"])]["rang"])
    ):
        offset = below_target.get(link["cible"], 0.0)
        link["y1"] = placed[(RIGHT, link["cible"])]["y"] + offset
        below_target[link["cible"]] = offset + link["epaisseur"]
    return nodes, result


def sankey_layout(
    links: pd.DataFrame,
    left: str,
    right: str,
    width: float = SANKEY_WIDTH,
    height: float = SANKEY_MIN_HEIGHT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and links of the Sankey diagram from the `left` column's labels to the `right`
    column's, in pixels (y down).

    nodes: `cote` (gauche/droite), `rang` (0 on top), `libelle`, `valeur_eur`,
    `x, x2, y, y2`; node heights proportional to node totals, one scale for both sides.
    links: `lien` (id), `source`, `cible`, `valeur_eur`, `rouge`, `x0, x1` (ends),
    `y0, y1` (top edge at the source and at the target), `epaisseur`; at a node, links
    are stacked in the order of the nodes at their other end.
    """
    nodes, placed = sankey_geometry(drawn_links(links, left, right, "sankey_layout"), width, height)
    return (
        pd.DataFrame(nodes, columns=NODE_COLUMNS),
        pd.DataFrame(placed, columns=LINK_COLUMNS),
    )


def ribbon_path(x0: float, x1: float, y0: float, y1: float, thickness: float) -> str:
    """SVG path of a ribbon from (x0, y0) to (x1, y1), `thickness` px vertically, its
    edges cubic curves flat at both ends (control points at a third and two thirds of the
    width: the smoothstep curve); coordinates rounded to 0.1 px to keep specs small."""
    c0, c1 = x0 + (x1 - x0) / 3, x0 + 2 * (x1 - x0) / 3
    b0, b1 = y0 + thickness, y1 + thickness
    return (
        f"M{x0:.1f},{y0:.1f}C{c0:.1f},{y0:.1f} {c1:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        f"L{x1:.1f},{b1:.1f}C{c1:.1f},{b1:.1f} {c0:.1f},{b0:.1f} {x0:.1f},{b0:.1f}Z"
    )


def spread_labels(
    centers: list[float], heights: list[float], height: float, spacing: float = SANKEY_LABEL_SPACING
) -> list[float]:
    """Tops of labels stacked in order, each as close as possible to its node's centre,
    `spacing` px apart at least, within [0, height]."""
    tops = []
    for center, h in zip(centers, heights):
        top = max(center - h / 2, 0.0)
        if tops:
            top = max(top, tops[-1] + heights[len(tops) - 1] + spacing)
        tops.append(top)
    # Pushed past the bottom: move labels back up, last first.
    limit = height
    for i in range(len(tops) - 1, -1, -1):
        tops[i] = min(tops[i], limit - heights[i])
        limit = tops[i] - spacing
    return tops
