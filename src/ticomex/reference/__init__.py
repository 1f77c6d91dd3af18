"""Small reference tables shipped with the package (sources in README.md of this folder).

The CSV files keep the French column names of the published data; the Python names are English."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of one `;`-separated UTF-8 table of this folder, as dicts keyed by its header."""
    text = files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter=";"))


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str  # customs region code
    region_name: str


@dataclass(frozen=True)
class CountryLabel:
    code: str
    label: str
    start: str  # YYYYMM
    end: str  # YYYYMM, 999912 = still valid


@dataclass(frozen=True)
class PublishedFigure:
    level: str  # departement, region or france (the CSV's values)
    code: str
    flow: str  # E or I
    total_millions_eur: Decimal
    regional_share_pct: Decimal | None
    national_share_pct: Decimal | None


@cache
def departments() -> tuple[Department, ...]:
    """The 101 departments of the customs files, in the order of Departement_region.txt."""
    return tuple(
        Department(code=row["code"], name=row["nom"], region=row["region"], region_name=row["region_nom"])
        for row in read_table("departements.csv")
    )


@cache
def a129_labels() -> dict[str, str]:
    """A129 code -> label, in code order."""
    return {row["code"]: row["libelle"] for row in read_table("a129.csv")}


@cache
def cpf4_by_a129() -> dict[str, tuple[str, ...]]:
    """A129 code -> the CPF4 goods classes it groups."""
    grouped: dict[str, list[str]] = {}
    for row in read_table("a129_cpf4.csv"):
        grouped.setdefault(row["a129"], []).append(row["cpf4"])
    return {a129: tuple(codes) for a129, codes in grouped.items()}


@cache
def geonomenclature_countries() -> tuple[CountryLabel, ...]:
    """Partner codes and labels specific to the customs geonomenclature (may repeat a code)."""
    return tuple(
        CountryLabel(code=row["code"], label=row["libelle"], start=row["debut"], end=row["fin"])
        for row in read_table("pays_geonomenclature.csv")
    )


@cache
def iso_codes_outside_geonomenclature() -> frozenset[str]:
    """ISO 3166 alpha-2 codes that never appear in the customs files."""
    return frozenset(row["code"] for row in read_table("pays_iso_hors_geonomenclature.csv"))


def _decimal_or_none(text: str) -> Decimal | None:
    return Decimal(text) if text else None


@cache
def published_figures_2024() -> tuple[PublishedFigure, ...]:
    """The totals and shares printed by the five published sheets (year 2024)."""
    return tuple(
        PublishedFigure(
            level=row["niveau"],
            code=row["code"],
            flow=row["flux"],
            total_millions_eur=Decimal(row["total_millions_eur"]),
            regional_share_pct=_decimal_or_none(row["part_region_pct"]),
            national_share_pct=_decimal_or_none(row["part_nationale_pct"]),
        )
        for row in read_table("chiffres_publies_2024.csv")
    )
