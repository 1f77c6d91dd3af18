"""`params/<code>.yaml`: the facts of each department's sheet, editable by hand.

The Territoires d'industrie come from the overlay table of `../shared/reference/`
(share of each territory's area lying in the department). A territory is listed when
that share is at least TERRITORY_MIN_SHARE, which reproduces the published sheets.
Whether the heading reads "Principaux Territoires d'Industrie du département*" rests
on commune counts the table does not carry: it is an editorial fact, taken from the
published sheets where there is one, and otherwise left for the editor to set.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml

from ticomex.conventions import fold
from ticomex.errors import TicomexError

MONACO = "99"
TERRITORY_MIN_SHARE = 0.15
# Beside the project, read-only reference material (see README).
TERRITORIES_TABLE = Path("shared") / "reference" / "territoires_industrie_departements.csv"
# Departments whose published sheet uses the "Principaux …*" heading with its footnote.
PUBLISHED_MAIN_TERRITORIES = {"07": True, "52": True, "05": False, "43": False, "92": False}

HEADER = """\
# Facts of department {code}'s sheet "Les indicateurs clés : commerce extérieur".
# Edit by hand: the notebook reads this file as it is (keys: docs/architecture.md).
# territories: the Territoires d'industrie listed, in this order;
# main_territories: true titles the list "Principaux Territoires d'Industrie du
#   département*" with the footnote on the adjacent territories left out.
"""


def default_territories_table() -> Path:
    from ticomex.project import find_project

    return find_project().root.parent / TERRITORIES_TABLE


def _sort_key(name: str) -> str:
    return fold(name)


def read_territories(table: Path) -> dict[str, list[str]]:
    """Department code → names of its Territoires d'industrie, in alphabetical order."""
    result: dict[str, list[str]] = {}
    try:
        with table.open(encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                try:
                    share = float(row["part_surface"])
                except (KeyError, TypeError, ValueError):
                    raise TicomexError(f"{table}, line {line}: part_surface is not a number") from None
                if share >= TERRITORY_MIN_SHARE:
                    result.setdefault(row["code_departement"], []).append(row["nom_territoire"])
    except OSError as err:
        raise TicomexError(f"{table}: {err.strerror}") from None
    return {code: sorted(names, key=_sort_key) for code, names in result.items()}


def department_params(dep: dict, territories: list[str]) -> dict:
    """A params file's keys (ticomex.sheet.PARAMS_KEYS), in the order written."""
    return {
        "code": dep["code"],
        "name": dep["name"],
        "region": dep["region"],
        "region_name": dep["region_name"],
        "territories": territories,
        "main_territories": PUBLISHED_MAIN_TERRITORIES.get(dep["code"], False),
    }


AREA_HEADER = """\
# Facts of the sheet "Les indicateurs clés : commerce extérieur" of {name}.
# Edit by hand: the notebook reads this file as it is (keys: docs/architecture.md).
# level: region (a customs region's sheet) or france; its departments are ranked.
"""
REGION_SHEET = "region-{code}"  # a region's params file, notebook and page name
FRANCE_SHEET = "france-entiere"  # not "france": the shared France data folder has that name


def region_params(code: str, name: str) -> dict:
    return {"code": REGION_SHEET.format(code=code), "level": "region", "name": name, "region": code,
            "region_name": name, "territories": []}


def france_params() -> dict:
    from ticomex.texts import FRANCE

    return {"code": FRANCE_SHEET, "level": "france", "name": FRANCE, "region": "", "region_name": "",
            "territories": []}


def dump(params: dict) -> str:
    body = yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=100)
    header = AREA_HEADER.format(name=params["name"]) if "level" in params else HEADER.format(code=params["code"])
    return header + body


def write_params(
    db: Path, out: Path, territories: Path | None = None, overwrite: bool = False
) -> list[Path]:
    """Write a params file for every department of the release but Monaco, for each
    customs region with such a department (`region-<code>.yaml`) and for France.

    Existing files are kept unless `overwrite`: they are the editors'. Without a
    territories table, the territories of an existing file are carried over.
    """
    import duckdb

    if not db.exists():
        raise TicomexError(f"{db}: database not found — run `ticomex data ingest` first")
    table = territories or default_territories_table()
    known = read_territories(table) if table.exists() else None
    if territories is not None and known is None:
        raise TicomexError(f"{territories}: file not found")
    with duckdb.connect(str(db), read_only=True) as con:
        deps = con.execute(
            "SELECT d.code, d.nom, d.region, r.nom FROM departements d "
            "JOIN regions r ON r.code = d.region WHERE d.code <> ? ORDER BY d.code",
            [MONACO],
        ).fetchall()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    areas = [france_params(), *(region_params(code, name) for code, name in sorted({(d[2], d[3]) for d in deps}))]
    for params in areas:
        path = out / f"{params['code']}.yaml"
        if overwrite or not path.exists():
            path.write_text(dump(params), encoding="utf-8")
            written.append(path)
    for code, name, region, region_name in deps:
        path = out / f"{code}.yaml"
        if path.exists() and not overwrite:
            continue
        if known is not None:
            names = known.get(code, [])
        elif path.exists():
            names = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("territories", [])
        else:
            names = []
            print(f"{path}: no Territoires d'industrie table ({table}): empty list", file=sys.stderr)
        dep = {"code": code, "name": name, "region": region, "region_name": region_name}
        path.write_text(dump(department_params(dep, names)), encoding="utf-8")
        written.append(path)
    return written
