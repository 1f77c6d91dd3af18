"""The project's reference tables against their sources in ../shared (skipped when absent)."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ticomex import reference
from ticomex.data.labels import read_departments, read_labels

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="module")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} absent: the reference tables cannot be compared with their sources")
    return SHARED


def test_a129_labels_are_the_customs_ones(shared):
    official = {label.code: label.text for label in read_labels(shared / "dgddi" / "Libelle_A129.txt")}
    assert reference.a129_labels() == official


def test_departments_are_the_customs_ones(shared):
    official = [
        (d.code, d.name, d.region, d.region_name)
        for d in read_departments(shared / "dgddi" / "Departement_region.txt")
    ]
    assert [(d.code, d.name, d.region, d.region_name) for d in reference.departments()] == official


def test_cpf4_classes_exist_and_belong_to_their_a129_division(shared):
    official = {label.code for label in read_labels(shared / "dgddi" / "Libelle_CPF4_rev2.1.txt")}
    grouped = reference.cpf4_by_a129()
    assert list(grouped) == list(reference.a129_labels())  # every A129 code, in order
    classes = [c for codes in grouped.values() for c in codes]
    assert len(classes) == len(set(classes))  # each class under one A129 code only
    for a129, codes in grouped.items():
        for code in codes:
            assert code in official and code[:2] == a129[1:3], (a129, code)


def test_geonomenclature_rows_are_the_customs_ones(shared):
    official = {
        (label.code, label.start, label.end): label.text
        for label in read_labels(shared / "dgddi" / "Libelle_PAYS.txt")
    }
    for row in reference.geonomenclature_countries():
        assert official[(row.code, int(row.start), int(row.end))] == row.label, row
    current = {code for (code, _, end) in official if end == 999912}
    assert not reference.iso_codes_outside_geonomenclature() & current


def test_published_figures_are_those_of_the_sheets(shared):
    with (shared / "reference" / "chiffres_publies_2024.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ours = {(c.level, c.code, c.flow): c for c in reference.published_figures_2024()}
    assert len(ours) == len(rows)
    for row in rows:
        c = ours[(row["niveau"], row["code"], row["flux"])]
        assert c.total_millions_eur == Decimal(row["total_millions_eur"])
        assert c.regional_share_pct == (Decimal(row["part_region_pct"]) if row["part_region_pct"] else None)
        assert c.national_share_pct == (
            Decimal(row["part_nationale_pct"]) if row["part_nationale_pct"] else None
        )


def test_published_totals_taken_exactly_print_the_published_shares():
    """What the demo relies on: totals equal to the published M€ reproduce the published shares."""
    figures = reference.published_figures_2024()
    region_of = {d.code: d.region for d in reference.departments()}
    total = {(c.level, c.code, c.flow): c.total_millions_eur for c in figures}
    for c in figures:
        if c.level != "departement":
            continue
        region = total[("region", region_of[c.code], c.flow)]
        france = total[("france", "FR", c.flow)]
        assert (c.total_millions_eur * 100 / region).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        ) == c.regional_share_pct
        assert (c.total_millions_eur * 100 / france).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        ) == c.national_share_pct
