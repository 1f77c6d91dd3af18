"""The Territoires d'industrie: their facts (`params/territoires.yaml`) and the figures
their pages print, one row per department.

The facts come from the overlay table of `../shared/reference/` (every department a
territory covers, with the share of the territory's area lying in it); `ticomex params`
writes them once, then they are the editors' like the department params files. The
territory's own trade is not published: its page sets its departments' figures side by
side, read from what each department's notebook published in its data folder
(`indicateurs.json`, `pays.csv`, `activites.csv`), so no notebook runs for a territory.

Standard library and PyYAML only: render workers import it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from ticomex.conventions import INDICATORS_FILE, TERRITORIES_FILE, fold, territory_slug
from ticomex.errors import TicomexError

PARTNERS_FILE = "pays.csv"
ACTIVITIES_FILE = "activites.csv"
EXPORT_ACTIVITY = "export"  # `flux` of activites.csv

HEADER = """\
# The Territoires d'industrie: one page and one PDF each (docs/architecture.md).
# Written by `ticomex params` from the Territoires d'industrie table; edit by hand
# (`ticomex params --force` writes it again from the table).
# id: the programme's identifier; name: as printed (the page's address is made from it);
# departments: every department the territory covers, with the share of the territory's
#   area lying in it (0 to 1).
"""


@dataclass(frozen=True)
class Territory:
    id: str
    name: str
    departments: tuple[tuple[str, float], ...]  # (department code, share of the area)

    @property
    def slug(self) -> str:
        """The page's and the PDF's name, without extension."""
        return territory_slug(self.name)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.departments)


def territories_from_table(table: Path) -> list[Territory]:
    """Every territory of the overlay table, by name; its departments by area share, largest first."""
    names: dict[str, str] = {}
    parts: dict[str, list[tuple[str, float]]] = {}
    try:
        with table.open(encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                try:
                    ident, name, code = row["id_territoire"], row["nom_territoire"], row["code_departement"]
                    share = float(row["part_surface"])
                except (KeyError, TypeError, ValueError):
                    raise TicomexError(
                        f"{table}, line {line}: expected id_territoire, nom_territoire, "
                        "code_departement and a number in part_surface"
                    ) from None
                if names.setdefault(ident, name) != name:
                    raise TicomexError(f"{table}, line {line}: {ident} is named {names[ident]!r} above, {name!r} here")
                parts.setdefault(ident, []).append((code, share))
    except OSError as err:
        raise TicomexError(f"{table}: {err.strerror}") from None
    territories = [
        Territory(ident, names[ident], tuple(sorted(parts[ident], key=lambda p: (-p[1], p[0]))))
        for ident in names
    ]
    return sorted(territories, key=lambda t: (fold(t.name), t.id))


def dump_territories(territories: list[Territory]) -> str:
    entries = [
        {"id": t.id, "name": t.name, "departments": [{"code": c, "area_share": s} for c, s in t.departments]}
        for t in territories
    ]
    body = yaml.safe_dump({"territories": entries}, allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


def write_territories(table: Path | None, params_dir: Path, overwrite: bool = False) -> Path | None:
    """`params/territoires.yaml` from the table; an existing file is kept unless `overwrite`
    (it is the editors'). The path written, or None."""
    path = params_dir / TERRITORIES_FILE
    if table is None or (path.exists() and not overwrite):
        return None
    text = dump_territories(territories_from_table(table))
    params_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_territories_file(path: Path) -> list[Territory]:
    """The territories of `params/territoires.yaml` as an editor left it; file, line and
    reason of the first mistake otherwise."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise TicomexError(f"{where}: not valid YAML ({getattr(err, 'problem', None) or err})") from None
    except OSError as err:
        raise TicomexError(f"{path}: {err.strerror}") from None

    def fail(node, reason: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise TicomexError(f"{path}, line {line}: {reason}")

    def mapping(node, keys: tuple[str, ...], what: str) -> dict:
        if not isinstance(node, yaml.MappingNode):
            fail(node, f"{what} should be a mapping with {', '.join(keys)}")
        found = {key.value: value for key, value in node.value}
        missing = [key for key in keys if key not in found]
        if missing:
            fail(node, f"{what}: missing key(s): {', '.join(missing)}")
        unknown = sorted(set(found) - set(keys))
        if unknown:
            fail(node, f"{what}: unknown key(s): {', '.join(unknown)}")
        return found

    def text(node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
            fail(node, f"{what} should be a non-empty text (quote codes such as '05')")
        return node.value

    top = mapping(root, ("territories",), "the file")["territories"]
    if not isinstance(top, yaml.SequenceNode):
        fail(top, "territories should be a list")
    territories, seen_ids, seen_slugs = [], {}, {}
    for item in top.value:
        fields = mapping(item, ("id", "name", "departments"), "a territory")
        ident, name = text(fields["id"], "id"), text(fields["name"], "name")
        if ident in seen_ids:
            fail(fields["id"], f"id {ident} appears twice (line {seen_ids[ident]} too)")
        seen_ids[ident] = item.start_mark.line + 1
        slug = territory_slug(name)
        if slug in seen_slugs:
            fail(fields["name"], f"{name!r} gives the page name {slug} of {seen_slugs[slug]!r} too")
        seen_slugs[slug] = name
        departments = fields["departments"]
        if not isinstance(departments, yaml.SequenceNode) or not departments.value:
            fail(departments, f"{name}: departments should be a non-empty list")
        parts = []
        for part in departments.value:
            values = mapping(part, ("code", "area_share"), "a department")
            code = text(values["code"], "code")
            share_node = values["area_share"]
            try:
                share = float(share_node.value)
            except (AttributeError, ValueError):
                share = -1.0
            if not isinstance(share_node, yaml.ScalarNode) or not 0 <= share <= 1:
                fail(share_node, f"area_share should be a number from 0 to 1, not {getattr(share_node, 'value', '?')!r}")
            if code in (c for c, _ in parts):
                fail(values["code"], f"{name}: department {code} appears twice")
            parts.append((code, share))
        territories.append(Territory(ident, name, tuple(parts)))
    return territories


@dataclass(frozen=True)
class DepartmentRow:
    """One department of a territory, as its sheet published it (None: no sheet)."""

    code: str
    name: str
    area_share: float
    region_code: str | None = None
    region_name: str | None = None
    exports_eur: int | None = None
    imports_eur: int | None = None
    region_exports_eur: int | None = None
    first_partner: str | None = None
    first_product: str | None = None

    @property
    def published(self) -> bool:
        return self.exports_eur is not None

    @property
    def balance_eur(self) -> int | None:
        return None if not self.published else self.exports_eur - self.imports_eur


def department_row(code: str, area_share: float, data_dir: Path, name: str | None = None) -> DepartmentRow:
    """A department's row from its published data folder; a row without figures (named
    `name` or by its code) when there is none."""
    facts_path = data_dir / INDICATORS_FILE
    if not facts_path.is_file():
        return DepartmentRow(code, name or code, area_share)
    try:
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        exports, imports = facts["exportations"], facts["importations"]
        row = dict(
            code=code,
            name=str(facts["departement"]["nom"]),
            area_share=area_share,
            region_code=str(facts["region"]["code"]),
            region_name=str(facts["region"]["nom"]),
            exports_eur=int(exports["total_eur"]),
            imports_eur=int(imports["total_eur"]),
            region_exports_eur=int(exports["region_total_eur"]),
        )
    except (ValueError, KeyError, TypeError) as err:
        raise TicomexError(f"{facts_path}: missing or malformed field {err}") from None
    return DepartmentRow(
        **row,
        first_partner=_first(data_dir / PARTNERS_FILE, "pays", _partner_total),
        first_product=_first(data_dir / ACTIVITIES_FILE, "produit", _export_value),
    )


def _partner_total(row: dict) -> int:
    # A flow absent from the file (a partner table of one flow) counts as none.
    return int(row.get("importations_eur") or 0) + int(row.get("exportations_eur") or 0)


def _export_value(row: dict) -> int:
    return int(row["valeur_eur"]) if row["flux"] == EXPORT_ACTIVITY else 0


def _first(path: Path, label: str, value) -> str | None:
    """The `label` of the row with the largest positive `value` (the file's order breaks
    ties: the notebook wrote it ranked)."""
    if not path.is_file():
        return None
    best, best_value = None, 0
    try:
        with path.open(encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                try:
                    amount = value(row)
                except (KeyError, TypeError, ValueError):
                    raise TicomexError(f"{path}, line {line}: malformed row") from None
                if amount > best_value:
                    best, best_value = row[label], amount
    except OSError as err:
        raise TicomexError(f"{path}: {err.strerror}") from None
    return best


def territory_rows(territory: Territory, data_root: Path, names: dict[str, str] | None = None) -> list[DepartmentRow]:
    """The territory's departments in its order (largest area share first)."""
    names = names or {}
    return [department_row(code, share, data_root / code, names.get(code)) for code, share in territory.departments]
