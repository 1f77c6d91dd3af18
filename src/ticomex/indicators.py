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

    def shared(self, scope: Scope, key: tuple, compute: Callable[[], object]):
        """`compute()`, computed once per database for a region, France or the whole base."""
        if scope.level is Level.DEPARTMENT or self.identity.fingerprint is None:
            return compute()
        return self.figures.get((self.identity, scope, *key), compute)

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


def total(con: Connection, scope: Scope, year: int, flow: str) -> int:
    def compute() -> int:
        where, args = scope.where()
        (value,) = con.execute(
            f"SELECT coalesce(sum(valeur), 0) FROM commerce WHERE annee = ? AND flux = ? AND {where}",
            [year, flow, *args],
        ).fetchone()
        return int(value)

    return con.shared(scope, ("total", year, flow), compute)


def headline(con: Connection, code: str, region: str, year: int) -> dict:
    """Totals and shares of both flows (unrounded percentages), as `indicateurs.json` has them."""
    result = {}
    for flow, key in ((EXPORT, "exportations"), (IMPORT, "importations")):
        dep = total(con, Scope.department(code), year, flow)
        reg = total(con, Scope.region(region), year, flow)
        fra = total(con, Scope.france(), year, flow)
        result[key] = {
            "total_eur": dep,
            "region_total_eur": reg,
            "france_total_eur": fra,
            "part_region_pct": 100 * dep / reg if reg else 0.0,
            "part_nationale_pct": 100 * dep / fra if fra else 0.0,
        }
    return result


def top_partners(con: Connection, code: str, year: int, n: int = TOP_N) -> pd.DataFrame:
    """The n partners with the largest imports + exports, in the order drawn."""
    return con.execute(
        """
        SELECT c.pays AS code_pays, coalesce(l.libelle, c.pays) AS pays,
               sum(valeur) FILTER (flux = 'I')::BIGINT AS importations_eur,
               sum(valeur) FILTER (flux = 'E')::BIGINT AS exportations_eur
        FROM commerce c
        LEFT JOIN libelles_pays l ON l.code = c.pays AND l.annee = c.annee
        WHERE c.annee = ? AND c.departement = ?
        GROUP BY ALL
        HAVING sum(valeur) <> 0
        ORDER BY sum(valeur) DESC, code_pays
        LIMIT ?
        """,
        [year, code, n],
    ).df().pipe(_partners_frame)


def _partners_frame(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("importations_eur", "exportations_eur"):
        df[col] = df[col].fillna(0).astype("int64")
    df["solde_eur"] = df["exportations_eur"] - df["importations_eur"]
    return df


def activities(con: Connection, code: str, year: int) -> pd.DataFrame:
    """Every product with a non-zero value, by flow then value descending."""
    df = con.execute(
        """
        SELECT CASE c.flux WHEN 'E' THEN 'export' ELSE 'import' END AS flux,
               c.a129 AS code_a129, coalesce(l.libelle, c.a129) AS produit,
               sum(valeur)::BIGINT AS valeur_eur
        FROM commerce c
        LEFT JOIN libelles_a129 l ON l.code = c.a129 AND l.annee = c.annee
        WHERE c.annee = ? AND c.departement = ?
        GROUP BY ALL
        HAVING sum(valeur) <> 0
        ORDER BY flux, valeur_eur DESC, code_a129
        """,
        [year, code],
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
