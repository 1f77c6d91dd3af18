"""Territoires d'industrie: params/territoires.yaml, one page per territory listing exactly
its departments, the index's map, territory search and ranking; the rows' figures
recomputed from the database."""

from __future__ import annotations

import csv
import html as html_module
import re
import unicodedata
from pathlib import Path

import pytest
from test_render_fixtures import PROJECT, make_department

from ticomex.conventions import territory_slug
from ticomex.errors import TicomexError
from ticomex.render import render
from ticomex.territories import read_territories_file, territory_rows, write_territories

TABLE = Path("reference") / "territoires_industrie_departements.csv"
REFERENCE_DEPARTMENTS = PROJECT / "src" / "ticomex" / "reference" / "departements.csv"


def table_departments(path: Path) -> dict[str, tuple[str, dict[str, float]]]:
    """id → (name, {department: area share}), read with the csv module alone."""
    found: dict[str, tuple[str, dict[str, float]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name, parts = found.setdefault(row["id_territoire"], (row["nom_territoire"], {}))
            parts[row["code_departement"]] = float(row["part_surface"])
    return found


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


# --- params/territoires.yaml -------------------------------------------------------------


def test_written_file_holds_every_territory_of_the_table(shared, tmp_path):
    expected = table_departments(shared / TABLE)
    assert len(expected) == 183
    path = write_territories(shared / TABLE, tmp_path)
    read = {t.id: t for t in read_territories_file(path)}
    assert set(read) == set(expected)
    for ident, (name, parts) in expected.items():
        assert read[ident].name == name
        assert dict(read[ident].departments) == parts
    assert len({t.slug for t in read.values()}) == 183


def test_committed_file_is_the_table(shared):
    expected = table_departments(shared / TABLE)
    committed = read_territories_file(PROJECT / "params" / "territoires.yaml")
    assert {t.id: (t.name, dict(t.departments)) for t in committed} == expected


def test_existing_file_is_kept_unless_forced(shared, tmp_path):
    path = tmp_path / "territoires.yaml"
    path.write_text("edited by hand\n", encoding="utf-8")
    assert write_territories(shared / TABLE, tmp_path) is None
    assert path.read_text(encoding="utf-8") == "edited by hand\n"
    assert write_territories(shared / TABLE, tmp_path, overwrite=True) == path
    assert len(read_territories_file(path)) == 183


GOOD = """\
territories:
- id: ti-1
  name: Vallée
  departments:
  - code: '05'
    area_share: 0.8
  - code: '04'
    area_share: 0.2
"""


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.replace("area_share: 0.8", "area_share: 1.8"), r"line 6: area_share should be a number from 0 to 1"),
        (lambda t: t.replace("  name: Vallée\n", ""), r"line 2: a territory: missing key\(s\): name"),
        (lambda t: t.replace("code: '04'", "code: 04"), r"line 7: code should be a non-empty text"),
        (lambda t: t + t.split("\n", 1)[1], r"line 9: id ti-1 appears twice \(line 2 too\)"),
        (lambda t: t.replace("  - code: '05'", "  - code: ['05'"), r"line \d+: not valid YAML"),
        (lambda t: t.replace("code: '04'", "code: '05'"), r"line 7: Vallée: department 05 appears twice"),
    ],
)
def test_bad_file_names_file_line_and_reason(tmp_path, change, message):
    path = tmp_path / "territoires.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert [t.codes for t in read_territories_file(path)] == [("05", "04")]
    path.write_text(change(GOOD), encoding="utf-8")
    with pytest.raises(TicomexError, match=re.escape(str(path)) + ", " + message):
        read_territories_file(path)


# --- the published pages (hand-built notebooks for all 100 departments) ------------------


def all_departments() -> list[tuple[str, str, str, str]]:
    with REFERENCE_DEPARTMENTS.open(encoding="utf-8", newline="") as f:
        return [
            (row["code"], row["nom"], row["region"], row["region_nom"])
            for row in csv.DictReader(f, delimiter=";")
            if row["code"] != "99"
        ]


@pytest.fixture(scope="module")
def site(shared, tmp_path_factory) -> Path:
    """Every department published (a small hand-built sheet each), the table's territories."""
    root = tmp_path_factory.mktemp("territories")
    out, params = root / "out", root / "params"
    for number, (code, name, region_code, region_name) in enumerate(all_departments()):
        make_department(out, code, name, region_code, region_name, total=f"{number * 10 + 5}.0")
    write_territories(shared / TABLE, params)
    render(out, PROJECT, pdf=False, engine="builtin", params_dir=params)
    return out / "site"


def test_every_territory_has_a_page_listing_exactly_its_departments(shared, site):
    expected = table_departments(shared / TABLE)
    pages = sorted(site.glob("territoire-*.html"))
    assert len(pages) == len(expected)
    for name, parts in expected.values():
        text = (site / f"{territory_slug(name)}.html").read_text(encoding="utf-8")
        heading = re.search(r"<h1>(.*?)</h1>", text).group(1)
        assert html_module.unescape(heading) == f"Territoire d'industrie : {name}"
        listed = re.findall(r'<tr data-code="([^"]+)">', text)
        assert sorted(listed) == sorted(parts), name
        for code in parts:  # each department links to its sheet
            assert f'href="{code}.html"' in text
        assert "les chiffres sont départementaux" in text
        assert '<svg role="img" aria-label="' in text and "<figcaption>" in text


def test_department_sheets_link_to_pages_that_exist(shared, site):
    """The sheet's territory list (texts.territories_markdown) points at real pages."""
    from ticomex import texts

    for name, _ in table_departments(shared / TABLE).values():
        link = re.search(r"\]\(([^)]+)\)", texts.territories_markdown([name], main=False)).group(1)
        assert (site / link).is_file(), name


def test_map_links_every_department(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    svg = re.search(r'<svg[^>]*class="carte-svg".*?</svg>', index, re.S).group(0)
    linked = set(re.findall(r'<a href="([0-9][0-9A-E])\.html"', svg))
    assert linked == {code for code, *_ in all_departments()}
    assert len(linked) == 100
    # Every linked shape is coloured by each indicator; each class has a colour rule.
    css = (site / "assets" / "territoires.css").read_text(encoding="utf-8")
    for key, value in re.findall(r'data-(exportations|importations|solde)="(\d)"', svg):
        assert f'a[data-{key}="{value}"] path {{ fill: var(--ticomex-carte-{key}-{value}); }}' in css
        assert f"--ticomex-carte-{key}-{value}:" in css
    assert len(index.encode()) < 600_000  # the geometry rounded: the index stays light


def search(index: str, query: str) -> list[str]:
    """The index's filter as ticomex.js applies it: every word of the folded query is in
    the item's data-filtre."""
    words = plain(query).split()
    items = re.findall(r'<li data-filtre="([^"]*)"><a href="([^"]+)">', index)
    return [href for filtre, href in items if all(w in html_module.unescape(filtre) for w in words)]


def test_search_finds_a_territory_by_part_of_its_name_without_accents(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert search(index, "durance") == [f"{territory_slug('Val de Durance')}.html"]
    assert f"{territory_slug('Ardèche Drôme Nord')}.html" in search(index, "ardeche drome")
    assert "07.html" in search(index, "ARDECHE")  # departments still found
    assert "05.html" in search(index, "provence")  # and regions, by their departments


def test_ranking_table_lists_every_department_by_exports(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    table = re.search(r'<table class="tableau-classement">.*?</table>', index, re.S).group(0)
    rows = re.findall(r'<th scope="row"[^>]*><a href="([^"]+)\.html">.*?data-valeur="(-?\d+)"', table, re.S)
    assert len(rows) == 100
    exports = [int(v) for _, v in rows]
    assert exports == sorted(exports, reverse=True)


def test_pages_are_two_clicks_from_the_index(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r'href="([^"#]+\.html)"', index))
    for page in site.glob("*.html"):
        assert page.name == "index.html" or page.name in linked, page.name


# --- figures recomputed from the database --------------------------------------------------


@pytest.mark.slow
def test_territory_rows_match_the_database(shared, demo_db, tmp_path):
    """The rows of a territory, from the notebooks the template writes, against sums
    computed here with plain SQL on the demo database."""
    import duckdb

    from ticomex.batch import execute
    from ticomex.params import write_params

    params = tmp_path / "params"
    write_params(demo_db, params, territories=shared / TABLE)
    territories = {t.name: t for t in read_territories_file(write_territories(shared / TABLE, params))}
    territory = territories["Ardèche Drôme Nord"]
    out = tmp_path / "out"
    execute(notebook=PROJECT / "notebooks" / "fiche.ipynb", params_dir=params, db=demo_db, out=out,
            only=list(territory.codes), jobs=1)  # fmt: skip
    rows = territory_rows(territory, out / "notebooks" / "data")
    assert [row.code for row in rows] == list(territory.codes)
    with duckdb.connect(str(demo_db), read_only=True) as con:
        (year,) = con.execute("SELECT max(annee) FROM commerce").fetchone()
        for row in rows:
            def total(flow, where, value):
                return con.execute(
                    f"SELECT coalesce(sum(valeur), 0) FROM commerce WHERE annee = ? AND flux = ? AND {where} = ?",
                    [year, flow, value],
                ).fetchone()[0]

            (region,) = con.execute("SELECT region FROM departements WHERE code = ?", [row.code]).fetchone()
            assert row.exports_eur == total("E", "departement", row.code)
            assert row.imports_eur == total("I", "departement", row.code)
            assert row.balance_eur == row.exports_eur - row.imports_eur
            assert row.region_exports_eur == total("E", "region", region)
            partner = con.execute(
                "SELECT coalesce(l.libelle, c.pays) FROM commerce c LEFT JOIN libelles_pays l "
                "ON l.code = c.pays AND l.annee = c.annee WHERE c.annee = ? AND departement = ? "
                "GROUP BY c.pays, l.libelle ORDER BY sum(valeur) DESC, c.pays LIMIT 1",
                [year, row.code],
            ).fetchone()[0]
            product = con.execute(
                "SELECT coalesce(l.libelle, c.a129) FROM commerce c LEFT JOIN libelles_a129 l "
                "ON l.code = c.a129 AND l.annee = c.annee WHERE c.annee = ? AND departement = ? "
                "AND flux = 'E' GROUP BY c.a129, l.libelle ORDER BY sum(valeur) DESC, c.a129 LIMIT 1",
                [year, row.code],
            ).fetchone()[0]
            assert (row.first_partner, row.first_product) == (partner, product)


def test_ligatures_fold_like_accents():
    """"coeur" finds "Cœur de Maine", and its page name spells the ligature out."""
    from ticomex.conventions import fold, territory_slug

    assert fold("Cœur de Maine") == "coeur de maine" and fold("Lætitia ŒUVRE") == "laetitia oeuvre"
    assert territory_slug("Cœur de Maine") == "territoire-coeur-de-maine"
