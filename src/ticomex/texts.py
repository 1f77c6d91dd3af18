"""The sheet's words and number formats, written once.

Figures are printed as the published sheets print them: millions of euros with one
decimal, a plain space between thousands and a point as decimal mark (`1 070.9`);
shares rounded half up, trailing zeros dropped (`2%`, `0.05%`).
"""

from __future__ import annotations

from dataclasses import dataclass
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
MEUR = "M€"  # millions of euros, after a figure of `millions`

# Chart summaries (`ticomex.charts.describe`) and the charts' data tables in the pages.
NO_TRADE_SUMMARY = "Aucun échange enregistré"
# How the top flows stand out in the Sankey diagrams, besides their colour.
RED_FLOWS_MARK = "tracés en rouge et bordés d'un trait foncé"
RED_FLOW_MARK = "tracé en rouge et bordé d'un trait foncé"  # one flow
# The columns of the published chart data as the pages' tables head them; amounts
# (`*_eur`) are shown in millions of euros, `rouge` as yes/no.
COLUMN_LABELS = {
    "code_pays": "Code pays",
    "pays": "Pays",
    "importations_eur": f"Importations ({MEUR})",
    "exportations_eur": f"Exportations ({MEUR})",
    "solde_eur": f"Solde ({MEUR})",
    "flux": "Flux",
    "code_a129": "Code A129",
    "produit": "Produit",
    "valeur_eur": f"Valeur ({MEUR})",
    "rouge": "Principal flux (en rouge)",
}
CELL_VALUES = {"true": "oui", "false": "non", "export": "Exportations", "import": "Importations"}

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
# Other names a reader may search a department by: the release counts Corsica as one
# department, 20, where readers know its two (2A, 2B).
SEARCH_ALIASES = {"20": "2A 2B Corse-du-Sud Haute-Corse Ajaccio Bastia"}
# The same, on the pages that are not sheets (index, statement, legal notice).
SITE_DEMO_NOTICE = (
    "**Données de démonstration** : les fiches de ce site sont calculées sur une publication "
    "synthétique générée par ticomex, et non sur les données officielles des Douanes. "
    "Leurs chiffres ne décrivent pas le commerce extérieur réel."
)

# On a page and PDF whose notebook failed at the last build: it shows the previous version.
STALE_NOTICE = (
    "**Fiche non mise à jour** : sa dernière régénération a échoué ; elle présente la "
    "version précédente de la fiche."
)

# The customs' note on the overseas departments' figures (sheets 9A–9E and their region's).
OVERSEAS_NOTE = (
    "**Départements d'outre-mer** : selon les Douanes, les chiffres des départements "
    "d'outre-mer excluent les échanges avec la France métropolitaine et entre départements d'outre-mer."
)


@dataclass(frozen=True)
class Place:
    """How a sheet names its place in running text (a department's: the seeds' words)."""

    the: str  # "le département"
    of: str  # "du département"
    within: str  # "dans le département"
    adjective: str  # "départementale"
    column: str  # a table's column for the place's figures
    local: str  # "locaux": the place's trade balances, "les grands équilibres commerciaux …"
    members: bool = True  # "chaque département de la région" (France: "chaque département")


# By `indicators.Level` value.
PLACES = {
    "department": Place("le département", "du département", "dans le département", "départementale", "Département", "locaux"),
    "region": Place("la région", "de la région", "dans la région", "régionale", "Région", "régionaux"),
    "france": Place("la France", "de la France", "en France", "nationale", "France", "nationaux", members=False),
}
DEPARTMENT_PLACE = PLACES["department"]
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


def total_lines(flow: str, figures: dict, region_name: str) -> str:
    """The sheet's total in bold, then its shares of the places it lies in (the keys of
    `indicators.headline` present: a region's sheet has no region share, France's none)."""
    total = figures["total_eur"]
    lines = [f"**{total_line(flow, total)}**"]
    if "region_total_eur" in figures:
        lines.append(region_share_line(flow, total, figures["region_total_eur"], region_name))
    if "france_total_eur" in figures:
        lines.append(national_share_line(flow, total, figures["france_total_eur"]))
    return "\n\n".join(lines)


def comparison_sentence(flow: str, place: Place, within_region: bool, within_france: bool) -> str:
    """`La situation départementale des exportations représentée page précédente peut être
    comparée à celle de la région et du pays :` ("" when the sheet compares with nothing)."""
    others = [name for name, shown in (("de la région", within_region), ("du pays", within_france)) if shown]
    if not others:
        return ""
    end = " :" if flow == EXPORT else "."
    return (
        f"La situation {place.adjective} des {FLOW_NOUNS[flow]} représentée page précédente peut être "
        f"comparée à celle {' et '.join(others)}{end}"
    )


def exposure_intro(place: Place, compared: list[str]) -> str:
    """The Exposition section's opening paragraph; `compared`: the places it is compared with."""
    comparison = ""
    if compared:
        comparison = f", et les compare à celles {' et '.join(compared)}"
    return (
        "Dans le contexte des surtaxes douanières annoncées par les États-Unis, cette partie "
        f"mesure la part des exportations {place.of} qui part vers les États-Unis et la part de "
        f"ses importations qui vient de Chine{comparison}."
    )


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
NOT_PUBLISHED = "non publié"
TERRITORIES_INDEX_TITLE = "Territoires d'industrie"


def department_word(count: int) -> str:
    """`1 département`, `2 départements`."""
    return f"{in_words(count)} département" + ("s" if count > 1 else "")


def with_percent_sign(value: str) -> str:
    """A share as the sheets print it: `1.9` → `1.9%`."""
    return f"{value}%"


# Change over time and exposure (the sections "Évolution" and "Exposition").
MINUS = "\u2212"  # as the charts print negative numbers (d3-format's minus sign)
CHANGE_DECIMALS = 1
EXPOSURE_DECIMALS = 1
INCOMPLETE_YEAR = "année incomplète"
FLOW_NOUNS = {EXPORT: "exportations", IMPORT: "importations"}
BALANCE_NOUN = "solde commercial"
# A partner country named in the prose: (name, "to it" for exports, "from it" for imports).
COUNTRIES = {
    "US": {"name": "les États-Unis", EXPORT: "vers les États-Unis", IMPORT: "en provenance des États-Unis"},
    "CN": {"name": "la Chine", EXPORT: "vers la Chine", IMPORT: "en provenance de Chine"},
}
FLOW_PARTNER = {EXPORT: "pays client", IMPORT: "pays fournisseur"}
FLOW_PARTNERS = {EXPORT: "pays clients", IMPORT: "pays fournisseurs"}
FLOW_VERB = {EXPORT: "exportés", IMPORT: "importés"}


def _drop_zeros(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def percent(value: float, decimals: int = EXPOSURE_DECIMALS) -> str:
    """An unrounded percentage as the sheets print shares: `8.1`, `2`, `0.05` (no sign)."""
    text = _drop_zeros(f"{_half_up(Decimal(repr(float(value))), decimals):.{decimals}f}")
    return "0" if text in ("-0", "") else text


def signed(text: str) -> str:
    """`4.2` → `+4.2`, `-4.2` → `−4.2`, `0` → `0`."""
    if text.startswith("-"):
        return MINUS + text[1:]
    return text if text in ("0", "0.0") else "+" + text


def signed_millions(euros: int) -> str:
    """`12_700_000` → `+12.7`, `-3_000_000` → `−3.0` (millions of euros, one decimal)."""
    magnitude = millions(abs(int(euros)))
    if magnitude == "0.0":
        return magnitude
    return ("+" if euros > 0 else MINUS) + magnitude


def change_percent(change: int, previous: int, decimals: int = CHANGE_DECIMALS) -> str:
    """The change in percent of the previous value, signed, rounded half up (away from
    zero), trailing zeros dropped: `+4.2%`, `−10%`, `0%`."""
    sign = -1 if change < 0 else 1
    rounded = _half_up(Fraction(abs(int(change)) * 100, abs(int(previous))), decimals)
    text = _drop_zeros(f"{rounded:.{decimals}f}")
    if text == "0":
        return "0%"
    return ("+" if sign > 0 else MINUS) + text + "%"


def rank_ordinal(rank: int) -> str:
    """`1` → `1er`, `3` → `3e`."""
    return "1er" if rank == 1 else f"{rank}e"


def rank_ordinal_feminine(rank: int) -> str:
    """`1` → `1re`, `3` → `3e` (une destination)."""
    return "1re" if rank == 1 else f"{rank}e"


def flow_change_sentence(flow: str, year: int, value: int, previous: int | None) -> str:
    """`En 2024, les exportations s'élèvent à 314.9 millions d'euros, +4.2% par rapport à
    2023 (+12.7 millions d'euros).`; the previous year's value None: no comparison."""
    noun = FLOW_NOUNS[flow]
    text = f"En {year}, les {noun} s'élèvent à {millions(value)} millions d'euros"
    if previous is None:
        return text + "."
    if previous == 0:
        return text + f" ; elles étaient nulles en {year - 1}."
    change = value - previous
    return (
        text + f", {change_percent(change, previous)} par rapport à {year - 1} "
        f"({signed_millions(change)} millions d'euros)."
    )


def balance_change_sentence(year: int, balance: int, previous: int | None) -> str:
    """`Le solde commercial est de +136.8 millions d'euros en 2024 (−3.1 millions d'euros
    par rapport à 2023).`"""
    text = f"Le {BALANCE_NOUN} est de {signed_millions(balance)} millions d'euros en {year}"
    if previous is None:
        return text + "."
    return text + f" ({signed_millions(balance - previous)} millions d'euros par rapport à {year - 1})."


def single_year_sentence(years: list[int]) -> str:
    """Why the change from the previous year is not shown."""
    if not years:
        return "La base ne contient aucune année complète : l'évolution annuelle ne peut pas être calculée."
    return (
        f"La base ne contient pas l'année {years[-1] - 1} complète : l'évolution par rapport à "
        "l'année précédente ne peut pas être calculée."
    )


def incomplete_years_sentence(years: list[int]) -> str:
    """The quarterly series' note on incomplete years (none: an empty text)."""
    if not years:
        return ""
    listed = " et ".join(map(str, years))
    plural = "sont incomplètes" if len(years) > 1 else "est incomplète"
    return (
        f"Sur fond grisé, l'année {listed} {plural} : ses trimestres publiés sont "
        "montrés, ils ne se comparent pas à une année entière."
        if len(years) == 1
        else f"Sur fond grisé, les années {listed} {plural} : leurs trimestres publiés sont montrés."
    )


def markdown_table(headers: list[str], rows: list[list[str]], right: int = 1) -> str:
    """A Markdown pipe table; the columns from index `right` on are right-aligned (figures)."""
    align = ["---" if i < right else "---:" for i in range(len(headers))]
    lines = [headers, align, *rows]
    return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines)


def contributions_intro(flow: str, dimension_plural: str, year: int) -> str:
    return (
        f"Les {dimension_plural} dont la variation pèse le plus sur l'évolution des "
        f"{FLOW_NOUNS[flow]} entre {year - 1} et {year} :"
    )


CONTRIBUTION_NOTE = (
    "La contribution est la variation d'un produit ou d'un pays rapportée au total de "
    "l'année précédente, en points de pourcentage : les contributions de tous les produits "
    "(ou de tous les pays) s'additionnent pour donner l'évolution totale."
)


def contributions_table(frame, label: str, year: int) -> str:
    """The contributors' table: name, the year's value, the change (M€) and the contribution."""
    headers = [label.capitalize(), f"{year} (M€)", "Variation (M€)", "Contribution (pts)"]
    rows = []
    for row in frame.itertuples(index=False):
        pts = row.contribution_pts
        points = "" if pts != pts else signed(percent(pts, CHANGE_DECIMALS))
        rows.append([getattr(row, label), millions(row.valeur_eur), signed_millions(row.variation_eur), points])
    return markdown_table(headers, rows)


def exposure_sentence(flow: str, country: str, year: int, exposure, place: Place = DEPARTMENT_PLACE) -> str:
    """`En 2024, 8.1% des exportations du département partent vers les États-Unis (45.3
    millions d'euros) : c'est sa 3e destination.`"""
    words = COUNTRIES[country]
    if not exposure.value_eur:
        return no_trade_sentence(flow, country, year, place)
    verb = "partent" if flow == EXPORT else "sont"
    role = "destination" if flow == EXPORT else "origine"
    return (
        f"En {year}, {percent(exposure.share_pct)}% des {FLOW_NOUNS[flow]} {place.of} {verb} "
        f"{words[flow]} ({millions(exposure.value_eur)} millions d'euros) : "
        f"{words['name']} {'sont' if country == 'US' else 'est'} sa {rank_ordinal_feminine(exposure.rank)} "
        f"{role} sur {exposure.partners} pays."
    )


def no_trade_sentence(flow: str, country: str, year: int, place: Place = DEPARTMENT_PLACE) -> str:
    return f"{place.the[0].upper()}{place.the[1:]} n'a enregistré aucune {FLOW_NOUNS[flow][:-1]} {COUNTRIES[country][flow]} en {year}."


def exposure_table(flow: str, country: str, places: list[tuple[str, object]]) -> str:
    """The share and rank of `country` for the department, its region and France."""
    headers = ["Indicateur", *(name for name, _ in places)]
    share_row = [f"Part des {FLOW_NOUNS[flow]} {COUNTRIES[country][flow]}"]
    rank_row = [f"Rang parmi les {FLOW_PARTNERS[flow]}"]
    for _, exposure in places:
        share_row.append(f"{percent(exposure.share_pct)}%")
        rank_row.append(rank_ordinal(exposure.rank) if exposure.rank else "–")
    return markdown_table(headers, [share_row, rank_row])


def products_with_table(flow: str, country: str, frame) -> str:
    """The first products traded with `country`: value and the share of each product's flow."""
    headers = ["Produit", "Valeur (M€)", f"Part du produit {COUNTRIES[country][flow]}"]
    rows = [[row.produit, millions(row.valeur_eur), f"{percent(row.part_produit_pct)}%"]
            for row in frame.itertuples(index=False)]
    return markdown_table(headers, rows)


def products_with_title(flow: str, country: str, place: str, year: int) -> str:
    return f"Premiers produits {FLOW_VERB[flow]} {COUNTRIES[country][flow]}, {place} ({year})"


def concentration_sentence(by_partner, by_product, partner_name: str, product_name: str, mean_partner, mean_product, year: int) -> str:
    """The export concentration, by partner and by product, against the departments' mean."""
    return (
        f"En {year}, le premier pays client du département ({partner_name}) reçoit "
        f"{percent(by_partner.first_share_pct)}% de ses exportations et les trois premiers "
        f"{percent(by_partner.first_few_share_pct)}% (moyenne des départements : "
        f"{percent(mean_partner.first_share_pct)}% et {percent(mean_partner.first_few_share_pct)}%). "
        f"Le premier produit exporté ({product_name}) en représente {percent(by_product.first_share_pct)}% "
        f"et les trois premiers {percent(by_product.first_few_share_pct)}% (moyenne des départements : "
        f"{percent(mean_product.first_share_pct)}% et {percent(mean_product.first_few_share_pct)}%)."
    )


def concentration_note(departments: int, year: int, place: Place = DEPARTMENT_PLACE) -> str:
    mean = (
        f"La moyenne des départements est la moyenne simple des parts calculées pour chacun "
        f"des {departments} départements ayant exporté en {year} (Monaco exclu)"
    )
    if place == DEPARTMENT_PLACE:
        return (
            f"{mean} : elle situe le département par rapport à un département type, et non à la "
            "France entière, dont les exportations, additionnées sur tout le territoire, sont bien "
            "moins concentrées."
        )
    return (
        f"{mean}. Les exportations {place.of}, additionnées sur plusieurs départements, sont en "
        "général moins concentrées que celles d'un département type."
    )


def concentration_table(
    by_partner, by_product, partner_name: str, product_name: str, mean_partner, mean_product,
    place: Place = DEPARTMENT_PLACE,
) -> str:
    """Export concentration by partner and by product, beside the departments' mean."""
    headers = ["Part des exportations", place.column, "Moyenne des départements"]
    rows = [
        [f"Premier pays client ({partner_name})", by_partner.first_share_pct, mean_partner.first_share_pct],
        ["Trois premiers pays clients", by_partner.first_few_share_pct, mean_partner.first_few_share_pct],
        [f"Premier produit ({product_name})", by_product.first_share_pct, mean_product.first_share_pct],
        ["Trois premiers produits", by_product.first_few_share_pct, mean_product.first_few_share_pct],
    ]
    return markdown_table(headers, [[name, f"{percent(a)}%", f"{percent(b)}%"] for name, a, b in rows])


def evolution_summary(yearly) -> str:
    """The yearly chart in words: the first and last years' exports, imports and balance."""
    first, last = yearly.iloc[0], yearly.iloc[-1]
    y0, y1 = int(first["annee"]), int(last["annee"])
    if y0 == y1:
        return (
            f"En {y0}, exportations : {millions(first['exportations_eur'])} millions d'euros ; importations : "
            f"{millions(first['importations_eur'])} ; solde : {signed_millions(first['solde_eur'])}."
        )
    return (
        f"De {y0} à {y1}, les exportations passent de {millions(first['exportations_eur'])} à "
        f"{millions(last['exportations_eur'])} millions d'euros et les importations de "
        f"{millions(first['importations_eur'])} à {millions(last['importations_eur'])} millions d'euros. "
        f"Le solde passe de {signed_millions(first['solde_eur'])} à {signed_millions(last['solde_eur'])} "
        "millions d'euros."
    )


def quarterly_summary(series) -> str:
    """The quarterly chart in words: the span, each flow's lowest and highest quarter."""
    parts = []
    for flow in (EXPORT, IMPORT):
        column = f"{FLOW_NOUNS[flow]}_eur"
        values = series[column].tolist()
        low = values.index(min(values))
        high = values.index(max(values))
        parts.append(
            f"{FLOW_NOUNS[flow]} de {millions(values[low])} ({series['periode'].iloc[low]}) à "
            f"{millions(values[high])} millions d'euros ({series['periode'].iloc[high]})"
        )
    text = f"Par trimestre, de {series['periode'].iloc[0]} à {series['periode'].iloc[-1]} : {parts[0]} ; {parts[1]}."
    incomplete = sorted({int(y) for y, full in zip(series["annee"], series["annee_complete"]) if not full})
    if incomplete:
        text += f" Année incomplète : {', '.join(map(str, incomplete))}."
    return text


def products_with_summary(flow: str, country: str, frame) -> str:
    """The first products traded with `country` in words."""
    rows = list(frame.itertuples(index=False))
    first = rows[0]
    text = (
        f"Premier produit {FLOW_VERB[flow][:-1]} {COUNTRIES[country][flow]} : {first.produit} "
        f"({millions(first.valeur_eur)} millions d'euros)"
    )
    following = [f"{r.produit} ({millions(r.valeur_eur)})" for r in rows[1:3]]
    if following:
        text += ", puis " + " et ".join(following)
    return text + "."


RANKING_COLUMNS = ("Département", "Exportations (M€)", "Importations (M€)", "Solde (M€)", "Part des exportations")


def ranking_title(name: str, year: int) -> str:
    return f"Départements classés par exportations, {name} ({year})"


def ranking_intro(place: Place) -> str:
    return (
        f"Chaque département{' ' + place.of if place.members else ''}, avec ses exportations, ses "
        f"importations, son solde et sa part des exportations {place.of} ; sur le site, son nom "
        "mène à sa fiche."
    )


def ranking_table(ranking, link: bool = True) -> str:
    """The departments of a region or of France, ranked (`indicators.department_ranking`):
    each name links to its sheet (`<code>.html`) when it has one."""
    rows = []
    for row in ranking.itertuples(index=False):
        name = f"{row.departement} ({row.code_departement})"
        if link and row.fiche:
            name = f"[{name}]({row.code_departement}.html)"
        rows.append([name, millions(row.exportations_eur), millions(row.importations_eur),
                     millions(row.solde_eur).replace("-", MINUS), f"{percent(row.part_exportations_pct)}%"])
    return markdown_table(list(RANKING_COLUMNS), rows)
