"""Change over time and exposure, on a small hand-built release; expected values computed in
plain Python from the rows (growth, contributions, shares, ranks, concentration)."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from test_indicators import PRODUCTS, REGION, write_release
from ticomex import indicators, texts
from ticomex.indicators import CHINA, PARTNER, PRODUCT, UNITED_STATES, Scope


def rows() -> list[tuple]:
    """(flux, trimestre, annee, dep, a129, pays, valeur)."""
    out = []
    for year in (2022, 2023, 2024):
        for q in range(1, 5):
            k = year - 2021  # 1, 2, 3
            # 05: three partners every year; Spain only in 2024 (absent before).
            out += [("E", q, year, "05", "C10A", "DE", 1000 * k + q), ("E", q, year, "05", "C10B", "US", 700 - 100 * k),
                    ("E", q, year, "05", "C11Z", "IT", 300), ("E", q, year, "05", "C10A", "US", 50 * k),
                    ("I", q, year, "05", "C20A", "CN", 400 * k), ("I", q, year, "05", "C21Z", "DE", 900)]
            if year == 2024:
                out.append(("E", q, year, "05", "C13Z", "ES", 250))
            # 04: exports only in 2024 (a zero previous year), never to the United States.
            if year == 2024:
                out.append(("E", q, year, "04", "C10A", "BE", 1000 + q))
            out.append(("E", q, year, "99", "C10B", "US", 5000))  # Monaco: in the region, no sheet
            out += [("E", q, year, "75", "C22B", "US", 8000), ("E", q, year, "75", "C22B", "DE", 2000),
                    ("I", q, year, "75", "C21Z", "CN", 3000)]
    out += [("E", 1, 2025, "05", "C10A", "DE", 77), ("I", 1, 2025, "05", "C21Z", "DE", 55)]  # 2025: one quarter only
    return out


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from ticomex.data.ingest import ingest

    tmp = tmp_path_factory.mktemp("trends")
    db = tmp / "trends.duckdb"
    ingest(write_release(tmp / "raw", rows()), db)
    databases = indicators.Databases()
    c = databases.connect(db)
    yield c
    c.close()
    databases.close()


def total(flux, year, deps=None, quarter=None, key=None):
    """Sum of the rows of a flow/year (deps None: everywhere); by `key` (4: a129, 5: pays) when given."""
    out = defaultdict(int)
    for r in rows():
        if r[0] == flux and r[2] == year and (deps is None or r[3] in deps) and quarter in (None, r[1]):
            out[r[key] if key else None] += r[6]
    return dict(out) if key else out[None]


def test_yearly_evolution(con):
    df = indicators.yearly_evolution(con, Scope.department("05"), 2024)
    assert list(df.annee) == [2022, 2023, 2024]  # 2025 is incomplete
    for row in df.itertuples():
        e, i = total("E", row.annee, {"05"}), total("I", row.annee, {"05"})
        assert (row.exportations_eur, row.importations_eur, row.solde_eur) == (e, i, e - i)
    e24, e23 = total("E", 2024, {"05"}), total("E", 2023, {"05"})
    last = df.iloc[-1]
    assert last.variation_exportations_eur == e24 - e23
    assert last.variation_exportations_pct == pytest.approx(100 * (e24 - e23) / e23)
    assert last.variation_solde_eur == (e24 - total("I", 2024, {"05"})) - (e23 - total("I", 2023, {"05"}))
    assert df.iloc[0].variation_exportations_eur is indicators.pd.NA  # no previous year
    # Up to 2023 only: the sheet of an earlier year does not see later years.
    assert list(indicators.yearly_evolution(con, Scope.department("05"), 2023).annee) == [2022, 2023]


def test_a_zero_previous_year_has_a_change_but_no_percentage(con):
    df = indicators.yearly_evolution(con, Scope.department("04"), 2024).set_index("annee")
    assert df.loc[2023, "exportations_eur"] == 0
    assert df.loc[2024, "variation_exportations_eur"] == total("E", 2024, {"04"})
    assert math.isnan(df.loc[2024, "variation_exportations_pct"])
    assert texts.flow_change_sentence("E", 2024, 4010, 0).endswith("elles étaient nulles en 2023.")


def test_region_and_france_evolution_include_monaco(con):
    region = indicators.yearly_evolution(con, Scope.region("21"), 2024).set_index("annee")
    assert region.loc[2024, "exportations_eur"] == total("E", 2024, {"05", "04", "99"})
    france = indicators.yearly_evolution(con, Scope.france(), 2024).set_index("annee")
    assert france.loc[2023, "importations_eur"] == total("I", 2023)


def test_quarterly_series_marks_the_incomplete_year(con):
    df = indicators.quarterly_series(con, Scope.department("05"), 2024)
    assert len(df) == 13 and list(df.periode[:2]) == ["2022 T1", "2022 T2"]
    last = df.iloc[-1]
    assert (last.annee, last.trimestre, bool(last.annee_complete)) == (2025, 1, False)
    assert last.exportations_eur == 77 and df.annee_complete[:12].all()
    q = df[(df.annee == 2023) & (df.trimestre == 3)].iloc[0]
    assert q.exportations_eur == total("E", 2023, {"05"}, quarter=3)
    # An earlier year's sheet stops at that year (a full year follows it).
    assert indicators.quarterly_series(con, Scope.department("05"), 2023).annee.max() == 2023
    # 04 has no row in 2025: its quarter is there, at zero.
    assert indicators.quarterly_series(con, Scope.department("04"), 2024).iloc[-1].exportations_eur == 0


@pytest.mark.parametrize("flux", ["E", "I"])
@pytest.mark.parametrize("dimension, key", [(PRODUCT, 4), (PARTNER, 5)])
def test_change_contributions(con, flux, dimension, key):
    now, before = total(flux, 2024, {"05"}, key=key), total(flux, 2023, {"05"}, key=key)
    changes = {c: now.get(c, 0) - before.get(c, 0) for c in set(now) | set(before)}
    order = sorted((c for c in changes if changes[c]), key=lambda c: (-abs(changes[c]), c))
    df = indicators.change_contributions(con, Scope.department("05"), 2024, flux, dimension, n=10)
    code = "code_a129" if dimension == PRODUCT else "code_pays"
    assert list(df[code]) == order
    whole = sum(before.values())
    for row in df.to_dict("records"):
        c = row[code]
        assert (row["valeur_precedente_eur"], row["valeur_eur"], row["variation_eur"]) == (before.get(c, 0), now.get(c, 0), changes[c])
        assert row["contribution_pts"] == pytest.approx(100 * changes[c] / whole)
    # The contributions add up to the flow's change in percent.
    assert df.contribution_pts.sum() == pytest.approx(100 * (sum(now.values()) - whole) / whole)


def test_a_partner_absent_the_previous_year(con):
    df = indicators.change_contributions(con, Scope.department("05"), 2024, "E", PARTNER, n=10).set_index("code_pays")
    assert df.loc["ES", "valeur_precedente_eur"] == 0 and df.loc["ES", "variation_eur"] == 4 * 250
    assert df.loc["ES", "pays"] == "Pays ES"


def test_contributions_with_a_zero_previous_year_have_no_points(con):
    df = indicators.change_contributions(con, Scope.department("04"), 2024, "E", PARTNER)
    assert list(df.code_pays) == ["BE"] and math.isnan(df.contribution_pts[0])


@pytest.mark.parametrize("scope, deps", [(Scope.department("05"), {"05"}), (Scope.region("21"), {"05", "04", "99"}),
                                         (Scope.france(), None)])
@pytest.mark.parametrize("flux, country", [("E", UNITED_STATES), ("I", CHINA)])
def test_exposure_share_and_rank(con, scope, deps, flux, country):
    by_partner = total(flux, 2024, deps, key=5)
    ranked = sorted((p for p in by_partner if by_partner[p] > 0), key=lambda p: (-by_partner[p], p))
    e = indicators.exposure(con, scope, 2024, flux, country)
    assert e.value_eur == by_partner.get(country, 0) and e.total_eur == sum(by_partner.values())
    assert e.share_pct == pytest.approx(100 * by_partner.get(country, 0) / sum(by_partner.values()))
    assert e.rank == ranked.index(country) + 1 and e.partners == len(ranked)


def test_a_department_without_us_trade(con):
    e = indicators.exposure(con, Scope.department("04"), 2024, "E", UNITED_STATES)
    assert (e.value_eur, e.share_pct, e.rank, e.partners) == (0, 0.0, None, 1)
    assert indicators.products_with(con, Scope.department("04"), 2024, "E", UNITED_STATES).empty
    assert texts.exposure_sentence("E", "US", 2024, e) == (
        "Le département n'a enregistré aucune exportation vers les États-Unis en 2024."
    )
    assert "–" in texts.exposure_table("E", "US", [("Département", e)])


def test_products_with_the_united_states(con):
    cells = defaultdict(int)
    for f, _q, y, d, a, p, v in rows():
        if f == "E" and y == 2024 and d == "05":
            cells[a, p] += v
    us = {a: v for (a, p), v in cells.items() if p == "US"}
    per_product = defaultdict(int)
    for (a, _p), v in cells.items():
        per_product[a] += v
    df = indicators.products_with(con, Scope.department("05"), 2024, "E", UNITED_STATES)
    assert list(df.code_a129) == sorted(us, key=lambda a: (-us[a], a))
    for row in df.itertuples():
        assert row.valeur_eur == us[row.code_a129]
        assert row.part_produit_pct == pytest.approx(100 * us[row.code_a129] / per_product[row.code_a129])


def hand_concentration(values):
    positive = sorted((v for v in values.values() if v > 0), reverse=True)
    whole = sum(positive)
    shares = [100 * v / whole for v in positive]
    return shares[0], sum(shares[:3]), sum(s * s for s in shares)


@pytest.mark.parametrize("dimension, key", [(PRODUCT, 4), (PARTNER, 5)])
def test_concentration_and_the_departments_mean(con, dimension, key):
    got = indicators.trade_concentration(con, Scope.department("05"), 2024, "E", dimension)
    first, three, hhi = hand_concentration(total("E", 2024, {"05"}, key=key))
    assert (got.first_share_pct, got.first_few_share_pct, got.herfindahl) == (
        pytest.approx(first), pytest.approx(three), pytest.approx(hhi))
    # Mean over the departments with a sheet that exported in 2024: 05, 04, 75 (not Monaco).
    per_dep = [hand_concentration(total("E", 2024, {d}, key=key)) for d in ("05", "04", "75")]
    mean = indicators.mean_department_concentration(con, 2024, "E", dimension)
    assert mean.departments == 3
    assert mean.first_share_pct == pytest.approx(sum(p[0] for p in per_dep) / 3)
    assert mean.first_few_share_pct == pytest.approx(sum(p[1] for p in per_dep) / 3)
    assert mean.herfindahl == pytest.approx(sum(p[2] for p in per_dep) / 3)


def test_concentration_of_nothing_and_of_one_item():
    assert indicators.concentration({}).items == 0
    one = indicators.concentration({"DE": 5, "FR": 0})
    assert (one.first_code, one.first_share_pct, one.first_few_share_pct, one.herfindahl) == ("DE", 100, 100, 10_000)


def test_the_sheets_figures_are_read_once_per_sheet(con):
    """Several cells read the department's cells: one query per sheet; the region's once per database."""
    con.own.clear()
    dep = Scope.department("05")
    indicators.exposure(con, dep, 2024, "E", UNITED_STATES)
    indicators.products_with(con, dep, 2024, "E", UNITED_STATES)
    indicators.trade_concentration(con, dep, 2024, "E", PARTNER)
    assert len(con.own) == 1


@pytest.mark.parametrize(
    "change, previous, expected",
    [(42, 1000, "+4.2%"), (-42, 1000, "\u22124.2%"), (40, 1000, "+4%"), (1, 2000, "+0.1%"),  # 0.05: half up
     (-1, 2000, "\u22120.1%"), (0, 7, "0%"), (1, 30_000, "0%")],
)
def test_change_percent(change, previous, expected):
    assert texts.change_percent(change, previous) == expected


def test_change_sentences_in_the_seeds_number_format():
    assert texts.flow_change_sentence("E", 2024, 314_900_000, 302_200_000) == (
        "En 2024, les exportations s'élèvent à 314.9 millions d'euros, +4.2% par rapport à 2023 "
        "(+12.7 millions d'euros)."
    )
    assert texts.balance_change_sentence(2024, -1_500_000, 2_000_000) == (
        "Le solde commercial est de \u22121.5 millions d'euros en 2024 (\u22123.5 millions d'euros par rapport à 2023)."
    )
    assert texts.signed_millions(0) == "0.0" and texts.percent(12.5) == "12.5" and texts.percent(2.04) == "2"


def test_chart_summaries_are_computed_from_the_data(con):
    yearly = indicators.yearly_evolution(con, Scope.department("05"), 2024)
    text = texts.evolution_summary(yearly)
    assert text.startswith("De 2022 à 2024, les exportations passent de ")
    assert texts.millions(total("E", 2024, {"05"})) in text
    quarterly = indicators.quarterly_series(con, Scope.department("05"), 2024)
    assert texts.quarterly_summary(quarterly).endswith("Année incomplète : 2025.")
    df = indicators.products_with(con, Scope.department("05"), 2024, "E", UNITED_STATES)
    assert texts.products_with_summary("E", "US", df).startswith(f"Premier produit exporté vers les États-Unis : {df.produit[0]}")


def test_series_chart_draws_each_period_and_shades_incomplete_years(con):
    from ticomex import charts

    quarterly = indicators.quarterly_series(con, Scope.department("05"), 2024)
    spec = charts.series_chart(quarterly)
    assert [d["periode"] for d in spec["datasets"]["series_incompletes"]] == ["2025 T1"]
    assert len(spec["datasets"]["series_lignes"]) == 2 * len(quarterly)
    balance = [d["valeur_meur"] for d in spec["datasets"]["series_solde"]]
    assert balance == [v / 1e6 for v in quarterly.solde_eur]
    empty = charts.series_chart(quarterly.iloc[0:0])
    assert "series_lignes" not in empty["datasets"] and charts.NO_TRADE_MESSAGE in str(empty)


def test_indicators_json_parts_are_json_ready(con):
    import json

    dep = Scope.department("05")
    yearly = indicators.yearly_evolution(con, dep, 2024)
    quarterly = indicators.quarterly_series(con, dep, 2024)
    contributions = {("E", PRODUCT): indicators.change_contributions(con, dep, 2024, "E", PRODUCT)}
    part = json.loads(json.dumps(indicators.evolution_figures(yearly, quarterly, contributions)))
    assert part["annees"][0]["variation_exportations_pct"] is None
    assert part["annees"][-1]["exportations_eur"] == total("E", 2024, {"05"})
    assert part["contributions"]["exportations"]["produits"][0]["code_a129"] in PRODUCTS
    assert REGION["05"] == "21"
