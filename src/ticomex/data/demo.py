"""A synthetic release in the official layout, for offline runs, CI and benchmarks.

`write_demo_release` writes the two flow files, the label files and `DEMONSTRATION.txt` (which
marks everything built from it as synthetic). The 2024 totals of France, of the regions and of
the departments printed by the five published sheets are reproduced to the euro
(`ticomex/reference/chiffres_publies_2024.csv`); everything else is invented but shaped like
French trade: concentrated on a few products and neighbouring partners with long tails, each
department with its own specialisation (`demo_*.csv` beside this module).

Deterministic: one seeded numpy Generator, inputs read in file order, output sorted; the same
command writes byte-identical files (for a given numpy, pycountry and DuckDB, all locked).
"""

from __future__ import annotations

import csv
import gettext
import io
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pycountry

from ticomex import reference
from ticomex.data.release import (
    A129_FILE,
    DEMONSTRATION_FILE,
    COUNTRIES_FILE,
    DEPARTMENTS_FILE,
    EXPORT_FILE,
    FLOW_NAMES,
    IMPORT_FILE,
    replace_folder,
)
from ticomex.errors import TicomexError

SEED = 2024
YEARS = tuple(range(2019, 2025))  # the default: six years, a shock year among them
CALIBRATED_YEAR = 2024
ROWS_PER_YEAR = 40_000  # data rows per flow and year by default: about 1 s to generate all years
DEFAULT_ROWS = ROWS_PER_YEAR * len(YEARS)  # data rows per flow (all years)
LAYOUTS = ("national", "annual")
# Each flow's national total relative to CALIBRATED_YEAR (shaped like French trade: the 2020
# shock, the 2022 energy bill on imports); years outside move 2 % a year from the nearest one.
YEAR_INDEX = {
    "E": {2019: 0.85, 2020: 0.71, 2021: 0.83, 2022: 0.98, 2023: 1.00, 2024: 1.0},
    "I": {2019: 0.83, 2020: 0.72, 2021: 0.86, 2022: 1.11, 2023: 1.03, 2024: 1.0},
}
OUTSIDE_INDEX_GROWTH = 0.02
DEPARTMENT_YEAR_SPREAD = 0.06  # lognormal sigma of a department's own path around the national one
# Products whose weight changes with the year (a factor on their rows' weights): one that rises
# year after year, one hit by the 2020 shock.
RISING_PRODUCT, RISE_PER_YEAR = "C21Z", 0.12
SHOCKED_PRODUCT, SHOCK_YEAR, SHOCK_FACTOR = "C30C", 2020, 0.55
FLOW_FILES = {"E": EXPORT_FILE, "I": IMPORT_FILE}
A129_VALIDITY = ("200901", "999912")
COUNTRY_VALIDITY = ("190001", "999912")
NOT_A_PARTNER = frozenset({"EU"})  # an aggregate, never a row's partner
SPECIALITY_FACTOR = 8.0  # weight factor of a department's speciality when omitted
# A speciality weighs factor x this many points of the national shares of demo_produits.csv, so
# that a department's specialities dominate it whatever their national share.
SPECIALITY_POINTS = 5.0
# Where customs put flows that exist in one place only (FORMAT.md: all natural-gas and electricity
# imports sit in Paris; crude oil lands at the refinery ports).
RESERVED_CPF4 = {
    "0620": frozenset({"75"}),  # natural gas
    "3511": frozenset({"75"}),  # electricity
    "3521": frozenset({"75"}),  # manufactured gas
    "0610": frozenset({"13", "76", "44", "59", "33"}),  # crude oil
}
MIN_ROWS_PER_DEPARTMENT = 8
# Products and partners of a department grow with its size from these floors, above the sheets'
# top 10, so that "top 10 + autres" is exercised (only departments capped in
# demo_departements.csv fall below, for the short case).
MIN_PRODUCTS, EXTRA_PRODUCTS = 12, 52
MIN_PARTNERS, EXTRA_PARTNERS = 15, 150


# --------------------------------------------------------------------------- inputs


def _read_demo_table(name: str) -> list[dict[str, str]]:
    """A `;` table beside this module; lines starting with `#` explain it."""
    text = files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter=";"))


def _factors(text: str, default: float) -> dict[str, float]:
    """`"C30C:40 C26F"` -> {"C30C": 40.0, "C26F": default}."""
    parsed = {}
    for item in text.split():
        code, _, factor = item.partition(":")
        parsed[code] = float(factor) if factor else default
    return parsed


@dataclass(frozen=True)
class Profile:
    code: str
    size: dict[str, float | None]  # by flow, M€; None when the published total applies
    specialities: dict[str, dict[str, float]]  # by flow
    favourite_countries: dict[str, float]
    max_products: dict[str, int | None]  # by flow
    max_countries: dict[str, int | None]  # by flow


def _profiles() -> dict[str, Profile]:
    def optional_int(text: str) -> int | None:
        return int(text) if text else None

    profiles = {}
    for row in _read_demo_table("demo_departements.csv"):
        profiles[row["code"]] = Profile(
            code=row["code"],
            size={
                "E": float(row["export_meur"]) if row["export_meur"] else None,
                "I": float(row["import_meur"]) if row["import_meur"] else None,
            },
            specialities={
                "E": _factors(row["specialites_export"], SPECIALITY_FACTOR),
                "I": _factors(row["specialites_import"], SPECIALITY_FACTOR),
            },
            favourite_countries=_factors(row["pays_favoris"], 2.0),
            max_products={"E": optional_int(row["max_produits_e"]), "I": optional_int(row["max_produits_i"])},
            max_countries={"E": optional_int(row["max_pays_e"]), "I": optional_int(row["max_pays_i"])},
        )
    return profiles


# --------------------------------------------------------------------------- label files


def country_labels() -> list[tuple[str, str, str, str]]:
    """(code, label, start, end) of the demo's Libelle_PAYS.txt, sorted by code then start.

    French names from pycountry, replaced or completed by the geonomenclature's own codes and
    labels (some codes repeated across validity periods, as `QU` in the real file)."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    specific = reference.geonomenclature_countries()
    relabelled = {p.code for p in specific}
    rows = [(p.code, p.label, p.start, p.end) for p in specific]
    for country in pycountry.countries:
        code = country.alpha_2
        if code not in relabelled and code not in reference.iso_codes_outside_geonomenclature():
            rows.append((code, french.gettext(country.name), *COUNTRY_VALIDITY))
    return sorted(rows, key=lambda r: (r[0], r[2]))


def label_file_bytes(rows: list[tuple[str, ...]], bom: bool = False) -> bytes:
    """Rows in the customs layout: `;`, labels quoted when they hold a `;`, CRLF, UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return ("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode("utf-8")


def demonstration_text() -> str:
    """The French notice of DEMONSTRATION.txt; its first line is the short description."""
    published = reference.published_figures_2024()
    by_code = {d.code: d for d in reference.departments()}
    region_names = {d.region: d.region_name for d in reference.departments()}
    regions = [c.code for c in published if c.level == "region" and c.flow == "E"]
    departments = [c.code for c in published if c.level == "departement" and c.flow == "E"]
    return (
        "Données de démonstration synthétiques — ne pas utiliser pour une analyse.\n"
        "\n"
        "Ces fichiers ont été générés par la commande « ticomex data demo ». Ils ont la structure des\n"
        "fichiers « Statistiques régionales et départementales du commerce extérieur » de la DGDDI,\n"
        "mais leurs lignes sont inventées. Seuls les totaux "
        f"{CALIBRATED_YEAR} de la France entière, des régions "
        f"{', '.join(region_names[r] for r in regions)} et des départements "
        f"{', '.join(by_code[d].name for d in departments)} reproduisent les chiffres publiés ;\n"
        "la répartition par produit, par pays et par trimestre est fictive.\n"
        "Données officielles : ticomex data fetch.\n"
    )


# --------------------------------------------------------------------------- calibration


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer `total` in proportion to `weights` (largest remainders; ties by position)."""
    weights = np.asarray(weights, dtype=np.float64)
    if total < 0 or weights.size == 0 or not np.all(weights >= 0) or weights.sum() <= 0:
        raise ValueError("allocate needs a non-negative total and positive weights")
    exact = weights / weights.sum() * total
    shares = np.floor(exact).astype(np.int64)
    missing = int(total - shares.sum())
    order = np.argsort(-(exact - shares), kind="stable")
    shares[order[:missing]] += 1
    return shares


def _euros(millions: Decimal) -> int:
    euros = millions * 1_000_000
    assert euros == euros.to_integral_value()
    return int(euros)


def department_targets() -> dict[str, dict[str, int]]:
    """2024 total in euros by flow and department, exactly the published figures where they exist.

    Departments with a published total get it; the other departments of a region with a published
    total share what is left of it; the departments of the other regions share what is left of
    the national total. Shares follow the made-up sizes of demo_departements.csv."""
    published = reference.published_figures_2024()
    departments = reference.departments()
    profiles = _profiles()
    targets: dict[str, dict[str, int]] = {}
    for flow in ("E", "I"):
        figures = {(c.level, c.code): _euros(c.total_millions_eur) for c in published if c.flow == flow}
        fixed = {code: v for (level, code), v in figures.items() if level == "departement"}
        fixed_regions = {code: v for (level, code), v in figures.items() if level == "region"}
        target = dict(fixed)
        # (total to share, departments sharing it): each published region, then the rest of France.
        groups = [
            (total, [d.code for d in departments if d.region == region])
            for region, total in fixed_regions.items()
        ]
        groups.append(
            (
                figures[("france", "FR")] - sum(fixed_regions.values()),
                [d.code for d in departments if d.region not in fixed_regions],
            )
        )
        for total, members in groups:
            free = [code for code in members if code not in fixed]
            left = total - sum(fixed[code] for code in members if code in fixed)
            sizes = [profiles[code].size[flow] for code in free]
            if None in sizes:
                missing = free[sizes.index(None)]
                raise TicomexError(
                    f"demo_departements.csv: department {missing} needs a size for flow {flow}"
                )
            target.update(zip(free, (int(v) for v in allocate(left, np.array(sizes)))))
        targets[flow] = {d.code: target[d.code] for d in departments}
    return targets


# --------------------------------------------------------------------------- generation


@dataclass
class _Choice:
    """What one department trades in one flow: products, CPF4 classes, partners and their weights."""

    code: str
    product_ids: np.ndarray  # indices into _Generator.products
    cpf4_ids: np.ndarray  # indices into _Generator.cpf4
    cpf4_product: np.ndarray  # index into product_ids, per CPF4 class
    cpf4_weight: np.ndarray
    country_ids: np.ndarray  # indices into _Generator.countries
    country_weight: np.ndarray
    slots: int  # (year, quarter) cells a product-partner pair can fill
    rows: int = 0

    @property
    def capacity(self) -> int:
        return len(self.cpf4_ids) * len(self.country_ids) * self.slots


def _weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn in proportion to weights (Efraimidis–Spirakis), in draw-key order."""
    with np.errstate(divide="ignore"):  # zero weight: key -inf, drawn last
        keys = np.log(rng.random(weights.size)) / weights
    return np.argsort(-keys, kind="stable")[:k]


class _Generator:
    def __init__(self, rng: np.random.Generator, years: tuple[int, ...]):
        self.rng = rng
        self.years = years
        self.slots = len(years) * 4
        self.departments = reference.departments()
        self.region_of = {d.code: d.region for d in self.departments}
        self.profiles = _profiles()
        self.cpf4_of = reference.cpf4_by_a129()
        self.cpf4 = sorted(c for classes in self.cpf4_of.values() for c in classes)
        self.cpf4_id = {c: i for i, c in enumerate(self.cpf4)}
        products = _read_demo_table("demo_produits.csv")
        self.products = [p["a129"] for p in products]
        if self.products != list(reference.a129_labels()):
            raise TicomexError("demo_produits.csv must list the A129 codes of reference/a129.csv, in order")
        if sorted(self.profiles) != sorted(self.region_of):
            raise TicomexError(
                "demo_departements.csv must list the departments of reference/departements.csv"
            )
        self.product_share = {
            f: np.array([float(p[k]) for p in products]) for f, k in (("E", "export"), ("I", "import"))
        }
        self.outside_speciality = np.array([float(p["hors_specialite"]) for p in products])
        # No unit value (electricity): no mass.
        self.price = np.array([float(p["euros_par_kg"]) if p["euros_par_kg"] else np.inf for p in products])
        labels = country_labels()
        valid = sorted(
            {
                code
                for code, _, start, end in labels
                if int(start) <= years[0] * 100 + 1 and int(end) >= years[-1] * 100 + 12
            }
            - NOT_A_PARTNER
        )
        self.countries = valid
        main = {row["code"]: row for row in _read_demo_table("demo_pays.csv")}
        tail = 0.01 * rng.lognormal(0.0, 1.0, len(valid))  # the long tail of small partners
        self.country_share = {
            f: np.array([float(main[c][k]) if c in main else t for c, t in zip(valid, tail)])
            for f, k in (("E", "export"), ("I", "import"))
        }
        # Partners favoured for a product (crude oil from Norway…): factor by (product, partner).
        column = {c: j for j, c in enumerate(valid)}
        self.affinity = np.ones((len(self.products), len(valid)))
        for i, p in enumerate(products):
            for country, factor in _factors(p["pays_favoris"], 2.0).items():
                self.affinity[i, column[country]] = factor
        # Weight factor by (product, slot): one product rises, one is hit by the shock year.
        by_year = np.ones((len(self.products), len(years)))
        for j, year in enumerate(years):
            by_year[self.products.index(RISING_PRODUCT), j] = (1 + RISE_PER_YEAR) ** (year - CALIBRATED_YEAR)
            if year == SHOCK_YEAR:
                by_year[self.products.index(SHOCKED_PRODUCT), j] = SHOCK_FACTOR
        self.product_year_factor = by_year

    def choose(self, flow: str, code: str, target: int, budget: int, largest: int) -> _Choice:
        """Products, classes and partners of one department, sized on its total and row budget."""
        rng, profile = self.rng, self.profiles[code]
        scale = target / largest
        specialities = profile.specialities[flow]
        base = self.product_share[flow] * self.outside_speciality
        base = np.array(
            [
                specialities[p] * SPECIALITY_POINTS if p in specialities else b
                for p, b in zip(self.products, base)
            ]
        )
        allowed = np.array(
            [any(code in RESERVED_CPF4.get(c, {code}) for c in self.cpf4_of[p]) for p in self.products]
        )
        weight = base * rng.lognormal(0.0, 0.7, len(self.products)) * allowed
        n_products = round(MIN_PRODUCTS + EXTRA_PRODUCTS * scale**0.35)
        n_countries = round(MIN_PARTNERS + EXTRA_PARTNERS * scale**0.4)
        n_products = min(
            n_products, profile.max_products[flow] or n_products, int(allowed.sum()), max(1, budget // 8)
        )
        n_countries = min(n_countries, profile.max_countries[flow] or n_countries, max(1, budget // 8))
        chosen = np.sort(_weighted_sample(rng, weight, n_products))
        cpf4, cpf4_product, cpf4_weight = [], [], []
        for index, i in enumerate(chosen):
            product = self.products[i]
            classes = [c for c in self.cpf4_of[product] if code in RESERVED_CPF4.get(c, {code})]
            split = rng.dirichlet(np.full(len(classes), 0.6))
            cpf4 += [self.cpf4_id[c] for c in classes]
            cpf4_product += [index] * len(classes)
            cpf4_weight += list(weight[i] * split)
        favourites = profile.favourite_countries
        country_weight = self.country_share[flow] * np.array([favourites.get(c, 1.0) for c in self.countries])
        country_weight = country_weight * rng.lognormal(0.0, 0.5, len(self.countries))
        picked = np.sort(_weighted_sample(rng, country_weight, n_countries))
        return _Choice(
            code=code,
            product_ids=chosen,
            cpf4_ids=np.array(cpf4),
            cpf4_product=np.array(cpf4_product),
            cpf4_weight=np.array(cpf4_weight),
            country_ids=picked,
            country_weight=country_weight[picked],
            slots=self.slots,
        )

    def rows(self, flow: str, choice: _Choice, totals: dict[int, int]) -> dict[str, np.ndarray]:
        """The data rows of one department and flow: exactly `choice.rows` rows, each year's total
        as given (the calibrated year's is the published figure)."""
        rng, SLOTS, YEARS = self.rng, self.slots, self.years
        n_countries = len(choice.country_ids)
        affinity = self.affinity[np.ix_(choice.product_ids[choice.cpf4_product], choice.country_ids)]
        weight = choice.cpf4_weight[:, None] * choice.country_weight[None, :] * affinity
        with np.errstate(divide="ignore"):
            keys = np.log(rng.random(weight.shape)) / weight
        # Every chosen product and partner appears at least once (its best pair), then the best others.
        forced = np.zeros(weight.shape, dtype=bool)
        for product_index in range(len(choice.product_ids)):
            rows_of_product = np.flatnonzero(choice.cpf4_product == product_index)
            sub = keys[rows_of_product]
            i, j = np.unravel_index(np.argmax(sub), sub.shape)
            forced[rows_of_product[i], j] = True
        forced[np.argmax(keys, axis=0), np.arange(n_countries)] = True
        n_forced = int(forced.sum())
        n_pairs = min(
            max(n_forced, math.ceil(choice.rows / 5.5), math.ceil(choice.rows / SLOTS)),
            weight.size,
            choice.rows,
        )
        order = np.argsort(-np.where(forced, np.inf, keys).ravel(), kind="stable")[:n_pairs]
        pair_cpf4, pair_country = np.unravel_index(order, weight.shape)
        pair_weight = weight[pair_cpf4, pair_country] * rng.lognormal(0.0, 0.8, n_pairs)
        is_forced = forced[pair_cpf4, pair_country]
        # Slots filled per pair: the big pairs trade every quarter, the small ones now and then.
        slots = 1 + rng.binomial(SLOTS - 1, 0.6, n_pairs)
        slots[pair_weight >= np.quantile(pair_weight, 0.9)] = SLOTS
        self._match_total(slots, choice.rows)
        # Which (year, quarter) cells: forced pairs fill the calibrated year first.
        priority = rng.random((n_pairs, SLOTS))
        calibrated = np.array([y == CALIBRATED_YEAR for y in YEARS for _ in range(4)])
        priority[is_forced] += calibrated
        rank = np.argsort(np.argsort(-priority, axis=1, kind="stable"), axis=1, kind="stable")
        pair_index, slot_index = np.nonzero(rank < slots[:, None])
        raw = pair_weight[pair_index] * rng.lognormal(0.0, 0.3, pair_index.size)
        year = np.array(YEARS)[slot_index // 4]
        a129 = choice.product_ids[choice.cpf4_product[pair_cpf4[pair_index]]]
        raw = raw * self.product_year_factor[a129, slot_index // 4]
        value = np.zeros(pair_index.size, dtype=np.int64)
        for each_year, total in totals.items():
            in_year = year == each_year
            if in_year.any():
                value[in_year] = 1 + allocate(max(0, total - int(in_year.sum())), raw[in_year])
        mass = np.rint(value / self.price[a129] * rng.lognormal(0.0, 0.35, value.size)).astype(np.int64)
        # Keyed by the fields of the official files (FORMAT.md); codes as indices into the
        # vocabularies, turned into text once, when writing.
        return {
            "annee": year,
            "trimestre": slot_index % 4 + 1,
            "a129": a129,
            "cpf4": choice.cpf4_ids[pair_cpf4[pair_index]],
            "pays": choice.country_ids[pair_country[pair_index]],
            "valeur": value,
            "masse": mass,
        }

    def _match_total(self, slots: np.ndarray, total: int) -> None:
        """Add or remove single slots at random until the pairs fill exactly `total` rows."""
        while (gap := total - int(slots.sum())) != 0:
            open_ = np.flatnonzero(slots < self.slots) if gap > 0 else np.flatnonzero(slots > 1)
            picked = self.rng.choice(open_, size=min(abs(gap), open_.size), replace=False)
            slots[picked] += 1 if gap > 0 else -1


def _row_budgets(targets: dict[str, int], rows: int) -> dict[str, int]:
    """Rows per department: grows with its size, a floor for the smallest."""
    codes = list(targets)
    weight = np.array([targets[c] for c in codes], dtype=np.float64) ** 0.55
    floor = MIN_ROWS_PER_DEPARTMENT
    budget = floor + allocate(rows - floor * len(codes), weight)
    return dict(zip(codes, (int(b) for b in budget)))


def _fit_capacity(choices: list[_Choice]) -> None:
    """Move rows a department cannot hold (too few products x partners) to the largest ones."""
    excess = sum(max(0, c.rows - c.capacity) for c in choices)
    for c in choices:
        c.rows = min(c.rows, c.capacity)
    for c in sorted(choices, key=lambda c: -c.capacity):
        moved = min(excess, c.capacity - c.rows)
        c.rows += moved
        excess -= moved
    if excess:
        raise TicomexError("demo: more rows requested than the synthetic release can hold")


def year_index(flow: str, year: int) -> float:
    """A flow's national total in `year` relative to CALIBRATED_YEAR (YEAR_INDEX, extended)."""
    known = YEAR_INDEX[flow]
    nearest = min(known, key=lambda y: abs(y - year))
    return known[nearest] * (1 + OUTSIDE_INDEX_GROWTH) ** (year - nearest)


def parse_years(text: str) -> tuple[int, ...]:
    """`2019-2024` or `2024` -> the years; a clear error otherwise."""
    first, _, last = text.partition("-")
    try:
        start, end = int(first), int(last or first)
    except ValueError:
        raise TicomexError(f"--years {text!r}: expected a year or a range such as 2019-2024") from None
    if not 1990 <= start <= end <= 2100:
        raise TicomexError(f"--years {text!r}: expected an increasing range of years such as 2019-2024")
    return tuple(range(start, end + 1))


def generate(rows: int | None = None, seed: int = SEED, years: tuple[int, ...] = YEARS) -> dict[str, pd.DataFrame]:
    """The demo data rows by flow ("E", "I"), sorted as written: exactly `rows` rows each (default:
    ROWS_PER_YEAR a year). Each department's CALIBRATED_YEAR total is the published figure (or its
    share of one); the other years follow YEAR_INDEX with a department's own spread."""
    years = tuple(sorted(years))
    rows = ROWS_PER_YEAR * len(years) if rows is None else rows
    minimum = MIN_ROWS_PER_DEPARTMENT * len(reference.departments())
    if rows < minimum:
        raise TicomexError(f"demo: --rows must be at least {minimum} (8 rows per department)")
    rng = np.random.default_rng(seed)
    generator = _Generator(rng, years)
    targets = department_targets()
    tables = {}
    for flow in ("E", "I"):
        target = targets[flow]
        largest = max(target.values())
        budgets = _row_budgets(target, rows)
        choices = [generator.choose(flow, code, target[code], budgets[code], largest) for code in target]
        for choice in choices:
            choice.rows = budgets[choice.code]
        _fit_capacity(choices)
        spread = rng.lognormal(0.0, DEPARTMENT_YEAR_SPREAD, (len(choices), len(years)))
        parts = []
        for index, choice in enumerate(choices):
            totals = {
                year: target[choice.code]
                if year == CALIBRATED_YEAR
                else round(target[choice.code] * year_index(flow, year) * spread[index, j])
                for j, year in enumerate(years)
            }
            part = generator.rows(flow, choice, totals)
            part["departement"] = np.full(part["valeur"].size, index)
            parts.append(part)
        columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        vocabularies = {
            "departement": list(target),
            "a129": generator.products,
            "cpf4": generator.cpf4,
            "pays": generator.countries,
        }
        # Sort as the files are written: year, quarter, then the codes in text order.
        text_rank = {
            k: np.argsort(np.argsort(v, kind="stable"), kind="stable") for k, v in vocabularies.items()
        }
        order = np.lexsort(
            tuple(
                text_rank[k][columns[k]] if k in text_rank else columns[k]
                for k in ("pays", "cpf4", "a129", "departement", "trimestre", "annee")
            )
        )
        region_codes = sorted(set(generator.region_of.values()))
        region_of_index = np.array(
            [region_codes.index(generator.region_of[c]) for c in vocabularies["departement"]]
        )
        n = order.size
        tables[flow] = pd.DataFrame(
            {
                "flux": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[flow]),
                "trimestre": columns["trimestre"][order],
                "annee": columns["annee"][order],
                "departement": pd.Categorical.from_codes(
                    columns["departement"][order], categories=vocabularies["departement"]
                ),
                "region": pd.Categorical.from_codes(
                    region_of_index[columns["departement"][order]], categories=region_codes
                ),
                "a129": pd.Categorical.from_codes(columns["a129"][order], categories=vocabularies["a129"]),
                "cpf4": pd.Categorical.from_codes(columns["cpf4"][order], categories=vocabularies["cpf4"]),
                "pays": pd.Categorical.from_codes(columns["pays"][order], categories=vocabularies["pays"]),
                "valeur": columns["valeur"][order],
                "masse": columns["masse"][order],
            }
        )
    return tables


# --------------------------------------------------------------------------- writing


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _write_data_file(frame: pd.DataFrame, path: Path) -> None:
    """`;`-separated, no header, CRLF, in the frame's order (DuckDB keeps insertion order)."""
    with duckdb.connect() as con:
        con.register("data_rows", frame)
        con.execute(
            f"COPY (SELECT * FROM data_rows) TO {_sql_text(str(path))} "
            "(FORMAT csv, HEADER false, DELIMITER ';', QUOTE '', NEW_LINE '\r\n')"
        )


def annual_zip_name(year: int, flow: str) -> str:
    """`202002_regional_2019_export.zip`: as customs name the annual ZIPs (published in February)."""
    return f"{year + 1}02_regional_{year}_{FLOW_NAMES[flow]}.zip"


def _zip_folder(folder: Path, target: Path, year: int) -> None:
    """ZIP `folder` (under its own name) with fixed dates and order: the same bytes every time."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder.parent).as_posix(), date_time=(year + 1, 2, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())


def write_demo_release(
    out: Path, rows: int | None = None, *, layout: str = "national", years: tuple[int, ...] = YEARS
) -> Path:
    """Write the demo release into `out` and return the folder.

    `layout`: "national" (REGIONAL_CPF4PAYS{E,I}.txt, all years) or "annual" (two ZIPs a year,
    one per flow, each unpacking to its own folder with its own copy of the label files, as
    customs publish them); the same rows either way. `out` must be absent, empty or a previous
    demo release (never someone's other files); the release is written beside it and swapped in
    at the end, so a failure leaves the previous one."""
    out = Path(out)
    if layout not in LAYOUTS:
        raise TicomexError(f"--layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    if out.is_dir() and any(out.iterdir()) and not (out / DEMONSTRATION_FILE).is_file():
        raise TicomexError(
            f"{out}: holds files but no {DEMONSTRATION_FILE}; choose another folder for the demo"
        )
    tables = generate(rows, years=years)
    a129 = label_file_bytes([(code, label, *A129_VALIDITY) for code, label in reference.a129_labels().items()], bom=True)
    countries = label_file_bytes(country_labels())
    departments = label_file_bytes([(d.code, d.name, d.region, d.region_name) for d in reference.departments()])
    notice = demonstration_text().encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if layout == "national":
            for flow, frame in tables.items():
                _write_data_file(frame, staging / FLOW_FILES[flow])
            (staging / A129_FILE).write_bytes(a129)
            (staging / COUNTRIES_FILE).write_bytes(countries)
            (staging / DEPARTMENTS_FILE).write_bytes(departments)
        else:
            # FORMAT.md: the annual folders hold the data file and the Libelle_* files beside it
            # (no Departement_region.txt: the ingest then uses the reference table).
            unpacked = staging / ".unpacked"
            for year in sorted(years):
                for flow, frame in tables.items():
                    folder = unpacked / f"Regional-{year}-{FLOW_NAMES[flow]}"
                    folder.mkdir(parents=True)
                    word = "Export" if flow == "E" else "Import"
                    _write_data_file(frame[frame["annee"] == year], folder / f"Region_{year}_{word}.txt")
                    (folder / A129_FILE).write_bytes(a129)
                    (folder / COUNTRIES_FILE).write_bytes(countries)
                    (folder / DEMONSTRATION_FILE).write_bytes(notice)
                    _zip_folder(folder, staging / annual_zip_name(year, flow), year)
            shutil.rmtree(unpacked)
        (staging / DEMONSTRATION_FILE).write_bytes(notice)
        replace_folder(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
