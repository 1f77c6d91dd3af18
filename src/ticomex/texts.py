"""The sheet's words and number formats, written once.

Figures are printed as the published sheets print them: millions of euros with one
decimal, a plain space between thousands and a point as decimal mark (`1 070.9`);
shares rounded half up, trailing zeros dropped (`2%`, `0.05%`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

EXPORT, IMPORT = "E", "I"

# Wording that changes with the flow.
FLUX = {
    EXPORT: {
        "nom": "export",
        "total": "Total des exportations",
        "valeur": "exportée",
        "a_l": "à l'export",
    },
    IMPORT: {
        "nom": "import",
        "total": "Total des importations",
        "valeur": "importée",
        "a_l": "à l'import",
    },
}

REGION_SHARE_DECIMALS = 1
NATIONAL_SHARE_DECIMALS = 2
FRANCE = "France entière"
AUTRES = "Autres"

TERRITOIRES_TITRE = "Territoires d'Industrie du département"
TERRITOIRES_TITRE_PRINCIPAUX = "Principaux Territoires d'Industrie du département*"
TERRITOIRES_RENVOI = (
    "\\* Les Territoires d'Industrie adjacents comptant moins de 5 communes dans le "
    "département ont été retirés"
)
TERRITOIRES_AUCUN = "Aucun Territoire d'industrie ne concerne ce département."

DEMO_AVERTISSEMENT = (
    "**Données de démonstration** : cette fiche est calculée sur une publication "
    "synthétique générée par ticomex, et non sur les données officielles des Douanes. "
    "Ses chiffres ne décrivent pas le commerce extérieur réel."
)

SOURCE = {
    "demo": "une publication synthétique de démonstration, au format des données "
    "départementales et régionales du commerce extérieur de la Direction générale "
    "des Douanes et Droits indirects",
    "officielles": "les données départementales et régionales du commerce extérieur, "
    "produites par la Direction générale des Douanes et Droits indirects et "
    "accessibles en open data",
}


def _half_up(value: Fraction | Decimal, decimals: int) -> Decimal:
    """Round half up, exactly (no binary floating point on the way)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def millions(euros: int) -> str:
    """`1070912345` → `1 070.9`."""
    rounded = _half_up(Fraction(int(euros), 1_000_000), 1)
    return f"{rounded:,.1f}".replace(",", " ")


def share(part: int, whole: int, decimals: int) -> str:
    """`part/whole` in percent, rounded half up, trailing zeros dropped: `2`, `0.05`."""
    if whole == 0:
        return "0"
    rounded = _half_up(Fraction(int(part) * 100, int(whole)), decimals)
    text = f"{rounded:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def total_line(flux: str, euros: int) -> str:
    return f"{FLUX[flux]['total']} : {millions(euros)} millions d'euros"


def region_share_line(flux: str, euros: int, region_euros: int, region_nom: str) -> str:
    pct = share(euros, region_euros, REGION_SHARE_DECIMALS)
    return f"soit {pct}% de la valeur {FLUX[flux]['valeur']} par la région {region_nom}"


def national_share_line(flux: str, euros: int, france_euros: int) -> str:
    pct = share(euros, france_euros, NATIONAL_SHARE_DECIMALS)
    return f"soit {pct}% de la valeur {FLUX[flux]['valeur']} au niveau national"


def flows_title(flux: str, lieu: str, annee: int, departement: bool = True) -> str:
    """`Flux à l'export par produit et par pays, Ardèche (en valeur, 2024)`; for the
    region and France the short form `Flux à l'export, Grand Est (en valeur, 2024)`."""
    detail = ""
    if departement:
        detail = " par produit et par pays" if flux == EXPORT else " par pays et par produit"
    return f"Flux {FLUX[flux]['a_l']}{detail}, {lieu} (en valeur, {annee})"


def territories_markdown(territoires: list[str], principaux: bool) -> str:
    """The department's Territoires d'industrie block, heading variant included."""
    if not territoires:
        return f"### {TERRITOIRES_TITRE}\n\n{TERRITOIRES_AUCUN}"
    titre = TERRITOIRES_TITRE_PRINCIPAUX if principaux else TERRITOIRES_TITRE
    titre = titre.replace("*", "\\*")
    items = "\n".join(f"- {nom}" for nom in territoires)
    text = f"### {titre}\n\n{items}"
    if principaux:
        text += f"\n\n{TERRITOIRES_RENVOI}"
    return text
