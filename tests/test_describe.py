"""Chart summaries (`ticomex.charts.describe`) against figures computed here by hand."""

from __future__ import annotations

import pandas as pd

from ticomex.charts import describe
from ticomex.texts import EXPORT, IMPORT, OTHERS


def test_partners_summary():
    partners = pd.DataFrame(
        {
            "code_pays": ["IT", "CH", "DE", "US"],
            "pays": ["Italie", "Suisse", "Allemagne", "États-Unis"],
            "importations_eur": [12_340_000, 49_686_589, 3_506_196, 26_199_581],
            "exportations_eur": [45_649_999, 39_221_379, 27_957_673, 1_825_637],
        }
    )
    partners["solde_eur"] = partners["exportations_eur"] - partners["importations_eur"]
    text = describe.partners_summary(partners, 2024)
    assert text == (
        "Premiers partenaires en 2024 : Italie (importations 12.3 M€, exportations 45.6 M€, solde +33.3 M€), "
        "Suisse (importations 49.7 M€, exportations 39.2 M€, solde \u221210.5 M€) et "
        "Allemagne (importations 3.5 M€, exportations 28.0 M€, solde +24.5 M€). "
        "Solde positif avec 2 des 4 pays représentés, négatif avec 2."
    )
    assert describe.partners_summary(partners.head(0), 2024) == "Aucun échange enregistré en 2024."


def test_activities_summary():
    activities = pd.DataFrame(
        {
            "flux": ["export"] * 4 + ["import"],
            "code_a129": ["A", "B", "C", "D", "E"],
            "produit": ["Cuir", "Machines", "Parfums", "Lait", "Pharmacie"],
            "valeur_eur": [97_487_020, 84_204_303, 67_223_796, 43_722_466, 146_400_000],
        }
    )
    assert describe.activities_summary(activities, 2024) == (
        "Exportations 2024 : 292.6 M€, dont Cuir (97.5 M€), Machines (84.2 M€) et Parfums (67.2 M€). "
        "Importations 2024 : 146.4 M€, dont Pharmacie (146.4 M€)."
    )


def test_flows_summary_names_the_red_flows_largest_first():
    links = pd.DataFrame(
        {
            "produit": ["Cuir", "Cuir", "Lait", OTHERS, "Lait"],
            "pays": ["Italie", OTHERS, "Belgique", "Chine", "Italie"],
            "valeur_eur": [97_002_948, 484_072, 18_800_000, 5_000_000, 46_471_447],
            "rouge": [True, False, True, False, True],
        }
    )
    assert describe.flows_summary(links, EXPORT) == (
        "Les trois principaux flux, tracés en rouge et bordés d'un trait foncé : Cuir, destination Italie (97.0 M€), "
        "Lait, destination Italie (46.5 M€) et Lait, destination Belgique (18.8 M€). Ensemble des flux représentés : 167.8 M€, "
        "entre 2 produits et 3 pays, plus les catégories « autres »."
    )
    imports = describe.flows_summary(links.assign(rouge=[False, False, False, False, True]), IMPORT)
    assert imports.startswith(
        "Le principal flux, tracé en rouge et bordé d'un trait foncé : Lait, origine Italie (46.5 M€). "
    )
