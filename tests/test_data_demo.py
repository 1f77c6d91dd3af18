"""The demo release: official layout, calibration on the published figures, shape, determinism.

Figures are recomputed from the written files with plain Python, not from the generator."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ticomex import reference
from ticomex.cli import main
from ticomex.data.demo import DEFAULT_ROWS, YEARS, write_demo_release
from ticomex.errors import TicomexError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED_DEPARTMENTS = ("05", "43", "52", "07", "92")
FILES = {"E": "REGIONAL_CPF4PAYSE.txt", "I": "REGIONAL_CPF4PAYSI.txt"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return write_demo_release(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def demo_rows(demo) -> dict[str, list[list[str]]]:
    return read_rows(demo)


def read_rows(folder: Path) -> dict[str, list[list[str]]]:
    rows = {}
    for flow, name in FILES.items():
        raw = (folder / name).read_bytes()
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
        rows[flow] = [line.split(";") for line in raw.decode("ascii").split("\r\n")[:-1]]
    return rows


def read_label_file(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def published_figures() -> list[dict[str, str]]:
    """The published figures: from ../shared when present, else the project's copy."""
    path = SHARED / "reference" / "chiffres_publies_2024.csv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    return [
        {
            "niveau": c.level,
            "code": c.code,
            "flux": c.flow,
            "total_millions_eur": str(c.total_millions_eur),
            "part_region_pct": str(c.regional_share_pct or ""),
            "part_nationale_pct": str(c.national_share_pct or ""),
        }
        for c in reference.published_figures_2024()
    ]


def half_up(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def totals_2024(demo, demo_rows) -> dict[tuple[str, str, str], int]:
    """Totals in euros by (level, code, flow), from the written files only."""
    region_of = {row[0]: row[2] for row in read_label_file(demo / "Departement_region.txt")}
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for flow, rows in demo_rows.items():
        for row in rows:
            if row[2] == "2024":
                value = int(row[8])
                totals[("departement", row[3], flow)] += value
                totals[("region", region_of[row[3]], flow)] += value
                totals[("france", "FR", flow)] += value
    return totals


def test_layout_and_label_files(demo):
    assert sorted(p.name for p in demo.iterdir()) == sorted(
        [
            "DEMONSTRATION.txt",
            "Departement_region.txt",
            "Libelle_A129.txt",
            "Libelle_PAYS.txt",
            *FILES.values(),
        ]
    )
    a129 = (demo / "Libelle_A129.txt").read_bytes()
    assert a129.startswith(b"\xef\xbb\xbfA01Z;") and a129.count(b"\r\n") == a129.count(b"\n") == 76
    assert (
        b"C26E;\"Appareils de mesure, d'essai et de navigation\xc2\xa0; articles d'horlogerie\";200901;999912\r\n"
        in a129
    )
    departments = read_label_file(demo / "Departement_region.txt")
    assert len(departments) == 101 and all(len(row) == 4 for row in departments)
    assert {"20", "99", "9A", "9B", "9C", "9D", "9E"} <= {row[0] for row in departments}
    countries = read_label_file(demo / "Libelle_PAYS.txt")
    assert all(len(row) == 4 and len(row[2]) == len(row[3]) == 6 for row in countries)
    periods = defaultdict(list)
    for code, _, start, end in countries:
        periods[code].append((int(start), int(end)))
    # A code repeated across validity periods that do not overlap, as QU in the official file.
    assert sorted(periods["QU"]) == [(190001, 199912), (201201, 999912)]
    assert (
        {"FR", "QU", "GR", "XS", "XC", "XL"} <= set(periods) and "RS" not in periods and "MC" not in periods
    )
    notice = (demo / "DEMONSTRATION.txt").read_text(encoding="utf-8")
    assert notice.startswith("Données de démonstration synthétiques") and "inventées" in notice


def test_data_rows_follow_the_official_layout(demo, demo_rows):
    departments = {row[0]: row[2] for row in read_label_file(demo / "Departement_region.txt")}
    a129 = {row[0] for row in read_label_file(demo / "Libelle_A129.txt", "utf-8-sig")}
    countries = {row[0] for row in read_label_file(demo / "Libelle_PAYS.txt")}
    for flow, rows in demo_rows.items():
        assert len(rows) == DEFAULT_ROWS
        keys = set()
        for row in rows:
            assert len(row) == 10 and row[0] == flow and row[1] in "1234" and int(row[2]) in YEARS
            assert departments[row[3]] == row[4]  # the department's customs region
            assert row[5] in a129 and row[7] in countries
            assert (
                len(row[6]) == 4 and row[6].isdigit() and row[6][:2] == row[5][1:3]
            )  # CPF4 of the same division
            assert row[8].isdigit() and row[9].isdigit()
            keys.add((row[1], row[2], row[3], row[6], row[7]))
        assert len(keys) == len(rows)  # the key is unique
        assert {row[3] for row in rows} == set(departments)  # all 101 departments, Monaco included
        assert {(row[2], row[1]) for row in rows} == {(str(y), q) for y in YEARS for q in "1234"}
        assert {"FR", "QU"} <= {row[7] for row in rows}


def test_calibrated_on_the_published_figures(totals_2024):
    figures = published_figures()
    france = {f["flux"]: Decimal(f["total_millions_eur"]) for f in figures if f["niveau"] == "france"}
    assert totals_2024[("france", "FR", "E")] == 580_354_500_000 == france["E"] * 1_000_000
    assert totals_2024[("france", "FR", "I")] == 684_776_300_000 == france["I"] * 1_000_000
    region_of = {d.code: d.region for d in reference.departments()}
    checked = 0
    for f in figures:
        total = totals_2024[(f["niveau"], f["code"], f["flux"])]
        assert half_up(Decimal(total) / 1_000_000, "0.1") == Decimal(f["total_millions_eur"]), f
        if f["niveau"] == "departement":
            region = totals_2024[("region", region_of[f["code"]], f["flux"])]
            nation = totals_2024[("france", "FR", f["flux"])]
            assert half_up(Decimal(total) * 100 / region, "0.1") == Decimal(f["part_region_pct"]), f
            assert half_up(Decimal(total) * 100 / nation, "0.01") == Decimal(f["part_nationale_pct"]), f
            checked += 1
    assert checked == 10


def test_shape_top_ten_and_short_cases(demo_rows):
    counts: dict[tuple[str, str], tuple[set, set]] = defaultdict(lambda: (set(), set()))
    by_partner: dict[str, dict[str, int]] = {"E": defaultdict(int), "I": defaultdict(int)}
    for flow, rows in demo_rows.items():
        for row in rows:
            if row[2] == "2024":
                counts[(row[3], flow)][0].add(row[5])
                counts[(row[3], flow)][1].add(row[7])
                by_partner[flow][row[7]] += int(row[8])
    for code in SEED_DEPARTMENTS:
        for flow in FILES:
            products, partners = counts[(code, flow)]
            assert len(products) >= 12 and len(partners) >= 15, (code, flow)
    wide = [key for key, (p, c) in counts.items() if len(p) >= 12 and len(c) >= 15]
    short = [key for key, (p, c) in counts.items() if len(p) < 10 or len(c) < 10]
    assert len(wide) >= 150 and {("48", "E"), ("9E", "E")} <= set(short)
    for values in by_partner.values():
        ranked = sorted(values, key=values.get, reverse=True)
        assert {"DE", "BE", "IT", "ES"} <= set(ranked[:7]), ranked[:7]  # neighbours dominate
        assert sum(values[c] for c in ranked[:10]) > 0.7 * sum(values.values())  # concentrated
        assert len(ranked) > 150  # long tail


def test_specialisations(demo_rows):
    rows = demo_rows

    def top_product(code: str, flow: str) -> str:
        values: dict[str, int] = defaultdict(int)
        for row in rows[flow]:
            if row[3] == code and row[2] == "2024":
                values[row[5]] += int(row[8])
        return max(values, key=values.get)

    assert top_product("31", "E") == "C30C"  # Haute-Garonne: aircraft
    assert top_product("51", "E") == "C11Z"  # Marne: champagne
    # Natural gas and electricity imports sit in Paris only; crude oil lands at refinery ports.
    gas_or_power = {row[3] for row in rows["I"] if row[6] in ("0620", "3511")}
    assert gas_or_power == {"75"}
    assert {row[3] for row in rows["I"] if row[6] == "0610"} <= {"13", "76", "44", "59", "33"}


def test_same_command_same_bytes(demo, tmp_path):
    again = write_demo_release(tmp_path / "again")
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in demo.iterdir())
    for path in sorted(demo.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_rows_option_gives_exact_sizes_and_keeps_calibration(tmp_path, capsys):
    assert main(["data", "demo", "--out", str(tmp_path / "small"), "--rows", "2000"]) == 0
    assert "synthetic" in capsys.readouterr().out
    rows = read_rows(tmp_path / "small")
    assert len(rows["E"]) == len(rows["I"]) == 2000
    exports_2024 = sum(int(r[8]) for r in rows["E"] if r[2] == "2024")
    assert exports_2024 == 580_354_500_000


def test_writes_only_into_an_empty_folder_or_over_a_previous_demo(tmp_path):
    other = tmp_path / "officiel"
    other.mkdir()
    (other / "Libelle_PAYS.txt").write_text("AD;Andorre;190001;999912\r\n")
    with pytest.raises(TicomexError, match="holds files but no DEMONSTRATION.txt"):
        write_demo_release(other, rows=1000)
    assert [p.name for p in other.iterdir()] == ["Libelle_PAYS.txt"]
    demo = write_demo_release(tmp_path / "demo", rows=1000)
    (demo / "Libelle_CPF4_rev2.1.txt").write_text("stale")
    write_demo_release(demo, rows=1000)
    assert not (demo / "Libelle_CPF4_rev2.1.txt").exists()  # replaced as a whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "officiel"]


def test_too_few_rows_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(TicomexError, match="at least 808"):
        write_demo_release(tmp_path / "x", rows=100)
    assert main(["data", "demo", "--out", str(tmp_path / "x"), "--rows", "100"]) == 1
    assert "at least 808" in capsys.readouterr().err


def test_demo_ingests_and_says_it_is_demo(demo, tmp_path, totals_2024):
    import duckdb

    from ticomex.data.ingest import ingest

    db = tmp_path / "demo.duckdb"
    report = ingest(demo, db)
    assert report.data_kind == "demo" and report.rows_loaded == 2 * DEFAULT_ROWS
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT valeur FROM publication WHERE cle = 'donnees'").fetchone() == ("demo",)
        by_department = dict(
            ((code, flow), total)
            for code, flow, total in con.execute(
                "SELECT departement, flux, sum(valeur) FROM commerce WHERE annee = 2024 GROUP BY ALL"
            ).fetchall()
        )
    assert by_department == {(c, f): v for (level, c, f), v in totals_2024.items() if level == "departement"}


def test_years_show_growth_a_shock_and_a_rising_product(demo_rows):
    """National totals by year recomputed from the files: 2020 falls below 2019 and 2021 in both
    flows; pharmaceuticals (C21Z) weigh more in exports each year; rows per year stay moderate."""
    totals: dict[tuple[str, int], int] = defaultdict(int)
    pharma: dict[int, int] = defaultdict(int)
    rows_per_year: dict[int, int] = defaultdict(int)
    for flow, rows in demo_rows.items():
        for row in rows:
            year = int(row[2])
            totals[(flow, year)] += int(row[8])
            rows_per_year[year] += 1
            if flow == "E" and row[5] == "C21Z":
                pharma[year] += int(row[8])
    assert sorted(rows_per_year) == list(YEARS) == list(range(2019, 2025))
    for flow in ("E", "I"):
        assert totals[(flow, 2020)] < 0.9 * min(totals[(flow, 2019)], totals[(flow, 2021)])
        assert totals[(flow, 2024)] > totals[(flow, 2019)]
    shares = [pharma[y] / totals[("E", y)] for y in YEARS]
    assert shares[-1] > 1.4 * shares[0]
    assert max(rows_per_year.values()) < 0.35 * 2 * DEFAULT_ROWS
