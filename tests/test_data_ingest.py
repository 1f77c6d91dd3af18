"""Ingest of a customs release into DuckDB: parsing, labels, bad input, atomicity, fingerprint."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from ticomex.cli import main
from ticomex.data.ingest import ingest, recorded_fingerprint, rejects_path, release_fingerprint
from ticomex.data.problems import IngestError
from ticomex.errors import TicomexError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# Small label files in the official layout, written by hand (so these tests need no ../shared).
A129 = "\ufeffA01Z;Produits de la culture et de l’élevage;200901;999912\r\nC10A;Viande et produits à base de viande;200901;999912\r\nC26E;\"Appareils de mesure, d'essai et de navigation ; articles d'horlogerie\";200901;999912\r\n"
COUNTRIES = (
    "AR;Argentine;190001;999912\r\nAT;Autriche;190001;999912\r\nBE;Belgique;199901;999912\r\n"
    "BR;Brésil;190001;999912\r\nQU;Pays NDA;190001;199912\r\nQU;Pays et territoires non déterminés;201201;999912\r\n"
)
DEPARTMENTS = "01;Ain;18;Auvergne - Rhône-Alpes\r\n05;Hautes-Alpes;21;Provence-Alpes-Côte d'Azur\r\n99;Principauté de Monaco;21;Provence-Alpes-Côte d'Azur\r\n"
CPF4 = "0111;Céréales (à l'exclusion du riz), légumineuses et oléagineux;201501;999912\r\n1011;Viandes de boucherie;201501;999912\r\n2651;Instruments de mesure;201501;999912\r\n"

# The example rows of ../shared/FORMAT.md, by file.
EXPORT_ROWS = ["E;3;2018;01;18;A01Z;0111;BE;406473;1210935", "E;3;2018;01;18;A01Z;0111;BR;11228;250"]
IMPORT_ROWS = ["I;3;2018;01;18;A01Z;0111;AR;52;11", "I;3;2018;01;18;A01Z;0111;AT;29916;20815"]


def write_release(
    folder: Path,
    export_rows: list[str] = EXPORT_ROWS,
    import_rows: list[str] = IMPORT_ROWS,
    *,
    newline: str = "\r\n",
    cpf4: bool = True,
    demo: bool = False,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "REGIONAL_CPF4PAYSE.txt").write_bytes("".join(r + newline for r in export_rows).encode())
    (folder / "REGIONAL_CPF4PAYSI.txt").write_bytes("".join(r + newline for r in import_rows).encode())
    (folder / "Libelle_A129.txt").write_bytes(A129.encode("utf-8"))
    (folder / "Libelle_PAYS.txt").write_bytes(COUNTRIES.encode("utf-8"))
    (folder / "Departement_region.txt").write_bytes(DEPARTMENTS.encode("utf-8"))
    if cpf4:
        (folder / "Libelle_CPF4_rev2.1.txt").write_bytes(CPF4.encode("cp1252"))
    if demo:
        (folder / "DEMONSTRATION.txt").write_text("Données de démonstration synthétiques\n", encoding="utf-8")
    return folder


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- good input


def test_format_md_example_rows_load_typed(tmp_path):
    raw = write_release(tmp_path / "raw")
    report = ingest(raw, tmp_path / "t.duckdb")
    rows = query(tmp_path / "t.duckdb", "SELECT * FROM commerce ORDER BY flux, pays")
    assert rows == [
        ("E", 2018, 3, "01", "18", "A01Z", "0111", "BE", 406473, 1210935),
        ("E", 2018, 3, "01", "18", "A01Z", "0111", "BR", 11228, 250),
        ("I", 2018, 3, "01", "18", "A01Z", "0111", "AR", 52, 11),
        ("I", 2018, 3, "01", "18", "A01Z", "0111", "AT", 29916, 20815),
    ]
    types = query(
        tmp_path / "t.duckdb",
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'commerce' ORDER BY ordinal_position",
    )
    assert types == [
        ("flux", "VARCHAR"),
        ("annee", "SMALLINT"),
        ("trimestre", "TINYINT"),
        ("departement", "VARCHAR"),
        ("region", "VARCHAR"),
        ("a129", "VARCHAR"),
        ("cpf4", "VARCHAR"),
        ("pays", "VARCHAR"),
        ("valeur", "BIGINT"),
        ("masse", "BIGINT"),
    ]
    assert report.rows_loaded == 4 and report.lines_rejected == 0 and report.years == (2018,)


def test_schema_tables_and_labels_valid_in_the_year(tmp_path):
    raw = write_release(tmp_path / "raw", export_rows=EXPORT_ROWS + ["E;1;2018;05;21;C26E;2651;QU;1000;1"])
    db = tmp_path / "t.duckdb"
    ingest(raw, db)
    assert query(db, "SELECT code, nom, region FROM departements ORDER BY code") == [
        ("01", "Ain", "18"),
        ("05", "Hautes-Alpes", "21"),
        ("99", "Principauté de Monaco", "21"),
    ]
    assert query(db, "SELECT * FROM regions ORDER BY code") == [
        ("18", "Auvergne - Rhône-Alpes"),
        ("21", "Provence-Alpes-Côte d'Azur"),
    ]
    # QU has two labels in two periods: 2018 gets the current one, once.
    assert query(db, "SELECT annee, libelle FROM libelles_pays WHERE code = 'QU'") == [
        (2018, "Pays et territoires non déterminés")
    ]
    assert query(db, "SELECT libelle FROM libelles_a129 WHERE code = 'C26E'") == [
        ("Appareils de mesure, d'essai et de navigation ; articles d'horlogerie",)
    ]
    assert query(db, "SELECT libelle FROM libelles_cpf4 WHERE code = '0111'") == [
        ("Céréales (à l'exclusion du riz), légumineuses et oléagineux",)
    ]
    # Joining the labels never changes a total.
    assert query(
        db, "SELECT sum(valeur) FROM commerce c JOIN libelles_pays l ON l.code = c.pays AND l.annee = c.annee"
    ) == query(db, "SELECT sum(valeur) FROM commerce")
    publication = dict(query(db, "SELECT cle, valeur FROM publication"))
    assert publication["donnees"] == "officielles"
    assert publication["empreinte"] == release_fingerprint(raw)
    assert "DGDDI" in publication["source"]


def test_demo_marker_marks_the_database_as_demo(tmp_path):
    raw = write_release(tmp_path / "raw", demo=True)
    report = ingest(raw, tmp_path / "t.duckdb")
    publication = dict(query(tmp_path / "t.duckdb", "SELECT cle, valeur FROM publication"))
    assert publication["donnees"] == "demo" and report.data_kind == "demo"
    assert publication["source"] == "Données de démonstration synthétiques"
    assert "synthetic demo data" in report.text()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lf_and_crlf_data_files(tmp_path, newline):
    raw = write_release(tmp_path / "raw", newline=newline)
    assert ingest(raw, tmp_path / "t.duckdb").rows_loaded == 4


def test_mixed_line_endings_are_read_and_bad_lines_named(tmp_path):
    # A line added by hand with LF to a CRLF file.
    raw = write_release(tmp_path / "raw")
    data = "\r\n".join(EXPORT_ROWS) + "\r\n" + "E;1;2018;01;18;A01Z;0111;AT;12x;5\n"
    (raw / "REGIONAL_CPF4PAYSE.txt").write_bytes(data.encode())
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    assert f"REGIONAL_CPF4PAYSE.txt, line {len(EXPORT_ROWS) + 1}: value '12x'" in str(caught.value)
    (raw / "REGIONAL_CPF4PAYSE.txt").write_bytes(data.replace("12x", "12").encode())
    assert ingest(raw, tmp_path / "t.duckdb").rows_loaded == 5


def test_last_line_without_newline_and_blank_lines(tmp_path):
    raw = write_release(tmp_path / "raw")
    data = "\r\n".join([EXPORT_ROWS[0], "", EXPORT_ROWS[1], "", "E;9;2018;01;18;A01Z;0111;AT;5;5"])
    (raw / "REGIONAL_CPF4PAYSE.txt").write_text(data)
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    # Blank lines are skipped but still counted in the line numbers.
    assert "REGIONAL_CPF4PAYSE.txt, line 5: quarter '9' is not 1, 2, 3 or 4" in str(caught.value)
    report = ingest(raw, tmp_path / "t.duckdb", skip_bad_lines=True)
    export = report.files[0]
    assert (export.lines_read, export.blank_lines, export.rows_loaded, export.lines_rejected) == (3, 2, 2, 1)


def test_without_cpf4_labels_codes_are_checked_for_shape_only(tmp_path):
    raw = write_release(
        tmp_path / "raw", cpf4=False, export_rows=EXPORT_ROWS + ["E;1;2018;01;18;A01Z;9999;BE;1;1"]
    )
    db = tmp_path / "t.duckdb"
    assert ingest(raw, db).rows_loaded == 5
    assert query(db, "SELECT count(*) FROM libelles_cpf4") == [(0,)]
    (raw / "REGIONAL_CPF4PAYSE.txt").write_text(EXPORT_ROWS[0] + "\r\nE;1;2018;01;18;A01Z;01x1;BE;1;1\r\n")
    with pytest.raises(IngestError, match=r"line 2: CPF4 '01x1' is not a 4-digit code"):
        ingest(raw, db)


def test_annual_naming_in_subfolders(tmp_path):
    raw = tmp_path / "raw"
    write_release(raw, cpf4=False)
    (raw / "REGIONAL_CPF4PAYSE.txt").unlink()
    (raw / "REGIONAL_CPF4PAYSI.txt").unlink()
    for year, flow, rows in ((2018, "Export", EXPORT_ROWS), (2018, "Import", IMPORT_ROWS)):
        sub = raw / f"Regional-{year}-{flow.lower()}"
        sub.mkdir()
        (sub / f"Region_{year}_{flow}.txt").write_text("\r\n".join(rows) + "\r\n")
    (raw / "Libelle_CPF4.txt").write_bytes(CPF4.encode("cp1252"))
    report = ingest(raw, tmp_path / "t.duckdb")
    assert [f.name for f in report.files] == [
        "Regional-2018-export/Region_2018_Export.txt",
        "Regional-2018-import/Region_2018_Import.txt",
    ]
    assert report.rows_loaded == 4
    assert query(tmp_path / "t.duckdb", "SELECT count(*) FROM libelles_cpf4") == [(3,)]


def test_real_label_files_of_shared(tmp_path):
    if not (SHARED / "dgddi").is_dir():
        pytest.skip(f"{SHARED / 'dgddi'} absent: real label files not available")
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("Libelle_A129.txt", "Libelle_CPF4_rev2.1.txt", "Libelle_PAYS.txt", "Departement_region.txt"):
        shutil.copy(SHARED / "dgddi" / name, raw / name)
    rows = EXPORT_ROWS + [
        "E;1;2018;92;03;C26E;2651;QU;100;1",
        "E;1;2018;9E;24;A01Z;0130;XK;7;1",
        "E;1;2018;99;21;A01Z;0111;XS;3;1",
    ]
    (raw / "REGIONAL_CPF4PAYSE.txt").write_text("\r\n".join(rows) + "\r\n")
    (raw / "REGIONAL_CPF4PAYSI.txt").write_text("\r\n".join(IMPORT_ROWS) + "\r\n")
    db = tmp_path / "t.duckdb"
    assert ingest(raw, db).rows_loaded == 7
    assert query(db, "SELECT count(*), count(DISTINCT region) FROM departements") == [(101, 14)]
    assert query(db, "SELECT nom FROM regions WHERE code = '18'") == [("Auvergne - Rhône-Alpes",)]
    # UTF-8 with BOM, a label quoted because it holds ';' (with a no-break space before it).
    assert query(db, "SELECT code, libelle FROM libelles_a129 ORDER BY code LIMIT 1") == [
        ("A01Z", "Produits de la culture et de l’élevage")
    ]
    assert query(db, "SELECT libelle FROM libelles_a129 WHERE code = 'C26E'") == [
        ("Appareils de mesure, d'essai et de navigation\u00a0; articles d'horlogerie",)
    ]
    # cp1252, quoted.
    assert query(db, "SELECT libelle FROM libelles_cpf4 WHERE code = '0130'") == [
        (
            "Plants : plants de pépinière, bulbes, tubercules et rhizomes, boutures et greffons ; blanc de champignon",
        )
    ]
    # Codes repeated across validity periods get the label of 2018, once each.
    labels = dict(query(db, "SELECT code, libelle FROM libelles_pays WHERE code IN ('QU', 'XK', 'XS')"))
    assert labels == {"QU": "Pays et territoires non déterminés", "XK": "Kosovo", "XS": "Serbie"}
    codes = {
        line.split(";")[0]
        for line in (SHARED / "dgddi" / "Libelle_PAYS.txt").read_text(encoding="utf-8").splitlines()
    }
    assert query(db, "SELECT count(*), count(DISTINCT code) FROM libelles_pays") == [(len(codes), len(codes))]
    assert query(
        db, "SELECT sum(c.valeur) FROM commerce c JOIN libelles_pays l USING (annee) WHERE l.code = c.pays"
    ) == query(db, "SELECT sum(valeur) FROM commerce")


# --------------------------------------------------------------------------- bad input

GOOD = "E;3;2018;01;18;A01Z;0111;BE;406473;1210935"


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("E;3;2018;01;18;A01Z;0111;BE;406473", "expected 10 fields separated by ';', found 9"),
        ("E;3;2018;01;18;A01Z;0111;BE;406473;12;7", "expected 10 fields separated by ';', found 11"),
        ("E;3;2018;01;18;A01Z;0111;BE;12.5;7", "value '12.5' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE;12,5;7", "value '12,5' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE;1e3;7", "value '1e3' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE; 12;7", "value ' 12' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE;+12;7", "value '+12' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE;;7", "value '' is not a whole number of euros"),
        ("E;3;2018;01;18;A01Z;0111;BE;12;7.0", "mass '7.0' is not a whole number of kilograms"),
        ("X;3;2018;01;18;A01Z;0111;BE;12;7", "unknown flow 'X' (expected E or I)"),
        ("I;3;2018;01;18;A01Z;0111;BE;12;7", "flow I in the exports file"),
        ("E;5;2018;01;18;A01Z;0111;BE;12;7", "quarter '5' is not 1, 2, 3 or 4"),
        ("E;3;18;01;18;A01Z;0111;BE;12;7", "year '18' is not a 4-digit year"),
        ("E;3;2018;02;18;A01Z;0111;BE;12;7", "department '02' is not in Departement_region.txt"),
        ("E;3;2018;01;77;A01Z;0111;BE;12;7", "region '77' is not in Departement_region.txt"),
        (
            "E;3;2018;01;21;A01Z;0111;BE;12;7",
            "region '21' is not the region of department 01 (18 in Departement_region.txt)",
        ),
        ("E;3;2018;01;18;Z99Z;0111;BE;12;7", "product (A129) 'Z99Z' is not in Libelle_A129.txt"),
        ("E;3;2018;01;18;A01Z;0112;BE;12;7", "CPF4 '0112' is not in Libelle_CPF4_rev2.1.txt"),
        ("E;3;2018;01;18;A01Z;0111;ZZ;12;7", "country 'ZZ' is not in Libelle_PAYS.txt"),
    ],
)
def test_each_bad_line_is_named_with_file_line_and_reason(tmp_path, bad_line, reason):
    raw = write_release(tmp_path / "raw", export_rows=[GOOD, bad_line, EXPORT_ROWS[1]])
    db = tmp_path / "t.duckdb"
    db.write_bytes(b"the previous database")
    with pytest.raises(IngestError) as caught:
        ingest(raw, db)
    assert f"REGIONAL_CPF4PAYSE.txt, line 2: {reason}" in str(caught.value)
    assert [(b.file, b.line) for b in caught.value.bad_lines] == [("REGIONAL_CPF4PAYSE.txt", 2)]
    assert db.read_bytes() == b"the previous database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "t.duckdb"]


def test_cli_prints_bad_lines_without_traceback_and_exits_1(tmp_path, capsys):
    raw = write_release(
        tmp_path / "raw", import_rows=[IMPORT_ROWS[0], "I;3;2018;01;18;A01Z;0111;AT;29916;2.5"]
    )
    assert main(["data", "ingest", "--raw", str(raw), "--db", str(tmp_path / "t.duckdb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ticomex: ") and "Traceback" not in err
    assert "REGIONAL_CPF4PAYSI.txt, line 2: mass '2.5' is not a whole number of kilograms" in err
    assert "--skip-bad-lines" in err


def test_duplicate_key_names_every_line(tmp_path):
    same_key = (
        "E;3;2018;01;18;C10A;0111;BE;99;9"  # same flow, year, quarter, department, CPF4, country as line 1
    )
    raw = write_release(tmp_path / "raw", export_rows=[GOOD, EXPORT_ROWS[1], same_key])
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    message = str(caught.value)
    key = "(E, 2018, quarter 3, department 01, CPF4 0111, country BE)"
    assert f"REGIONAL_CPF4PAYSE.txt, line 1: same key {key} as line 3" in message
    assert f"REGIONAL_CPF4PAYSE.txt, line 3: same key {key} as line 1" in message


def test_duplicate_across_annual_files(tmp_path):
    raw = tmp_path / "raw"
    write_release(raw)
    (raw / "REGIONAL_CPF4PAYSE.txt").unlink()
    (raw / "REGIONAL_CPF4PAYSI.txt").unlink()
    (raw / "Region_2018_Export.txt").write_text(GOOD + "\r\n")
    (raw / "Region_2019_Export.txt").write_text(EXPORT_ROWS[1] + "\r\n" + GOOD + "\r\n")
    (raw / "Region_2018_Import.txt").write_text(IMPORT_ROWS[0] + "\r\n")
    (raw / "Region_2019_Import.txt").write_text(IMPORT_ROWS[0].replace("2018", "2019") + "\r\n")
    with pytest.raises(
        IngestError, match=r"Region_2019_Export.txt, line 2: same key .* as Region_2018_Export.txt line 1"
    ):
        ingest(raw, tmp_path / "t.duckdb")


def test_message_lists_up_to_the_cap_then_counts(tmp_path):
    bad = [f"E;3;2018;01;18;A01Z;0111;BE;{i}.5;1" for i in range(30)]
    raw = write_release(tmp_path / "raw", export_rows=bad)
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    message = str(caught.value)
    assert "30 bad line(s)" in message
    assert message.count("REGIONAL_CPF4PAYSE.txt, line ") == 20
    assert "line 20: value '19.5'" in message and "line 21:" not in message
    assert "… and 10 more bad line(s)" in message


def test_failed_ingest_leaves_previous_database_untouched(tmp_path):
    db = tmp_path / "data" / "ticomex.duckdb"
    ingest(write_release(tmp_path / "good"), db)
    before = db.read_bytes()
    bad = write_release(tmp_path / "bad", export_rows=[GOOD, "E;3;2018;01;18;A01Z;0111;BE;oops;1"])
    with pytest.raises(IngestError):
        ingest(bad, db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["ticomex.duckdb"]  # no temporary file left
    assert query(db, "SELECT count(*) FROM commerce") == [(4,)]


def test_bad_label_file_line_is_named(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "Libelle_PAYS.txt").write_text(
        "AR;Argentine;190001;999912\r\nBE;Belgique;199901\r\nBR;Brésil;1900;999912\r\n", encoding="utf-8"
    )
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    message = str(caught.value)
    assert "Libelle_PAYS.txt, line 2: expected 4 fields (Code;Libellé;début;fin), found 3" in message
    assert "Libelle_PAYS.txt, line 3: validity '1900'-'999912' is not two YYYYMM dates" in message


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("BE;Belgium;199901;202012", "code BE with start 199901 already on line 1"),
        ("AR;Argentine;202001;201912", "validity starts (202001) after it ends (201912)"),
        ("AR;Argentine;190013;999912", "validity '190013'-'999912' is not two YYYYMM dates"),
        ("AR;;190001;999912", "empty code or label"),
        ('AR;"Argen"tine;190001;999912', "unreadable quoting"),
    ],
)
def test_each_bad_label_line_is_named(tmp_path, bad_line, reason):
    raw = write_release(tmp_path / "raw")
    (raw / "Libelle_PAYS.txt").write_text(f"BE;Belgique;199901;999912\r\n{bad_line}\r\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    assert f"Libelle_PAYS.txt, line 2: {reason}" in str(caught.value)
    assert [(b.file, b.line) for b in caught.value.bad_lines] == [("Libelle_PAYS.txt", 2)]


def test_empty_label_file_is_named(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "Libelle_PAYS.txt").write_text("\r\n\r\n")
    with pytest.raises(IngestError, match="Libelle_PAYS.txt, line 1: no label in the file"):
        ingest(raw, tmp_path / "t.duckdb")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("01;Ain bis;18;Auvergne - Rhône-Alpes", "department 01 already on line 1"),
        (
            "06;Alpes-Maritimes;21;PACA",
            "region 21 is named \"Provence-Alpes-Côte d'Azur\" on line 2, here 'PACA'",
        ),
        ("06;Alpes-Maritimes;21", "expected 4 fields (code;libellé;code région;libellé région), found 3"),
        ("06;;21;Provence-Alpes-Côte d'Azur", "empty field"),
    ],
)
def test_each_bad_department_line_is_named(tmp_path, extra, reason):
    raw = write_release(tmp_path / "raw")
    (raw / "Departement_region.txt").write_bytes((DEPARTMENTS + extra + "\r\n").encode("utf-8"))
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "t.duckdb")
    assert f"Departement_region.txt, line 4: {reason}" in str(caught.value)


def test_label_file_neither_utf8_nor_cp1252_is_named(tmp_path):
    raw = write_release(tmp_path / "raw")
    # 0x81 is undefined in cp1252 and invalid alone in UTF-8.
    (raw / "Libelle_A129.txt").write_bytes(
        b"A01Z;Produits;200901;999912\r\nC10A;Viande \x81;200901;999912\r\n"
    )
    with pytest.raises(IngestError, match=r"^Libelle_A129.txt, line 2: neither UTF-8 nor cp1252 text$"):
        ingest(raw, tmp_path / "t.duckdb")


def test_a_release_folder_holds_one_release(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "old").mkdir()
    # An identical copy of a label file is what an annual release holds: accepted.
    shutil.copy(raw / "Libelle_PAYS.txt", raw / "old" / "Libelle_PAYS.txt")
    ingest(raw, tmp_path / "t.duckdb")
    (raw / "old" / "Libelle_PAYS.txt").write_bytes(COUNTRIES.replace("Brésil", "Bresil").encode())
    with pytest.raises(TicomexError, match=r"Libelle_PAYS.txt and old/Libelle_PAYS.txt differ"):
        ingest(raw, tmp_path / "t2.duckdb")
    (raw / "old" / "Libelle_PAYS.txt").unlink()
    shutil.copy(raw / "REGIONAL_CPF4PAYSE.txt", raw / "old" / "REGIONAL_CPF4PAYSE.txt")
    with pytest.raises(
        TicomexError,
        match=r"REGIONAL_CPF4PAYSE.txt found more than once \(REGIONAL_CPF4PAYSE.txt and old/REGIONAL_CPF4PAYSE.txt\)",
    ):
        ingest(raw, tmp_path / "t2.duckdb")
    (raw / "old" / "REGIONAL_CPF4PAYSE.txt").unlink()
    (raw / "Region_2018_Export.txt").write_text(GOOD + "\r\n")
    with pytest.raises(
        TicomexError, match="holds both REGIONAL_CPF4PAYSE.txt/REGIONAL_CPF4PAYSI.txt and annual"
    ):
        ingest(raw, tmp_path / "t.duckdb")
    (raw / "REGIONAL_CPF4PAYSE.txt").unlink()
    (raw / "REGIONAL_CPF4PAYSI.txt").unlink()
    (raw / "Region_2018_Export.txt").unlink()
    with pytest.raises(TicomexError, match="no data file \\(expected REGIONAL_CPF4PAYSE.txt and REGIONAL_CPF4PAYSI.txt"):
        ingest(raw, tmp_path / "t.duckdb")


def test_missing_label_file_is_named(tmp_path, capsys):
    raw = write_release(tmp_path / "raw")
    (raw / "Libelle_A129.txt").unlink()
    with pytest.raises(TicomexError, match="Libelle_A129.txt is missing"):
        ingest(raw, tmp_path / "t.duckdb")
    nowhere = tmp_path / "nowhere"
    assert main(["data", "ingest", "--raw", str(nowhere), "--db", str(tmp_path / "t.duckdb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ticomex: {nowhere}: release folder not found") and "ticomex data demo" in err
    assert not (tmp_path / "t.duckdb").exists()


def test_non_utf8_bytes_are_reported_not_crashing(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "REGIONAL_CPF4PAYSE.txt").write_bytes(
        (GOOD + "\r\nE;3;2018;01;18;A01Z;0111;B\xc9;1;1\r\n").encode("latin-1")
    )
    with pytest.raises(IngestError, match="line 2: country 'BÉ' is not in Libelle_PAYS.txt"):
        ingest(raw, tmp_path / "t.duckdb")


def test_unreadable_line_is_named(tmp_path):
    raw = write_release(tmp_path / "raw")
    (raw / "REGIONAL_CPF4PAYSE.txt").write_bytes(
        ("\r\n".join(EXPORT_ROWS) + "\r\nE;3;2018\x1f;01\r\n").encode()
    )
    with pytest.raises(IngestError, match=r"REGIONAL_CPF4PAYSE.txt, line 3: control character 0x1F"):
        ingest(raw, tmp_path / "t.duckdb")


# --------------------------------------------------------------------------- skip bad lines, reconciliation


def test_skip_bad_lines_loads_good_ones_and_writes_rejects(tmp_path, capsys):
    rows = [GOOD, "E;3;2018;01;18;A01Z;0111;BE;12.5;1", EXPORT_ROWS[1], "E;3;2018;02;18;A01Z;0111;AT;1000;1"]
    raw = write_release(tmp_path / "raw", export_rows=rows)
    db = tmp_path / "data" / "ticomex.duckdb"
    assert main(["data", "ingest", "--raw", str(raw), "--db", str(db), "--skip-bad-lines"]) == 0
    out = capsys.readouterr().out
    rejects = rejects_path(db)
    assert rejects == tmp_path / "data" / "ticomex.rejets.csv"
    assert f"2 rejected lines, with their reasons, written to {rejects}" in out
    with rejects.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle, delimiter=";")) == [
            ["fichier", "ligne", "motif", "contenu"],
            ["REGIONAL_CPF4PAYSE.txt", "2", "value '12.5' is not a whole number of euros", rows[1]],
            ["REGIONAL_CPF4PAYSE.txt", "4", "department '02' is not in Departement_region.txt", rows[3]],
        ]
    assert query(db, "SELECT count(*), sum(valeur) FROM commerce WHERE flux = 'E'") == [(2, 406473 + 11228)]
    # lines read = loaded + rejected; euros read = loaded + rejected (12.5 is not a euro amount).
    assert (
        "REGIONAL_CPF4PAYSE.txt (exports): 4 lines read = 2 loaded + 2 rejected; 418 701 € read = 417 701 € loaded + 1 000 € rejected"
        in out
    )
    # A later clean ingest removes the stale rejects file.
    ingest(write_release(tmp_path / "clean"), db)
    assert not rejects.exists()


def test_nothing_to_load_keeps_the_previous_database(tmp_path):
    db = tmp_path / "t.duckdb"
    db.write_bytes(b"the previous database")
    raw = write_release(
        tmp_path / "raw",
        export_rows=["E;3;2018;01;18;A01Z;0111;BE;1.5;1"],
        import_rows=["I;3;2018;01;18;A01Z;0111;BE;1.5;1"],
    )
    with pytest.raises(IngestError, match="no data row to load"):
        ingest(raw, db, skip_bad_lines=True)
    assert db.read_bytes() == b"the previous database"
    assert not rejects_path(db).exists()


def test_reconciliation_on_demo_release_matches_an_independent_count(tmp_path):
    from ticomex.data.demo import write_demo_release

    raw = write_demo_release(tmp_path / "demo", rows=3000)
    report = ingest(raw, tmp_path / "t.duckdb")
    for file_report in report.files:
        lines = (raw / file_report.name).read_text().splitlines()
        assert file_report.lines_read == len(lines) == file_report.rows_loaded == 3000
        assert (
            file_report.euros_read
            == sum(int(line.split(";")[8]) for line in lines)
            == file_report.euros_loaded
        )
        assert file_report.lines_rejected == file_report.euros_rejected == 0


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_follows_the_release_bytes(tmp_path):
    raw = write_release(tmp_path / "raw")
    db = tmp_path / "t.duckdb"
    assert recorded_fingerprint(db) is None
    first = release_fingerprint(raw)
    assert release_fingerprint(raw) == first
    ingest(raw, db)
    assert recorded_fingerprint(db) == first
    (raw / "Libelle_PAYS.txt").write_bytes(COUNTRIES.replace("Brésil", "Bresil").encode())
    assert release_fingerprint(raw) != first
    (raw / "Libelle_PAYS.txt").write_bytes(COUNTRIES.encode())
    assert release_fingerprint(raw) == first
    (raw / "DEMONSTRATION.txt").write_text("x")
    assert release_fingerprint(raw) != first


def test_fingerprint_follows_the_ingest_code(tmp_path, monkeypatch):
    import ticomex.data.ingest as module

    raw = write_release(tmp_path / "raw")
    first = release_fingerprint(raw)
    monkeypatch.setattr(module, "code_version", lambda: "another version of the code")
    assert release_fingerprint(raw) != first
