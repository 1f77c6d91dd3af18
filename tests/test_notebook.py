"""The template executed through papermill, as the batch runs it."""

from __future__ import annotations

import csv
import os
import json

import duckdb
import nbformat
import papermill as pm
import pytest

from conftest import PROJECT, TEMPLATE, html_image, template_chart_names
from ticomex.conventions import CHART_MIMETYPE as CHART
from ticomex.conventions import CHART_NAME, METADATA_KEY
from ticomex.errors import TicomexError
from ticomex.indicators import Scope
from ticomex.params import write_params
from ticomex.render.config import load_config
from ticomex.sheet import open_sheet
from ticomex.vega import vl_converter


@pytest.fixture(scope="module")
def params_dir(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("params")
    write_params(demo_db, folder)
    return folder


def run(tmp_path, demo_db, params_dir, code, **extra):
    out = tmp_path / f"{code}.ipynb"
    pm.execute_notebook(
        str(TEMPLATE),
        str(out),
        parameters={
            "department": code,
            "db": str(demo_db),
            "params_dir": str(params_dir),
            "data_dir": str(tmp_path / "data" / code),
            **extra,
        },
        cwd=str(TEMPLATE.parent),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def outputs(nb, mime):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if mime in o.get("data", {})]


def test_template_is_committed_without_outputs():
    nb = nbformat.read(TEMPLATE, as_version=4)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code")


def test_chart_names_are_read_from_the_template():
    names = template_chart_names()
    assert "pays" in names and "flux_import_france" in names and len(names) == len(set(names))


@pytest.mark.slow
@pytest.mark.parametrize("code", ["05", "92"])
def test_sheet_executes(tmp_path, demo_db, params_dir, code):
    nb = run(tmp_path, demo_db, params_dir, code)
    charts = outputs(nb, CHART)
    names = [o["metadata"][METADATA_KEY][CHART_NAME] for o in charts]
    assert names == template_chart_names()
    # Each chart also as SVG, drawn as vl-convert draws its spec with the project's fonts.
    vl_convert = vl_converter()
    for folder in load_config(PROJECT).font_paths:
        vl_convert.register_font_directory(str(folder))
    for output in charts:
        alt, svg = html_image(output["data"]["text/html"])
        assert alt == output["metadata"][METADATA_KEY][CHART_NAME]
        assert svg.startswith("<svg") and svg == vl_convert.vegalite_to_svg(output["data"][CHART])
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "Total des exportations : " in text and "France entière" in text
    assert "par rapport à 2023" in text and "Moyenne des départements" in text
    for output in charts:  # the new charts carry their text alternative
        if output["metadata"][METADATA_KEY][CHART_NAME] in {"evolution", "trimestres", "produits_etats_unis", "produits_chine"}:
            assert output["metadata"][METADATA_KEY]["summary"]
    data = tmp_path / "data" / code
    facts = json.loads((data / "indicateurs.json").read_text(encoding="utf-8"))
    assert facts["departement"]["code"] == code and facts["donnees"] == "demo"
    assert facts["annee"] == 2024
    with duckdb.connect(str(demo_db), read_only=True) as con:  # the database's full years, up to the sheet's
        years = [r[0] for r in con.execute(
            "SELECT annee FROM commerce GROUP BY annee HAVING count(DISTINCT trimestre) = 4 "
            "AND annee <= 2024 ORDER BY annee").fetchall()]
    assert len(years) > 1 and [a["annee"] for a in facts["evolution"]["annees"]] == years
    assert 0 < facts["exposition"]["etats_unis"]["departement"]["part_pct"] < 100
    assert set(facts["exposition"]["concentration_exportations"]) == {"pays", "produits"}
    assert set(facts["exportations"]) == {"total_eur", "region_total_eur", "france_total_eur",
                                          "part_region_pct", "part_nationale_pct"}
    headers = {
        "pays.csv": "code_pays,pays,importations_eur,exportations_eur,solde_eur",
        "activites.csv": "flux,code_a129,produit,valeur_eur",
        "flux_export.csv": "code_a129,produit,code_pays,pays,valeur_eur,rouge",
        "flux_import.csv": "code_pays,pays,code_a129,produit,valeur_eur,rouge",
    }
    for name, header in headers.items():
        lines = (data / name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == header and len(lines) > 1
    with (data / "flux_export.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["rouge"] for r in rows} == {"true", "false"}
    assert sum(int(r["valeur_eur"]) for r in rows) == facts["exportations"]["total_eur"]


@pytest.mark.parametrize("code", ["2A", "99"])  # not in the demo release; Monaco has no sheet
def test_unknown_department_is_refused(demo_db, params_dir, code):
    with pytest.raises(TicomexError, match=f"unknown department '{code}'.*{code}.yaml not found"):
        open_sheet(code, None, demo_db, params_dir)


def test_a_department_without_release_rows_is_refused(demo_db, tmp_path):
    (tmp_path / "2A.yaml").write_text(
        "code: 2A\nname: Corse-du-Sud\nregion: '94'\nregion_name: Corse\nterritories: []\n", encoding="utf-8"
    )
    with pytest.raises(TicomexError, match="unknown department '2A' .*Departement_region.txt"):
        open_sheet("2A", None, demo_db, tmp_path)


def test_absent_year_is_refused(demo_db, params_dir):
    with pytest.raises(TicomexError, match="year 1999 is not in the data .full years: 2019, 2020, 2021, 2022, 2023, 2024."):
        open_sheet("05", "1999", demo_db, params_dir)
    with pytest.raises(TicomexError, match="'last year': not a year"):
        open_sheet("05", "last year", demo_db, params_dir)


def test_integer_codes_are_the_two_character_codes(demo_db, params_dir):
    """papermill's `-p department 5` passes the integer 5."""
    sheet = open_sheet(5, 2024, demo_db, params_dir)
    try:
        assert (sheet.code, sheet.name, sheet.year, sheet.top_n) == ("05", "Hautes-Alpes", 2024, 10)
    finally:
        sheet.con.close()


@pytest.mark.parametrize(
    "text, message",
    [
        ("code: '05'\nname: [Hautes-Alpes\n", r"05.yaml, lines 2–3: not valid YAML"),
        ("code: '05'\nname: Hautes-Alpes\n", r"05.yaml: missing key\(s\): region, region_name, territories"),
        ("code: 05\nname: X\nregion: '21'\nregion_name: R\nterritories: []\n",
         r"05.yaml, line 1: code should be a str, not int"),
        ("code: '05'\nname: X\nregion: '21'\nregion_name: R\nterritories: A\n",
         r"05.yaml, line 5: territories should be a list, not str"),
        ("code: '04'\nname: X\nregion: '21'\nregion_name: R\nterritories: []\n",
         r"05.yaml, line 1: code '04' differs from the file name"),
        ("- a list\n", r"05.yaml: expected a mapping"),
        ("code: '05'\nname: a: b\n", r"05.yaml, line 2: not valid YAML \(mapping values are not allowed here\)"),
    ],
)
def test_a_bad_params_file_is_named_with_line_and_reason(demo_db, tmp_path, text, message):
    (tmp_path / "05.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TicomexError, match=message):
        open_sheet("05", None, demo_db, tmp_path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("code: region-21\nlevel: regoin\nname: X\nregion: '21'\nregion_name: X\nterritories: []\n",
         r"region-21.yaml, line 2: level 'regoin', expected one of department, region, france"),
        ("code: region-21\nlevel: region\nname: X\nregion: '99Z'\nregion_name: X\nterritories: []\n",
         r"unknown region '99Z'"),
    ],
)
def test_a_bad_region_params_file_is_named(demo_db, tmp_path, text, message):
    (tmp_path / "region-21.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TicomexError, match=message):
        open_sheet("region-21", None, demo_db, tmp_path)


def test_a_region_sheet_has_its_scope_and_places(demo_db, params_dir):
    sheet = open_sheet("region-21", None, demo_db, params_dir)
    try:
        assert sheet.scope == Scope.region("21") and not sheet.is_department
        assert [name for name, _ in sheet.places] == ["Région", "France entière"]
        assert sheet.place.of == "de la région"
    finally:
        sheet.con.close()


@pytest.mark.parametrize("top_n", [0, "10", True])
def test_top_n_is_checked(demo_db, params_dir, top_n):
    with pytest.raises(TicomexError, match="top_n"):
        open_sheet("05", None, demo_db, params_dir, top_n=top_n)


@pytest.mark.slow
def test_department_without_imports_and_few_partners(tmp_path):
    """The hand-built release's 04: 3 partners, 2 products, no imports at all; three items
    drawn, and the prose says so."""
    from test_indicators import hand_rows, write_release

    from ticomex.data.ingest import ingest

    db = tmp_path / "hand.duckdb"
    ingest(write_release(tmp_path / "raw", hand_rows()), db, allow_one_flow=True)
    params = tmp_path / "params"
    write_params(db, params)
    nb = run(tmp_path, db, params, "04", top_n=3)
    # No trade with the United States or China: those two charts are skipped with a sentence.
    skipped = {"produits_etats_unis", "produits_chine"}
    assert [o["metadata"][METADATA_KEY][CHART_NAME] for o in outputs(nb, CHART)] == [
        name for name in template_chart_names() if name not in skipped
    ]
    data = tmp_path / "data" / "04"
    assert len((data / "pays.csv").read_text(encoding="utf-8").splitlines()) == 1 + 3
    assert (data / "flux_import.csv").read_text(encoding="utf-8").splitlines() == [
        "code_pays,pays,code_a129,produit,valeur_eur,rouge"
    ]
    export_rows = (data / "flux_export.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(export_rows) == 6 and not any(r.startswith(",Autres") for r in export_rows)
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "Total des importations : 0.0 millions d'euros" in text
    prose = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "les trois premiers biens exportés" in prose and "les cinq principaux flux" in prose
    assert "dix" not in prose
    assert "Le département n'a enregistré aucune exportation vers les États-Unis en 2024." in prose
    assert "Le département n'a enregistré aucune importation en provenance de Chine en 2024." in prose


def test_show_chart_displays_the_spec_and_its_svg_drawn_once():
    """A chart output: the Vega-Lite spec, its SVG (what front ends without Vega-Lite v6
    draw) and a text fallback, the metadata naming the chart; a spec shown again (a region's
    chart in the next department) is not drawn again; a chart reading outside data fails."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from ticomex.sheet import show_chart
    from ticomex.vega import SvgConverter

    InteractiveShell.instance()
    svgs = SvgConverter()
    spec = {"data": {"values": [{"a": 1}, {"a": 2}]}, "mark": "point", "encoding": {"x": {"field": "a"}}}
    with capture_output() as captured:
        show_chart(spec, "essai", ["essai.csv"], summary="Deux points.", svgs=svgs)
        show_chart(json.loads(json.dumps(spec)), "essai", ["essai.csv"], summary="Deux points.", svgs=svgs)
    first, second = captured.outputs
    assert first.data == second.data and svgs.conversions == 1
    assert set(first.data) == {CHART, "text/html", "text/plain"}
    assert first.data[CHART] == spec and first.data["text/plain"] == "<chart essai>"
    vl_convert = vl_converter()
    for folder in load_config(PROJECT).font_paths:
        vl_convert.register_font_directory(str(folder))
    assert html_image(first.data["text/html"]) == ("essai", vl_convert.vegalite_to_svg(spec))
    assert first.metadata == {
        METADATA_KEY: {CHART_NAME: "essai", "data_files": ["essai.csv"], "summary": "Deux points."}
    }
    outside = {"data": {"url": "https://example.invalid/a.csv"}, "mark": "point"}
    with pytest.raises(TicomexError, match="chart 'externe' could not be drawn"):
        show_chart(outside, "externe", ["e.csv"], summary="Rien.", svgs=svgs)
    # The contract: every chart has its data and a summary.
    with pytest.raises(TicomexError, match="chart 'essai': no data file"):
        show_chart(spec, "essai", [], summary="Deux points.", svgs=svgs)
    with pytest.raises(TicomexError, match="chart 'essai': no summary"):
        show_chart(spec, "essai", ["essai.csv"], summary=" ", svgs=svgs)


@pytest.mark.slow
@pytest.mark.parametrize("where", [".", "notebooks"])
def test_plain_papermill_cli_from_the_root_and_from_notebooks(demo_db, tmp_path, where):
    """`papermill notebooks/fiche.ipynb out.ipynb -p department 05`: papermill's `-p` makes
    05 the integer 5, read as department "05"; the params folder is the project's."""
    import subprocess
    import sys
    from pathlib import Path

    papermill = Path(sys.executable).parent / "papermill"
    cwd = TEMPLATE.parents[1] / where
    template = os.path.relpath(TEMPLATE, cwd)
    out = tmp_path / "out.ipynb"
    run = subprocess.run(
        [str(papermill), template, str(out), "-p", "department", "05", "-p", "db", str(demo_db),
         "-p", "data_dir", str(tmp_path / "data")],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    assert "department = 5" in "".join(c.source for c in nb.cells)  # what papermill injected
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "Territoires d'industrie - Hautes-Alpes" in text
    facts = json.loads((tmp_path / "data" / "indicateurs.json").read_text(encoding="utf-8"))
    assert facts["departement"] == {"code": "05", "nom": "Hautes-Alpes"}


def test_injected_names_are_read_from_papermills_cell():
    from ticomex.sheet import injected_names

    template_cell = "# Parameters (papermill): a department\ndepartment = \"05\"\nyear = None\n"
    injected = '# Parameters\ndepartement = 43\nyear = 2024\n'
    assert injected_names(["import x", template_cell]) == []  # the template's own cell
    assert injected_names([template_cell, injected, "sheet = open_sheet(department)"]) == ["departement", "year"]


@pytest.mark.slow
def test_papermill_cli_refuses_an_unknown_parameter(demo_db, tmp_path):
    """`-p departement 43` (a French name): papermill only warns; the sheet stops, naming
    the parameter and the template's, instead of building department 05's sheet."""
    import subprocess
    import sys
    from pathlib import Path

    papermill = Path(sys.executable).parent / "papermill"
    out = tmp_path / "out.ipynb"
    run = subprocess.run(
        [str(papermill), str(TEMPLATE), str(out), "-p", "departement", "43", "-p", "db", str(demo_db),
         "-p", "data_dir", str(tmp_path / "data")],
        cwd=TEMPLATE.parents[1], capture_output=True, text=True, timeout=300,
    )
    assert run.returncode != 0
    message = "unknown parameter `departement`; the template's parameters are department, year, db, params_dir, data_dir, top_n"
    assert message in run.stderr, run.stderr[-2000:]
    assert not (tmp_path / "data" / "indicateurs.json").exists()  # no sheet of 05 built


def test_overseas_sheets_carry_the_customs_note(demo_db, params_dir):
    from ticomex import texts

    overseas = open_sheet("9A", None, demo_db, params_dir)
    mainland = open_sheet("05", None, demo_db, params_dir)
    try:
        assert overseas.notes == "\n\n" + texts.OVERSEAS_NOTE
        assert "France métropolitaine" in overseas.notes and "entre départements d'outre-mer" in overseas.notes
        assert mainland.notes == ""
    finally:
        overseas.con.close()
        mainland.con.close()
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    assert any("{sheet.notes}" in "".join(c["source"]) for c in template["cells"])


def test_a_partial_year_is_refused_unless_asked_then_said(tmp_path):
    from test_indicators import hand_rows, write_release

    from ticomex.data.ingest import ingest

    db = tmp_path / "hand.duckdb"
    ingest(write_release(tmp_path / "raw", hand_rows()), db, allow_one_flow=True)
    params = tmp_path / "params"
    params.mkdir()
    (params / "05.yaml").write_text(
        "code: '05'\nname: Hautes-Alpes\nregion: '21'\nregion_name: PACA\nterritories: []\n", encoding="utf-8"
    )
    with pytest.raises(TicomexError, match=r"year 2025 has only quarter\(s\) 1 in the data.*--partial-year"):
        open_sheet("05", "2025", db, params)
    sheet = open_sheet("05", "2025", db, params, partial_year="true")
    try:
        assert sheet.quarters == [1]
        assert "les données de 2025 ne couvrent que le premier trimestre" in sheet.notes
        # 2025 has no imports in this release (accepted at ingest): the sheet says so too.
        assert "ne contient pas les importations de 2025" in sheet.notes
        assert open_sheet("05", None, db, params).year == 2024  # the default stays the latest full year
    finally:
        sheet.con.close()


def _place_sums(con, departments: list[str] | None, year: int) -> dict[str, int]:
    """Exports and imports of a set of departments (None: all), summed here in SQL of this test."""
    where = "" if departments is None else f"AND departement IN ({', '.join('?' * len(departments))})"
    rows = con.execute(f"SELECT flux, sum(valeur) FROM commerce WHERE annee = ? {where} GROUP BY flux",
                       [year, *(departments or [])]).fetchall()
    return {flux: int(value) for flux, value in rows}


@pytest.mark.slow
@pytest.mark.parametrize("sheet", ["region-21", "france-entiere"])
def test_region_and_france_sheets_execute(tmp_path, demo_db, params_dir, sheet):
    """The same template with a region's or France's scope: its figures recomputed here from
    the database, its departments ranked, no department wording, no region comparison."""
    nb = run(tmp_path, demo_db, params_dir, sheet)
    facts = json.loads((tmp_path / "data" / sheet / "indicateurs.json").read_text(encoding="utf-8"))
    level = "region" if sheet.startswith("region-") else "france"
    assert facts["perimetre"] == level and facts["fiche"]["code"] == sheet and "departement" not in facts
    with duckdb.connect(str(demo_db), read_only=True) as con:
        year = facts["annee"]
        if level == "region":
            departments = [r[0] for r in con.execute("SELECT code FROM departements WHERE region = '21' ORDER BY code").fetchall()]
        else:
            departments = [r[0] for r in con.execute("SELECT code FROM departements ORDER BY code").fetchall()]
        own = _place_sums(con, departments, year)
        france = _place_sums(con, None, year)
        by_department = {code: _place_sums(con, [code], year) for code in departments}
    assert facts["exportations"]["total_eur"] == own["E"] and facts["importations"]["total_eur"] == own["I"]
    if level == "region":
        assert facts["exportations"]["france_total_eur"] == france["E"]
        assert facts["exportations"]["part_nationale_pct"] == pytest.approx(100 * own["E"] / france["E"])
        assert "region_total_eur" not in facts["exportations"]
    else:
        assert set(facts["exportations"]) == {"total_eur"}
    # The ranking: every department of the place (Monaco without a link), by exports then code.
    expected = sorted(departments, key=lambda c: (-by_department[c].get("E", 0), c))
    with (tmp_path / "data" / sheet / "departements.csv").open(encoding="utf-8") as f:
        ranking = list(csv.DictReader(f))
    assert [r["code_departement"] for r in ranking] == expected
    for row in ranking:
        sums = by_department[row["code_departement"]]
        assert int(row["exportations_eur"]) == sums.get("E", 0) and int(row["importations_eur"]) == sums.get("I", 0)
        assert int(row["solde_eur"]) == sums.get("E", 0) - sums.get("I", 0)
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "du département" not in text and "dans le département" not in text
    assert "[Hautes-Alpes (05)](05.html)" in text and "[Monaco" not in text
    names = [o["metadata"][METADATA_KEY][CHART_NAME] for o in outputs(nb, CHART)]
    assert "flux_export_region" not in names and "pays" in names and "activites" in names
    assert ("flux_export_france" in names) == (level == "region")
    assert all(o["metadata"][METADATA_KEY]["summary"] for o in outputs(nb, CHART))
