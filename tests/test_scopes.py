"""The department sheet's figures for a customs region and for France, and the ranking of a
place's departments, on a small hand-built release; expected values computed in plain Python
from the rows."""

from __future__ import annotations

from collections import defaultdict

import pytest

from test_indicators import write_release
from ticomex import indicators
from ticomex.errors import TicomexError
from ticomex.indicators import Scope

PACA = "Provence-Alpes-Côte d'Azur"
DEPARTMENTS = [
    ("05", "Hautes-Alpes", "21", PACA),
    ("04", "Alpes-de-Haute-Provence", "21", PACA),
    ("06", "Alpes-Maritimes", "21", PACA),  # trade in 2023 only
    ("99", "Principauté de Monaco", "21", PACA),  # in its region and France, no sheet
    ("75", "Paris", "03", "Ile-de-France"),  # alone in its region
    ("9A", "Guadeloupe", "24", "DOM"),
]
REGION_DEPARTMENTS = defaultdict(set)
for _code, _name, _region, _ in DEPARTMENTS:
    REGION_DEPARTMENTS[_region].add(_code)


def rows() -> list[tuple]:
    """(flux, trimestre, annee, dep, a129, pays, valeur)."""
    out = []
    for q in range(1, 5):
        out += [("E", q, 2024, "05", "C10A", "DE", 3000 + q), ("E", q, 2024, "05", "C10B", "US", 2000),
                ("E", q, 2024, "05", "C11Z", "IT", 500), ("I", q, 2024, "05", "C20A", "CN", 1500),
                ("I", q, 2024, "05", "C21Z", "DE", 400),
                ("E", q, 2024, "04", "C10A", "BE", 1200),  # exports only
                # Monaco: exports equal to 04's (the code breaks the tie); partners no other has.
                ("E", q, 2024, "99", "C10B", "GB", 1200), ("I", q, 2024, "99", "C22B", "CH", 300),
                ("E", q, 2024, "75", "C22B", "DE", 8000), ("I", q, 2024, "75", "C21Z", "US", 9000),
                ("E", q, 2024, "9A", "C24A", "NL", 100), ("I", q, 2024, "9A", "C25A", "CN", 700)]
        out += [("E", q, 2023, "05", "C10A", "DE", 10), ("I", q, 2023, "05", "C20A", "CN", 10),
                ("E", q, 2023, "06", "C10A", "DE", 999), ("I", q, 2023, "75", "C21Z", "US", 5)]
    return out


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from ticomex.data.ingest import ingest

    tmp = tmp_path_factory.mktemp("scopes")
    db = tmp / "scopes.duckdb"
    ingest(write_release(tmp / "raw", rows(), DEPARTMENTS), db)
    databases = indicators.Databases()
    c = databases.connect(db)
    yield c
    c.close()
    databases.close()


def total(flux, deps=None, year=2024, key=None):
    """Sum of a flow's rows (deps None: everywhere); by `key` (4: a129, 5: pays) when given."""
    out = defaultdict(int)
    for r in rows():
        if r[0] == flux and r[2] == year and (deps is None or r[3] in deps):
            out[r[key] if key else None] += r[6]
    return dict(out) if key else out[None]


PLACES = [(Scope.region("21"), REGION_DEPARTMENTS["21"]), (Scope.region("03"), {"75"}), (Scope.france(), None)]


def test_monaco_weighs_in_its_region():
    """The rows give Monaco trade of its own, so a figure leaving it out would differ."""
    assert total("E", {"99"}) > 0 and total("I", {"99"}) > 0


def test_region_headline_has_its_total_and_its_share_of_france(con):
    h = indicators.headline(con, Scope.region("21"), 2024)
    for flux, key in (("E", "exportations"), ("I", "importations")):
        own, france = total(flux, {"05", "04", "06", "99"}), total(flux)
        assert h[key] == {"total_eur": own, "france_total_eur": france,
                          "part_nationale_pct": pytest.approx(100 * own / france)}


def test_france_headline_has_its_total_only(con):
    h = indicators.headline(con, Scope.france(), 2024)
    assert h == {"exportations": {"total_eur": total("E")}, "importations": {"total_eur": total("I")}}


def test_department_headline_keeps_its_keys_and_reads_its_region_from_the_release(con):
    h = indicators.headline(con, Scope.department("05"), 2024)["exportations"]
    own, region, france = total("E", {"05"}), total("E", REGION_DEPARTMENTS["21"]), total("E")
    assert list(h) == ["total_eur", "region_total_eur", "france_total_eur", "part_region_pct", "part_nationale_pct"]
    assert (h["total_eur"], h["region_total_eur"], h["france_total_eur"]) == (own, region, france)
    assert h["part_region_pct"] == pytest.approx(100 * own / region)
    assert h["part_nationale_pct"] == pytest.approx(100 * own / france)


def test_a_region_of_one_department(con):
    dep = indicators.headline(con, Scope.department("75"), 2024)["importations"]
    assert dep["region_total_eur"] == dep["total_eur"] == total("I", {"75"}) and dep["part_region_pct"] == 100
    region = indicators.headline(con, Scope.region("03"), 2024)["importations"]
    assert region["total_eur"] == total("I", {"75"})
    assert region["part_nationale_pct"] == pytest.approx(100 * total("I", {"75"}) / total("I"))
    assert indicators.top_partners(con, Scope.region("03"), 2024).equals(
        indicators.top_partners(con, Scope.department("75"), 2024))


@pytest.mark.parametrize("scope, deps", PLACES)
@pytest.mark.parametrize("n", [3, 10])
def test_top_partners_of_a_region_and_of_france(con, scope, deps, n):
    imports, exports = total("I", deps, key=5), total("E", deps, key=5)
    countries = set(imports) | set(exports)
    order = sorted(countries, key=lambda p: (-(imports.get(p, 0) + exports.get(p, 0)), p))[:n]
    df = indicators.top_partners(con, scope, 2024, n)
    assert list(df.code_pays) == order
    for row in df.itertuples():
        imp, exp = imports.get(row.code_pays, 0), exports.get(row.code_pays, 0)
        assert (row.pays, row.importations_eur, row.exportations_eur, row.solde_eur) == (
            f"Pays {row.code_pays}", imp, exp, exp - imp)


def test_monacos_partners_are_the_regions_and_frances(con):
    for scope in (Scope.region("21"), Scope.france()):
        assert {"GB", "CH"} <= set(indicators.top_partners(con, scope, 2024).code_pays)
    assert "GB" not in set(indicators.top_partners(con, Scope.department("05"), 2024).code_pays)


@pytest.mark.parametrize("scope, deps", PLACES)
def test_activities_of_a_region_and_of_france(con, scope, deps):
    df = indicators.activities(con, scope, 2024)
    for flux, name in (("E", "export"), ("I", "import")):
        by_product = total(flux, deps, key=4)
        order = sorted((a for a in by_product if by_product[a]), key=lambda a: (-by_product[a], a))
        part = df[df.flux == name]
        assert list(part.code_a129) == order
        assert list(part.valeur_eur) == [by_product[a] for a in order]
        assert list(part.produit) == [f"Produit {a}" for a in order]


def expected_ranking(deps, year=2024):
    """(code, exports, imports) of the departments of `deps`, by exports descending then code."""
    figures = [(d, total("E", {d}, year), total("I", {d}, year)) for d in deps]
    return sorted(figures, key=lambda f: (-f[1], f[0]))


@pytest.mark.parametrize("scope, deps", PLACES)
def test_department_ranking(con, scope, deps):
    deps = deps if deps is not None else {d for d, *_ in DEPARTMENTS}
    expected = expected_ranking(deps)
    df = indicators.department_ranking(con, scope, 2024)
    names = {code: name for code, name, *_ in DEPARTMENTS}
    assert list(df.code_departement) == [code for code, _, _ in expected]
    assert list(df.departement) == [names[code] for code, _, _ in expected]
    whole_e, whole_i = sum(e for _, e, _ in expected), sum(i for _, _, i in expected)
    for row, (code, e, i) in zip(df.itertuples(), expected):
        assert (row.exportations_eur, row.importations_eur, row.solde_eur) == (e, i, e - i)
        assert row.part_exportations_pct == pytest.approx(100 * e / whole_e)
        assert row.part_importations_pct == pytest.approx(100 * i / whole_i)
        assert bool(row.fiche) == (code != "99")


def test_ranking_order_ties_and_departments_without_trade(con):
    df = indicators.department_ranking(con, Scope.region("21"), 2024)
    # 04 and Monaco export the same: by code; 06 traded in 2023 only: listed, at zero.
    assert list(df.code_departement) == ["05", "04", "99", "06"]
    last = df.iloc[-1]
    assert (last.exportations_eur, last.importations_eur, last.part_exportations_pct) == (0, 0, 0.0)
    assert list(df.fiche) == [True, True, False, True]
    earlier = indicators.department_ranking(con, Scope.region("21"), 2023).set_index("code_departement")
    assert earlier.loc["06", "exportations_eur"] == total("E", {"06"}, 2023)


def test_ranking_shares_match_the_department_sheets(con):
    """A department's share in its region's ranking is its sheet's `part_region_pct`."""
    df = indicators.department_ranking(con, Scope.region("21"), 2024).set_index("code_departement")
    h = indicators.headline(con, Scope.department("05"), 2024)
    assert df.loc["05", "part_exportations_pct"] == h["exportations"]["part_region_pct"]
    assert df.loc["05", "part_importations_pct"] == h["importations"]["part_region_pct"]


def test_regions_and_a_regions_name(con):
    expected = sorted({(r, n) for _, _, r, n in DEPARTMENTS})
    assert [(r["code"], r["name"]) for r in indicators.regions(con)] == expected
    assert indicators.region(con, "21") == {"code": "21", "name": PACA, "overseas": False}
    assert indicators.region(con, "24")["overseas"] and not indicators.region(con, "03")["overseas"]
    with pytest.raises(TicomexError, match="unknown region '94'"):
        indicators.region(con, "94")


def test_regions_are_handed_out_as_copies(con):
    indicators.regions(con)[0]["name"] = "changed"
    assert indicators.regions(con)[0]["name"] == "Ile-de-France"
