"""Every layout a user downloads (national files, annual per-flow ZIPs or folders), several
releases in one database, and what is refused: a missing flow, an empty file, a spreadsheet."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from test_data_ingest import A129, COUNTRIES, CPF4, DEPARTMENTS, EXPORT_ROWS, IMPORT_ROWS, write_release
from ticomex.cli import main
from ticomex.data.demo import write_demo_release
from ticomex.data.ingest import ingest
from ticomex.data.problems import IngestError
from ticomex.errors import TicomexError


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def annual_folder(root: Path, year: int, flow: str, rows: list[str], cpf4_name: str = "Libelle_CPF4.txt") -> Path:
    """One unpacked annual ZIP: Regional-YYYY-flow/Region_YYYY_Flow.txt and its own label files."""
    word = "Export" if flow == "E" else "Import"
    folder = root / f"Regional-{year}-{word.lower()}"
    folder.mkdir(parents=True)
    (folder / f"Region_{year}_{word}.txt").write_bytes("".join(r + "\r\n" for r in rows).encode())
    (folder / "Libelle_A129.txt").write_bytes(A129.encode("utf-8"))
    (folder / "Libelle_PAYS.txt").write_bytes(COUNTRIES.encode("utf-8"))
    (folder / cpf4_name).write_bytes(CPF4.encode("cp1252"))
    return folder


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layouts")
    return {
        layout: write_demo_release(root / layout, rows=3000, layout=layout, years=(2023, 2024))
        for layout in ("national", "annual")
    }


def test_demo_annual_layout_is_two_zips_a_year_with_their_own_label_files(layouts):
    names = sorted(p.name for p in layouts["annual"].iterdir())
    assert names == [
        "202402_regional_2023_export.zip",
        "202402_regional_2023_import.zip",
        "202502_regional_2024_export.zip",
        "202502_regional_2024_import.zip",
        "DEMONSTRATION.txt",
    ]
    with zipfile.ZipFile(layouts["annual"] / "202502_regional_2024_import.zip") as archive:
        assert sorted(archive.namelist()) == [
            "Regional-2024-import/DEMONSTRATION.txt",
            "Regional-2024-import/Libelle_A129.txt",
            "Regional-2024-import/Libelle_PAYS.txt",
            "Regional-2024-import/Region_2024_Import.txt",
        ]


def test_both_layouts_give_the_same_database(layouts, tmp_path):
    dbs = {layout: ingest(folder, tmp_path / f"{layout}.duckdb").db for layout, folder in layouts.items()}
    for table in ("commerce", "departements", "regions", "libelles_a129", "libelles_pays"):
        national = query(dbs["national"], f"SELECT * FROM {table} ORDER BY ALL")
        assert national and national == query(dbs["annual"], f"SELECT * FROM {table} ORDER BY ALL"), table


def test_annual_zips_unpacked_side_by_side_nested_or_flat(layouts, tmp_path):
    expected = query(ingest(layouts["annual"], tmp_path / "zips.duckdb").db, "SELECT * FROM commerce ORDER BY ALL")
    side_by_side = tmp_path / "side"
    nested = tmp_path / "nested"
    for archive in sorted(layouts["annual"].glob("*.zip")):
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(side_by_side)
            opened.extractall(nested / archive.stem)  # unpacked into a folder named after the ZIP
    for folder in (side_by_side, nested):
        db = ingest(folder, tmp_path / f"{folder.name}.duckdb").db
        assert query(db, "SELECT * FROM commerce ORDER BY ALL") == expected


def test_label_name_variants_and_differing_copies(tmp_path):
    raw = tmp_path / "raw"
    annual_folder(raw, 2018, "E", EXPORT_ROWS, cpf4_name="Libelle_CPF4_rev2.1_2.txt")
    annual_folder(raw, 2018, "I", IMPORT_ROWS, cpf4_name="Libelle_CPF4.txt")
    report = ingest(raw, tmp_path / "t.duckdb")
    assert report.rows_loaded == 4
    assert query(report.db, "SELECT count(*) FROM libelles_cpf4")[0][0] == 3
    (raw / "Regional-2018-import" / "Libelle_PAYS.txt").write_bytes(COUNTRIES.replace("Brésil", "Brasil").encode())
    with pytest.raises(
        TicomexError,
        match=r"Regional-2018-export/Libelle_PAYS.txt and Regional-2018-import/Libelle_PAYS.txt differ",
    ):
        ingest(raw, tmp_path / "t.duckdb")


def test_only_the_export_zip_is_an_error_unless_one_flow_is_accepted(layouts, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("202502_regional_2024_export.zip", "202402_regional_2023_export.zip", "202402_regional_2023_import.zip"):
        shutil.copy(layouts["annual"] / name, raw / name)
    db = tmp_path / "t.duckdb"
    db.write_bytes(b"previous")
    with pytest.raises(TicomexError, match=r"Region_2024_Import.txt \(the imports of 2024\) missing"):
        ingest(raw, db)
    assert db.read_bytes() == b"previous"
    assert main(["data", "ingest", "--raw", str(raw), "--db", str(db), "--allow-one-flow"]) == 0
    assert "2024: no imports (accepted by --allow-one-flow" in capsys.readouterr().out
    assert query(db, "SELECT * FROM flux_absents") == [(2024, "I")]
    assert query(db, "SELECT DISTINCT flux FROM commerce WHERE annee = 2024") == [("E",)]


def test_missing_national_flow_and_a_year_without_one_flow(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "REGIONAL_CPF4PAYSI.txt").unlink()
    with pytest.raises(TicomexError, match=r"REGIONAL_CPF4PAYSI.txt \(the imports\) missing.*--allow-one-flow"):
        ingest(raw, tmp_path / "t.duckdb")
    # Both files, but the imports lack a year the exports hold.
    raw = write_release(tmp_path / "raw2", export_rows=[*EXPORT_ROWS, EXPORT_ROWS[0].replace("2018", "2019")])
    with pytest.raises(IngestError, match="2019 has no imports"):
        ingest(raw, tmp_path / "t.duckdb")
    assert not (tmp_path / "t.duckdb").exists()


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n"])
def test_an_empty_data_file_is_named(tmp_path, content):
    raw = write_release(tmp_path / "raw")
    (raw / "REGIONAL_CPF4PAYSE.txt").write_bytes(content)
    with pytest.raises(TicomexError, match=r"REGIONAL_CPF4PAYSE.txt is empty \(no data line\): the exports"):
        ingest(raw, tmp_path / "t.duckdb")


def test_a_spreadsheet_release_is_refused_with_the_conversion_to_do(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "Regional_2017.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(TicomexError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    message = str(caught.value)
    assert "Regional_2017.xlsx: a spreadsheet release" in message
    assert "thousands of euros with three decimals" in message and "Region_YYYY_Export.txt" in message


def test_several_releases_a_year_from_the_newest(tmp_path, capsys):
    # Release A: 2018 (annual); release B: 2018 revised and 2019 Q1 (national), hence newer.
    older = tmp_path / "older"
    annual_folder(older, 2018, "E", EXPORT_ROWS)
    annual_folder(older, 2018, "I", IMPORT_ROWS)
    revised = [r.replace(";406473;", ";500000;") for r in EXPORT_ROWS]
    newer = write_release(
        tmp_path / "newer",
        export_rows=[*revised, "E;1;2019;01;18;A01Z;0111;BE;7;1"],
        import_rows=[*IMPORT_ROWS, "I;1;2019;01;18;A01Z;0111;BE;9;1"],
    )
    db = tmp_path / "t.duckdb"
    for order in ([newer, older], [older, newer]):  # the order given does not decide
        assert main(["data", "ingest", "--db", str(db), *[a for r in order for a in ("--raw", str(r))]]) == 0
        out = capsys.readouterr().out
        assert f"2018: from {newer}" in out and f"2019: from {newer}" in out
        assert "2 superseded by a newer release" in out
        assert query(db, "SELECT sum(valeur) FROM commerce WHERE annee = 2018 AND flux = 'E'") == [(500000 + 11228,)]
        assert query(db, "SELECT count(*) FROM commerce") == [(6,)]


def test_bad_line_in_an_annual_folder_is_named_and_nothing_loaded(tmp_path):
    raw = tmp_path / "raw"
    annual_folder(raw, 2018, "E", [*EXPORT_ROWS, "E;3;2018;01;18;A01Z;0111;BE;12,5;1"])
    annual_folder(raw, 2018, "I", IMPORT_ROWS)
    db = tmp_path / "t.duckdb"
    with pytest.raises(
        IngestError,
        match=r"Regional-2018-export/Region_2018_Export.txt, line 3: value '12,5' is not a whole number of euros",
    ):
        ingest(raw, db)
    assert not db.exists()
    report = ingest(raw, db, skip_bad_lines=True)
    exports = next(f for f in report.files if f.flow == "E")
    assert (exports.lines_read, exports.rows_loaded, exports.lines_rejected) == (3, 2, 1)


def test_departments_from_the_reference_table_when_the_release_has_none(tmp_path):
    raw = tmp_path / "raw"
    annual_folder(raw, 2018, "E", EXPORT_ROWS)
    annual_folder(raw, 2018, "I", IMPORT_ROWS)
    assert not any(raw.rglob("Departement_region*"))
    db = ingest(raw, tmp_path / "t.duckdb").db
    assert query(db, "SELECT count(*) FROM departements") == [(101,)]
    assert len(DEPARTMENTS.splitlines()) == 3  # the hand-written file of write_release is not used
