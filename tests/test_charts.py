"""The chart builders: valid Vega-Lite, colours and orders as the sheet requires, the
treemap and Sankey geometry, French numbers and the font in the SVG used by the PDF.

Drawn geometry and colours are read back from the scenegraph vl-convert renders, so
the tests check what is drawn, not how the spec is written.
"""

from __future__ import annotations

import json
import re

import altair as alt
import pandas as pd
import pytest
import yaml
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema

from ticomex import charts, style
from ticomex.charts import bars, layout, sankey, treemap
from ticomex.errors import TicomexError
from ticomex.project import find_project
from ticomex.vega import vl_converter

vlc = vl_converter()  # as the PDF renderer converts: fetching nothing
M = 1_000_000

# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def partners() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "code_pays": ["US", "IT", "DE", "PL"],
            "pays": ["États-Unis", "Italie", "Allemagne", "Pologne"],
            "importations_eur": [1_070_900_000, 70 * M, 50_100_000, 0],
            "exportations_eur": [120 * M, 90 * M, 40 * M, 2 * M],
        }
    )
    df["solde_eur"] = df["exportations_eur"] - df["importations_eur"]
    return df


@pytest.fixture
def activities() -> pd.DataFrame:
    # import total 100 M€, export total 300 M€
    return pd.DataFrame(
        [
            ("export", "C10", "Produits des industries agroalimentaires", 200 * M),
            ("export", "C20", "Produits chimiques", 100 * M),
            ("import", "C28", "Machines et équipements", 60 * M),
            ("import", "C29", "Véhicules automobiles", 30 * M),
            ("import", "C31", "Meubles", 10 * M),
        ],
        columns=["flux", "code_a129", "produit", "valeur_eur"],
    )


@pytest.fixture
def links() -> pd.DataFrame:
    # Left totals: A 60, B 25, C 30, Autres 100 → A, C, B, Autres (Autres last although
    # largest). Right totals: X 155, Y 40, Autres 20 → X, Y, Autres.
    return pd.DataFrame(
        [
            ("A", "X", 50 * M, True),
            ("A", "Y", 10 * M, False),
            ("B", "X", 5 * M, False),
            ("Autres", "X", 100 * M, False),
            ("B", "Autres", 20 * M, False),
            ("C", "Y", 30 * M, True),
        ],
        columns=["produit", "pays", "valeur_eur", "rouge"],
    )


# ---------------------------------------------------------------------- helpers


def valid(spec: dict) -> dict:
    """The spec, after checking it against the Vega-Lite schema Altair ships."""
    validate_jsonschema(spec, load_schema())
    return spec


def drawn_items(spec: dict) -> list[tuple[str, dict]]:
    """(mark type, item) of every drawn mark item, description parsed into `fields`."""
    scenegraph = vlc.vegalite_to_scenegraph(spec)
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("role") == "mark" and "marktype" in node:
                for item in node.get("items", []):
                    fields = dict(
                        part.split(": ", 1)
                        for part in item.get("description", "").split("; ")
                        if ": " in part
                    )
                    found.append((node["marktype"], {**item, "fields": fields}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(scenegraph)
    return found


def spec_json(spec: dict) -> str:
    return json.dumps(valid(spec), sort_keys=True, ensure_ascii=False)


def svg_texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def measured_width(text: str) -> float:
    """Width of `text` on one line as vl-convert measures it: the width of the SVG of a
    chart holding only that text (Vega rounds it up to a whole pixel)."""
    spec = {
        "width": 0, "height": 0, "padding": 0, "autosize": {"type": "pad"},
        "config": {"font": charts.chart_font().family, "view": {"stroke": None}},
        "data": {"values": [{"t": text}]},
        "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 10},
        "encoding": {"x": {"value": 0}, "y": {"value": 0}, "text": {"field": "t"}},
    }
    svg = vlc.vegalite_to_svg(spec)
    return float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))


def text_lines(items) -> list[list[str]]:
    """The multi-line labels among drawn items."""
    return [i["text"] for t, i in items if t == "text" and isinstance(i["text"], list)]


LONG_PRODUCT = (
    "Produits chimiques de base, produits azotés et engrais, matières plastiques de base "
    "et caoutchouc synthétique"
)


# ---------------------------------------------------------------------- style


def test_style_config_is_carried_by_every_chart(partners, activities, links):
    for chart in (
        charts.partners_chart(partners),
        charts.treemap_chart(activities),
        charts.sankey_chart(links, "produit", "pays"),
    ):
        config = valid(chart)["config"]
        # The font the PDF embeds (format.typst.font-paths), a generic family for browsers without it.
        assert config["font"] == "DejaVu Sans, sans-serif"
        assert config["locale"]["number"] == {
            "decimal": ".",
            "thousands": " ",
            "grouping": [3],
            "currency": ["", " €"],
        }


@pytest.mark.parametrize(
    "text",
    [
        "Produits pharmaceutiques",
        "Équipements pour automobiles",
        "Parfums, cosmétiques et produits d’entretien",
        "Émirats arabes unis",
        "Royaume-Uni",
        "1 070.9 M€",
        "WWW MMM œœœ",
        "Trinité-et-Tobago",
    ],
)
def test_text_width_matches_vl_convert(text):
    # Never narrower than what vl-convert measures (labels sized with it fit), at most a
    # few pixels wider (kerning is ignored). The SVG width is rounded up: up to 1 px more.
    measured = measured_width(text)
    assert measured - 1.5 <= charts.text_width(text) <= measured + 4


def test_to_meur():
    assert style.to_meur(1_070_900_000) == pytest.approx(1070.9)
    assert list(style.to_meur(pd.Series([2 * M, 500_000]))) == [2.0, 0.5]


# ---------------------------------------------------------------------- partners


def test_partners_spec_is_valid_and_deterministic(partners):
    first = spec_json(charts.partners_chart(partners, "Principaux pays"))
    # A second build from scratch: a fresh declaration cache, a copy of the frame.
    fresh = charts.Declarations()
    assert first == spec_json(charts.partners_chart(partners.copy(), "Principaux pays", declarations=fresh))
    assert len(fresh) == 1
    assert '"Principaux pays"' in first


def test_partners_colours_sides_and_order(partners):
    items = drawn_items(charts.partners_chart(partners))
    bars = [i for t, i in items if t == "rect" and "serie" in i["fields"]]
    by = {(b["fields"]["Pays"], b["fields"]["serie"]): b for b in bars}
    zero_x = by[("Italie", "Exportations")]["x"]

    for country in partners["pays"]:
        imp, exp = by[(country, "Importations")], by[(country, "Exportations")]
        assert imp["fill"] == style.IMPORT_BLUE
        assert exp["fill"] == style.EXPORT_VIOLET
        assert imp["x2"] == pytest.approx(zero_x) and imp["x"] <= zero_x  # left
        assert exp["x"] == pytest.approx(zero_x) and exp["x2"] >= zero_x  # right

    # Balance: United States 120 − 1070.9 < 0 and Germany 40 − 50.1 < 0 in red,
    # Italy 90 − 70 > 0 and Poland 2 − 0 > 0 in green, as bars and as texts.
    expected = {
        "États-Unis": style.NEGATIVE_RED,
        "Allemagne": style.NEGATIVE_RED,
        "Italie": style.POSITIVE_GREEN,
        "Pologne": style.POSITIVE_GREEN,
    }
    balance_bars = {b["fields"]["Pays"]: b["fill"] for b in bars if b["fields"]["serie"].startswith("Solde")}
    assert balance_bars == expected
    balance_texts = {
        i["fields"]["Pays"]: (i["fill"], i["text"])
        for t, i in items
        if t == "text" and "solde_meur" in i["fields"]
    }
    assert balance_texts == {
        "États-Unis": (style.NEGATIVE_RED, "−950.9"),
        "Allemagne": (style.NEGATIVE_RED, "−10.1"),
        "Italie": (style.POSITIVE_GREEN, "+20.0"),
        "Pologne": (style.POSITIVE_GREEN, "+2.0"),
    }

    # Rows top to bottom in the order given, each country's name level with its bars.
    tops = [by[(country, "Importations")]["y"] for country in partners["pays"]]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    names = {i["text"]: i for t, i in items if t == "text" and "pays_court" in i["fields"]}
    assert list(names) == list(partners["pays"])
    for country in partners["pays"]:
        bar = by[(country, "Importations")]
        assert names[country]["y"] == pytest.approx(bar["y"] + bar["height"] / 2, abs=0.5)
        assert names[country]["x"] <= min(b["x"] for b in bars)  # left of every bar

    # The longest bar is the largest amount: US imports.
    widths = {key: b["width"] for key, b in by.items() if key[1] in ("Importations", "Exportations")}
    assert max(widths, key=widths.get) == ("États-Unis", "Importations")


def test_partners_svg_french_numbers_and_font(partners):
    svg = vlc.vegalite_to_svg(charts.partners_chart(partners))
    texts = svg_texts(svg)
    assert "1 070.9" in texts  # US imports: thousands separated by a plain space
    assert "50.1" in texts
    assert set(re.findall(r'font-family="([^"]+)"', svg)) == {"DejaVu Sans, sans-serif"}


def test_partners_long_country_name_cut_on_axis_whole_in_tooltip(partners):
    long_name = "Saint-Vincent-et-les-Grenadines et territoires associés"
    assert measured_width(long_name) > bars.ROW_LABEL_WIDTH
    chart = charts.partners_chart(partners.assign(pays=partners["pays"].replace("Pologne", long_name)))
    axis_labels = [t for t in svg_texts(vlc.vegalite_to_svg(chart)) if t.startswith("Saint")]
    assert len(axis_labels) == 1 and axis_labels[0].endswith("…")
    assert measured_width(axis_labels[0]) <= bars.ROW_LABEL_WIDTH + 1
    tooltips = {i["fields"]["Pays"] for t, i in drawn_items(chart) if t == "rect"}
    assert long_name in tooltips
    assert "Italie" in svg_texts(vlc.vegalite_to_svg(chart))  # short names untouched


def test_partners_bad_input(partners):
    with pytest.raises(TicomexError, match="partners_chart: missing columns.*solde_eur"):
        charts.partners_chart(partners.drop(columns="solde_eur"))
    wrong = partners.copy()
    wrong.loc[1, "solde_eur"] = 0
    with pytest.raises(TicomexError, match="row 1 \\(Italie\\): solde_eur differs"):
        charts.partners_chart(wrong)


def test_partners_empty_frame_gives_a_message(partners):
    chart = charts.partners_chart(partners.iloc[0:0])
    svg = vlc.vegalite_to_svg(valid(chart))
    assert charts.NO_TRADE_MESSAGE in svg_texts(svg)


# ---------------------------------------------------------------------- treemap


def test_treemap_layout_areas_and_blocks(activities):
    rects = charts.treemap_layout(activities, width=600, height=340, gap=8)
    usable = 600 - 8
    # Blocks side by side, same height, widths proportional to 100 and 300 M€.
    import_width, export_width = usable * 100 / 400, usable * 300 / 400
    area_per_euro = usable * 340 / (400 * M)
    rects["area"] = (rects["x2"] - rects["x"]) * (rects["y2"] - rects["y"])
    for row in rects.itertuples():
        assert row.area == pytest.approx(row.valeur_eur * area_per_euro, rel=1e-9)
        assert 0 <= row.y < row.y2 <= 340 + 1e-9
        if row.flux == "import":
            assert 0 <= row.x < row.x2 <= import_width + 1e-9
        else:
            assert import_width + 8 - 1e-9 <= row.x < row.x2 <= 600 + 1e-9
    # Areas inside a block add up to the block: the compartments tile it.
    block_area = rects.groupby("flux")["area"].sum()
    assert block_area["import"] == pytest.approx(import_width * 340)
    assert block_area["export"] == pytest.approx(export_width * 340)
    # Imports first, then by value descending within each flow.
    assert list(rects["code_a129"]) == ["C28", "C29", "C31", "C10", "C20"]


def test_treemap_layout_one_flow_fills_the_width(activities):
    exports_only = activities[activities["flux"] == "export"]
    rects = charts.treemap_layout(exports_only, width=600, height=340, gap=8)
    assert rects["x"].min() == pytest.approx(0)
    assert rects["x2"].max() == pytest.approx(600)
    area = ((rects["x2"] - rects["x"]) * (rects["y2"] - rects["y"])).sum()
    assert area == pytest.approx(600 * 340)


def test_treemap_colours_labels_and_tooltips(activities):
    chart = charts.treemap_chart(activities, "Principales activités")
    spec_json(chart)
    items = drawn_items(chart)
    compartments = {i["fields"]["Code A129"]: i for t, i in items if t == "rect"}
    assert set(compartments) == set(activities["code_a129"])
    for code, flux in zip(activities["code_a129"], activities["flux"]):
        expected = style.IMPORT_BLUE if flux == "import" else style.EXPORT_VIOLET
        assert compartments[code]["fill"] == expected
    assert compartments["C10"]["fields"]["Valeur (M€)"] == "200.0"
    labels = [i["text"] for t, i in items if t == "text" and isinstance(i["text"], list)]
    assert ["Produits chimiques", "100.0 M€"] in labels
    headers = {i["text"]: i["fill"] for t, i in items if t == "text" and isinstance(i["text"], str)}
    assert headers == {
        "Importations : 100.0 M€": style.IMPORT_BLUE,
        "Exportations : 300.0 M€": style.EXPORT_VIOLET,
    }


def test_treemap_small_compartment_gets_no_label(activities):
    tiny = pd.concat(
        [activities, pd.DataFrame([("import", "C32", "Autres produits manufacturés", 10_000)],
                                  columns=activities.columns)],
        ignore_index=True,
    )
    items = drawn_items(charts.treemap_chart(tiny))
    labelled = {i["text"][0] for t, i in items if t == "text" and isinstance(i["text"], list)}
    assert "Véhicules" in labelled  # "Véhicules automobiles" wrapped on two lines
    assert not any(line.startswith("Autres produits") for line in labelled)


def test_treemap_labels_fit_their_compartments(activities):
    long = activities.assign(produit=activities["produit"].replace("Produits chimiques", LONG_PRODUCT))
    chart = charts.treemap_chart(long)
    items = drawn_items(chart)
    rects = {i["fields"]["Code A129"]: i for t, i in items if t == "rect"}
    labels = [i for t, i in items if t == "text" and isinstance(i["text"], list)]
    assert labels
    for label in labels:
        # A label sits in the compartment whose top-left corner it starts from.
        rect = next(r for r in rects.values()
                    if (r["x"], r["y"]) == pytest.approx((label["x"], label["y"])))
        for line in label["text"]:
            assert measured_width(line) <= rect["width"] - 2 * treemap.LABEL_PADDING + 1, line
    # The tall compartment holds the whole name, wrapped at spaces, then the value.
    c20 = next(label["text"] for label in labels if label["text"][-1] == "100.0 M€")
    assert len(c20) > 3 and " ".join(c20[:-1]) == LONG_PRODUCT


def test_treemap_empty_flows(activities):
    imports_only = charts.treemap_chart(activities[activities["flux"] == "import"])
    rects = [i for t, i in drawn_items(imports_only) if t == "rect"]
    assert {r["fill"] for r in rects} == {style.IMPORT_BLUE}
    nothing = charts.treemap_chart(activities.iloc[0:0])
    svg = vlc.vegalite_to_svg(valid(nothing))
    assert charts.NO_TRADE_MESSAGE in svg_texts(svg)


def test_treemap_bad_input(activities):
    bad = activities.copy()
    bad.loc[3, "flux"] = "transit"
    with pytest.raises(TicomexError, match="row 3: flux 'transit' \\(expected: import or export\\)"):
        charts.treemap_chart(bad)
    bad = activities.copy()
    bad.loc[2, "valeur_eur"] = -5
    with pytest.raises(TicomexError, match="negative value at row 2"):
        charts.treemap_layout(bad)


# ---------------------------------------------------------------------- Sankey


def test_sankey_layout_nodes(links):
    nodes, _ = charts.sankey_layout(links, "produit", "pays", width=600, height=400)
    left = nodes[nodes["cote"] == "gauche"]
    right = nodes[nodes["cote"] == "droite"]
    assert list(left["libelle"]) == ["A", "C", "B", "Autres"]
    assert list(left["valeur_eur"]) == [60 * M, 30 * M, 25 * M, 100 * M]
    assert list(right["libelle"]) == ["X", "Y", "Autres"]
    assert list(right["valeur_eur"]) == [155 * M, 40 * M, 20 * M]
    # Heights proportional to totals, one scale on both sides; the side with the most
    # nodes fills the height: 400 = 215 M€ × scale + 3 gaps.
    scale = (400 - 3 * layout.SANKEY_NODE_GAP) / (215 * M)
    heights = nodes["y2"] - nodes["y"]
    assert list(heights) == pytest.approx(list(nodes["valeur_eur"] * scale))
    for side in (left, right):
        gaps = side["y"].iloc[1:].to_numpy() - side["y2"].iloc[:-1].to_numpy()
        assert gaps == pytest.approx([layout.SANKEY_NODE_GAP] * (len(side) - 1))
        assert side["y"].min() >= -1e-9 and side["y2"].max() <= 400 + 1e-9
    assert left["x2"].max() < right["x"].min()


def test_sankey_layout_ties_keep_input_order():
    ties = pd.DataFrame(
        [("Q", "X", 5, False), ("P", "X", 5, False), ("Autres", "Y", 9, False)],
        columns=["produit", "pays", "valeur_eur", "rouge"],
    )
    nodes, _ = charts.sankey_layout(ties, "produit", "pays")
    assert list(nodes.loc[nodes["cote"] == "gauche", "libelle"]) == ["Q", "P", "Autres"]


def test_sankey_layout_links_tile_their_nodes(links):
    nodes, ribbons = charts.sankey_layout(links, "produit", "pays", width=600, height=400)
    node = {(n.cote, n.libelle): n for n in nodes.itertuples()}
    for side, key, top in (("gauche", "source", "y0"), ("droite", "cible", "y1")):
        other = "cible" if key == "source" else "source"
        other_side = "droite" if side == "gauche" else "gauche"
        for libelle, group in ribbons.groupby(key):
            n = node[(side, libelle)]
            # Stacked in the order of the nodes at the other end, without gaps.
            group = group.assign(rang=[node[(other_side, o)].rang for o in group[other]])
            group = group.sort_values("rang")
            bottoms = group[top] + group["epaisseur"]
            assert group[top].iloc[0] == pytest.approx(n.y)
            assert list(group[top].iloc[1:]) == pytest.approx(list(bottoms.iloc[:-1]))
            assert bottoms.iloc[-1] == pytest.approx(n.y2)
    assert set(ribbons["x0"]) == {node[("gauche", "A")].x2}
    assert set(ribbons["x1"]) == {node[("droite", "X")].x}


def path_segments(d: str) -> list[tuple[str, list[tuple[float, float]]]]:
    """An SVG path of absolute M, L, C, Z commands as (command, points)."""
    segments = []
    for command, numbers in re.findall(r"([MLCZ])([^MLCZ]*)", d):
        values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", numbers)]
        segments.append((command, list(zip(values[0::2], values[1::2]))))
    return segments


def test_sankey_chart_colours_and_ribbon_ends(links):
    chart = charts.sankey_chart(links, "produit", "pays", "Flux à l'export")
    spec_json(chart)
    _, ribbons = charts.sankey_layout(links, "produit", "pays")  # chart height is the minimum
    items = drawn_items(chart)
    # Each link is one filled path (a symbol whose shape is the ribbon, drawn at 1:1 from
    # the plot's origin), with its tooltip.
    drawn = {}
    for t, i in items:
        if t == "symbol":
            assert i["fields"]["Flux"] not in drawn
            drawn[i["fields"]["Flux"]] = i
    assert set(drawn) == {f"{s} → {c}" for s, c in zip(links["produit"], links["pays"])}
    red = {"A → X", "C → Y"}
    for name, item in drawn.items():
        assert item["fill"] == (style.RED_LINK if name in red else style.NEUTRAL_LINK)
        assert (item["x"], item["y"]) == (0, 0)
    a_x = ribbons[(ribbons["source"] == "A") & (ribbons["cible"] == "X")].iloc[0]
    segments = path_segments(drawn["A → X"]["shape"])
    assert [command for command, _ in segments] == ["M", "C", "L", "C", "Z"]
    (_, [start]), (_, [c1, c2, top_end]), (_, [bottom_end]), (_, [c3, c4, bottom_start]), _ = segments
    px = pytest.approx  # coordinates are rounded to 0.1 px
    # Top edge from the source node to the target node, bottom edge `epaisseur` below:
    # the ribbon's vertical thickness is the link's value on the layout's scale.
    assert start == px((a_x.x0, a_x.y0), abs=0.051)
    assert top_end == px((a_x.x1, a_x.y1), abs=0.051)
    assert bottom_end == px((a_x.x1, a_x.y1 + a_x.epaisseur), abs=0.051)
    assert bottom_start == px((a_x.x0, a_x.y0 + a_x.epaisseur), abs=0.051)
    # The bottom edge is the top edge moved down by the thickness, drawn backwards.
    assert c3 == px((c2[0], c2[1] + a_x.epaisseur), abs=0.11)
    assert c4 == px((c1[0], c1[1] + a_x.epaisseur), abs=0.11)
    # Flat where the ribbon meets its nodes: control points level with the ends.
    assert (c1[1], c2[1]) == px((a_x.y0, a_x.y1), abs=0.051)
    assert drawn["A → X"]["fields"]["Valeur (M€)"] == "50.0"
    node_tips = {i["fields"].get("Libellé") for t, i in items if t == "rect"}
    assert node_tips == {"A", "B", "C", "X", "Y", "Autres"}


def test_sankey_labels_fit_their_column(links):
    long = links.assign(produit=links["produit"].replace("B", LONG_PRODUCT))
    lines = text_lines(drawn_items(charts.sankey_chart(long, "produit", "pays")))
    room = layout.SANKEY_LABEL_WIDTH - sankey.SANKEY_LABEL_GAP
    for label in lines:
        assert 2 <= len(label) <= sankey.SANKEY_NAME_LINES + 1  # name lines, then the value
        for line in label:
            assert measured_width(line) <= room + 1, line
    cut = next(label for label in lines if label[0].startswith("Produits chimiques"))
    assert len(cut) == 3 and cut[1].endswith("…") and cut[2] == "25.0 M€"


def test_sankey_svg_font_and_labels(links):
    big = links.copy()
    big.loc[3, "valeur_eur"] = 1_070_900_000  # Autres → X
    svg = vlc.vegalite_to_svg(charts.sankey_chart(big, "produit", "pays"))
    assert "1 070.9 M€" in svg  # the Autres node's value line
    assert set(re.findall(r'font-family="([^"]+)"', svg)) == {"DejaVu Sans, sans-serif"}


def test_sankey_imports_orientation(links):
    imports = links.rename(columns={"produit": "pays", "pays": "produit"})
    nodes, _ = charts.sankey_layout(imports, "pays", "produit")
    assert list(nodes.loc[nodes["cote"] == "gauche", "libelle"]) == ["A", "C", "B", "Autres"]
    spec_json(charts.sankey_chart(imports, "pays", "produit"))


def test_sankey_deterministic(links):
    first = spec_json(charts.sankey_chart(links, "produit", "pays"))
    fresh = charts.Declarations()
    assert first == spec_json(charts.sankey_chart(links.copy(), "produit", "pays", declarations=fresh))


def test_sankey_zero_links_not_drawn_and_empty(links):
    with_zero = pd.concat(
        [links, pd.DataFrame([("C", "X", 0, False)], columns=links.columns)], ignore_index=True
    )
    _, ribbons = charts.sankey_layout(with_zero, "produit", "pays")
    assert len(ribbons) == len(links)
    svg = vlc.vegalite_to_svg(valid(charts.sankey_chart(links.iloc[0:0], "produit", "pays")))
    assert charts.NO_TRADE_MESSAGE in svg_texts(svg)


def test_sankey_bad_input(links):
    as_text = links.assign(rouge=links["rouge"].map({True: "true", False: "false"}))
    with pytest.raises(TicomexError, match="column rouge must be boolean"):
        charts.sankey_chart(as_text, "produit", "pays")
    with pytest.raises(TicomexError, match="duplicate link at row 6: A → X"):
        charts.sankey_layout(pd.concat([links, links.iloc[[0]]], ignore_index=True), "produit", "pays")
    with pytest.raises(TicomexError, match="missing columns \\['code_pays'\\]"):
        charts.sankey_chart(links, "produit", "code_pays")


def test_spread_labels_avoid_overlaps():
    gap = layout.SANKEY_LABEL_SPACING
    tops = charts.spread_labels([10, 12, 14], [24, 24, 24], 100)
    assert tops == [0, 24 + gap, 48 + 2 * gap]
    tops = charts.spread_labels([95, 97], [24, 24], 100)
    assert tops == [76 - gap - 24, 76]
    # Far apart labels stay centred on their nodes.
    assert charts.spread_labels([20, 80], [12, 12], 100) == [14, 74]


# ---------------------------------------------------------------------- ranked bars


@pytest.fixture
def products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "produit": ["Meubles", LONG_PRODUCT, "Produits pharmaceutiques", "Machines"],
            "valeur_eur": [30 * M, 1_070_900_000, 250 * M, 30 * M],
        }
    )


def test_ranked_bars_order_values_and_colour(products):
    chart = charts.ranked_bars_chart(products, label="produit", title="Premiers produits", color=style.IMPORT_BLUE)
    assert '"Premiers produits"' in spec_json(chart)
    items = drawn_items(chart)
    bars_drawn = [i for t, i in items if t == "rect" and "Libellé" in i["fields"]]
    # Largest on top, ties (Meubles, Machines: 30 M€) in the frame's order.
    top_to_bottom = [b["fields"]["Libellé"] for b in sorted(bars_drawn, key=lambda b: b["y"])]
    assert top_to_bottom == [LONG_PRODUCT, "Produits pharmaceutiques", "Meubles", "Machines"]
    assert {b["fill"] for b in bars_drawn} == {style.IMPORT_BLUE}
    # Lengths proportional to the values, from one origin.
    by_name = {b["fields"]["Libellé"]: b for b in bars_drawn}
    assert {b["x"] for b in bars_drawn} == {0}
    assert by_name["Produits pharmaceutiques"]["width"] / by_name[LONG_PRODUCT]["width"] == pytest.approx(
        250 / 1070.9, rel=1e-3
    )
    # Each amount at its bar's end, in French format, inside the plot.
    values = {i["fields"]["Libellé"]: i for t, i in items if t == "text" and "Libellé" in i["fields"]}
    assert {name: v["text"] for name, v in values.items()} == {
        LONG_PRODUCT: "1 070.9", "Produits pharmaceutiques": "250.0", "Meubles": "30.0", "Machines": "30.0",
    }
    for name, value in values.items():
        bar = by_name[name]
        assert value["x"] == pytest.approx(bar["x"] + bar["width"])
        assert value["x"] + bars.VALUE_LABEL_OFFSET + measured_width(value["text"]) <= bars.PLOT_WIDTH + 1
    # Names left of the plot, cut to the label column, whole in the tooltip.
    names = [i["text"] for t, i in items if t == "text" and "libelle_court" in i["fields"]]
    assert names[1:] == ["Produits pharmaceutiques", "Meubles", "Machines"]
    assert names[0].endswith("…") and LONG_PRODUCT.startswith(names[0][:-1])
    assert measured_width(names[0]) <= bars.ROW_LABEL_WIDTH + 1


def test_ranked_bars_empty_and_bad_input(products):
    svg = vlc.vegalite_to_svg(valid(charts.ranked_bars_chart(products.iloc[0:0], label="produit")))
    assert charts.NO_TRADE_MESSAGE in svg_texts(svg)
    with pytest.raises(TicomexError, match="ranked_bars_chart: missing columns \\['pays'\\]"):
        charts.ranked_bars_chart(products, label="pays")
    with pytest.raises(TicomexError, match="ranked_bars_chart: negative value at row 2"):
        charts.ranked_bars_chart(products.assign(valeur_eur=[1, 2, -3, 4]), label="produit")


# ---------------------------------------------------------------------- declarations


def test_declarations_built_once_per_arguments():
    built = []

    def declaration(title):
        built.append(title)
        return alt.Chart(alt.NamedData("lignes")).mark_point().properties(title=title)

    declarations = charts.Declarations()
    first = declarations.get(declaration, "A")
    assert declarations.get(declaration, "A") is first and built == ["A"]
    declarations.get(declaration, "B")
    assert built == ["A", "B"] and len(declarations) == 2
    assert first["title"] == "A" and first["config"]["font"] == "DejaVu Sans, sans-serif"  # styled
    other = charts.Declarations()  # instances share nothing
    other.get(declaration, "A")
    assert built == ["A", "B", "A"]
    declarations.clear()
    assert len(declarations) == 0
    declarations.get(declaration, "A")
    assert built == ["A", "B", "A", "A"]


def test_fill_puts_data_in_a_copy():
    declaration = {"mark": "point", "data": {"name": "lignes"}, "datasets": {"fixe": [{"a": 1}]}}
    spec = charts.fill(declaration, {"lignes": pd.DataFrame({"x": [1, 2]})}, height=120)
    assert spec == {
        "mark": "point", "data": {"name": "lignes"}, "height": 120,
        "datasets": {"fixe": [{"a": 1}], "lignes": [{"x": 1}, {"x": 2}]},
    }
    assert declaration == {"mark": "point", "data": {"name": "lignes"}, "datasets": {"fixe": [{"a": 1}]}}


def vandalise(node) -> None:
    """Change every dict and list inside `node`, in place."""
    if isinstance(node, dict):
        for value in list(node.values()):
            vandalise(value)
        node["vandalised"] = True
    elif isinstance(node, list):
        for value in node:
            vandalise(value)
        node.append("vandalised")


def test_a_returned_spec_is_the_callers_to_change(partners, activities, links, products):
    builds = {
        "partners": lambda: charts.partners_chart(partners, "Titre"),
        "treemap": lambda: charts.treemap_chart(activities),
        "sankey": lambda: charts.sankey_chart(links, left="produit", right="pays"),
        "bars": lambda: charts.ranked_bars_chart(products, label="produit"),
        "message": lambda: charts.treemap_chart(activities.iloc[0:0]),
    }
    for name, build in builds.items():
        spec = build()
        expected = json.dumps(spec, sort_keys=True)
        vandalise(spec)
        assert json.dumps(build(), sort_keys=True) == expected, name


# ---------------------------------------------------------------------- font


def write_config(folder, typst: dict) -> object:
    path = folder / "_quarto.yml"
    path.write_text(yaml.safe_dump({"lang": "fr", "format": {"typst": typst}}), encoding="utf-8")
    return path


def test_chart_font_is_the_configured_one():
    config = find_project().config
    mainfont = yaml.safe_load(config.read_text(encoding="utf-8"))["format"]["typst"]["mainfont"]
    assert charts.chart_font().family == mainfont
    assert charts.chart_font() is charts.chart_font()  # read once
    spec = charts.ranked_bars_chart(pd.DataFrame({"p": ["a"], "valeur_eur": [1]}), label="p")
    assert spec["config"]["font"] == f"{mainfont}, sans-serif"


def test_configured_font_reads_the_config(tmp_path):
    font = charts.configured_font(write_config(tmp_path, {"mainfont": "DejaVu Sans", "fontsize": "9pt"}))
    assert font.family == "DejaVu Sans" and font.css_family == "DejaVu Sans, sans-serif"
    assert font.width("Mm", font_size=10) == pytest.approx(10 * (0.863 + 0.974))
    assert font.width("\U0001f600") == pytest.approx(10 * 1.07)  # unknown: the widest
    config = write_config(tmp_path, {"mainfont": "Comic Sans MS"})
    with pytest.raises(TicomexError) as error:
        charts.configured_font(config)
    message = str(error.value)
    for expected in (str(config), "format.typst.mainfont", "'Comic Sans MS'", "DejaVu Sans"):
        assert expected in message
    with pytest.raises(TicomexError, match="option `format.typst.mainfont` missing"):
        charts.configured_font(write_config(tmp_path, {"fontsize": "9pt"}))
    broken = tmp_path / "broken.yml"
    broken.write_text("format: [typst\n", encoding="utf-8")
    with pytest.raises(TicomexError, match="broken.yml: not valid YAML"):
        charts.configured_font(broken)
