"""Load a customs release (official or demo) into one DuckDB file (schema: docs/architecture.md).

Every data line is checked (fields, flow, quarter, year, codes against the label files, whole
numbers, unique key); a bad line stops the ingest with its file, line number and reason, or,
with `skip_bad_lines`, goes to a rejects file. The database is built in a temporary file next to
the target and moved into place at the end, so a failed ingest leaves the previous one intact.

Speed: DuckDB reads each data file as one text column (one row per line, in file order, so the
row id gives the line number) into memory, then splits, types and writes every line straight into
the output file with its line number and a format flag; codes are checked once per distinct
value, the key by one pass over its hashes; only the few suspect lines are looked at again, to
word their reason. Bad lines are then deleted and the helper columns dropped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ticomex import reference
from ticomex.data.labels import DepartmentRow, Label, read_departments, read_labels
from ticomex.data.problems import MAX_LISTED, BadLine, IngestError, describe_bad_lines
from ticomex.data.release import FLOW_NAMES, DataFile, Release, locate_release, release_files

OFFICIAL_SOURCE = (
    "DGDDI, statistiques régionales et départementales du commerce extérieur (open data, Licence Ouverte 2.0)"
)
# The modules whose code shapes the database: a change to any of them re-ingests.
CODE_FILES = ("ingest.py", "labels.py", "release.py", "problems.py")
COMMERCE_COLUMNS = (
    "flux",
    "annee",
    "trimestre",
    "departement",
    "region",
    "a129",
    "cpf4",
    "pays",
    "valeur",
    "masse",
)
WHOLE_NUMBER = "-?[0-9]{1,18}"  # fits BIGINT; no sign '+', blanks, decimals or exponents
UNIT_SEPARATOR = "\x1f"  # never in a text file: each line is read as a single field


# --------------------------------------------------------------------------- fingerprint


def code_version() -> str:
    """Hash of the ingest code and the DuckDB version that writes the file."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    here = Path(__file__).parent
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()


def _folders(raw: Path | str | Sequence[Path | str]) -> tuple[Path, ...]:
    """One release folder or several, oldest precedence first (see `ingest`)."""
    return (Path(raw),) if isinstance(raw, (str, os.PathLike)) else tuple(Path(r) for r in raw)


def release_fingerprint(raw: Path | Sequence[Path], allow_one_flow: bool = False) -> str:
    """sha256 over the release folders' files (names and bytes, ZIPs as they are), their order,
    the options that change what is loaded and the ingest code version."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(b"allow_one_flow" if allow_one_flow else b"both_flows")
    for folder in _folders(raw):
        if not folder.is_dir():
            locate_release(folder)  # its error: the folder is missing
        digest.update(b"\0release\0")
        for path in release_files(folder):
            digest.update(b"\0" + path.relative_to(folder).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def recorded_fingerprint(db: Path) -> str | None:
    """The fingerprint stored by the ingest that wrote `db`; None when there is no usable DB."""
    db = Path(db)
    if not db.is_file():
        return None
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("SELECT valeur FROM publication WHERE cle = 'empreinte'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class FileReport:
    name: str  # path relative to the release folder (prefixed by the folder when several)
    flow: str  # E or I
    lines_read: int  # non-blank lines
    blank_lines: int  # ignored
    rows_loaded: int
    lines_rejected: int
    euros_read: int  # sum of the value field over the lines where it is a whole number
    euros_loaded: int
    euros_rejected: int
    rows_superseded: int = 0  # good rows of a year taken from a newer release
    euros_superseded: int = 0


@dataclass(frozen=True)
class IngestReport:
    raw: tuple[Path, ...]  # the release folders, in the order given
    db: Path
    data_kind: str  # publication.donnees: "demo" or "officielles"
    files: tuple[FileReport, ...]
    years: tuple[int, ...]
    rejects: Path | None  # the rejects file, when lines were skipped
    fingerprint: str = field(repr=False)
    year_sources: dict[int, Path] = field(default_factory=dict)  # the release each year came from
    missing_flows: tuple[tuple[int, str], ...] = ()  # (year, flow) absent, accepted by allow_one_flow

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def lines_rejected(self) -> int:
        return sum(f.lines_rejected for f in self.files)

    def text(self) -> str:
        def n(number: int) -> str:
            return f"{number:,}".replace(",", " ")

        kind = "synthetic demo data" if self.data_kind == "demo" else "official data"
        years = ", ".join(str(y) for y in self.years) or "none"
        sources = " + ".join(str(r) for r in self.raw)
        lines = [f"Ingested {sources} ({kind}) into {self.db}: {n(self.rows_loaded)} rows, years {years}"]
        if len(self.raw) > 1:
            for year in self.years:
                lines.append(f"  {year}: from {self.year_sources[year]}")
        for f in self.files:
            lines.append(
                f"  {f.name} ({FLOW_NAMES[f.flow]}s): {n(f.lines_read)} lines read = "
                f"{n(f.rows_loaded)} loaded + {n(f.lines_rejected)} rejected"
                + (f" + {n(f.rows_superseded)} superseded by a newer release" if f.rows_superseded else "")
                + f"; {n(f.euros_read)} € read = {n(f.euros_loaded)} € loaded + {n(f.euros_rejected)} € rejected"
                + (f" + {n(f.euros_superseded)} € superseded" if f.rows_superseded else "")
                + (f"; {n(f.blank_lines)} blank lines ignored" if f.blank_lines else "")
            )
        for year, flow in self.missing_flows:
            lines.append(f"  {year}: no {FLOW_NAMES[flow]}s (accepted by --allow-one-flow; the sheets say so)")
        if self.rejects is not None:
            lines.append(
                f"  {n(self.lines_rejected)} rejected lines, with their reasons, written to {self.rejects}"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- SQL helpers


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted(expression: str) -> str:
    """SQL showing a field in a message: the value between quotes, or 'missing'."""
    return f"coalesce('''' || {expression} || '''', 'missing')"


@dataclass
class _Codes:
    """The codes the label files define, and the file names to quote in messages."""

    region_of: dict[str, str]
    a129: set[str]
    cpf4: set[str] | None
    countries: set[str]
    files: dict[str, str]


def _merged_labels(paths: list[Path]) -> list[Label]:
    """The labels of several releases' files of one kind: the newest release's row wins for a
    (code, start) pair, the older ones add the codes and periods it lacks."""
    merged: dict[tuple[str, int], Label] = {}
    for path in paths:  # oldest first
        for label in read_labels(path):
            merged[(label.code, label.start)] = label
    return sorted(merged.values(), key=lambda label: (label.code, label.start))


def _reference_departments() -> list[DepartmentRow]:
    return [
        DepartmentRow(d.code, d.name, d.region, d.region_name, line)
        for line, d in enumerate(reference.departments(), start=2)
    ]


REFERENCE_DEPARTMENTS = "reference/departements.csv"  # used when no release has Departement_region.txt


def _load_labels(con: duckdb.DuckDBPyConnection, releases: list[Release]) -> _Codes:
    """Read the label files (bad lines raise) and store them as temporary tables.

    `releases` are in precedence order, the newest last: its Departement_region.txt is used, and
    its label rows win over the older ones'."""
    with_departments = [r.departments for r in releases if r.departments is not None]
    departments = read_departments(with_departments[-1]) if with_departments else _reference_departments()
    cpf4_files = [r.cpf4 for r in releases if r.cpf4 is not None]
    # Keyed by the output tables' suffix (libelles_a129, libelles_cpf4, libelles_pays).
    labelled: dict[str, list[Label]] = {
        "a129": _merged_labels([r.a129 for r in releases]),
        "pays": _merged_labels([r.countries for r in releases]),
        "cpf4": _merged_labels(cpf4_files),
    }
    con.register(
        "departments_read",
        pd.DataFrame(
            [(d.code, d.name, d.region, d.region_name) for d in departments],
            columns=["code", "name", "region", "region_name"],
        ),
    )
    con.execute("CREATE TABLE file_departments AS SELECT * FROM departments_read")
    con.unregister("departments_read")
    for kind, labels in labelled.items():
        frame = pd.DataFrame(
            [(label.code, label.text, label.start, label.end) for label in labels],
            columns=["code", "label", "valid_from", "valid_to"],
        ).astype({"code": "string", "label": "string", "valid_from": "int64", "valid_to": "int64"})
        con.register("labels_read", frame)
        con.execute(f"CREATE TABLE file_labels_{kind} AS SELECT * FROM labels_read")
        con.unregister("labels_read")
    newest = releases[-1]
    return _Codes(
        region_of={d.code: d.region for d in departments},
        a129={label.code for label in labelled["a129"]},
        cpf4={label.code for label in labelled["cpf4"]} if cpf4_files else None,
        countries={label.code for label in labelled["pays"]},
        files={
            "departments": with_departments[-1].name if with_departments else REFERENCE_DEPARTMENTS,
            "a129": newest.a129.name,
            "countries": newest.countries.name,
            "cpf4": cpf4_files[-1].name if cpf4_files else "",
        },
    )


def _read_lines(con: duckdb.DuckDBPyConnection, k: int, path: Path) -> None:
    """Table raw_k: one row per line of the file, in order (blank lines as NULL)."""
    options = (
        f"delim={_sql_text(UNIT_SEPARATOR)}, quote='', escape='', header=false, auto_detect=false, "
        "columns={'line_text': 'VARCHAR'}"
    )
    source = _sql_text(str(path))
    try:
        con.execute(f"CREATE TABLE raw_{k} AS SELECT line_text FROM read_csv({source}, {options})")
    except duckdb.InvalidInputException as err:
        if "unicode" not in str(err).lower():
            separator_line = _line_holding(path, UNIT_SEPARATOR.encode())
            if separator_line is not None:
                raise IngestError(
                    f"{path.name}, line {separator_line}: control character 0x1F in the line"
                ) from None
            try:  # lines ending in CRLF and in LF in one file (a line added by hand)
                con.execute(
                    f"CREATE TABLE raw_{k} AS SELECT line_text FROM read_csv({source}, {options}, strict_mode=false)"
                )
                return
            except duckdb.InvalidInputException:
                pass
            raise IngestError(
                f"{path.name}: cannot be read as text lines ({str(err).splitlines()[0]}; "
                "not a text file?)"
            ) from None
        # Not UTF-8: every byte is a valid latin-1 character, so the lines still load and
        # their non-ASCII codes are reported as unknown codes.
        con.execute(
            f"CREATE TABLE raw_{k} AS SELECT line_text FROM read_csv({source}, {options}, encoding='latin-1')"
        )


def _line_holding(path: Path, needle: bytes) -> int | None:
    """Number of the first line of `path` holding `needle`, or None."""
    import mmap

    if path.stat().st_size == 0:
        return None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = data.find(needle)
        return None if at < 0 else data[:at].count(b"\n") + 1


HELPER_COLUMNS = ("file_index", "line_number", "well_formed")  # dropped once the lines are checked


def _line_pattern(flow: str) -> str:
    """A well-formed data line of a file of flow `flow`: 10 fields, codes free, numbers whole."""
    return f"{flow};[1-4];[0-9]{{4}};[^;]*;[^;]*;[^;]*;[^;]*;[^;]*;{WHOLE_NUMBER};{WHOLE_NUMBER}"


def _parse_into_commerce(con: duckdb.DuckDBPyConnection, data_files: list[DataFile]) -> None:
    """out_db.commerce from every line of every file: typed fields plus the file, the line number
    and whether the line is well formed (helper columns used by the checks, then dropped).

    Written straight into the output file: one pass, compressed once. The casts are exact on
    well-formed lines; the others are rejected and worded from their raw text."""
    branches = [
        f"""SELECT {k} AS file_index, line_number,
               regexp_full_match(line_text, '{_line_pattern(data_file.flow)}') AS well_formed,
               f[1] AS flux, TRY_CAST(f[2] AS TINYINT) AS trimestre, TRY_CAST(f[3] AS SMALLINT) AS annee,
               f[4] AS departement, f[5] AS region, f[6] AS a129, f[7] AS cpf4, f[8] AS pays,
               TRY_CAST(f[9] AS BIGINT) AS valeur, TRY_CAST(f[10] AS BIGINT) AS masse
            FROM (SELECT rowid + 1 AS line_number, line_text, string_split(line_text, ';') AS f
                  FROM raw_{k} WHERE line_text IS NOT NULL)"""
        for k, data_file in enumerate(data_files)
    ]
    con.execute(
        f"""CREATE TABLE out_db.commerce AS
            SELECT {", ".join(COMMERCE_COLUMNS)}, {", ".join(HELPER_COLUMNS)}
            FROM ({" UNION ALL ".join(branches)})"""
    )


def _unknown_code_filters(con: duckdb.DuckDBPyConnection, codes: _Codes) -> str:
    """SQL condition true on well-formed rows holding a code the label files do not define.

    Codes are checked once per distinct value (a few hundred), not once per row."""
    distinct = con.execute(
        """SELECT departement, region, a129, cpf4, pays FROM out_db.commerce WHERE well_formed
           GROUP BY GROUPING SETS ((departement, region), (a129), (cpf4), (pays))"""
    ).fetchall()
    bad: dict[str, set[str]] = {"department_region": set(), "a129": set(), "cpf4": set(), "country": set()}
    for department, region, a129, cpf4, country in distinct:
        if department is not None and codes.region_of.get(department) != region:
            bad["department_region"].add(f"{department};{region}")
        if a129 is not None and a129 not in codes.a129:
            bad["a129"].add(a129)
        if cpf4 is not None and (cpf4 not in codes.cpf4 if codes.cpf4 is not None else not _is_cpf4(cpf4)):
            bad["cpf4"].add(cpf4)
        if country is not None and country not in codes.countries:
            bad["country"].add(country)
    columns = {
        "department_region": "departement || ';' || region",
        "a129": "a129",
        "cpf4": "cpf4",
        "country": "pays",
    }
    conditions = []
    for kind, values in bad.items():
        if values:
            con.register("unknown_values", pd.DataFrame({"code": sorted(values)}, dtype="string"))
            con.execute(f"CREATE TABLE unknown_{kind} AS SELECT code FROM unknown_values")
            con.unregister("unknown_values")
            conditions.append(f"{columns[kind]} IN (SELECT code FROM unknown_{kind})")
    return " OR ".join(conditions)


def _is_cpf4(code: str) -> bool:
    return len(code) == 4 and code.isascii() and code.isdigit()


def _reasons_sql(k: int, flow: str, codes: _Codes, suspect: str) -> str:
    """Rows (file_index, line_number, reason) for the suspect lines of file k: the first problem of each."""
    q = _quoted
    if codes.cpf4 is not None:
        cpf4_check = (
            f"WHEN f[7] NOT IN (SELECT code FROM file_labels_cpf4) "
            f"THEN 'CPF4 ' || {q('f[7]')} || ' is not in {codes.files['cpf4']}'"
        )
    else:
        cpf4_check = f"WHEN NOT regexp_full_match(f[7], '[0-9]{{4}}') THEN 'CPF4 ' || {q('f[7]')} || ' is not a 4-digit code'"
    departments = codes.files["departments"]
    return f"""
        SELECT {k} AS file_index, c.line_number, CASE
            WHEN len(f) <> 10 THEN 'expected 10 fields separated by '';'', found ' || len(f)
            WHEN f[1] NOT IN ('E', 'I') THEN 'unknown flow ' || {q("f[1]")} || ' (expected E or I)'
            WHEN f[1] <> '{flow}' THEN 'flow ' || f[1] || ' in the {FLOW_NAMES[flow]}s file'
            WHEN f[2] NOT IN ('1', '2', '3', '4') THEN 'quarter ' || {q("f[2]")} || ' is not 1, 2, 3 or 4'
            WHEN NOT regexp_full_match(f[3], '[0-9]{{4}}') THEN 'year ' || {q("f[3]")} || ' is not a 4-digit year'
            WHEN NOT regexp_full_match(f[9], '{WHOLE_NUMBER}')
                THEN 'value ' || {q("f[9]")} || ' is not a whole number of euros'
            WHEN NOT regexp_full_match(f[10], '{WHOLE_NUMBER}')
                THEN 'mass ' || {q("f[10]")} || ' is not a whole number of kilograms'
            WHEN d.code IS NULL THEN 'department ' || {q("f[4]")} || ' is not in {departments}'
            WHEN f[5] NOT IN (SELECT region FROM file_departments)
                THEN 'region ' || {q("f[5]")} || ' is not in {departments}'
            WHEN d.region <> f[5] THEN 'region ' || {q("f[5]")} || ' is not the region of department '
                || f[4] || ' (' || d.region || ' in {departments})'
            WHEN f[6] NOT IN (SELECT code FROM file_labels_a129)
                THEN 'product (A129) ' || {q("f[6]")} || ' is not in {codes.files["a129"]}'
            {cpf4_check}
            WHEN f[8] NOT IN (SELECT code FROM file_labels_pays)
                THEN 'country ' || {q("f[8]")} || ' is not in {codes.files["countries"]}'
        END AS reason
        FROM (SELECT line_number FROM out_db.commerce WHERE file_index = {k} AND ({suspect})) AS c
        JOIN (SELECT rowid + 1 AS line_number, string_split(line_text, ';') AS f FROM raw_{k}) AS b
            USING (line_number)
        LEFT JOIN file_departments AS d ON d.code = f[4]
    """


def _duplicates(con: duckdb.DuckDBPyConnection, names: list[str], suspect: str) -> list[BadLine]:
    """Lines sharing the key (flow, year, quarter, department, CPF4, country), all of them."""
    key = "flux, annee, trimestre, departement, cpf4, pays"
    # One pass over hashes of the key; a shared hash is only a candidate, checked on the key itself.
    shared = con.execute(
        f"SELECT hash({key}) AS h FROM out_db.commerce WHERE NOT ({suspect}) GROUP BY h HAVING count(*) > 1"
    ).fetchall()
    if not shared:
        return []
    con.register("shared_hashes", pd.DataFrame({"h": [h for (h,) in shared]}, dtype="uint64"))
    groups = con.execute(
        f"""SELECT {key}, list(file_index ORDER BY file_index, line_number),
                   list(line_number ORDER BY file_index, line_number)
            FROM out_db.commerce WHERE NOT ({suspect}) AND hash({key}) IN (SELECT h FROM shared_hashes)
            GROUP BY ALL HAVING count(*) > 1"""
    ).fetchall()
    con.unregister("shared_hashes")
    bad = []
    for flow, year, quarter, department, cpf4, country, file_indexes, line_numbers in groups:
        described = (
            f"{flow}, {year}, quarter {quarter}, department {department}, CPF4 {cpf4}, country {country}"
        )
        for file_index, line_number in zip(file_indexes, line_numbers):
            others = [
                (f"line {other}" if f == file_index else f"{names[f]} line {other}")
                for f, other in zip(file_indexes, line_numbers)
                if (f, other) != (file_index, line_number)
            ]
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            bad.append(BadLine(names[file_index], int(line_number), f"same key ({described}) as {shown}"))
    return bad


def _keep_good_rows(
    con: duckdb.DuckDBPyConnection, data_files: list[DataFile], names: list[str], superseded: dict
) -> tuple[FileReport, ...]:
    """Delete the rejected lines and the helper columns from out_db.commerce; reconcile each file.

    Lines read are counted on the raw lines, rows loaded on the final table, lines rejected on the
    rejects. Euros: a line's amount is its value field when that is a whole number, taken from the
    typed table for well-formed lines and from the raw text for the others. Read = loaded +
    rejected + superseded (good rows of a year taken from a newer release, already deleted, counted
    in `superseded` by file) must hold, in lines and in euros."""
    raw_value = (
        f"CASE WHEN regexp_full_match(split_part(b.line_text, ';', 9), '{WHOLE_NUMBER}') "
        "THEN split_part(b.line_text, ';', 9)::BIGINT END"
    )
    rejected_lines = " UNION ALL ".join(
        f"""SELECT r.file_index, r.line_number, {raw_value} AS euros FROM rejected AS r
            JOIN (SELECT rowid + 1 AS line_number, line_text FROM raw_{k}) AS b USING (line_number)
            WHERE r.file_index = {k}"""
        for k in range(len(data_files))
    )
    con.execute(f"CREATE TABLE rejected_amounts AS {rejected_lines}")
    euros_read = dict(
        con.execute(
            """SELECT file_index, sum(v) FROM (
                   SELECT file_index, valeur AS v FROM out_db.commerce WHERE well_formed
                   UNION ALL
                   SELECT m.file_index, m.euros FROM rejected_amounts AS m
                   JOIN out_db.commerce AS c USING (file_index, line_number) WHERE NOT c.well_formed)
               GROUP BY file_index"""
        ).fetchall()
    )
    rejected = {
        f: (n, euros)
        for f, n, euros in con.execute(
            "SELECT file_index, count(*), coalesce(sum(euros), 0) FROM rejected_amounts GROUP BY file_index"
        ).fetchall()
    }
    if rejected:
        con.execute(
            """DELETE FROM out_db.commerce AS c USING rejected AS r
               WHERE c.file_index = r.file_index AND c.line_number = r.line_number"""
        )
    loaded = {
        f: (n, euros)
        for f, n, euros in con.execute(
            "SELECT file_index, count(*), coalesce(sum(valeur), 0) FROM out_db.commerce GROUP BY file_index"
        ).fetchall()
    }
    reports = []
    for k, data_file in enumerate(data_files):
        read, blank = con.execute(
            f"SELECT count(line_text), count(*) - count(line_text) FROM raw_{k}"
        ).fetchone()
        report = FileReport(
            name=names[k],
            flow=data_file.flow,
            lines_read=int(read),
            blank_lines=int(blank),
            rows_loaded=int(loaded.get(k, (0, 0))[0]),
            lines_rejected=int(rejected.get(k, (0, 0))[0]),
            euros_read=int(euros_read.get(k) or 0) + int(superseded.get(k, (0, 0))[1]),
            euros_loaded=int(loaded.get(k, (0, 0))[1]),
            euros_rejected=int(rejected.get(k, (0, 0))[1]),
            rows_superseded=int(superseded.get(k, (0, 0))[0]),
            euros_superseded=int(superseded.get(k, (0, 0))[1]),
        )
        if (
            report.lines_read != report.rows_loaded + report.lines_rejected + report.rows_superseded
            or report.euros_read != report.euros_loaded + report.euros_rejected + report.euros_superseded
        ):
            raise RuntimeError(f"ingest does not reconcile for {names[k]}: {report}")  # a bug, not bad input
        reports.append(report)
    for column in HELPER_COLUMNS:
        con.execute(f"ALTER TABLE out_db.commerce DROP COLUMN {column}")
    return tuple(reports)


def _create_final_tables(
    con: duckdb.DuckDBPyConnection,
    data_kind: str,
    fingerprint: str,
    source: str,
    missing_flows: list[tuple[int, str]],
) -> None:
    con.execute(
        """
        CREATE TABLE out_db.departements AS SELECT code, name AS nom, region FROM file_departments;
        CREATE TABLE out_db.regions AS
            SELECT region AS code, any_value(region_name) AS nom FROM file_departments
            GROUP BY region ORDER BY code;
        """
    )
    for kind in ("a129", "cpf4", "pays"):
        # For each year, the label valid that year (latest start among the rows covering it);
        # when none covers it, the latest one, so that no code ever loses its label.
        con.execute(
            f"""
            CREATE TABLE out_db.libelles_{kind} AS
            SELECT a.annee::SMALLINT AS annee, e.code,
                   arg_max(e.label,
                           (e.valid_from <= a.annee * 100 + 12 AND e.valid_to >= a.annee * 100 + 1)::INTEGER
                           * 1000000 + e.valid_from) AS libelle
            FROM (SELECT DISTINCT annee::INTEGER AS annee FROM out_db.commerce) AS a
                CROSS JOIN file_labels_{kind} AS e
            GROUP BY a.annee, e.code ORDER BY a.annee, e.code
            """
        )
    con.execute("CREATE TABLE out_db.publication (cle VARCHAR, valeur VARCHAR)")
    con.executemany(
        "INSERT INTO out_db.publication VALUES (?, ?)",
        [("donnees", data_kind), ("empreinte", fingerprint), ("source", source)],
    )
    # The flows a year lacks, accepted with allow_one_flow: the sheets of that year say so.
    con.execute("CREATE TABLE out_db.flux_absents (annee SMALLINT, flux VARCHAR)")
    if missing_flows:
        con.executemany("INSERT INTO out_db.flux_absents VALUES (?, ?)", missing_flows)


def _source(releases: list[Release]) -> str:
    """Demo when any release is: what is built from synthetic data always says so."""
    for release in releases:
        if release.demonstration is not None:
            lines = release.demonstration.read_text(encoding="utf-8").strip().splitlines()
            # The source printed on the sheets: French, like the notice's first line.
            return lines[0] if lines else "Données de démonstration synthétiques"
    return OFFICIAL_SOURCE


def _display_names(releases: list[Release], folders: tuple[Path, ...]) -> list[str]:
    """Each data file as the user sees it; prefixed by its folder when there are several."""
    names = []
    for release, folder in zip(releases, folders):
        prefix = f"{folder.as_posix()}/" if len(folders) > 1 else ""
        names += [prefix + release.name(f.path) for f in release.data_files]
    return names


def _precedence(
    con: duckdb.DuckDBPyConnection, release_of_file: list[int], count: int
) -> tuple[list[int], dict[int, int], list[set[int]]]:
    """Which release each year is taken from: the newest holding it, i.e. the one whose data
    reach the latest quarter (on a tie, the one given last). Returns the releases oldest first,
    the release of each year and the years of each release."""
    periods = con.execute(
        "SELECT file_index, annee, max(trimestre) FROM out_db.commerce WHERE well_formed GROUP BY ALL"
    ).fetchall()
    latest = [0] * count
    years_of: list[set[int]] = [set() for _ in range(count)]
    for file_index, year, quarter in periods:
        r = release_of_file[file_index]
        latest[r] = max(latest[r], year * 10 + quarter)
        years_of[r].add(year)
    order = sorted(range(count), key=lambda r: (latest[r], r))
    owner = {year: r for r in order for year in years_of[r]}
    return order, owner, years_of


def _drop_superseded(
    con: duckdb.DuckDBPyConnection,
    release_of_file: list[int],
    owner: dict[int, int],
    years_of: list[set[int]],
    suspect: str,
) -> dict[int, tuple[int, int]]:
    """Delete the good rows of a year from the releases it is not taken from (bad ones stay, to
    be reported); (rows, euros) deleted by file."""
    dropped = [
        (k, year) for k, r in enumerate(release_of_file) for year in years_of[r] if owner[year] != r
    ]
    if not dropped:
        return {}
    con.register("dropped_years", pd.DataFrame(dropped, columns=["file_index", "annee"]))
    con.execute("CREATE TABLE superseded_years AS SELECT file_index::INTEGER AS file_index, annee::SMALLINT AS annee FROM dropped_years")
    con.unregister("dropped_years")
    condition = f"NOT ({suspect}) AND (file_index, annee) IN (SELECT (file_index, annee) FROM superseded_years)"
    superseded = {
        k: (int(n), int(euros))
        for k, n, euros in con.execute(
            f"SELECT file_index, count(*), coalesce(sum(valeur), 0) FROM out_db.commerce WHERE {condition} GROUP BY ALL"
        ).fetchall()
    }
    con.execute(f"DELETE FROM out_db.commerce WHERE {condition}")
    return superseded


def _flow_gaps(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """(year, flow) of the years holding rows of one flow only."""
    rows = con.execute(
        "SELECT annee, list(DISTINCT flux) FROM out_db.commerce GROUP BY annee HAVING count(DISTINCT flux) < 2 ORDER BY annee"
    ).fetchall()
    return [(int(year), "I" if flows == ["E"] else "E") for year, flows in rows]


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def rejects_path(db: Path) -> Path:
    """Where `--skip-bad-lines` writes the rejected lines: beside the database."""
    return db.with_name(f"{db.stem}.rejets.csv")


def ingest(
    raw: Path | Sequence[Path],
    db: Path,
    skip_bad_lines: bool = False,
    *,
    allow_one_flow: bool = False,
    max_listed: int = MAX_LISTED,
) -> IngestReport:
    """Load the release in `raw` (a folder, or several) into the DuckDB file `db` (replaced only
    when all went well).

    Several releases: each year is taken from the newest release holding it (see `_precedence`);
    the report says which. `allow_one_flow` accepts a release or a year with one flow only (recorded
    in `flux_absents`, said on the sheets); otherwise a missing flow is an error."""
    folders = _folders(raw)
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    temporary = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    temporary_wal = temporary.with_name(temporary.name + ".wal")
    temporary_rejects = temporary.with_name(temporary.name + ".rejets.csv")
    scratch = Path(tempfile.mkdtemp(prefix=f".{db.name}.unzip.", dir=db.parent))
    _remove(temporary, temporary_wal, temporary_rejects)
    # Hashing the files overlaps with the load (hashlib releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        fingerprint = pool.submit(release_fingerprint, folders, allow_one_flow)
        try:
            releases = [
                locate_release(folder, allow_one_flow=allow_one_flow, scratch=scratch / str(i))
                for i, folder in enumerate(folders)
            ]
            data_files = [f for release in releases for f in release.data_files]
            release_of_file = [i for i, release in enumerate(releases) for _ in release.data_files]
            names = _display_names(releases, folders)
            # Raw lines in memory, final tables straight into the attached temporary file.
            with duckdb.connect() as con:
                con.execute(f"ATTACH {_sql_text(str(temporary))} AS out_db")
                for k, data_file in enumerate(data_files):
                    _read_lines(con, k, data_file.path)
                _parse_into_commerce(con, data_files)
                order, owner, years_of = _precedence(con, release_of_file, len(releases))
                codes = _load_labels(con, [releases[r] for r in order])
                unknown = _unknown_code_filters(con, codes)
                suspect = f"NOT well_formed OR {unknown}" if unknown else "NOT well_formed"
                superseded = _drop_superseded(con, release_of_file, owner, years_of, suspect)
                con.execute("CREATE TABLE rejected (file_index INTEGER, line_number BIGINT, reason VARCHAR)")
                for k, data_file in enumerate(data_files):
                    con.execute(f"INSERT INTO rejected {_reasons_sql(k, data_file.flow, codes, suspect)}")
                if con.execute("SELECT count(*) FROM rejected WHERE reason IS NULL").fetchone()[0]:
                    raise RuntimeError("a suspect line got no reason")  # a bug: the checks disagree
                duplicates = _duplicates(con, names, suspect)
                if duplicates:
                    con.executemany(
                        "INSERT INTO rejected VALUES (?, ?, ?)",
                        [(names.index(b.file), b.line, b.reason) for b in duplicates],
                    )
                total_rejected = con.execute("SELECT count(*) FROM rejected").fetchone()[0]
                shown = " + ".join(str(f) for f in folders)
                if total_rejected and not skip_bad_lines:
                    listed = [
                        BadLine(names[file_index], int(line_number), reason)
                        for file_index, line_number, reason in con.execute(
                            "SELECT file_index, line_number, reason FROM rejected "
                            f"ORDER BY file_index, line_number LIMIT {max_listed}"
                        ).fetchall()
                    ]
                    raise IngestError(
                        f"{shown}: {total_rejected} bad line(s) in the data files; nothing was loaded "
                        f"and {db} is unchanged. Fix them, or run again with --skip-bad-lines to load "
                        f"the good lines and write the bad ones to {rejects_path(db)}.\n"
                        + describe_bad_lines(listed, total_rejected, max_listed),
                        tuple(listed),
                    )
                files = _keep_good_rows(con, data_files, names, superseded)
                if not sum(f.rows_loaded for f in files):
                    raise IngestError(f"{shown}: no data row to load; {db} is unchanged")
                gaps = _flow_gaps(con)
                if gaps and not allow_one_flow:
                    described = "; ".join(f"{year} has no {FLOW_NAMES[flow]}s" for year, flow in gaps)
                    raise IngestError(
                        f"{shown}: {described} (every {FLOW_NAMES[gaps[0][1]]} line of the year is absent"
                        f"{' or rejected' if total_rejected else ''}); nothing was loaded and {db} is "
                        "unchanged. Add the missing file, or accept one flow with --allow-one-flow"
                    )
                data_kind = "demo" if any(r.is_demo for r in releases) else "officielles"
                _create_final_tables(con, data_kind, fingerprint.result(), _source(releases), gaps)
                years = tuple(
                    int(y)
                    for (y,) in con.execute(
                        "SELECT DISTINCT annee FROM out_db.commerce ORDER BY 1"
                    ).fetchall()
                )
                if total_rejected:
                    _write_rejects(con, names, temporary_rejects)
                con.execute("DETACH out_db")
            os.replace(temporary, db)
            rejects = None
            if total_rejected:
                rejects = rejects_path(db)
                os.replace(temporary_rejects, rejects)
            else:
                _remove(rejects_path(db))  # a previous run's rejects no longer describe this database
            return IngestReport(
                folders,
                db,
                data_kind,
                files,
                years,
                rejects,
                fingerprint.result(),
                year_sources={year: folders[owner[year]] for year in years},
                missing_flows=tuple(gaps),
            )
        finally:
            _remove(temporary, temporary_wal, temporary_rejects)
            shutil.rmtree(scratch, ignore_errors=True)


def _write_rejects(con: duckdb.DuckDBPyConnection, names: list[str], path: Path) -> None:
    """Every rejected line, in file and line order, under the published (French) header
    fichier;ligne;motif;contenu: file, line number, reason, the line itself."""
    con.register("file_names", pd.DataFrame({"file_index": range(len(names)), "name": names}))
    parts = " UNION ALL ".join(
        f"SELECT {k} AS file_index, rowid + 1 AS line_number, line_text FROM raw_{k} "
        f"WHERE rowid + 1 IN (SELECT line_number FROM rejected WHERE file_index = {k})"
        for k in range(len(names))
    )
    con.execute(
        f"""COPY (SELECT n.name AS fichier, r.line_number AS ligne, r.reason AS motif, b.line_text AS contenu
                  FROM rejected AS r JOIN ({parts}) AS b USING (file_index, line_number)
                  JOIN file_names AS n USING (file_index)
                  ORDER BY r.file_index, r.line_number)
            TO {_sql_text(str(path))} (FORMAT csv, HEADER true, DELIMITER ';')"""
    )
    con.unregister("file_names")
