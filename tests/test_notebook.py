"""The template executed through papermill, as the batch runs it."""

from __future__ import annotations

import csv
import json

import nbformat
import papermill as pm
import pytest

from conftest import PROJECT
from ticomex.params import write_params

TEMPLATE = PROJECT / "notebooks" / "fiche.ipynb"
CHART = "application/vnd.vegalite.v6+json"


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
            "departement": code,
            "base": str(demo_db),
            "parametres": str(params_dir),
            "sortie": str(tmp_path / "data" / code),
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


@pytest.mark.parametrize("code", ["05", "92"])
def test_sheet_executes(tmp_path, demo_db, params_dir, code):
    nb = run(tmp_path, demo_db, params_dir, code)
    charts = outputs(nb, CHART)
    names = [o["metadata"]["ticomex"]["name"] for o in charts]
    assert names == ["pays", "activites", "flux_export", "flux_export_region", "flux_export_france",
                     "flux_import", "flux_import_region", "flux_import_france"]
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "Total des exportations : " in text and "France entière" in text
    data = tmp_path / "data" / code
    facts = json.loads((data / "indicateurs.json").read_text(encoding="utf-8"))
    assert facts["departement"]["code"] == code and facts["donnees"] == "demo"
    assert facts["annee"] == 2024
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


@pytest.mark.parametrize("code, message", [("2A", "département inconnu"), ("99", "département inconnu")])
def test_unknown_department_stops_before_any_chart(tmp_path, demo_db, params_dir, code, message):
    with pytest.raises(pm.PapermillExecutionError, match=message):
        run(tmp_path, demo_db, params_dir, code)
    nb = nbformat.read(tmp_path / f"{code}.ipynb", as_version=4)
    assert not outputs(nb, CHART)


def test_absent_year_stops(tmp_path, demo_db, params_dir):
    with pytest.raises(pm.PapermillExecutionError, match="1999 absente"):
        run(tmp_path, demo_db, params_dir, "05", annee="1999")


def test_department_without_imports_and_few_partners(tmp_path):
    """The hand-built release's 04: 3 partners, 2 products, no imports at all."""
    from test_indicators import hand_rows, write_release

    from ticomex.data.ingest import ingest

    db = tmp_path / "hand.duckdb"
    ingest(write_release(tmp_path / "raw", hand_rows()), db)
    params = tmp_path / "params"
    write_params(db, params)
    nb = run(tmp_path, db, params, "04")
    assert len(outputs(nb, CHART)) == 8
    data = tmp_path / "data" / "04"
    assert len((data / "pays.csv").read_text(encoding="utf-8").splitlines()) == 1 + 3
    assert (data / "flux_import.csv").read_text(encoding="utf-8").splitlines() == [
        "code_pays,pays,code_a129,produit,valeur_eur,rouge"
    ]
    export_rows = (data / "flux_export.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(export_rows) == 6 and not any(r.startswith(",Autres") for r in export_rows)
    text = "\n".join(o["data"]["text/markdown"] for o in outputs(nb, "text/markdown"))
    assert "Total des importations : 0.0 millions d'euros" in text
