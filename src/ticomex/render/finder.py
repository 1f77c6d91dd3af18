"""What the index adds to find a sheet: the map of departments coloured by an indicator,
the list of Territoires d'industrie (searched by the index's filter box, like the
departments) and the departments' ranking table.

Everything works without script: the map is SVG links, coloured by exports; the lists
and the table are HTML. `assets/carte.js` switches the map's indicator and sorts the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticomex import texts
from ticomex.render.assets import ASSETS_DIR, MAP_SCRIPT
from ticomex.render.francemap import MapDepartment, balance_classes, map_svg, quantile_classes
from ticomex.conventions import fold
from ticomex.territories import DepartmentRow, Territory

MAP_TITLE_ID = "carte-titre"
CLASSES = 5  # exports and imports: quintiles


@dataclass(frozen=True)
class Indicator:
    key: str  # the map's data attribute and the CSS colour names (carte-<key>-<class>)
    label: str


INDICATORS = (
    Indicator("exportations", "Exportations"),
    Indicator("importations", "Importations"),
    Indicator("solde", "Solde commercial"),
)
BALANCE_LABELS = ("Déficit le plus fort", "Déficit", "Excédent", "Excédent le plus fort")


def _values(rows: list[DepartmentRow], key: str) -> dict[str, int]:
    attribute = {"exportations": "exports_eur", "importations": "imports_eur", "solde": "balance_eur"}[key]
    return {row.code: getattr(row, attribute) for row in rows if row.published}


def _classes(rows: list[DepartmentRow]) -> dict[str, dict[str, int]]:
    classes: dict[str, dict[str, int]] = {}
    for indicator in INDICATORS:
        values = _values(rows, indicator.key)
        if not values:
            continue
        found = balance_classes(values) if indicator.key == "solde" else quantile_classes(values, CLASSES)
        for code, k in found.items():
            classes.setdefault(code, {})[indicator.key] = k
    return classes


def legends(rows: list[DepartmentRow]) -> list[dict]:
    """Per indicator, its classes: the colour's name and the range of values, in M€."""
    result = []
    for indicator in INDICATORS:
        values = _values(rows, indicator.key)
        found = balance_classes(values) if indicator.key == "solde" else quantile_classes(values, CLASSES)
        entries = []
        for k in sorted(set(found.values())):
            members = [values[c] for c, kk in found.items() if kk == k]
            span = f"{texts.millions(min(members))} à {texts.millions(max(members))} M€"
            name = f"{BALANCE_LABELS[k]} : {span}" if indicator.key == "solde" else span
            entries.append({"colour": f"carte-{indicator.key}-{k}", "text": name})
        result.append({"key": indicator.key, "label": indicator.label, "entries": entries})
    return result


def index_context(rows: list[DepartmentRow], territories: list[Territory], pdf_href: str | None) -> dict:
    """The index template's variables for the map, the territories and the ranking."""
    published = [row for row in rows if row.published]
    classes = _classes(published)
    names = {row.code: row for row in rows}
    map_departments = [
        MapDepartment(
            code=row.code,
            label=f"{row.name} ({row.code})",
            href=f"{row.code}.html",
            classes=classes.get(row.code, {}),
            title=(
                f"{row.name} ({row.code}) — exportations {texts.millions(row.exports_eur)} M€, "
                f"importations {texts.millions(row.imports_eur)} M€, solde {texts.millions(row.balance_eur)} M€"
            ),
        )
        for row in published
    ]
    territory_items = []
    for territory in territories:
        departments = [names.get(code) for code in territory.codes]
        words = [territory.name, territory.id, *territory.codes]
        words += [d.name for d in departments if d] + [d.region_name or "" for d in departments if d]
        territory_items.append(
            {
                "name": territory.name,
                "href": f"{territory.slug}.html",
                "pdf_href": pdf_href.format(code=territory.slug) if pdf_href else None,
                "departments": ", ".join(
                    f"{d.name} ({d.code})" if d else code for code, d in zip(territory.codes, departments)
                ),
                "filter": fold(" ".join(words)),
            }
        )
    ranking = [
        {
            "code": row.code,
            "name": row.name,
            "region": row.region_name,
            "exports": texts.millions(row.exports_eur),
            "imports": texts.millions(row.imports_eur),
            "balance": texts.millions(row.balance_eur),
            "values": (row.exports_eur, row.imports_eur, row.balance_eur),
            "sort_name": fold(row.name),
            "sort_region": fold(row.region_name or ""),
        }
        for row in sorted(published, key=lambda r: (-r.exports_eur, r.code))
    ]
    return {
        "map_svg": map_svg(map_departments, MAP_TITLE_ID),
        "map_title_id": MAP_TITLE_ID,
        "map_indicators": INDICATORS,
        "map_legends": legends(published),
        "map_script": f"{ASSETS_DIR}/{MAP_SCRIPT}",
        "territories": territory_items,
        "territories_title": texts.TERRITORIES_INDEX_TITLE,
        "ranking": ranking,
    }
