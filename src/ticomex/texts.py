"""The sheet's words and number formats, written once.

Figures are printed as the published sheets print them: millions of euros with one
decimal, a plain space between thousands and a point as decimal mark (`1 070.9`);
shares rounded half up, trailing zeros dropped (`2%`, `0.05%`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ticomex.conventions import territory_slug

EXPORT, IMPORT = "E", "I"

# Wording that changes with the flow.
FLOWS = {
    EXPORT: {
        "name": "export",
        "total": "Total des exportations",
        "value": "exportée",
        "at": "à l'export",
    },
    IMPORT: {
        "name": "import",
        "total": "Total des importations",
        "value": "importée",
        "at": "à l'import",
    },
}

REGION_SHARE_DECIMALS = 1
NATIONAL_SHARE_DECIMALS = 2
FRANCE = "France entière"
OTHERS = "Autres"

TERRITORIES_TITLE = "Territoires d'Industrie du département"
MAIN_TERRITORIES_TITLE = "Principaux Territoires d'Industrie du département*"
MAIN_TERRITORIES_FOOTNOTE = (
    "\\* Les Territoires d'Industrie adjacents comptant moins de 5 communes dans le "
    "département ont été retirés"
)
NO_TERRITORY = "Aucun Territoire d'industrie ne concerne ce département."

DEMO_NOTICE = (
    "**Données de démonstration** : cette fiche est calculée sur une publication "
    "synthétique générée par ticomex, et non sur les données officielles des Douanes. "
    "Ses chiffres ne décrivent pas le commerce extérieur réel."
)

# On a page and PDF whose notebook failed at the last build: it shows the previous version.
STALE_NOTICE = (
    "**Fiche non mise à jour** : sa dernière régénération a échoué ; elle présente la "
    "version précédente de la fiche."
)

# The customs' note on the overseas departments' figures (sheets 9A–9E).
OVERSEAS_NOTE = (
    "**Départements d'outre-mer** : selon les Douanes, les chiffres de ce département "
    "excluent les échanges avec la France métropolitaine et entre départements d'outre-mer."
)
QUARTER_NAMES = {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième"}


def partial_year_note(year: int, quarters: list[int]) -> str:
    """`**Année incomplète** : … les premier, deuxième et troisième trimestres 2025 …`."""
    names = [QUARTER_NAMES[q] for q in quarters]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
    plural = "s" if len(names) > 1 else ""
    return (
        f"**Année incomplète** : les données de {year} ne couvrent que le{plural} {listed} "
        f"trimestre{plural} ; les chiffres de cette fiche portent sur cette période seulement."
    )


def missing_flow_note(year: int, flow: str) -> str:
    """An absent flow, accepted at ingest: the sheet's figures of that flow are not zero trade."""
    what = "exportations" if flow == EXPORT else "importations"
    return (
        f"**Données incomplètes** : la publication des Douanes utilisée ne contient pas les "
        f"{what} de {year} ; les chiffres {FLOWS[flow]['at']} de cette fiche sont donc absents."
    )


def data_notes(year: int, quarters: list[int], missing_flows: list[str], overseas: bool) -> str:
    """The notes a sheet carries on its data, each as a paragraph after a blank line; "" if none."""
    notes = [OVERSEAS_NOTE] if overseas else []
    if len(quarters) < 4:
        notes.append(partial_year_note(year, quarters))
    notes += [missing_flow_note(year, flow) for flow in missing_flows]
    return "".join(f"\n\n{note}" for note in notes)


# The sheet's source, by `publication.donnees` (ticomex.sheet.DEMO / OFFICIAL).
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


# Numbers the prose writes out ("les dix premiers biens").
NUMBER_WORDS = {
    1: "un", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept",
    8: "huit", 9: "neuf", 10: "dix", 11: "onze", 12: "douze", 13: "treize",
    14: "quatorze", 15: "quinze", 16: "seize", 17: "dix-sept", 18: "dix-huit",
    19: "dix-neuf", 20: "vingt",
}


def in_words(n: int) -> str:
    """`10` → `dix`; numbers without a word here stay in digits."""
    return NUMBER_WORDS.get(int(n), str(int(n)))


def total_line(flow: str, euros: int) -> str:
    return f"{FLOWS[flow]['total']} : {millions(euros)} millions d'euros"


def region_share_line(flow: str, euros: int, region_euros: int, region_name: str) -> str:
    pct = share(euros, region_euros, REGION_SHARE_DECIMALS)
    return f"soit {pct}% de la valeur {FLOWS[flow]['value']} par la région {region_name}"


def national_share_line(flow: str, euros: int, france_euros: int) -> str:
    pct = share(euros, france_euros, NATIONAL_SHARE_DECIMALS)
    return f"soit {pct}% de la valeur {FLOWS[flow]['value']} au niveau national"


def flows_title(flow: str, place: str, year: int, department: bool = True) -> str:
    """`Flux à l'export par produit et par pays, Ardèche (en valeur, 2024)`; for the
    region and France the short form `Flux à l'export, Grand Est (en valeur, 2024)`."""
    detail = ""
    if department:
        detail = " par produit et par pays" if flow == EXPORT else " par pays et par produit"
    return f"Flux {FLOWS[flow]['at']}{detail}, {place} (en valeur, {year})"


def territories_markdown(territories: list[str], main: bool) -> str:
    """The department's Territoires d'industrie block, heading variant included."""
    if not territories:
        return f"### {TERRITORIES_TITLE}\n\n{NO_TERRITORY}"
    title = MAIN_TERRITORIES_TITLE if main else TERRITORIES_TITLE
    title = title.replace("*", "\\*")
    # Each name links to the territory's page, beside the sheet's page on the site.
    items = "\n".join(f"- [{name}]({territory_slug(name)}.html)" for name in territories)
    text = f"### {title}\n\n{items}"
    if main:
        text += f"\n\n{MAIN_TERRITORIES_FOOTNOTE}"
    return text


# A Territoire d'industrie's page and PDF (ticomex.render.territory).
TERRITORY_HEADING = "Territoire d'industrie : {name}"
TERRITORY_INTRO = (
    "Ce Territoire d'industrie s'étend sur {count}. Le tableau et le graphique présentent "
    "le commerce extérieur de chacun d'eux en {year}."
)
TERRITORY_CAVEAT = (
    "**Avertissement méthodologique** : les chiffres sont départementaux. Les Douanes ne "
    "publient pas le commerce extérieur à l'échelle d'un Territoire d'industrie : ceux de "
    "ses départements le dépassent, ils ne s'additionnent pas pour le décrire."
)
TERRITORY_TABLE_CAPTION = "Les départements du territoire ({year}, millions d'euros)"
TERRITORY_COLUMNS = {
    "department": "Département",
    "area_share": "Part de la surface du territoire",
    "exports": "Exportations (M€)",
    "imports": "Importations (M€)",
    "balance": "Solde (M€)",
    "region_share": "Part des exportations régionales",
    "first_partner": "Premier pays partenaire",
    "first_product": "Premier produit exporté",
}
TERRITORY_CHART_TITLE = "Importations et exportations des départements du territoire ({year})"
TERRITORY_CHART_ALT = (
    "Graphique : importations (à gauche) et exportations (à droite) de chaque département "
    "du territoire, en millions d'euros, et leur solde ; les mêmes valeurs figurent dans le "
    "tableau ci-dessus."
)
NOT_PUBLISHED = "non publié"
TERRITORIES_INDEX_TITLE = "Territoires d'industrie"


def department_word(count: int) -> str:
    """`1 département`, `2 départements`."""
    return f"{in_words(count)} département" + ("s" if count > 1 else "")


def percent(value: str) -> str:
    """A share as the sheets print it: `1.9%`."""
    return f"{value}%"
