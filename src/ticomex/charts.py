"""The sheet's three charts: Altair declarations, returned as Vega-Lite specs (dicts).

- `partners_chart`: the main partner countries, imports to the left, exports to the
  right, the balance in red (negative) or green (positive);
- `treemap_chart`: the products imported (blue) and exported (violet), areas
  proportional to values, the two blocks' areas proportional to the two flow totals;
- `sankey_chart`: flows from products to countries (or countries to products).

Vega-Lite draws neither treemaps nor Sankey diagrams: their geometry is computed here
(`treemap_layout`, `sankey_layout`, in pixels, y pointing down) and drawn as rectangles,
paths and texts on pixel scales. Amounts are carried in millions of euros so that the
French number locale of `ticomex.style` formats axes and tooltips (`1 070.9`).

The PDF converts each chart to SVG with vl-convert, where every text Vega measures costs
about 0.1 ms per character and every point computed by a Vega transform costs too: labels
are wrapped and cut here (`style.text_width`), never with Vega's `limit`, and ribbons are
SVG paths computed here.

Each chart kind is declared once with Altair, its layers reading named datasets
(`_declared`, memoized); a call lays out the data in Python and returns the declaration
with its `datasets` filled in (`_filled`). Building Altair objects and serialising them
costs about 0.1 s per chart, the layout alone a few milliseconds: a sheet draws eight
charts and the publication a hundred sheets. `alt.LayerChart.from_dict(spec)` gives an
Altair object back when one is wanted.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import pickle
from collections import OrderedDict

import altair as alt
import pandas as pd
import squarify

from ticomex import style
from ticomex.errors import TicomexError
from ticomex.texts import EXPORT, FLOWS, IMPORT, OTHERS, millions

# The `flux` values of the activities frame ("import", "export") and how charts name them.
IMPORT_FLUX = FLOWS[IMPORT]["name"]
EXPORT_FLUX = FLOWS[EXPORT]["name"]
FLOW_LABELS = {IMPORT_FLUX: "Importations", EXPORT_FLUX: "Exportations"}
FLOW_COLORS = {IMPORT_FLUX: style.IMPORT_BLUE, EXPORT_FLUX: style.EXPORT_VIOLET}
NEGATIVE_BALANCE = "Solde négatif"
POSITIVE_BALANCE = "Solde positif"
NO_TRADE_MESSAGE = "Aucun échange enregistré pour cette année."
MEUR_TITLE = f"({style.MEUR_UNIT})"

PARTNERS_COLUMNS = ["code_pays", "pays", "importations_eur", "exportations_eur", "solde_eur"]
PARTNERS_PLOT_WIDTH = 360
PARTNERS_ROW_STEP = 28
PARTNERS_COUNTRY_LABEL_WIDTH = 150
BALANCE_COLUMN_WIDTH = 70  # right of the plot: the balance of each country as text
VALUE_LABEL_OFFSET = 4  # px between a bar's end and its value
VALUE_LABEL_MARGIN = 6  # px between the longest bar's value and the plot's edge

ACTIVITIES_COLUMNS = ["flux", "code_a129", "produit", "valeur_eur"]
TREEMAP_WIDTH = 600
TREEMAP_HEIGHT = 340
TREEMAP_GAP = 8  # px between the import block and the export block
TREEMAP_HEADER = 22  # px above the blocks for "Importations : 178.1 M€"
LABEL_PADDING = 4  # px between a compartment's border and its label
MIN_LABEL_WIDTH = 50  # px; narrower compartments get no label (the tooltip remains)
ELLIPSIS = "…"

SANKEY_WIDTH = 600
SANKEY_MIN_HEIGHT = 400
SANKEY_NODE_WIDTH = 12
SANKEY_NODE_GAP = 6
SANKEY_LABEL_WIDTH = 165  # each side, node labels included
SANKEY_LABEL_GAP = 8  # px between a node and its label
SANKEY_LABEL_SPACING = 3  # px between two labels of a side
SANKEY_NAME_LINES = 2  # a node's name wraps on at most this many lines
# A custom symbol shape is an SVG path drawn at the scale sqrt(size) / 2: size 4 draws
# the ribbon paths at 1:1, in the chart's pixels.
RIBBON_SHAPE_SIZE = 4
LEFT, RIGHT = "gauche", "droite"


def _pixels(size: str) -> alt.Scale:
    """A scale drawing positions computed here in pixels (y down) as they are: the view's
    `width` or `height` signal on both sides, whatever the chart's size."""
    extent = [0, alt.ExprRef(size)]
    return alt.Scale(domain=extent, range=extent, nice=False, zero=False)


# ---------------------------------------------------------------------- helpers


def _declared(declaration):
    """A chart kind's declaration, built and serialised once per set of arguments."""
    return functools.lru_cache(maxsize=None)(declaration)


def _filled(declaration: dict, datasets: dict[str, pd.DataFrame | list[dict]], **properties) -> dict:
    """The declaration with its named datasets (frames or records) and top-level properties
    filled in."""
    spec = copy.deepcopy(declaration)
    spec.update(properties)
    spec["datasets"] = {
        **spec.get("datasets", {}),
        **{
            name: rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
            for name, rows in datasets.items()
        },
    }
    return spec


def _serialised(chart: alt.TopLevelMixin, titre: str | None) -> dict:
    return style.apply_style(_title(chart, titre)).to_dict(validate=False)


# The region and France charts are the same for every department of a region: a warm
# kernel builds each once. Keyed on the data's content, so it can never serve a stale chart.
MEMO_SIZE = 64


def memoized_on_content(builder):
    cache: OrderedDict = OrderedDict()

    @functools.wraps(builder)
    def wrapper(data: pd.DataFrame, *args, **kwargs):
        # The pickle holds every value, dtype, label and index: equal bytes, equal data (a
        # frame laid out differently in memory only misses the cache). 10x cheaper than
        # pandas' row hashing.
        digest = hashlib.sha256(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        key = (digest.hexdigest(), args, tuple(sorted(kwargs.items())))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        chart = cache[key] = builder(data, *args, **kwargs)
        if len(cache) > MEMO_SIZE:
            cache.popitem(last=False)
        return chart

    wrapper.cache_clear = cache.clear
    return wrapper


def _require_columns(df: pd.DataFrame, columns: list[str], builder: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TicomexError(
            f"{builder} : colonnes manquantes {missing} (colonnes reçues : {list(df.columns)})"
        )


def _require_non_negative(values: pd.Series, builder: str) -> None:
    negative = values[values < 0]
    if not negative.empty:
        raise TicomexError(
            f"{builder} : valeur négative ligne {negative.index[0]} ({negative.iloc[0]} €) ; "
            "une aire ou une épaisseur ne peut pas être négative"
        )


def _meur_label(euros: int) -> str:
    return f"{millions(euros)} {style.MEUR_UNIT}"


def _truncate(text: str, width_px: float) -> str:
    """`text` if it fits in `width_px`, else its longest start that fits with "…"."""
    if style.text_width(text) <= width_px:
        return text
    while text and style.text_width(text + ELLIPSIS) > width_px:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _wrap(text: str, width_px: float, max_lines: int) -> list[str]:
    """`text` on at most `max_lines` lines of `width_px` (words kept whole when they fit),
    the last line cut with "…"; [] when `width_px` is below MIN_LABEL_WIDTH."""
    if width_px < MIN_LABEL_WIDTH or max_lines < 1:
        return []
    lines: list[str] = []
    for word in text.split():
        if lines and style.text_width(f"{lines[-1]} {word}") <= width_px:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [_truncate(line, width_px) for line in lines or [""]]


def _title(chart, titre: str | None):
    return chart.properties(title=titre) if titre else chart


@_declared
def _message_declaration(message: str, titre: str | None, width: int) -> dict:
    chart = (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(align="left", baseline="middle", color=style.MUTED_TEXT_COLOR)
        .encode(x=alt.value(0), y=alt.value(20), text="message:N")
        .properties(width=width, height=40)
    )
    return _serialised(chart, titre)


def _message_chart(message: str, titre: str | None, width: int) -> dict:
    """A chart with nothing to draw but a short message (keeps the page layout)."""
    return _filled(_message_declaration(message, titre, width), {})


# ---------------------------------------------------------------------- partners


@memoized_on_content
def partners_chart(pays: pd.DataFrame, titre: str | None = None) -> dict:
    """Diverging bars, one row per country in the given order (first row on top).

    Imports go left and exports right of a zero line; a thinner bar from zero to the
    balance, and the balance as text in a right-hand column, are red when the balance
    is negative and green otherwise.
    """
    builder = "partners_chart"
    _require_columns(pays, PARTNERS_COLUMNS, builder)
    if pays.empty:
        return _message_chart(NO_TRADE_MESSAGE, titre, PARTNERS_PLOT_WIDTH)
    duplicated = pays["pays"][pays["pays"].duplicated()]
    if not duplicated.empty:
        raise TicomexError(
            f"{builder} : pays en double ligne {duplicated.index[0]} : {duplicated.iloc[0]!r}"
        )
    for column in ("importations_eur", "exportations_eur"):
        _require_non_negative(pays[column], builder)
    wrong = pays[pays["solde_eur"] != pays["exportations_eur"] - pays["importations_eur"]]
    if not wrong.empty:
        raise TicomexError(
            f"{builder} : ligne {wrong.index[0]} ({wrong['pays'].iloc[0]}) : "
            "solde_eur différent de exportations_eur − importations_eur"
        )

    imports_label, exports_label = FLOW_LABELS[IMPORT_FLUX], FLOW_LABELS[EXPORT_FLUX]
    names = pays["pays"].astype(str).to_numpy()
    countries = pd.DataFrame(
        {
            "rang": range(len(pays)),
            "pays": names,
            # Names too long for the label column are cut here, shown whole in the tooltip.
            "pays_court": [_truncate(name, PARTNERS_COUNTRY_LABEL_WIDTH) for name in names],
            "code_pays": pays["code_pays"].astype(str).to_numpy(),
            "importations_meur": style.to_meur(pays["importations_eur"].to_numpy()),
            "exportations_meur": style.to_meur(pays["exportations_eur"].to_numpy()),
            "solde_meur": style.to_meur(pays["solde_eur"].to_numpy()),
        }
    )
    countries["serie"] = [
        NEGATIVE_BALANCE if s < 0 else POSITIVE_BALANCE for s in pays["solde_eur"]
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
    longest_label = max(style.text_width(millions(v)) for v in pd.concat(
        [pays["importations_eur"], pays["exportations_eur"]]))
    label_px = longest_label + VALUE_LABEL_OFFSET + VALUE_LABEL_MARGIN
    half_px = PARTNERS_PLOT_WIDTH / 2
    half_domain = largest * half_px / (half_px - label_px) if largest > 0 else 1.0
    return _filled(
        _partners_declaration(titre),
        {
            PARTNERS_BARS: flows,
            PARTNERS_COUNTRIES: countries,
            PARTNERS_BOUNDS: pd.DataFrame({"x": [-half_domain, half_domain]}),
        },
    )


PARTNERS_BARS, PARTNERS_COUNTRIES, PARTNERS_BOUNDS = "pays_barres", "pays_lignes", "pays_bornes"
COUNTRY_LABEL_GAP = 6  # px between a country's name and the plot


@_declared
def _partners_declaration(titre: str | None) -> dict:
    imports_label, exports_label = FLOW_LABELS[IMPORT_FLUX], FLOW_LABELS[EXPORT_FLUX]
    series = [imports_label, exports_label, NEGATIVE_BALANCE, POSITIVE_BALANCE]
    colors = [style.IMPORT_BLUE, style.EXPORT_VIOLET, style.NEGATIVE_RED, style.POSITIVE_GREEN]
    color = alt.Color(
        "serie:N",
        scale=alt.Scale(domain=series, range=colors),
        legend=alt.Legend(title=None, orient="top", direction="horizontal", symbolType="square"),
    )
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
    bars = flow_base.mark_bar(height=alt.RelativeBandSize(0.72)).encode(
        x=x, y=y, color=color, tooltip=tooltip
    )
    bounds = (
        alt.Chart(alt.NamedData(PARTNERS_BOUNDS))
        .mark_rule(opacity=0, aria=False)
        .encode(x="x:Q")
    )
    balance_bars = country_base.mark_bar(height=alt.RelativeBandSize(0.26)).encode(
        x=alt.X("solde_meur:Q"), y=y, color=color, tooltip=tooltip
    )
    value_text = alt.Text("montant:Q", format=style.MEUR_FORMAT)
    import_values = (
        flow_base.transform_filter(f"datum.serie === '{imports_label}' && datum.montant > 0")
        .mark_text(align="right", baseline="middle", dx=-VALUE_LABEL_OFFSET)
        .encode(x="x:Q", y=y, text=value_text, tooltip=tooltip)
    )
    export_values = (
        flow_base.transform_filter(f"datum.serie === '{exports_label}' && datum.montant > 0")
        .mark_text(align="left", baseline="middle", dx=VALUE_LABEL_OFFSET)
        .encode(x="x:Q", y=y, text=value_text, tooltip=tooltip)
    )
    country_names = country_base.mark_text(
        align="right", baseline="middle", dx=-COUNTRY_LABEL_GAP
    ).encode(x=alt.value(0), y=y, text="pays_court:N")
    balance_x = PARTNERS_PLOT_WIDTH + BALANCE_COLUMN_WIDTH
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
        bars, bounds, balance_bars, zero_line, import_values, export_values, country_names,
        balance_values, balance_header,
    ).properties(width=PARTNERS_PLOT_WIDTH, height=alt.Step(PARTNERS_ROW_STEP))
    return _serialised(chart, titre)


# ---------------------------------------------------------------------- treemap


def _check_activities(activites: pd.DataFrame, builder: str) -> None:
    _require_columns(activites, ACTIVITIES_COLUMNS, builder)
    unknown = activites[~activites["flux"].isin(FLOW_LABELS)]
    if not unknown.empty:
        raise TicomexError(
            f"{builder} : ligne {unknown.index[0]} : flux {unknown['flux'].iloc[0]!r} "
            f"(attendu : {' ou '.join(FLOW_LABELS)})"
        )
    _require_non_negative(activites["valeur_eur"], builder)


def treemap_layout(
    activites: pd.DataFrame,
    width: float = TREEMAP_WIDTH,
    height: float = TREEMAP_HEIGHT,
    gap: float = TREEMAP_GAP,
) -> pd.DataFrame:
    """One rectangle per product with a positive value: columns of `activites` plus
    `x, x2, y, y2` in pixels (y down). The import block is on the left, the export
    block on the right, same height, widths proportional to the two flow totals;
    inside a block, squarified compartments with areas proportional to values."""
    _check_activities(activites, "treemap_layout")
    drawn = activites[activites["valeur_eur"] > 0]
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


def _compartment_label(produit: str, valeur_eur: int, width: float, height: float) -> list[str]:
    """The product's name (wrapped) and value if they fit in the compartment, else []."""
    value = _meur_label(valeur_eur)
    text_width = width - 2 * LABEL_PADDING
    if text_width < style.text_width(value):
        return []
    lines_available = int((height - 2 * LABEL_PADDING) // style.LINE_HEIGHT)
    name = _wrap(produit, text_width, lines_available - 1)
    return [*name, value] if name else []


@memoized_on_content
def treemap_chart(activites: pd.DataFrame, titre: str | None = None) -> dict:
    """Imports (blue) and exports (violet) as two blocks of compartments, labels on the
    compartments large enough, a header per block with the flow's total."""
    _check_activities(activites, "treemap_chart")
    rects = treemap_layout(activites)
    if rects.empty:
        return _message_chart(NO_TRADE_MESSAGE, titre, TREEMAP_WIDTH)
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
            "entete": [f"{FLOW_LABELS[f]} : {_meur_label(int(totals[f]))}" for f in totals.index],
            "flux_libelle": [FLOW_LABELS[f] for f in totals.index],
            "x": [0 if f == IMPORT_FLUX else TREEMAP_WIDTH for f in totals.index],
            "y": 0,
        }
    )
    return _filled(
        _treemap_declaration(titre),
        {
            TREEMAP_COMPARTMENTS: rects,
            TREEMAP_LABELS: rects[rects["etiquette"].map(len) > 0],
            TREEMAP_HEADERS: headers,
        },
    )


TREEMAP_COMPARTMENTS, TREEMAP_LABELS, TREEMAP_HEADERS = (
    "activites_compartiments", "activites_etiquettes", "activites_entetes"
)


@_declared
def _treemap_declaration(titre: str | None) -> dict:
    x = alt.X("x:Q", scale=_pixels("width"), axis=None)
    y = alt.Y("y:Q", scale=_pixels("height"), axis=None)
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
    return _serialised(chart, titre)


# ---------------------------------------------------------------------- Sankey


def _check_links(liens: pd.DataFrame, gauche: str, droite: str, builder: str) -> pd.DataFrame:
    """The links to draw (positive values), after checking the frame."""
    if gauche == droite:
        raise TicomexError(f"{builder} : gauche et droite désignent la même colonne {gauche!r}")
    _require_columns(liens, [gauche, droite, "valeur_eur", "rouge"], builder)
    if not pd.api.types.is_bool_dtype(liens["rouge"]):
        raise TicomexError(
            f"{builder} : la colonne rouge doit être booléenne (reçu {liens['rouge'].dtype})"
        )
    _require_non_negative(liens["valeur_eur"], builder)
    pairs = liens[[gauche, droite]]
    duplicated = pairs[pairs.duplicated()]
    if not duplicated.empty:
        row = duplicated.iloc[0]
        raise TicomexError(
            f"{builder} : lien en double ligne {duplicated.index[0]} : {row[gauche]} → {row[droite]}"
        )
    return liens[liens["valeur_eur"] > 0]


def _side_nodes(links: list[tuple], side: int) -> list[tuple[str, int]]:
    """A side's nodes (label, total), by total descending (ties in input order), "Autres"
    last. `side`: 0 for the links' sources, 1 for their targets."""
    totals: dict[str, int] = {}
    for link in links:
        totals[link[side]] = totals.get(link[side], 0) + link[2]
    return sorted(totals.items(), key=lambda node: (node[0] == OTHERS, -node[1]))


def _drawn_links(liens: pd.DataFrame, gauche: str, droite: str, builder: str) -> list[tuple]:
    """(source, target, value, red) of each link drawn, in the frame's order. Plain Python:
    a sheet lays out several Sankeys and pandas' per-call cost dominates such small frames."""
    drawn = _check_links(liens, gauche, droite, builder)
    return list(
        zip(
            drawn[gauche].astype(str).tolist(),
            drawn[droite].astype(str).tolist(),
            drawn["valeur_eur"].astype("int64").tolist(),
            drawn["rouge"].astype(bool).tolist(),
        )
    )


NODE_COLUMNS = ["cote", "rang", "libelle", "valeur_eur", "x", "x2", "y", "y2"]
LINK_COLUMNS = ["lien", "source", "cible", "valeur_eur", "rouge", "x0", "x1", "y0", "y1", "epaisseur"]


def _sankey_geometry(links: list[tuple], width: float, height: float) -> tuple[list[dict], list[dict]]:
    """`sankey_layout` on the drawn links, as records (see there)."""
    if not links:
        return [], []
    sides = {LEFT: _side_nodes(links, 0), RIGHT: _side_nodes(links, 1)}
    total = sum(link[2] for link in links)
    most_nodes = max(len(n) for n in sides.values())
    px_per_euro = (height - SANKEY_NODE_GAP * (most_nodes - 1)) / total
    node_x = {
        LEFT: (SANKEY_LABEL_WIDTH, SANKEY_LABEL_WIDTH + SANKEY_NODE_WIDTH),
        RIGHT: (width - SANKEY_LABEL_WIDTH - SANKEY_NODE_WIDTH, width - SANKEY_LABEL_WIDTH),
    }
    nodes: list[dict] = []
    placed: dict[str, dict] = {}
    for side, side_nodes in sides.items():
        heights = [value * px_per_euro for _, value in side_nodes]
        top = (height - (sum(heights) + SANKEY_NODE_GAP * (len(side_nodes) - 1))) / 2
        for rang, ((libelle, value), node_height) in enumerate(zip(side_nodes, heights)):
            node = {
                "cote": side, "rang": rang, "libelle": libelle, "valeur_eur": value,
                "x": node_x[side][0], "x2": node_x[side][1], "y": top, "y2": top + node_height,
            }  # fmt: skip
            nodes.append(node)
            placed[(side, libelle)] = node
            top += node_height + SANKEY_NODE_GAP
    # Stack each node's links in the order of their other ends, so that ribbons leaving
    # one node do not cross each other.
    ranked = sorted(
        links, key=lambda link: (placed[(LEFT, link[0])]["rang"], placed[(RIGHT, link[1])]["rang"])
    )
    result, below_source, below_target = [], {}, {}
    for lien, (source, cible, value, rouge) in enumerate(ranked):
        result.append(
            {
                "lien": lien, "source": source, "cible": cible, "valeur_eur": value, "rouge": rouge,
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
    liens: pd.DataFrame,
    gauche: str,
    droite: str,
    width: float = SANKEY_WIDTH,
    height: float = SANKEY_MIN_HEIGHT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and links of the Sankey diagram, in pixels (y down).

    nodes: `cote` (gauche/droite), `rang` (0 on top), `libelle`, `valeur_eur`,
    `x, x2, y, y2`; node heights proportional to node totals, one scale for both sides.
    links: `lien` (id), `source`, `cible`, `valeur_eur`, `rouge`, `x0, x1` (ends),
    `y0, y1` (top edge at the source and at the target), `epaisseur`; at a node, links
    are stacked in the order of the nodes at their other end.
    """
    nodes, links = _sankey_geometry(_drawn_links(liens, gauche, droite, "sankey_layout"), width, height)
    return (
        pd.DataFrame(nodes, columns=NODE_COLUMNS),
        pd.DataFrame(links, columns=LINK_COLUMNS),
    )


def ribbon_path(x0: float, x1: float, y0: float, y1: float, epaisseur: float) -> str:
    """SVG path of a ribbon from (x0, y0) to (x1, y1), `epaisseur` thick vertically, its
    edges cubic curves flat at both ends (control points at a third and two thirds of the
    width: the smoothstep curve); coordinates rounded to 0.1 px to keep specs small."""
    c0, c1 = x0 + (x1 - x0) / 3, x0 + 2 * (x1 - x0) / 3
    b0, b1 = y0 + epaisseur, y1 + epaisseur
    return (
        f"M{x0:.1f},{y0:.1f}C{c0:.1f},{y0:.1f} {c1:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        f"L{x1:.1f},{b1:.1f}C{c1:.1f},{b1:.1f} {c0:.1f},{b0:.1f} {x0:.1f},{b0:.1f}Z"
    )


def _node_label_lines(libelle: str, valeur_eur: int) -> list[str]:
    width = SANKEY_LABEL_WIDTH - SANKEY_LABEL_GAP
    return [*(_wrap(libelle, width, SANKEY_NAME_LINES) or [libelle]), _meur_label(valeur_eur)]


def _label_height(lines: list[str]) -> float:
    return len(lines) * style.LINE_HEIGHT


def _spread_labels(centers: list[float], heights: list[float], height: float) -> list[float]:
    """Tops of labels stacked in order, each as close as possible to its node's centre,
    without overlapping and within [0, height]."""
    tops = []
    for center, h in zip(centers, heights):
        top = max(center - h / 2, 0.0)
        if tops:
            top = max(top, tops[-1] + heights[len(tops) - 1] + SANKEY_LABEL_SPACING)
        tops.append(top)
    # Pushed past the bottom: move labels back up, last first.
    limit = height
    for i in range(len(tops) - 1, -1, -1):
        tops[i] = min(tops[i], limit - heights[i])
        limit = tops[i] - SANKEY_LABEL_SPACING
    return tops


@memoized_on_content
def sankey_chart(liens: pd.DataFrame, gauche: str, droite: str, titre: str | None = None) -> dict:
    """Sankey diagram from the `gauche` labels (left nodes) to the `droite` labels
    (right nodes); links flagged `rouge` in red, the others grey-blue and transparent."""
    drawn = _drawn_links(liens, gauche, droite, "sankey_chart")
    if not drawn:
        return _message_chart(NO_TRADE_MESSAGE, titre, SANKEY_WIDTH)
    label_lines = {
        side: [_node_label_lines(libelle, value) for libelle, value in _side_nodes(drawn, index)]
        for index, side in enumerate((LEFT, RIGHT))
    }
    needed = max(
        sum(map(_label_height, lines)) + SANKEY_LABEL_SPACING * (len(lines) - 1)
        for lines in label_lines.values()
    )
    height = max(SANKEY_MIN_HEIGHT, int(needed) + 1)
    nodes, links = _sankey_geometry(drawn, SANKEY_WIDTH, height)
    for node in nodes:
        node["valeur_meur"] = style.to_meur(node["valeur_eur"])

    labels = []
    for side, align_x, align in (
        (LEFT, SANKEY_LABEL_WIDTH - SANKEY_LABEL_GAP, "right"),
        (RIGHT, SANKEY_WIDTH - SANKEY_LABEL_WIDTH + SANKEY_LABEL_GAP, "left"),
    ):
        side_nodes = [node for node in nodes if node["cote"] == side]
        lines = label_lines[side]
        heights = [_label_height(l) for l in lines]
        centers = [(node["y"] + node["y2"]) / 2 for node in side_nodes]
        tops = _spread_labels(centers, heights, height)
        for node, node_lines, center, top, label_height in zip(side_nodes, lines, centers, tops, heights):
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
        for link in links
    ]
    return _filled(
        _sankey_declaration(titre),
        {SANKEY_RIBBONS: ribbons, SANKEY_NODES: nodes, SANKEY_LABELS: labels, SANKEY_LEADERS: leaders},
        height=height,
    )


SANKEY_RIBBONS, SANKEY_NODES, SANKEY_LABELS, SANKEY_LEADERS = (
    "sankey_liens", "sankey_noeuds", "sankey_etiquettes", "sankey_renvois"
)


@_declared
def _sankey_declaration(titre: str | None) -> dict:
    value_title = f"Valeur {MEUR_TITLE}"
    link_tooltip = [
        alt.Tooltip("libelle:N", title="Flux"),
        alt.Tooltip("valeur_meur:Q", title=value_title, format=style.MEUR_FORMAT),
    ]
    x = alt.X("x:Q", scale=_pixels("width"), axis=None)
    y = alt.Y("y:Q", scale=_pixels("height"), axis=None)

    def ribbons(rouge: bool, color: str, opacity: float) -> alt.Chart:
        # One symbol per link whose shape is the ribbon's path, in pixels from the
        # chart's origin: one item per link, nothing computed by Vega.
        return (
            alt.Chart(alt.NamedData(SANKEY_RIBBONS))
            .transform_filter("datum.rouge" if rouge else "!datum.rouge")
            .mark_point(filled=True, color=color, opacity=opacity, size=RIBBON_SHAPE_SIZE)
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
            x=alt.X("noeud_x:Q", scale=_pixels("width"), axis=None),
            y=alt.Y("noeud_y:Q", scale=_pixels("height"), axis=None),
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
    return _serialised(chart, titre)
