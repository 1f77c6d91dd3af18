"""Every indicator of a sheet, as DuckDB queries on the ingested release.

Rules (the publication's): a place's value in a flow is the sum over the four quarters
of every row of that place (all partners, `FR` and `QU` included); a region sums the
departments of its customs region (Monaco included); France sums every row. Rankings
are by value descending, then code ascending. Links with zero value are not drawn.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ticomex.conventions import DUCKDB_THREADS_VARIABLE
from ticomex.errors import TicomexError
from ticomex.texts import AUTRES, EXPORT, IMPORT

QUARTERS_IN_YEAR = 4
RED_LINKS = 5
FLUX_NOM = {EXPORT: "export", IMPORT: "import"}


@dataclass(frozen=True)
class Scope:
    """Where a figure is computed: a department, a customs region or France."""

    niveau: str  # "departement", "region" or "france"
    code: str | None = None

    def where(self) -> tuple[str, list]:
        if self.niveau == "departement":
            return "departement = ?", [self.code]
        if self.niveau == "region":
            return "departement IN (SELECT code FROM departements WHERE region = ?)", [self.code]
        return "TRUE", []


# Region and France figures are the same for every department of a region: a kernel that
# runs sheet after sheet computes them once per database, keyed on the fingerprint its
# ingest recorded (release bytes and ingest code), so a new database is never served
# another's figures.
SHARED_MEMO_SIZE = 256
_shared_results: OrderedDict = OrderedDict()
_fingerprints: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per connection


def _database_fingerprint(con) -> str | None:
    if con in _fingerprints:
        return _fingerprints[con]
    try:
        row = con.execute("SELECT valeur FROM publication WHERE cle = 'empreinte'").fetchone()
    except duckdb.Error:  # a database without the publication table: nothing to key on
        return None
    _fingerprints[con] = row[0] if row else None
    return _fingerprints[con]


def _shared(con, scope: Scope, key: tuple, compute):
    """`compute()`, computed once per database for a region or France."""
    fingerprint = _database_fingerprint(con) if scope.niveau != "departement" else None
    if fingerprint is None:
        return compute()
    full_key = (fingerprint, scope, *key)
    if full_key in _shared_results:
        _shared_results.move_to_end(full_key)
        value = _shared_results[full_key]
    else:
        value = _shared_results[full_key] = compute()
        if len(_shared_results) > SHARED_MEMO_SIZE:
            _shared_results.popitem(last=False)
    return value.copy() if isinstance(value, pd.DataFrame) else value


# Opening the database costs ~10 ms; a kernel running sheet after sheet opens it once and
# gives each sheet its own connection to it. A file replaced by a new ingest (other inode,
# size or time) is opened anew.
_open_databases: dict[str, tuple[tuple, duckdb.DuckDBPyConnection]] = {}


def connect(base: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection of its own to the database (close it when done)."""
    path = Path(base)
    if not path.exists():
        raise TicomexError(
            f"{path}: base de données absente — lancez `ticomex data ingest` ou `ticomex build`"
        )
    resolved = str(path.resolve())
    stat = os.stat(resolved)
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    kept = _open_databases.get(resolved)
    if kept is None or kept[0] != identity:
        if kept is not None:
            kept[1].close()
        threads = os.environ.get(DUCKDB_THREADS_VARIABLE, "")
        config = {"threads": int(threads)} if threads.isdigit() and int(threads) > 0 else {}
        kept = _open_databases[resolved] = (identity, duckdb.connect(resolved, read_only=True, config=config))
    return kept[1].cursor()


# What is keyed on the whole database (years, labels) is kept as France's.
_WHOLE_DATABASE = Scope("france")


def full_years(con) -> list[int]:
    """Years with four quarters of data, oldest first (a scan of the whole table: read once
    per database)."""

    def compute() -> tuple[int, ...]:
        rows = con.execute(
            "SELECT annee FROM commerce GROUP BY annee "
            "HAVING count(DISTINCT trimestre) = ? ORDER BY annee",
            [QUARTERS_IN_YEAR],
        ).fetchall()
        return tuple(r[0] for r in rows)

    return list(_shared(con, _WHOLE_DATABASE, ("full_years",), compute))


def check_year(con, annee: int | str | None) -> int:
    """The year asked for, or the latest full year; a clear error when absent."""
    years = full_years(con)
    if annee in (None, ""):
        if not years:
            raise TicomexError("aucune année complète (quatre trimestres) dans la base")
        return years[-1]
    try:
        year = int(annee)
    except ValueError:
        raise TicomexError(f"année invalide : {annee!r}") from None
    if year not in years:
        listed = ", ".join(map(str, years)) or "aucune"
        raise TicomexError(f"année {year} absente des données (années complètes : {listed})")
    return year


def department(con, code: str) -> dict:
    row = con.execute(
        "SELECT d.code, d.nom, d.region, r.nom FROM departements d "
        "JOIN regions r ON r.code = d.region WHERE d.code = ?",
        [code],
    ).fetchone()
    if row is None:
        raise TicomexError(f"département inconnu : {code!r} (absent de Departement_region.txt)")
    return {"code": row[0], "nom": row[1], "region": row[2], "region_nom": row[3]}


def total(con, scope: Scope, annee: int, flux: str) -> int:
    def compute() -> int:
        where, args = scope.where()
        (value,) = con.execute(
            f"SELECT coalesce(sum(valeur), 0) FROM commerce WHERE annee = ? AND flux = ? AND {where}",
            [annee, flux, *args],
        ).fetchone()
        return int(value)

    return _shared(con, scope, ("total", annee, flux), compute)


def headline(con, code: str, region: str, annee: int) -> dict:
    """Totals and shares of both flows (unrounded percentages)."""
    result = {}
    for flux, key in ((EXPORT, "exportations"), (IMPORT, "importations")):
        dep = total(con, Scope("departement", code), annee, flux)
        reg = total(con, Scope("region", region), annee, flux)
        fra = total(con, Scope("france"), annee, flux)
        result[key] = {
            "total_eur": dep,
            "region_total_eur": reg,
            "france_total_eur": fra,
            "part_region_pct": 100 * dep / reg if reg else 0.0,
            "part_nationale_pct": 100 * dep / fra if fra else 0.0,
        }
    return result


def top_partners(con, code: str, annee: int, n: int = 10) -> pd.DataFrame:
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
        [annee, code, n],
    ).df().pipe(_partners_frame)


def _partners_frame(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("importations_eur", "exportations_eur"):
        df[col] = df[col].fillna(0).astype("int64")
    df["solde_eur"] = df["exportations_eur"] - df["importations_eur"]
    return df


def activities(con, code: str, annee: int) -> pd.DataFrame:
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
        [annee, code],
    ).df()
    return df


def flow_links(con, scope: Scope, annee: int, flux: str, n: int = 10) -> pd.DataFrame:
    """The Sankey's links: top n products × top n countries, the rest in "Autres".

    Exports go from products (left) to countries (right), imports from countries to
    products. The RED_LINKS largest links between a named product and a named country
    are flagged `rouge`.
    """
    return _shared(con, scope, ("flow_links", annee, flux, n), lambda: _flow_links(con, scope, annee, flux, n))


def _flow_links(con, scope: Scope, annee: int, flux: str, n: int) -> pd.DataFrame:
    # One aggregate in SQL, then the ranking of a few dozen (product, country) sums in
    # Python: as a single query with its five aggregates and windows it took 10 ms,
    # almost all of it DuckDB's fixed cost per operator.
    where, args = scope.where()
    rows = con.execute(
        f"SELECT a129, pays, sum(valeur) FROM commerce WHERE annee = ? AND flux = ? AND {where} GROUP BY ALL",
        [annee, flux, *args],
    ).fetchall()
    product_rank = _top_ranks(rows, 0, n)
    country_rank = _top_ranks(rows, 1, n)
    links: dict[tuple[str, str], int] = {}
    for a129, pays, value in rows:
        key = (a129 if a129 in product_rank else "", pays if pays in country_rank else "")
        links[key] = links.get(key, 0) + value
    products = _labels(con, "libelles_a129", annee)
    countries = _labels(con, "libelles_pays", annee)
    records = []
    for (a129, pays), value in links.items():
        if value <= 0:
            continue
        records.append(
            {
                "code_a129": a129,
                "produit": products.get(a129, a129) if a129 else AUTRES,
                "code_pays": pays,
                "pays": countries.get(pays, pays) if pays else AUTRES,
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
    ranks = ("rang_produit", "rang_pays") if flux == EXPORT else ("rang_pays", "rang_produit")
    records.sort(key=lambda r: (r[ranks[0]], r[ranks[1]]))
    columns = ["code_a129", "produit", "code_pays", "pays"]
    if flux != EXPORT:
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


def _labels(con, table: str, annee: int) -> dict[str, str]:
    """A year's labels of a nomenclature table, read once per database."""
    return _shared(
        con,
        _WHOLE_DATABASE,
        (table, annee),
        lambda: dict(con.execute(f"SELECT code, libelle FROM {table} WHERE annee = ?", [annee]).fetchall()),
    )
