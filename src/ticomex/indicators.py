"""Every indicator of a sheet, as DuckDB queries on the ingested release.

Rules (the publication's): a place's value in a flow is the sum over the four quarters
of every row of that place (all partners, `FR` and `QU` included); a region sums the
departments of its customs region (Monaco included); France sums every row. Rankings
are by value descending, then code ascending. Links with zero value are not drawn.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import duckdb
import pandas as pd

from ticomex.conventions import DUCKDB_THREADS_VARIABLE
from ticomex.errors import TicomexError
from ticomex.params import MONACO
from ticomex.texts import EXPORT, IMPORT, OTHERS

QUARTERS_IN_YEAR = 4
# The overseas departments: their figures exclude trade with mainland France and between them.
OVERSEAS_DEPARTMENTS = frozenset({"9A", "9B", "9C", "9D", "9E"})
TOP_N = 10  # partners, products and countries drawn (the template's `top_n`)
RED_LINKS = 5  # the largest product × country flows drawn in red


class Level(str, Enum):
    DEPARTMENT = "department"
    REGION = "region"
    FRANCE = "france"


# Department and customs region codes of the release: two or three letters or digits.
_CODE = re.compile(r"[0-9A-Z]{2,3}")


@dataclass(frozen=True)
class Scope:
    """Where a figure is computed: a department, a customs region or France.

    Built by `Scope.department(code)`, `Scope.region(code)` or `Scope.france()`; anything
    else is refused (a misspelt level would otherwise sum the whole of France).
    """

    level: Level
    code: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.level, Level):
            raise TypeError(
                f"Scope level {self.level!r}: build scopes with Scope.department(code), "
                "Scope.region(code) or Scope.france()"
            )
        if self.level is Level.FRANCE:
            if self.code is not None:
                raise ValueError(f"Scope.france() takes no code (got {self.code!r})")
        elif not (isinstance(self.code, str) and _CODE.fullmatch(self.code)):
            raise ValueError(f"{self.level.value} code {self.code!r}: expected two or three letters or digits, e.g. '05'")

    @classmethod
    def department(cls, code: str) -> Scope:
        return cls(Level.DEPARTMENT, code)

    @classmethod
    def region(cls, code: str) -> Scope:
        return cls(Level.REGION, code)

    @classmethod
    def france(cls) -> Scope:
        return cls(Level.FRANCE)

    def where(self) -> tuple[str, list]:
        if self.level is Level.DEPARTMENT:
            return "departement = ?", [self.code]
        if self.level is Level.REGION:
            return "departement IN (SELECT code FROM departements WHERE region = ?)", [self.code]
        return "TRUE", []


class SharedFigures:
    """Region and France figures (and whole-database facts: years, labels), computed once.

    They are the same for every department of a region: a kernel that runs sheet after
    sheet computes each once (≈ 25 ms a sheet saved). Keys are
    `(database identity, scope, figure, year, flow, n)`; the identity includes the
    fingerprint the ingest recorded, so another database is never served these figures.
    Values are handed out as copies (a caller may change its frame).
    """

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict = OrderedDict()

    def get(self, key: tuple, compute: Callable[[], object]):
        if key in self._values:
            self._values.move_to_end(key)
            value = self._values[key]
        else:
            value = self._values[key] = compute()
            if len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return value.copy() if isinstance(value, pd.DataFrame) else value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        self._values.clear()


@dataclass(frozen=True)
class DatabaseIdentity:
    """One version of a database file: its place, its inode and the ingest's fingerprint."""

    path: str
    stat: tuple[int, int, int, int]  # device, inode, size, modification time (ns)
    fingerprint: str | None  # None: a database without a recorded fingerprint (never cached)


class Connection:
    """A sheet's own read-only connection to a database, with the shared figures cache.

    Behaves as a DuckDB connection (`execute`, `sql`, `close`, ...) for ad hoc queries.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, identity: DatabaseIdentity, figures: SharedFigures):
        self.cursor = cursor
        self.identity = identity
        self.figures = figures
        self.own = SharedFigures()  # the sheet's own figures read by several cells

    def shared(self, scope: Scope, key: tuple, compute: Callable[[], object]):
        """`compute()`, computed once per database for a region, France or the whole base."""
        if scope.level is Level.DEPARTMENT or self.identity.fingerprint is None:
            return compute()
        return self.figures.get((self.identity, scope, *key), compute)

    def once(self, scope: Scope, key: tuple, compute: Callable[[], object]):
        """`compute()`, once per sheet for a department, once per database for a region or
        France (figures that several cells of a sheet read)."""
        if scope.level is Level.DEPARTMENT:
            return self.own.get((scope, *key), compute)
        return self.shared(scope, key, compute)

    def __getattr__(self, name: str):
        return getattr(self.cursor, name)

    def execute(self, *args, **kwargs):
        return self.cursor.execute(*args, **kwargs)

    def close(self) -> None:
        self.cursor.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Databases:
    """The databases a process has open, and their shared figures.

    Opening a database costs ~10 ms: a kernel running sheet after sheet opens it once and
    gives each sheet a cursor of its own. A file replaced by a new ingest (other inode,
    size or time) is opened anew. `KERNEL_DATABASES` is the instance the notebook uses;
    tests build their own.
    """

    def __init__(self, figures: SharedFigures | None = None) -> None:
        self.figures = figures if figures is not None else SharedFigures()
        self._open: dict[str, tuple[DatabaseIdentity, duckdb.DuckDBPyConnection]] = {}

    def connect(self, db: str | Path) -> Connection:
        """A read-only connection of its own to the database (close it when done)."""
        path = Path(db)
        if not path.exists():
            raise TicomexError(f"{path}: database not found — run `ticomex data ingest` or `ticomex build`")
        resolved = str(path.resolve())
        stat = os.stat(resolved)
        file_identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        kept = self._open.get(resolved)
        if kept is None or kept[0].stat != file_identity:
            if kept is not None:
                kept[1].close()
            threads = os.environ.get(DUCKDB_THREADS_VARIABLE, "")
            config = {"threads": int(threads)} if threads.isdigit() and int(threads) > 0 else {}
            connection = duckdb.connect(resolved, read_only=True, config=config)
            identity = DatabaseIdentity(resolved, file_identity, _recorded_fingerprint(connection))
            kept = self._open[resolved] = (identity, connection)
        return Connection(kept[1].cursor(), kept[0], self.figures)

    def close(self) -> None:
        for _, connection in self._open.values():
            connection.close()
        self._open.clear()


def _recorded_fingerprint(connection: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = connection.execute("SELECT valeur FROM publication WHERE cle = 'empreinte'").fetchone()
    except duckdb.Error:  # a database without the publication table: nothing to key on
        return None
    return row[0] if row else None


KERNEL_DATABASES = Databases()


def connect(db: str | Path) -> Connection:
    """A connection of its own to `db`, through the process's `KERNEL_DATABASES`."""
    return KERNEL_DATABASES.connect(db)


# What is keyed on the whole database (years, labels) is kept as France's.
_WHOLE_DATABASE = Scope.france()


def full_years(con: Connection) -> list[int]:
    """Years with four quarters of data, oldest first (a scan of the whole table: read once
    per database)."""

    def compute() -> tuple[int, ...]:
        rows = con.execute(
            "SELECT annee FROM commerce GROUP BY annee "
            "HAVING count(DISTINCT trimestre) = ? ORDER BY annee",
            [QUARTERS_IN_YEAR],
        ).fetchall()
        return tuple(r[0] for r in rows)

    return list(con.shared(_WHOLE_DATABASE, ("full_years",), compute))


def quarters(con: Connection, year: int) -> list[int]:
    """The quarters of `year` present in the data (either flow), in order."""
    return list(
        con.shared(
            _WHOLE_DATABASE,
            ("quarters", year),
            lambda: tuple(
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT trimestre FROM commerce WHERE annee = ? ORDER BY 1", [year]
                ).fetchall()
            ),
        )
    )


def missing_flows(con: Connection, year: int) -> list[str]:
    """The flows the release lacks for `year` (accepted at ingest with --allow-one-flow)."""
    try:
        rows = con.execute("SELECT flux FROM flux_absents WHERE annee = ? ORDER BY flux", [year]).fetchall()
    except duckdb.CatalogException:  # a database written before the table existed
        return []
    return [flow for (flow,) in rows]


def check_year(con: Connection, year: int | str | None, partial: bool = False) -> int:
    """The year asked for, or the latest full year; a clear error when absent. A year with fewer
    than four quarters is refused unless `partial` (the sheet then says which quarters it covers)."""
    years = full_years(con)
    if year in (None, ""):
        if not years:
            raise TicomexError(f"no full year (four quarters) in the database {con.identity.path}")
        return years[-1]
    try:
        asked = int(year)
    except ValueError:
        raise TicomexError(f"year {year!r}: not a year") from None
    if asked not in years:
        present = quarters(con, asked)
        listed = ", ".join(map(str, years)) or "none"
        if not present:
            raise TicomexError(f"year {asked} is not in the data (full years: {listed})")
        if not partial:
            raise TicomexError(
                f"year {asked} has only quarter(s) {', '.join(map(str, present))} in the data: its "
                "figures would not compare with a full year's. Ask for it explicitly (ticomex build "
                f"--year {asked} --partial-year; papermill: -p partial_year true) and the sheet says "
                f"which quarters it covers, or choose a full year ({listed})"
            )
    return asked


def department(con: Connection, code: str) -> dict:
    row = con.execute(
        "SELECT d.code, d.nom, d.region, r.nom FROM departements d "
        "JOIN regions r ON r.code = d.region WHERE d.code = ?",
        [code],
    ).fetchone()
    if row is None:
        raise TicomexError(f"unknown department {code!r} (not in the release's Departement_region.txt)")
    return {"code": row[0], "name": row[1], "region": row[2], "region_name": row[3]}


def regions(con: Connection) -> list[dict]:
    """The customs regions of the release, by code: code, name and whether all their
    departments are overseas (the sheet then carries the customs' note on them)."""

    def compute() -> tuple[dict, ...]:
        rows = con.execute(
            "SELECT r.code, r.nom, list(d.code ORDER BY d.code) FROM regions r "
            "JOIN departements d ON d.region = r.code GROUP BY ALL ORDER BY r.code"
        ).fetchall()
        return tuple(
            {"code": code, "name": name, "overseas": set(deps) <= OVERSEAS_DEPARTMENTS} for code, name, deps in rows
        )

    return [dict(r) for r in con.shared(_WHOLE_DATABASE, ("regions",), compute)]


def region(con: Connection, code: str) -> dict:
    """A customs region's code, name and overseas flag (`regions`); a clear error when unknown."""
    for found in regions(con):
        if found["code"] == code:
            return found
    raise TicomexError(f"unknown region {code!r} (not in the release's Departement_region.txt)")


def has_sheet(code: str) -> bool:
    """Whether a department gets a sheet: all but Monaco (`ticomex params` writes none for it)."""
    return code != MONACO


def total(con: Connection, scope: Scope, year: int, flow: str) -> int:
    def compute() -> int:
        where, args = scope.where()
        (value,) = con.execute(
            f"SELECT coalesce(sum(valeur), 0) FROM commerce WHERE annee = ? AND flux = ? AND {where}",
            [year, flow, *args],
        ).fetchone()
        return int(value)

    return con.shared(scope, ("total", year, flow), compute)


# The headline's keys for the places around a sheet's: their total, and the sheet's share of it.
_ENCLOSING_KEYS = {Level.REGION: ("region_total_eur", "part_region_pct"),
                   Level.FRANCE: ("france_total_eur", "part_nationale_pct")}


def enclosing_scopes(con: Connection, scope: Scope) -> list[Scope]:
    """The places a sheet's place lies in: a department's region (as the release assigns it)
    and France; France for a region; none for France."""
    if scope.level is Level.DEPARTMENT:
        return [Scope.region(department(con, scope.code)["region"]), Scope.france()]
    return [Scope.france()] if scope.level is Level.REGION else []


def headline(con: Connection, scope: Scope, year: int) -> dict:
    """Totals of both flows and their shares of the enclosing places' (unrounded percentages),
    as `indicateurs.json` has them: a department has `total_eur`, `region_total_eur`,
    `france_total_eur`, `part_region_pct`, `part_nationale_pct`; a region has no region keys;
    France has `total_eur` only."""
    enclosing = enclosing_scopes(con, scope)
    result = {}
    for flow, key in ((EXPORT, "exportations"), (IMPORT, "importations")):
        own = total(con, scope, year, flow)
        wholes = {outer.level: total(con, outer, year, flow) for outer in enclosing}
        figures = {"total_eur": own}  # the totals, then the shares: the order indicateurs.json has had
        for level, whole in wholes.items():
            figures[_ENCLOSING_KEYS[level][0]] = whole
        for level, whole in wholes.items():
            figures[_ENCLOSING_KEYS[level][1]] = 100 * own / whole if whole else 0.0
        result[key] = figures
    return result


def department_ranking(con: Connection, scope: Scope, year: int) -> pd.DataFrame:
    """The departments of the place (those of the release, trade or not) with their exports,
    imports, balance and shares of the place's flows (unrounded percent), by exports
    descending then code; `fiche` says whether the department has a sheet to link to."""
    where, args = scope.where()
    # The place's condition reads a column `departement`: the trade sums filter `commerce` on it,
    # and the departments' list is given that column so the same condition keeps those without trade.
    rows = con.execute(
        f"""
        WITH trade AS (
            SELECT departement AS code, coalesce(sum(valeur) FILTER (flux = 'E'), 0) AS exports,
                   coalesce(sum(valeur) FILTER (flux = 'I'), 0) AS imports
            FROM commerce WHERE annee = ? AND {where} GROUP BY ALL
        )
        SELECT d.departement, d.nom, coalesce(t.exports, 0), coalesce(t.imports, 0)
        FROM (SELECT code AS departement, nom FROM departements) AS d
        LEFT JOIN trade AS t ON t.code = d.departement
        WHERE {where}
        ORDER BY 3 DESC, 1
        """,
        [year, *args, *args],
    ).fetchall()
    whole = {flow: total(con, scope, year, flow) for flow in (EXPORT, IMPORT)}
    exports = [int(r[2]) for r in rows]
    imports = [int(r[3]) for r in rows]

    def shares(values: list[int], flow: str) -> pd.Series:
        return pd.Series([100 * v / whole[flow] if whole[flow] else 0.0 for v in values], dtype="float64")

    return pd.DataFrame(
        {
            "code_departement": pd.Series([r[0] for r in rows], dtype="str"),
            "departement": pd.Series([r[1] for r in rows], dtype="str"),
            "exportations_eur": pd.Series(exports, dtype="int64"),
            "importations_eur": pd.Series(imports, dtype="int64"),
            "solde_eur": pd.Series([e - i for e, i in zip(exports, imports)], dtype="int64"),
            "part_exportations_pct": shares(exports, EXPORT),
            "part_importations_pct": shares(imports, IMPORT),
            "fiche": pd.Series([has_sheet(r[0]) for r in rows], dtype=bool),
        }
    )


def top_partners(con: Connection, scope: Scope, year: int, n: int = TOP_N) -> pd.DataFrame:
    """The n partners with the largest imports + exports of the place, in the order drawn."""
    where, args = scope.where()
    return con.execute(
        f"""
        SELECT c.pays AS code_pays, coalesce(l.libelle, c.pays) AS pays,
               sum(valeur) FILTER (flux = 'I')::BIGINT AS importations_eur,
               sum(valeur) FILTER (flux = 'E')::BIGINT AS exportations_eur
        FROM commerce c
        LEFT JOIN libelles_pays l ON l.code = c.pays AND l.annee = c.annee
        WHERE c.annee = ? AND {where}
        GROUP BY ALL
        HAVING sum(valeur) <> 0
        ORDER BY sum(valeur) DESC, code_pays
        LIMIT ?
        """,
        [year, *args, n],
    ).df().pipe(_partners_frame)


def _partners_frame(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("importations_eur", "exportations_eur"):
        df[col] = df[col].fillna(0).astype("int64")
    df["solde_eur"] = df["exportations_eur"] - df["importations_eur"]
    return df


def activities(con: Connection, scope: Scope, year: int) -> pd.DataFrame:
    """Every product of the place with a non-zero value, by flow then value descending."""
    where, args = scope.where()
    df = con.execute(
        f"""
        SELECT CASE c.flux WHEN 'E' THEN 'export' ELSE 'import' END AS flux,
               c.a129 AS code_a129, coalesce(l.libelle, c.a129) AS produit,
               sum(valeur)::BIGINT AS valeur_eur
        FROM commerce c
        LEFT JOIN libelles_a129 l ON l.code = c.a129 AND l.annee = c.annee
        WHERE c.annee = ? AND {where}
        GROUP BY ALL
        HAVING sum(valeur) <> 0
        ORDER BY flux, valeur_eur DESC, code_a129
        """,
        [year, *args],
    ).df()
    return df


def flow_links(con: Connection, scope: Scope, year: int, flow: str, n: int = TOP_N) -> pd.DataFrame:
    """The Sankey's links: top n products × top n countries, the rest in "Autres".

    Exports go from products (left) to countries (right), imports from countries to
    products. The RED_LINKS largest links between a named product and a named country
    are flagged `rouge`.
    """
    return con.shared(scope, ("flow_links", year, flow, n), lambda: _flow_links(con, scope, year, flow, n))


def _flow_links(con: Connection, scope: Scope, year: int, flow: str, n: int) -> pd.DataFrame:
    # One aggregate in SQL, then the ranking of a few dozen (product, country) sums in
    # Python: as a single query with its five aggregates and windows it took 10 ms,
    # almost all of it DuckDB's fixed cost per operator.
    where, args = scope.where()
    rows = con.execute(
        f"SELECT a129, pays, sum(valeur) FROM commerce WHERE annee = ? AND flux = ? AND {where} GROUP BY ALL",
        [year, flow, *args],
    ).fetchall()
    product_rank = _top_ranks(rows, 0, n)
    country_rank = _top_ranks(rows, 1, n)
    links: dict[tuple[str, str], int] = {}
    for a129, pays, value in rows:
        key = (a129 if a129 in product_rank else "", pays if pays in country_rank else "")
        links[key] = links.get(key, 0) + value
    products = _labels(con, "libelles_a129", year)
    countries = _labels(con, "libelles_pays", year)
    records = []
    for (a129, pays), value in links.items():
        if value <= 0:
            continue
        records.append(
            {
                "code_a129": a129,
                "produit": products.get(a129, a129) if a129 else OTHERS,
                "code_pays": pays,
                "pays": countries.get(pays, pays) if pays else OTHERS,
                "valeur_eur": int(value),
                "rang_produit": product_rank.get(a129, n + 1),
                "rang_pays": country_rank.get(pays, n + 1),
                "rouge": False,
            }
        )
    # The RED_LINKS largest links between a named product and a named country.
    named = sorted(
        (r for r in records if r["code_a129"] and r["code_pays"]),
        key=lambda r: (-r["valeur_eur"], r["code_a129"], r["code_pays"]),
    )
    for record in named[:RED_LINKS]:
        record["rouge"] = True
    ranks = ("rang_produit", "rang_pays") if flow == EXPORT else ("rang_pays", "rang_produit")
    records.sort(key=lambda r: (r[ranks[0]], r[ranks[1]]))
    columns = ["code_a129", "produit", "code_pays", "pays"]
    if flow != EXPORT:
        columns = columns[2:] + columns[:2]
    return pd.DataFrame(
        {
            **{column: pd.Series([r[column] for r in records], dtype="str") for column in columns},
            "valeur_eur": pd.Series([r["valeur_eur"] for r in records], dtype="int64"),
            "rouge": pd.Series([r["rouge"] for r in records], dtype=bool),
        }
    )


def _top_ranks(rows: list[tuple], key: int, n: int) -> dict[str, int]:
    """Rank (1..n) of the n codes in column `key` with the largest positive sums, by sum
    descending then code."""
    sums: dict[str, int] = {}
    for row in rows:
        sums[row[key]] = sums.get(row[key], 0) + row[2]
    ranked = sorted((code for code, value in sums.items() if value > 0), key=lambda code: (-sums[code], code))
    return {code: rank for rank, code in enumerate(ranked[:n], start=1)}


def _labels(con: Connection, table: str, year: int) -> dict[str, str]:
    """A year's labels of a nomenclature table, read once per database."""
    return con.shared(
        _WHOLE_DATABASE,
        (table, year),
        lambda: dict(con.execute(f"SELECT code, libelle FROM {table} WHERE annee = ?", [year]).fetchall()),
    )


# Change over time and exposure: the series of every quarter, and two consecutive years
# of trade by product and partner, from which the changes, the exposure to one country
# and the concentration are computed in Python (one query per place and year).

CONTRIBUTORS_N = 5  # products and partners listed as contributing most to a year's change
FIRST_FEW = 3  # the concentration's "first three"
UNITED_STATES, CHINA = "US", "CN"
PRODUCT, PARTNER = "a129", "pays"  # the two dimensions of trade (columns of `commerce`)
# A dimension's code and label columns in the frames (as in the other frames and CSVs).
DIMENSION_COLUMNS = {PRODUCT: ("code_a129", "produit"), PARTNER: ("code_pays", "pays")}
_DIMENSION_LABELS = {PRODUCT: "libelles_a129", PARTNER: "libelles_pays"}
FLOW_VALUE_COLUMNS = {EXPORT: "exportations_eur", IMPORT: "importations_eur"}


def all_quarters(con: Connection) -> list[tuple[int, int]]:
    """Every (year, quarter) of the database, oldest first (read once per database)."""

    def compute() -> tuple[tuple[int, int], ...]:
        rows = con.execute("SELECT annee, trimestre FROM commerce GROUP BY ALL ORDER BY ALL").fetchall()
        return tuple((int(y), int(q)) for y, q in rows)

    return list(con.shared(_WHOLE_DATABASE, ("quarters",), compute))


def quarterly_totals(con: Connection, scope: Scope) -> pd.DataFrame:
    """Exports, imports and balance of the place in every quarter of the database (zero
    where it has no trade), and whether the quarter's year is a full year."""

    def compute() -> pd.DataFrame:
        where, args = scope.where()
        rows = con.execute(
            "SELECT annee, trimestre, coalesce(sum(valeur) FILTER (flux = 'E'), 0), "
            f"coalesce(sum(valeur) FILTER (flux = 'I'), 0) FROM commerce WHERE {where} GROUP BY ALL",
            args,
        ).fetchall()
        found = {(int(y), int(q)): (int(e), int(i)) for y, q, e, i in rows}
        grid = all_quarters(con)
        full = set(full_years(con))
        exports = [found.get(key, (0, 0))[0] for key in grid]
        imports = [found.get(key, (0, 0))[1] for key in grid]
        return pd.DataFrame(
            {
                "annee": pd.Series([y for y, _ in grid], dtype="int64"),
                "trimestre": pd.Series([q for _, q in grid], dtype="int64"),
                "exportations_eur": pd.Series(exports, dtype="int64"),
                "importations_eur": pd.Series(imports, dtype="int64"),
                "solde_eur": pd.Series([e - i for e, i in zip(exports, imports)], dtype="int64"),
                "annee_complete": pd.Series([y in full for y, _ in grid], dtype=bool),
            }
        )

    return con.once(scope, ("quarterly_totals",), compute)


def quarterly_series(con: Connection, scope: Scope, year: int) -> pd.DataFrame:
    """The quarters up to the end of `year`, and those of the incomplete years after it when
    no full year follows `year` (the latest quarters published), each with its label."""
    totals = quarterly_totals(con, scope)
    later_full_year = any(y > year for y in full_years(con))
    keep = (totals["annee"] <= year) | ((totals["annee"] > year) & ~totals["annee_complete"] & (not later_full_year))
    series = totals[keep].reset_index(drop=True)
    series.insert(2, "periode", [quarter_label(y, q) for y, q in zip(series["annee"], series["trimestre"])])
    return series


def yearly_evolution(con: Connection, scope: Scope, year: int) -> pd.DataFrame:
    """Exports, imports and balance of every full year up to `year`, with the change from
    the previous year (`year_changes`)."""
    totals = quarterly_totals(con, scope)
    yearly = year_changes(totals[totals["annee_complete"] & (totals["annee"] <= year)])
    yearly.insert(1, "periode", yearly["annee"].astype(str))
    yearly["annee_complete"] = True
    return yearly


def year_changes(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Yearly sums of quarterly totals, with each flow's change from the previous year in
    euros (`variation_<flow>_eur`) and in percent (`variation_<flow>_pct`, unrounded).

    No change for the first year nor after a missing year; no percentage when the previous
    year's value is zero (nor for the balance, whose sign may change)."""
    columns = ["exportations_eur", "importations_eur", "solde_eur"]
    yearly = quarterly.groupby("annee", as_index=False)[columns].sum().astype("int64")
    follows = (yearly["annee"].diff() == 1).to_numpy()
    for column in columns:
        key = column.removesuffix("_eur")
        previous = yearly[column].shift(1)
        change = (yearly[column] - previous).where(follows)
        yearly[f"variation_{key}_eur"] = change.astype("Int64")
        if column != "solde_eur":
            usable = follows & (previous != 0).to_numpy()
            yearly[f"variation_{key}_pct"] = (100 * change / previous).where(usable).astype("float64")
    return yearly


def quarter_label(year: int, quarter: int) -> str:
    """`2024 T1`: sorts as time goes."""
    return f"{int(year)} T{int(quarter)}"


class TradeCells:
    """A place's trade in a year and the year before, by flow, product and partner, with
    the sums each figure reads. Read-only: kept for the region and France."""

    def __init__(self, year: int, rows: list[tuple[str, int, str, str, int]]) -> None:
        self.year = year
        self._sums: dict[tuple[str, int, str], dict[str, int]] = {}
        self._products_with: dict[tuple[str, int, str], dict[str, int]] = {}
        for flow, annee, a129, pays, value in rows:
            value = int(value)
            for dimension, code in ((PRODUCT, a129), (PARTNER, pays)):
                sums = self._sums.setdefault((flow, annee, dimension), {})
                sums[code] = sums.get(code, 0) + value
            products = self._products_with.setdefault((flow, annee, pays), {})
            products[a129] = products.get(a129, 0) + value

    def sums(self, flow: str, year: int, dimension: str) -> dict[str, int]:
        """Code → value of one flow in one year, by product or partner (a copy)."""
        return dict(self._sums.get((flow, year, dimension), {}))

    def products_with(self, flow: str, year: int, country: str) -> dict[str, int]:
        """Product → value of one flow with one partner country (a copy)."""
        return dict(self._products_with.get((flow, year, country), {}))


def trade_cells(con: Connection, scope: Scope, year: int) -> TradeCells:
    """The place's trade of `year` and `year - 1` by flow, product and partner (one query)."""

    def compute() -> TradeCells:
        where, args = scope.where()
        rows = con.execute(
            f"SELECT flux, annee, a129, pays, sum(valeur) FROM commerce "
            f"WHERE annee IN (?, ?) AND {where} GROUP BY ALL",
            [year - 1, year, *args],
        ).fetchall()
        return TradeCells(year, rows)

    return con.once(scope, ("trade_cells", year), compute)


def change_contributions(
    con: Connection, scope: Scope, year: int, flow: str, dimension: str, n: int = CONTRIBUTORS_N
) -> pd.DataFrame:
    """The n products or partners whose change from `year - 1` to `year` is the largest in
    absolute value (a partner absent one year counts zero), with their contribution to the
    flow's change in percentage points (change / previous year's total; the contributions
    of all items add up to the flow's percentage change; none when that total is zero)."""
    cells = trade_cells(con, scope, year)
    now, before = cells.sums(flow, year, dimension), cells.sums(flow, year - 1, dimension)
    before_total = sum(before.values())
    changes = {code: now.get(code, 0) - before.get(code, 0) for code in now.keys() | before.keys()}
    ranked = sorted((c for c, v in changes.items() if v != 0), key=lambda c: (-abs(changes[c]), c))[:n]
    labels = _labels(con, _DIMENSION_LABELS[dimension], year)
    code_column, label_column = DIMENSION_COLUMNS[dimension]
    return pd.DataFrame(
        {
            code_column: pd.Series(ranked, dtype="str"),
            label_column: pd.Series([labels.get(c, c) for c in ranked], dtype="str"),
            "valeur_precedente_eur": pd.Series([before.get(c, 0) for c in ranked], dtype="int64"),
            "valeur_eur": pd.Series([now.get(c, 0) for c in ranked], dtype="int64"),
            "variation_eur": pd.Series([changes[c] for c in ranked], dtype="int64"),
            "contribution_pts": pd.Series(
                [100 * changes[c] / before_total if before_total else float("nan") for c in ranked], dtype="float64"
            ),
        }
    )


@dataclass(frozen=True)
class Exposure:
    """How much of a place's flow goes to (comes from) one country, and the country's rank."""

    country: str
    flow: str
    value_eur: int
    total_eur: int
    rank: int | None  # among the partners with a positive value; None: no trade with it
    partners: int  # partners with a positive value

    @property
    def share_pct(self) -> float:
        return 100 * self.value_eur / self.total_eur if self.total_eur else 0.0


def exposure(con: Connection, scope: Scope, year: int, flow: str, country: str) -> Exposure:
    """The share of the place's flow with `country` and its rank among partners (value
    descending, then code: the partners chart's order)."""
    by_partner = trade_cells(con, scope, year).sums(flow, year, PARTNER)
    ranked = [code for code in sorted(by_partner, key=lambda c: (-by_partner[c], c)) if by_partner[code] > 0]
    value = by_partner.get(country, 0)
    rank = ranked.index(country) + 1 if country in ranked else None
    return Exposure(country, flow, value, sum(by_partner.values()), rank, len(ranked))


def products_with(con: Connection, scope: Scope, year: int, flow: str, country: str, n: int = TOP_N) -> pd.DataFrame:
    """The n products the place exports most to (imports most from) `country`, with the
    share of each product's flow that goes to (comes from) it (unrounded percent)."""
    cells = trade_cells(con, scope, year)
    with_country = cells.products_with(flow, year, country)
    all_products = cells.sums(flow, year, PRODUCT)
    ranked = sorted((c for c, v in with_country.items() if v > 0), key=lambda c: (-with_country[c], c))[:n]
    labels = _labels(con, "libelles_a129", year)
    return pd.DataFrame(
        {
            "code_a129": pd.Series(ranked, dtype="str"),
            "produit": pd.Series([labels.get(c, c) for c in ranked], dtype="str"),
            "valeur_eur": pd.Series([with_country[c] for c in ranked], dtype="int64"),
            "part_produit_pct": pd.Series(
                [100 * with_country[c] / all_products[c] if all_products.get(c) else 0.0 for c in ranked],
                dtype="float64",
            ),
        }
    )


@dataclass(frozen=True)
class Concentration:
    """How much of a flow its first item and its first three items carry (unrounded percent),
    and the Herfindahl index (sum of the squared shares in percent: 10 000 = one item)."""

    first_code: str | None
    first_share_pct: float
    first_few_share_pct: float
    herfindahl: float
    items: int  # items with a positive value


def concentration(values: dict[str, int]) -> Concentration:
    """The concentration of one flow's values by item (items with a positive value only)."""
    positive = {code: v for code, v in values.items() if v > 0}
    whole = sum(positive.values())
    if not whole:
        return Concentration(None, 0.0, 0.0, 0.0, 0)
    ranked = sorted(positive, key=lambda c: (-positive[c], c))
    shares = [100 * positive[c] / whole for c in ranked]
    return Concentration(ranked[0], shares[0], sum(shares[:FIRST_FEW]), sum(s * s for s in shares), len(ranked))


def trade_concentration(con: Connection, scope: Scope, year: int, flow: str, dimension: str) -> Concentration:
    """The place's flow concentration by partner or by product."""
    return concentration(trade_cells(con, scope, year).sums(flow, year, dimension))


@dataclass(frozen=True)
class MeanConcentration:
    """The mean over departments of each department's concentration figures."""

    first_share_pct: float
    first_few_share_pct: float
    herfindahl: float
    departments: int  # departments averaged: those with a sheet that had this flow


def mean_department_concentration(con: Connection, year: int, flow: str, dimension: str) -> MeanConcentration:
    """The simple mean, over the departments with a sheet (Monaco excluded) whose flow is
    positive in `year`, of their concentration by partner or by product (once per database)."""

    def compute() -> MeanConcentration:
        rows = con.execute(
            f"SELECT departement, {dimension}, sum(valeur) FROM commerce "
            "WHERE annee = ? AND flux = ? GROUP BY ALL",
            [year, flow],
        ).fetchall()
        by_department: dict[str, dict[str, int]] = {}
        for dep, code, value in rows:
            if has_sheet(dep):
                by_department.setdefault(dep, {})[code] = int(value)
        figures = [c for c in map(concentration, by_department.values()) if c.items]
        count = len(figures)
        if not count:
            return MeanConcentration(0.0, 0.0, 0.0, 0)
        return MeanConcentration(
            sum(c.first_share_pct for c in figures) / count,
            sum(c.first_few_share_pct for c in figures) / count,
            sum(c.herfindahl for c in figures) / count,
            count,
        )

    return con.shared(_WHOLE_DATABASE, ("mean_department_concentration", year, flow, dimension), compute)


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as JSON-ready dicts: Python numbers, None for missing values."""
    out = []
    for row in frame.to_dict("records"):
        out.append({k: None if _missing(v) else (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def label(con: Connection, dimension: str, year: int, code: str | None) -> str:
    """A product's or partner's label in `year` (its code when it has none)."""
    return "" if code is None else _labels(con, _DIMENSION_LABELS[dimension], year).get(code, code)


def evolution_figures(yearly: pd.DataFrame, quarterly: pd.DataFrame, contributions: dict) -> dict:
    """The `evolution` part of `indicateurs.json` (docs/architecture.md)."""
    keys = {EXPORT: "exportations", IMPORT: "importations"}
    return {
        "annees": records(yearly.drop(columns=["periode", "annee_complete"])),
        "trimestres": records(quarterly),
        "contributions": {
            keys[flow]: {
                "produits" if dimension == PRODUCT else "pays": records(frame)
                for (f, dimension), frame in contributions.items() if f == flow
            }
            for flow in keys if any(f == flow for f, _ in contributions)
        },
    }


def exposure_figures(exposures: dict, products: dict, concentrations: dict) -> dict:
    """The `exposition` part of `indicateurs.json` (docs/architecture.md)."""
    levels = ["departement", "region", "france"]
    out = {}
    for (name, frame), ((flow, country), places) in zip(products.items(), exposures.items()):
        out[name] = {
            "flux": flow,
            "code_pays": country,
            **{
                level: {"valeur_eur": e.value_eur, "total_eur": e.total_eur, "part_pct": e.share_pct,
                        "rang": e.rank, "nombre_pays": e.partners}
                for level, (_, e) in zip(levels, places)
            },
            "produits": records(frame),
        }
    out["concentration_exportations"] = {
        "pays" if dimension == PARTNER else "produits": {
            "premier": own.first_code,
            "part_premier_pct": own.first_share_pct,
            "part_trois_premiers_pct": own.first_few_share_pct,
            "herfindahl": own.herfindahl,
            "moyenne_departements": {
                "part_premier_pct": mean.first_share_pct,
                "part_trois_premiers_pct": mean.first_few_share_pct,
                "herfindahl": mean.herfindahl,
                "departements": mean.departments,
            },
        }
        for dimension, (own, mean) in concentrations.items()
    }
    return out
