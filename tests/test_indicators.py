"""Indicators on a small hand-built release, expected values computed in plain Python."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from ticomex import indicators
from ticomex.errors import TicomexError
from ticomex.indicators import Scope

PRODUCTS = ["C10A", "C10B", "C11Z", "C13Z", "C20A", "C21Z", "C22B", "C24A", "C25A", "C26A",
            "C27B", "C28A", "C29A"]  # 13: three beyond the top 10
COUNTRIES = ["DE", "BE", "IT", "ES", "US", "CN", "GB", "NL", "CH", "PL", "FR", "QU", "XS"]
DEPARTMENTS = [
    ("05", "Hautes-Alpes", "21", "Provence-Alpes-Côte d'Azur"),
    ("04", "Alpes-de-Haute-Provence", "21", "Provence-Alpes-Côte d'Azur"),
    ("99", "Principauté de Monaco", "21", "Provence-Alpes-Côte d'Azur"),
    ("75", "Paris", "03", "Ile-de-France"),
]
REGION = {code: region for code, _, region, _ in DEPARTMENTS}


def hand_rows() -> list[tuple]:
    """(flux, trimestre, annee, dep, a129, pays, valeur) of the hand-built release."""
    rows = []
    for q in range(1, 5):
        for p, prod in enumerate(PRODUCTS):
            for c, pays in enumerate(COUNTRIES):
                v = (13 - p) * (13 - c) * 1000 + 7 * p + c
                if (p, c) == (2, 3):
                    v = 0  # a zero flow: never drawn
                rows.append(("E", q, 2024, "05", prod, pays, v))
                if c < 11:
                    rows.append(("I", q, 2024, "05", prod, pays, (p + 1) * (c + 2) * 500))
        # Alpes-de-Haute-Provence: few partners and products, no imports.
        for p, prod in enumerate(PRODUCTS[:2]):
            for c, pays in enumerate(COUNTRIES[:3]):
                rows.append(("E", q, 2024, "04", prod, pays, 1000 * (p + 1) + c))
        rows.append(("E", q, 2024, "99", "C20A", "IT", 777_000))
        rows.append(("I", q, 2024, "75", "C21Z", "US", 5_000_000))
        rows.append(("E", q, 2023, "05", "C10A", "DE", 10))
    rows.append(("E", 1, 2025, "05", "C10A", "DE", 10))  # 2025 incomplete
    return rows


def write_release(folder: Path, rows: list[tuple], departments: list[tuple] = DEPARTMENTS) -> Path:
    """The release's files; `departments`: (code, name, region, region name) of Departement_region.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    crlf = "\r\n"
    deps = [f"{c};{n};{r};{rn}" for c, n, r, rn in departments]
    region = {code: reg for code, _, reg, _ in departments}
    (folder / "Departement_region.txt").write_bytes(crlf.join(deps + [""]).encode())
    a129 = [f"{code};Produit {code};200901;999912" for code in PRODUCTS]
    (folder / "Libelle_A129.txt").write_bytes(("\ufeff" + crlf.join(a129 + [""])).encode())
    pays = [f"{code};Pays {code};190001;999912" for code in COUNTRIES if code != "XS"]
    pays += ["XS;Saba;190001;200505", "XS;Serbie;200506;999912"]  # code repeated across periods
    (folder / "Libelle_PAYS.txt").write_bytes(crlf.join(pays + [""]).encode())
    for flux, name in (("E", "REGIONAL_CPF4PAYSE.txt"), ("I", "REGIONAL_CPF4PAYSI.txt")):
        lines = [
            f"{f};{q};{y};{d};{region[d]};{a};{PRODUCTS.index(a) + 1011};{p};{v};{v // 10}"
            for f, q, y, d, a, p, v in rows
            if f == flux
        ]
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from ticomex.data.ingest import ingest

    tmp = tmp_path_factory.mktemp("hand")
    db = tmp / "hand.duckdb"
    # 2023 and 2025 hold exports only: accepted explicitly, as a user would.
    ingest(write_release(tmp / "raw", hand_rows()), db, allow_one_flow=True)
    databases = indicators.Databases()
    c = databases.connect(db)
    yield c
    c.close()
    databases.close()


def sums(flux, year=2024, deps=None):
    """(a129, pays) → value for the rows of `deps` (None: everywhere)."""
    out = defaultdict(int)
    for f, _q, y, d, a, p, v in hand_rows():
        if f == flux and y == year and (deps is None or d in deps):
            out[a, p] += v
    return out


def ranked(totals: dict) -> list[str]:
    return [k for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]


def expected_links(flux, deps=None, n=10):
    cells = sums(flux, deps=deps)
    prod_tot, pays_tot = defaultdict(int), defaultdict(int)
    for (a, p), v in cells.items():
        prod_tot[a] += v
        pays_tot[p] += v
    top_a, top_p = ranked(prod_tot)[:n], ranked(pays_tot)[:n]
    links = defaultdict(int)
    for (a, p), v in cells.items():
        links[a if a in top_a else "", p if p in top_p else ""] += v
    links = {k: v for k, v in links.items() if v > 0}
    named = sorted(((-v, a, p) for (a, p), v in links.items() if a and p))[:5]
    red = {(a, p) for _, a, p in named}
    rank_a = {a: i for i, a in enumerate(top_a)}
    rank_p = {p: i for i, p in enumerate(top_p)}
    key = (lambda k: (rank_a.get(k[0], n), rank_p.get(k[1], n))) if flux == "E" else (
        lambda k: (rank_p.get(k[1], n), rank_a.get(k[0], n))
    )
    return [(a, p, links[a, p], (a, p) in red) for a, p in sorted(links, key=key)]


def test_latest_full_year_and_errors(con):
    assert indicators.full_years(con) == [2023, 2024]
    assert indicators.check_year(con, None) == 2024
    assert indicators.check_year(con, "2023") == 2023
    with pytest.raises(TicomexError, match="2025"):
        indicators.check_year(con, "2025")
    with pytest.raises(TicomexError, match="unknown department"):
        indicators.department(con, "2A")


def test_totals_and_shares(con):
    h = indicators.headline(con, Scope.department("05"), 2024)
    dep = sum(sums("E", deps={"05"}).values())
    reg = sum(sums("E", deps={"05", "04", "99"}).values())  # Monaco counts in its region
    fra = sum(sums("E").values())
    e = h["exportations"]
    assert (e["total_eur"], e["region_total_eur"], e["france_total_eur"]) == (dep, reg, fra)
    assert e["part_region_pct"] == pytest.approx(100 * dep / reg)
    assert e["part_nationale_pct"] == pytest.approx(100 * dep / fra)
    imp = sum(sums("I", deps={"05"}).values())
    assert h["importations"]["total_eur"] == imp
    assert h["importations"]["france_total_eur"] == imp + 4 * 5_000_000


def test_repeated_country_code_counted_once(con):
    serbia = sum(v for (a, p), v in sums("E", deps={"05"}).items() if p == "XS")
    pays = indicators.top_partners(con, Scope.department("05"), 2024, n=20)
    row = pays[pays.code_pays == "XS"].iloc[0]
    assert row.pays == "Serbie" and row.exportations_eur == serbia


def test_top_partners(con):
    per_country = defaultdict(lambda: [0, 0])
    for (a, p), v in sums("I", deps={"05"}).items():
        per_country[p][0] += v
    for (a, p), v in sums("E", deps={"05"}).items():
        per_country[p][1] += v
    order = sorted(per_country, key=lambda p: (-sum(per_country[p]), p))[:10]
    df = indicators.top_partners(con, Scope.department("05"), 2024, n=10)
    assert list(df.code_pays) == order
    for row in df.itertuples():
        imp, exp = per_country[row.code_pays]
        assert (row.importations_eur, row.exportations_eur, row.solde_eur) == (imp, exp, exp - imp)


def test_activities(con):
    df = indicators.activities(con, Scope.department("05"), 2024)
    for flux, name in (("E", "export"), ("I", "import")):
        tot = defaultdict(int)
        for (a, _p), v in sums(flux, deps={"05"}).items():
            tot[a] += v
        part = df[df.flux == name]
        assert list(part.code_a129) == ranked(tot)
        assert list(part.valeur_eur) == [tot[a] for a in ranked(tot)]
    assert list(df.flux.unique()) == ["export", "import"]


@pytest.mark.parametrize("flux", ["E", "I"])
@pytest.mark.parametrize("scope, deps", [(Scope.department("05"), {"05"}),
                                         (Scope.region("21"), {"05", "04", "99"}),
                                         (Scope.france(), None)])
def test_flow_links(con, flux, scope, deps):
    df = indicators.flow_links(con, scope, 2024, flux)
    got = [(r.code_a129, r.code_pays, r.valeur_eur, bool(r.rouge)) for r in df.itertuples()]
    assert got == expected_links(flux, deps)
    assert df.rouge.sum() == 5
    autres = df[df.code_a129 == ""]
    assert set(autres.produit) <= {"Autres"}
    assert (df.valeur_eur > 0).all()
    first = ["code_a129", "produit"] if flux == "E" else ["code_pays", "pays"]
    assert list(df.columns[:2]) == first


def test_hand_release_has_autres_and_red(con):
    df = indicators.flow_links(con, Scope.department("05"), 2024, "E")
    assert (df.code_a129 == "").any() and (df.code_pays == "").any()
    assert not df[(df.code_a129 == "C11Z") & (df.code_pays == "ES")].shape[0]  # zero flow


def test_short_department(con):
    """Fewer than 10 partners and products: no "Autres"; no imports: empty links."""
    df = indicators.flow_links(con, Scope.department("04"), 2024, "E")
    assert len(df) == 6 and not (df.code_a129 == "").any() and not (df.code_pays == "").any()
    assert indicators.flow_links(con, Scope.department("04"), 2024, "I").empty
    assert set(indicators.activities(con, Scope.department("04"), 2024).flux) == {"export"}
    assert len(indicators.top_partners(con, Scope.department("04"), 2024)) == 3
    h = indicators.headline(con, Scope.department("04"), 2024)
    assert h["importations"]["total_eur"] == 0 and h["importations"]["part_region_pct"] == 0


def test_region_and_france_figures_are_computed_once_per_database(tmp_path, con):
    """A kernel runs sheet after sheet: the region and France figures are kept, keyed on the
    database's recorded fingerprint, so another database gets its own figures."""
    from ticomex.data.ingest import ingest

    france = Scope.france()
    first = indicators.flow_links(con, france, 2024, "E")
    assert indicators.flow_links(con, france, 2024, "E").equals(first)
    first.loc[0, "valeur_eur"] = -1  # callers get copies: the kept figures stay intact
    assert indicators.flow_links(con, france, 2024, "E").loc[0, "valeur_eur"] != -1

    doubled = [(*row[:6], 2 * row[6]) for row in hand_rows()]
    db = tmp_path / "doubled.duckdb"
    ingest(write_release(tmp_path / "raw", doubled), db, allow_one_flow=True)
    other = indicators.Databases(con.figures).connect(db)  # the same kept figures
    try:
        assert indicators.total(other, france, 2024, "E") == 2 * indicators.total(con, france, 2024, "E")
        region = Scope.region("21")
        expected_region = sum(sums("E", deps=["04", "05", "99"]).values())
        assert indicators.total(con, region, 2024, "E") == expected_region
        assert indicators.total(other, region, 2024, "E") == 2 * expected_region
        links = indicators.flow_links(other, france, 2024, "E")
        assert list(links["valeur_eur"]) == [2 * v for v in indicators.flow_links(con, france, 2024, "E")["valeur_eur"]]
    finally:
        other.close()


def test_each_sheet_gets_its_own_connection_and_a_replaced_database_is_reopened(tmp_path):
    import os

    import duckdb

    def write(path: Path, value: int) -> None:
        with duckdb.connect(str(path)) as db:
            db.execute("CREATE TABLE t AS SELECT ? AS v", [value])

    base = tmp_path / "ticomex.duckdb"
    write(base, 1)
    databases = indicators.Databases()
    first, second = databases.connect(base), databases.connect(base)
    first.close()  # one sheet closing its connection leaves the other's open
    assert second.execute("SELECT v FROM t").fetchone() == (1,)
    second.close()
    # A new ingest writes another file and moves it into place.
    write(tmp_path / "nouvelle.duckdb", 2)
    os.replace(tmp_path / "nouvelle.duckdb", base)
    with databases.connect(base) as con:
        assert con.execute("SELECT v FROM t").fetchone() == (2,)


@pytest.mark.parametrize(
    "level, code",
    [("département", "05"), ("departement", "05"), ("region", "21"), ("france", None)],
)
def test_a_scope_is_built_by_its_constructors_only(level, code):
    """A misspelt level once summed the whole of France."""
    with pytest.raises(TypeError, match="Scope.department"):
        Scope(level, code)


@pytest.mark.parametrize("build, code", [(Scope.department, "5"), (Scope.department, None),
                                         (Scope.region, ""), (Scope.department, "05 ")])
def test_a_scope_code_is_checked(build, code):
    with pytest.raises(ValueError, match="code"):
        build(code)


def test_shared_figures_are_computed_once_and_handed_out_as_copies(con):
    figures = indicators.SharedFigures(max_entries=2)
    calls = []

    def compute():
        calls.append(1)
        return indicators.pd.DataFrame({"v": [1, 2]})

    first = figures.get(("a",), compute)
    first.loc[0, "v"] = -1
    assert figures.get(("a",), compute).loc[0, "v"] == 1 and len(calls) == 1
    figures.get(("b",), compute), figures.get(("c",), compute)  # "a" is the oldest: dropped
    assert len(figures) == 2
    figures.get(("a",), compute)
    assert len(calls) == 4


def test_department_figures_are_never_kept(con):
    con.figures.clear()
    indicators.flow_links(con, Scope.department("05"), 2024, "E")
    indicators.total(con, Scope.department("05"), 2024, "E")
    assert len(con.figures) == 2  # the labels of the products and countries, kept for the whole base
    indicators.total(con, Scope.region("21"), 2024, "E")
    assert len(con.figures) == 3
