"""Small reference tables shipped with the package (sources in README.md of this folder)."""

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
class Departement:
    code: str
    nom: str
    region: str
    region_nom: str


@dataclass(frozen=True)
class LibellePays:
    code: str
    libelle: str
    debut: str
    fin: str


@dataclass(frozen=True)
class ChiffrePublie:
    niveau: str  # departement, region or france
    code: str
    flux: str  # E or I
    total_millions_eur: Decimal
    part_region_pct: Decimal | None
    part_nationale_pct: Decimal | None


@cache
def departements() -> tuple[Departement, ...]:
    """The 101 departments of the customs files, in the order of Departement_region.txt."""
    return tuple(Departement(**row) for row in read_table("departements.csv"))


@cache
def libelles_a129() -> dict[str, str]:
    """A129 code -> label, in code order."""
    return {row["code"]: row["libelle"] for row in read_table("a129.csv")}


@cache
def cpf4_par_a129() -> dict[str, tuple[str, ...]]:
    """A129 code -> the CPF4 goods classes it groups."""
    grouped: dict[str, list[str]] = {}
    for row in read_table("a129_cpf4.csv"):
        grouped.setdefault(row["a129"], []).append(row["cpf4"])
    return {a129: tuple(codes) for a129, codes in grouped.items()}


@cache
def pays_geonomenclature() -> tuple[LibellePays, ...]:
    """Partner codes and labels specific to the customs geonomenclature (may repeat a code)."""
    return tuple(LibellePays(**row) for row in read_table("pays_geonomenclature.csv"))


@cache
def pays_iso_hors_geonomenclature() -> frozenset[str]:
    """ISO 3166 alpha-2 codes that never appear in the customs files."""
    return frozenset(row["code"] for row in read_table("pays_iso_hors_geonomenclature.csv"))


def _decimal_or_none(text: str) -> Decimal | None:
    return Decimal(text) if text else None


@cache
def chiffres_publies_2024() -> tuple[ChiffrePublie, ...]:
    """The totals and shares printed by the five published sheets (year 2024)."""
    return tuple(
        ChiffrePublie(
            niveau=row["niveau"],
            code=row["code"],
            flux=row["flux"],
            total_millions_eur=Decimal(row["total_millions_eur"]),
            part_region_pct=_decimal_or_none(row["part_region_pct"]),
            part_nationale_pct=_decimal_or_none(row["part_nationale_pct"]),
        )
        for row in read_table("chiffres_publies_2024.csv")
    )
