"""Executed notebooks built by hand, following docs/architecture.md, for the renderer's tests.

They do not depend on the template notebook: markdown cells, `display_data` and
`execute_result` outputs with `text/markdown`, a small Altair chart as a Vega-Lite v6
output with its `ticomex` metadata, and the department's data folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ticomex.conventions import CHART_DATA_FILES, CHART_MIMETYPE, CHART_NAME, METADATA_KEY

PROJECT = Path(__file__).resolve().parents[1]

# Markers that must never reach a page or a PDF.
CODE_MARKER = "SECRET_CODE_MARKER"
STREAM_MARKER = "STREAM_OUTPUT_MARKER"
HTML_OUTPUT_MARKER = "HTML_OUTPUT_MARKER"

# A number format no default uses, so that seeing it proves the spec's locale was applied:
# comma as decimal mark, a no-break space between thousands.
TEST_LOCALE = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", " €"]}
PARTNERS = pd.DataFrame(
    {
        "pays": ["Italie", "États-Unis", "Côte d'Ivoire"],
        "exportations_eur": [1_200_000, 800_000, 150_000],
    }
)
OUTSIDE_URL = "https://anct.gouv.fr/actualites"
MAILTO = "mailto:territoires-industrie@anct.gouv.fr"


def headings(name: str) -> list[str]:
    """The section headings of a fixture sheet, in order."""
    return [
        "Les indicateurs clés : commerce extérieur",
        f"Territoires d'industrie - {name}",
        "Balance commerciale territoriale",
        f"Principaux pays à l'import et à l'export, {name} (2024)",
        "Exportations",
        "Informations pratiques",
        "Pour aller plus loin :",
    ]


def total_lines(total: str, region_name: str) -> list[str]:
    return [
        f"Total des exportations : {total} millions d'euros",
        f"soit 1.1% de la valeur exportée par la région {region_name}",
        "soit 0.05% de la valeur exportée au niveau national",
    ]


CHART_SUMMARY_TEXT = "Premiers partenaires : Italie, Côte d'Ivoire et Suisse."


def chart_spec() -> dict:
    chart = (
        alt.Chart(PARTNERS)
        .mark_bar()
        .encode(
            x=alt.X("exportations_eur:Q", title="Exportations (€)", axis=alt.Axis(format=",.1f")),
            y=alt.Y("pays:N", sort=None, title=None),
            tooltip=[alt.Tooltip("pays:N"), alt.Tooltip("exportations_eur:Q", format=",.1f")],
        )
        .properties(width=420, height=90)
        .configure(font="DejaVu Sans", locale={"number": TEST_LOCALE})
    )
    return chart.to_dict()


def _markdown_output(text: str, kind: str = "display_data") -> dict:
    if kind == "execute_result":
        return new_output(
            kind, data={"text/markdown": text, "text/plain": "<Markdown>"}, execution_count=1
        )
    return new_output(kind, data={"text/markdown": text, "text/plain": "<Markdown>"})


def _chart_cell(spec: dict, name: str, data_files: list[str]) -> nbformat.NotebookNode:
    cell = new_code_cell(f"show_chart(chart, {name!r})")
    cell.outputs = [
        new_output(
            "display_data",
            data={CHART_MIMETYPE: spec, "text/plain": f"<graphique {name}>"},
            metadata={METADATA_KEY: {CHART_NAME: name, CHART_DATA_FILES: data_files, "summary": CHART_SUMMARY_TEXT}},
        )
    ]
    return cell


def _totals(meur: str) -> dict:
    euros = int(float(meur.replace(" ", "")) * 1_000_000)
    return {
        "total_eur": euros,
        "region_total_eur": euros * 90,
        "france_total_eur": euros * 2000,
        "part_region_pct": 100 / 90,
        "part_nationale_pct": 0.05,
    }


def make_department(
    out: Path,
    code: str,
    name: str,
    region_code: str,
    region_name: str,
    *,
    demo: bool = True,
    total: str = "314.9",
    filler_paragraphs: int = 0,
) -> Path:
    """Write `<out>/notebooks/<code>.ipynb` and `<out>/notebooks/data/<code>/`."""
    notebooks = out / "notebooks"
    data = notebooks / "data" / code
    data.mkdir(parents=True, exist_ok=True)
    facts = {
        "departement": {"code": code, "nom": name},
        "region": {"code": region_code, "nom": region_name},
        "annee": 2024,
        "donnees": "demo" if demo else "officielles",
        # The headline figures (docs/architecture.md): territory pages and the index read them.
        "exportations": _totals(total),
        "importations": _totals("100.0"),
    }
    (data / "indicateurs.json").write_text(
        json.dumps(facts, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    PARTNERS.to_csv(data / "pays.csv", index=False)

    title, department_heading, balance, partners, exports, practical, further = headings(name)
    total_line, region_line, national_line = total_lines(total, region_name)
    filler = "\n\n".join(
        f"Paragraphe de remplissage {i} : l'économie régionale, ses échanges et leurs évolutions "
        "récentes sont décrits ici pour allonger la fiche au-delà d'une page. " * 4
        for i in range(filler_paragraphs)
    )
    nb = new_notebook()
    stream_cell = new_code_cell(f"print({STREAM_MARKER!r})")
    stream_cell.outputs = [
        new_output("stream", name="stdout", text=f"{STREAM_MARKER}\n"),
        new_output(
            "display_data", data={"text/html": f"<b>{HTML_OUTPUT_MARKER}</b>", "text/plain": "x"}
        ),
    ]
    title_cell = new_code_cell(f'md("# {title}")')
    title_cell.outputs = [_markdown_output(f"# {title}\n\n## {department_heading}")]
    totals_cell = new_code_cell("md(totals)")
    totals_cell.outputs = [
        _markdown_output(f"**{total_line}**\n\n{region_line}\n\n{national_line}", "execute_result")
    ]
    nb.cells = [
        new_code_cell(
            f"departement = {code!r}\n{CODE_MARKER} = 1", metadata={"tags": ["parameters"]}
        ),
        new_markdown_cell("**GOUVERNEMENT**\n\n*Liberté  \nÉgalité  \nFraternité*"),
        title_cell,
        stream_cell,
        new_markdown_cell(f"## {balance}\n\n### {partners}\n\n{filler}"),
        _chart_cell(chart_spec(), "pays", ["pays.csv"]),
        new_markdown_cell(
            f"## {exports}\n\nLa catégorie « autres » comprend l’ensemble des biens – et des pays."
        ),
        totals_cell,
        new_markdown_cell(
            f"## {practical}\n\n- [Portraits socio-économiques des Territoires d'Industrie](#)\n\n"
            f"Contact : [territoires-industrie@anct.gouv.fr]({MAILTO}).\n\n"
            f"## {further}\n\n- Retrouvez l'actualité de l'ANCT : <{OUTSIDE_URL}>\n"
            "- [Dossier de presse](https://www.entreprises.gouv.fr/la-dge/actualites)"
        ),
    ]
    path = notebooks / f"{code}.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


# Three departments: two of one region (they share its charts), one of another that is
# published on official data (no demo note).
DEPARTMENTS = [
    ("05", "Hautes-Alpes", "93", "Provence-Alpes-Côte d'Azur", True, "314.9", 8),
    ("04", "Alpes-de-Haute-Provence", "93", "Provence-Alpes-Côte d'Azur", True, "1 070.9", 0),
    ("92", "Hauts-de-Seine", "11", "Île-de-France", False, "28 009.9", 0),
]


def make_publication(out: Path) -> Path:
    for code, name, region_code, region_name, demo, total, filler in DEPARTMENTS:
        make_department(
            out,
            code,
            name,
            region_code,
            region_name,
            demo=demo,
            total=total,
            filler_paragraphs=filler,
        )
    return out


def test_fixture_notebook_reads_back(tmp_path):
    """The fixture is a valid notebook, with the chart spec as a JSON object."""
    path = make_department(tmp_path, "05", "Hautes-Alpes", "93", "PACA")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    charts = [o for o in outputs if CHART_MIMETYPE in o.get("data", {})]
    assert len(charts) == 1
    assert charts[0]["data"][CHART_MIMETYPE]["config"]["locale"]["number"] == TEST_LOCALE
    # The chart metadata as `ticomex.sheet.show_chart` writes it (the literal keys: a renamed
    # constant must show here).
    assert charts[0]["metadata"] == {
        "ticomex": {"name": "pays", "data_files": ["pays.csv"], "summary": CHART_SUMMARY_TEXT}
    }
