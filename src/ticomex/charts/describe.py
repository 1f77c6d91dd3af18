"""Each chart told in one or two French sentences computed from its data: the text
alternative of its drawing in the page (beside the image) and in the PDF (the figure's
alternative text), passed to `sheet.show_chart(..., summary=...)`.

Figures as the sheet prints them (`texts.millions`: `1 070.9 M€`); pandas only reads the
frames the charts read (no Altair).
"""

from __future__ import annotations

import pandas as pd

from ticomex import texts
from ticomex.charts.frames import EXPORT_FLUX, IMPORT_FLUX
from ticomex.texts import EXPORT, OTHERS

SUMMARY_ITEMS = 3  # countries or products named in a summary


def meur(euros: int) -> str:
    """`97487020` → `97.5 M€`."""
    return f"{texts.millions(euros)} {texts.MEUR}"


def signed_meur(euros: int) -> str:
    """A balance with its sign: `+117.8 M€`, `−10.5 M€` (a minus sign, read as such)."""
    sign = "+" if euros >= 0 else "\u2212"
    return f"{sign}{texts.millions(abs(int(euros)))} {texts.MEUR}"


def _enumeration(items: list[str]) -> str:
    """`a`, `a et b`, `a, b et c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _trade_items(frame: pd.DataFrame, n: int | None) -> str:
    """`name (importations …, exportations …, solde …)` for the first n rows (None: all)."""
    rows = frame if n is None else frame.head(n)
    return _enumeration([
        f"{row.pays} (importations {meur(row.importations_eur)}, exportations "
        f"{meur(row.exportations_eur)}, solde {signed_meur(row.solde_eur)})"
        for row in rows.itertuples()
    ])


def partners_summary(partners: pd.DataFrame, year: int, n: int = SUMMARY_ITEMS) -> str:
    """The first partners drawn, their imports, exports and balance; how many balances are
    positive. `partners`: the frame of `charts.partners_chart`, in its order."""
    if partners.empty:
        return f"{texts.NO_TRADE_SUMMARY} en {year}."
    positive = int((partners["solde_eur"] >= 0).sum())
    total = len(partners)
    return (
        f"Premiers partenaires en {year} : {_trade_items(partners, n)}. "
        f"Solde positif avec {positive} des {total} pays représentés, négatif avec {total - positive}."
    )


def departments_summary(departments: pd.DataFrame, year: int) -> str:
    """Every department of a territory's chart (the frame of `charts.partners_chart`, one
    row per department, `pays` holding its name): imports, exports and balance."""
    if departments.empty:
        return f"{texts.NO_TRADE_SUMMARY} en {year}."
    return f"Départements comparés en {year} : {_trade_items(departments, None)}."


def activities_summary(activities: pd.DataFrame, year: int, n: int = SUMMARY_ITEMS) -> str:
    """Each flow's total and its first products. `activities`: the frame of
    `charts.treemap_chart` (flux, produit, valeur_eur)."""
    sentences = []
    for flux, label in ((EXPORT_FLUX, "Exportations"), (IMPORT_FLUX, "Importations")):
        rows = activities[(activities["flux"] == flux) & (activities["valeur_eur"] > 0)]
        if rows.empty:
            sentences.append(f"{label} {year} : aucune.")
            continue
        rows = rows.sort_values("valeur_eur", ascending=False, kind="stable")
        first = [f"{row.produit} ({meur(row.valeur_eur)})" for row in rows.head(n).itertuples()]
        sentences.append(f"{label} {year} : {meur(int(rows['valeur_eur'].sum()))}, dont {_enumeration(first)}.")
    return " ".join(sentences)


def _flow_end(name: str, others: str) -> str:
    return others if name == OTHERS else name


def flows_summary(links: pd.DataFrame, flow: str) -> str:
    """The flows drawn in red, largest first, each named and valued; then the total drawn.
    `links`: the frame of `charts.sankey_chart` (produit, pays, valeur_eur, rouge); `flow`:
    `texts.EXPORT` (products to countries) or `texts.IMPORT` (countries to products)."""
    drawn = links[links["valeur_eur"] > 0]
    if drawn.empty:
        return f"{texts.NO_TRADE_SUMMARY}."
    red = drawn[drawn["rouge"].astype(bool)].sort_values("valeur_eur", ascending=False, kind="stable")
    # "destination Italie", "origine États-Unis": no article to agree with the country.
    joining = "destination" if flow == EXPORT else "origine"
    named = [
        f"{_flow_end(row.produit, 'autres produits')}, {joining} "
        f"{_flow_end(row.pays, 'autres pays')} ({meur(row.valeur_eur)})"
        for row in red.itertuples()
    ]
    products = drawn.loc[drawn["produit"] != OTHERS, "produit"].nunique()
    countries = drawn.loc[drawn["pays"] != OTHERS, "pays"].nunique()
    others = ", plus les catégories « autres »" if (drawn[["produit", "pays"]] == OTHERS).any().any() else ""
    total = (
        f"Ensemble des flux représentés : {meur(int(drawn['valeur_eur'].sum()))}, entre "
        f"{products} produits et {countries} pays{others}."
    )
    if not named:
        return total
    count = texts.in_words(len(named))
    lead = f"Les {count} principaux flux, {texts.RED_FLOWS_MARK}" if len(named) > 1 else f"Le principal flux, {texts.RED_FLOW_MARK}"
    return f"{lead} : {_enumeration(named)}. {total}"
