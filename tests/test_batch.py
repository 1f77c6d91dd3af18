"""ticomex.batch: executing the template per department, warm kernels, cache, failures.

A tiny template of our own stands in for notebooks/fiche.ipynb: it imports pandas, DuckDB and
Altair, shows Markdown and a chart, writes chart data, and exposes what a reused kernel could
leak (namespace, execution counts, sys.path, shown-once warnings). Expected values come from
the few rows written below, not from the code under test.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import nbformat
import pytest

import ticomex.batch as batch
from ticomex.batch import CACHED, EXECUTED, FAILED, execute, print_summary
from ticomex.batch.cache import read_stored_record
from ticomex.batch.normalise import normalise
from ticomex.errors import TicomexError

ROOT = Path(__file__).resolve().parents[1]

# departement, pays, valeur: 05 totals 30, 92 totals 5, 9A has no row (its notebook fails).
ROWS = [("05", "DE", 10), ("05", "IT", 20), ("92", "DE", 5)]
CODES = ["05", "92", "9A"]

TEMPLATE_CELLS = [
    ("markdown", "# Fiche de test"),
    ("parameters", "departement = None\nannee = None\nbase = None\nparametres = None\nsortie = None\nnb_elements = 10"),
    (
        "code",
        "import json, sys, warnings\nfrom pathlib import Path\nimport altair as alt\nimport duckdb\n"
        "import pandas as pd\nimport yaml\nfrom IPython.display import Markdown, display\n"
        "alt.renderers.enable('json')  # Altair 6's 'mimetype' output fails nbformat validation",
    ),
    # What a reused kernel would leak: a variable of the previous notebook, sys.path entries,
    # a library warning already shown once.
    (
        "code",
        "print('deja vu:', 'df' in globals())\nsys.path.insert(0, parametres)\n"
        "print('sys.path:', sys.path.count(parametres))\nimport avertisseur\navertisseur.avertir()",
    ),
    (
        "code",
        "reglages = yaml.safe_load(Path(parametres, departement + '.yaml').read_text())\n"
        "if reglages.get('echec'):\n    raise RuntimeError(reglages['echec'])\n"
        "if reglages.get('arret_brutal'):\n    import os\n    os._exit(1)  # the kernel dies\n"
        "con = duckdb.connect(base, read_only=True)\n"
        "df = con.execute('select pays, sum(valeur)::BIGINT as valeur from commerce where departement = ? "
        "group by pays order by pays', [departement]).df()\ncon.close()\n"
        "if df.empty:\n    raise ValueError(f'aucune ligne pour le département {departement}')",
    ),
    ("code", "display(Markdown(f'## {reglages[\"nom\"]} : {df.valeur.sum()} €'))\nprint(sorted({'b', 'a', departement}))"),
    (
        "code",
        "Path(sortie).mkdir(parents=True, exist_ok=True)\ndf.to_csv(Path(sortie, 'pays.csv'), index=False)\n"
        "Path(sortie, 'indicateurs.json').write_text(json.dumps({'departement': departement, 'annee': annee}))\n"
        "alt.Chart(df).mark_bar().encode(x='pays', y='valeur')",
    ),
]


def write_template(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, (kind, source) in enumerate(TEMPLATE_CELLS):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell.id = f"cellule-{index}"
        if kind == "parameters":
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.write(nb, path)


def make_project(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    template, db, params = root / "fiche.ipynb", root / "base.duckdb", root / "params"
    write_template(template)
    con = duckdb.connect(str(db))
    con.execute("create table commerce (departement VARCHAR, pays VARCHAR, valeur BIGINT)")
    con.executemany("insert into commerce values (?, ?, ?)", ROWS)
    con.close()
    params.mkdir()
    for code in CODES:
        (params / f"{code}.yaml").write_text(f"code: '{code}'\nnom: Département {code}\n", encoding="utf-8")
    (params / "avertisseur.py").write_text(
        "import warnings\n\ndef avertir():\n    warnings.warn('attention', UserWarning)\n", encoding="utf-8"
    )
    return {"notebook": template, "db": db, "params_dir": params, "out": root / "output"}


def run(project: dict[str, Path], **kwargs) -> dict[str, batch.Result]:
    options = dict(project, jobs=2, progress=False) | kwargs
    return {result.code: result for result in execute(**options)}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def outputs_of(notebook: Path) -> list[str]:
    """Every text output of the notebook, in order."""
    texts = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                texts.append("".join(output["text"]))
            elif "text/markdown" in output.get("data", {}):
                texts.append("".join(output["data"]["text/markdown"]))
    return texts


@pytest.fixture(scope="module", autouse=True)
def frozen_package(tmp_path_factory):
    """A copy of the package source for the cache key: other work on src/ticomex while the
    tests run must not invalidate the notebooks they build."""
    package = tmp_path_factory.mktemp("paquet") / "ticomex"
    shutil.copytree(batch.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "PACKAGE_DIR", package)
        yield package


@pytest.fixture(scope="module")
def warm_build(tmp_path_factory, frozen_package):
    """One warm execution (a single worker: every notebook in the same kernel)."""
    project = make_project(tmp_path_factory.mktemp("warm"))
    results = run(project, jobs=1)
    return project, results


def test_results_outputs_and_failure_report(warm_build, capsys):
    project, results = warm_build
    out = project["out"]
    assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": EXECUTED, "9A": FAILED}
    assert outputs_of(out / "notebooks/05.ipynb")[-2:] == ["## Département 05 : 30 €", "['05', 'a', 'b']\n"]
    assert outputs_of(out / "notebooks/92.ipynb")[-2:] == ["## Département 92 : 5 €", "['92', 'a', 'b']\n"]
    assert (out / "notebooks/data/05/pays.csv").read_text() == "pays,valeur\nDE,10\nIT,20\n"
    assert json.loads((out / "notebooks/data/92/indicateurs.json").read_text()) == {"departement": "92", "annee": None}

    failure = results["9A"]
    assert failure.error == "ValueError: aucune ligne pour le département 9A (cell In [5])"
    assert failure.failed_notebook == out / "failed/9A.ipynb" and failure.failed_notebook.is_file()
    assert not (out / "notebooks/9A.ipynb").exists() and not (out / "notebooks/data/9A").exists()
    assert not (out / ".execution").exists()

    assert print_summary(list(results.values())) == 1
    printed = capsys.readouterr().out
    assert "2 executed, 0 cached" in printed and "1 failed" in printed
    assert f"9A: ValueError: aucune ligne pour le département 9A (cell In [5]) — failed notebook: {out}/failed/9A.ipynb" in printed


def test_parameters_are_strings_and_timings_are_gone(warm_build):
    project, _ = warm_build
    nb = json.loads((project["out"] / "notebooks/05.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"] == {
        "departement": "05",
        "base": str(project["db"].resolve()),
        "parametres": str(project["params_dir"].resolve()),
        "sortie": str((project["out"] / "notebooks/data/05").resolve()),
    }
    injected = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'departement = "05"' in "".join(injected["source"])
    text = json.dumps(nb)
    for timing in ("start_time", "end_time", "duration", "iopub.execute_input", "shell.execute_reply"):
        assert timing not in text
    assert nb["metadata"]["papermill"]["output_path"] == str(project["out"] / "notebooks/05.ipynb")
    assert nb["metadata"]["ticomex"]["fichiers"] == ["indicateurs.json", "pays.csv"]


def test_reused_kernel_starts_each_notebook_afresh(warm_build):
    project, _ = warm_build
    # 92 ran after 05 in the same kernel: nothing of 05 may show.
    nb = json.loads((project["out"] / "notebooks/92.ipynb").read_text(encoding="utf-8"))
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))
    texts = "".join(outputs_of(project["out"] / "notebooks/92.ipynb"))
    assert "deja vu: False" in texts and "sys.path: 1" in texts and "UserWarning: attention" in texts


def test_warm_kernels_write_the_same_bytes_as_fresh_kernels(warm_build, tmp_path):
    project, _ = warm_build
    warm = tree_bytes(project["out"])
    fresh_out = tmp_path / "fresh"
    shutil.copytree(project["out"], fresh_out)
    shutil.rmtree(project["out"])
    try:
        results = run(project, fresh_kernels=True)
        assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": EXECUTED, "9A": FAILED}
        fresh = tree_bytes(project["out"])
    finally:  # the other tests of the module read the warm build
        shutil.rmtree(project["out"], ignore_errors=True)
        shutil.copytree(fresh_out, project["out"])
    assert sorted(fresh) == sorted(warm)
    for name in warm:
        assert fresh[name] == warm[name], f"{name} differs between warm and fresh kernels"


def test_nothing_changed_executes_nothing(warm_build):
    project, _ = warm_build
    before = tree_bytes(project["out"] / "notebooks")
    results = run(project, only=["05", "92"])
    assert {code: r.status for code, r in results.items()} == {"05": CACHED, "92": CACHED}
    assert tree_bytes(project["out"] / "notebooks") == before


@pytest.fixture
def planned(warm_build, monkeypatch):
    """Runs `execute` recording which departments it would execute, executing none."""
    project, _ = warm_build
    executed: list[str] = []

    def fake_run_jobs(todo, *args, **kwargs):
        executed.extend(job.code for job in todo)
        return [batch.Result(job.code, EXECUTED) for job in todo]

    monkeypatch.setattr(batch, "_run_jobs", fake_run_jobs)

    def would_execute(**kwargs) -> list[str]:
        executed.clear()
        run(project, only=["05", "92"], **kwargs)
        return sorted(executed)

    return project, would_execute


@contextlib.contextmanager
def _edited(path: Path, edit):
    """The file edited by `edit(bytes) -> bytes`, restored afterwards."""
    original = path.read_bytes()
    path.write_bytes(edit(original))
    try:
        yield
    finally:
        path.write_bytes(original)


def test_any_changed_input_re_executes(planned, monkeypatch, tmp_path):
    project, would_execute = planned
    assert would_execute() == []
    with _edited(project["params_dir"] / "92.yaml", lambda b: b + b"# une ligne de plus\n"):
        assert would_execute() == ["92"]
    with _edited(project["notebook"], lambda b: b.replace(b"Fiche de test", b"Fiche de test.")):
        assert would_execute() == ["05", "92"]
    # One byte of the database, same size: a size/date fingerprint would miss it.
    with _edited(project["db"], lambda b: b[:-1] + bytes([b[-1] ^ 1])):
        assert would_execute() == ["05", "92"]
    assert would_execute(annee="2023") == ["05", "92"]
    package = tmp_path / "ticomex"
    shutil.copytree(batch.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    with monkeypatch.context() as patch:
        patch.setattr(batch, "PACKAGE_DIR", package)
        assert would_execute() == []
        (package / "texts.py").write_text("# changed\n", encoding="utf-8")
        assert would_execute() == ["05", "92"]
    real_versions = batch.cache.environment_versions
    with monkeypatch.context() as patch:
        patch.setattr(batch.cache, "environment_versions", lambda: real_versions() | {"altair": "0.0"})
        assert would_execute() == ["05", "92"]
    assert would_execute() == []


def test_missing_output_re_executes(planned):
    project, would_execute = planned
    csv = project["out"] / "notebooks/data/05/pays.csv"
    saved = csv.read_bytes()
    csv.unlink()
    try:
        assert would_execute() == ["05"]
    finally:
        csv.write_bytes(saved)
    assert would_execute() == []


def test_failure_keeps_the_previous_notebook_and_data(warm_build):
    project, _ = warm_build
    out = project["out"]
    before = tree_bytes(out / "notebooks")
    with _edited(project["params_dir"] / "05.yaml", lambda b: b + "echec: panne simulée\n".encode()):
        results = run(project, only=["05"])
    assert results["05"].status == FAILED
    assert results["05"].error == "RuntimeError: panne simulée (cell In [5])"
    assert tree_bytes(out / "notebooks") == before
    assert "panne simulée" in (out / "failed/05.ipynb").read_text(encoding="utf-8")
    # Inputs back as they were: the kept notebook is up to date again, the failure is gone.
    assert run(project, only=["05"])["05"].status == CACHED
    assert not (out / "failed/05.ipynb").exists()


def test_one_changed_params_file_re_executes_that_department_only(warm_build, tmp_path):
    project, _ = warm_build
    out = project["out"]
    saved = shutil.copytree(out / "notebooks", tmp_path / "saved")
    with _edited(project["params_dir"] / "05.yaml", lambda b: b.replace("Département 05".encode(), b"Hautes-Alpes")):
        results = run(project, only=["05", "92"])
        assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": CACHED}
        assert outputs_of(out / "notebooks/05.ipynb")[-2] == "## Hautes-Alpes : 30 €"
    assert (out / "notebooks/92.ipynb").read_bytes() == (saved / "92.ipynb").read_bytes()
    # Params file and outputs put back as they were: up to date again, nothing to execute.
    shutil.rmtree(out / "notebooks")
    shutil.copytree(saved, out / "notebooks")
    assert run(project, only=["05"])["05"].status == CACHED


def test_a_dead_kernel_fails_its_department_only(tmp_path):
    project = make_project(tmp_path)
    (project["params_dir"] / "05.yaml").write_text("code: '05'\nnom: x\narret_brutal: oui\n", encoding="utf-8")
    results = run(project, only=["05", "92"], jobs=1)  # 92 runs after 05 in the same worker
    assert results["05"].status == FAILED and results["05"].error.startswith("DeadKernelError")
    assert results["05"].failed_notebook is None
    assert results["92"].status == EXECUTED
    assert print_summary(list(results.values())) == 1


def test_interrupted_run_puts_the_previous_data_back(warm_build):
    project, _ = warm_build
    out = project["out"]
    data, backup = out / "notebooks/data/92", out / ".execution/donnees-precedentes/92"
    good = tree_bytes(data)
    backup.parent.mkdir(parents=True)
    shutil.copytree(data, backup)
    (data / "pays.csv").write_text("à moitié écrit", encoding="utf-8")  # a killed run's partial data
    (out / ".execution/92.ipynb").write_text("{", encoding="utf-8")
    assert run(project, only=["92"])["92"].status == CACHED
    assert tree_bytes(data) == good
    assert not (out / ".execution").exists()


def test_no_op_run_imports_nothing_heavy(warm_build, frozen_package):
    project, _ = warm_build
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import ticomex.batch
        from ticomex.batch import execute
        ticomex.batch.PACKAGE_DIR = Path({str(frozen_package)!r})
        results = execute({str(project['notebook'])!r}, {str(project['params_dir'])!r},
                          {str(project['db'])!r}, {str(project['out'])!r}, only=["05", "92"], progress=False)
        assert [r.status for r in results] == ["cached", "cached"], results
        heavy = sorted(m for m in ("papermill", "pandas", "altair", "nbformat", "jupyter_client", "duckdb")
                       if m in sys.modules)
        print(",".join(heavy))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == ""


def test_unknown_department_names_it_and_the_params_folder(tmp_path):
    project = make_project(tmp_path)
    with pytest.raises(TicomexError, match=r"params: unknown department\(s\) 2A, 99: no 2A.yaml"):
        run(project, only=["05", "2A", "99"])
    shutil.rmtree(project["params_dir"])
    with pytest.raises(TicomexError, match="params folder not found"):
        run(project)


def test_normalise_gives_stable_ids_to_papermill_cells():
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"papermill": {"start_time": "t", "duration": 1.0, "parameters": {}}},
        "cells": [
            {"id": "a1b2c3", "cell_type": "markdown", "metadata": {"tags": ["papermill-error-cell-tag"]}},
            {"id": "gabarit", "cell_type": "code", "metadata": {"execution": {"iopub.status.busy": "t"}}},
            {"id": "f00d", "cell_type": "code", "metadata": {"papermill": {"duration": 2.0, "status": "completed"}}},
        ],
    }
    normalise(nb, {"gabarit"}, Path("/sortie/05.ipynb"), {"cle": "k"})
    assert [c["id"] for c in nb["cells"]] == ["ticomex-0", "gabarit", "ticomex-2"]
    assert nb["cells"][1]["metadata"] == {}
    assert nb["cells"][2]["metadata"] == {"papermill": {"status": "completed"}}
    assert nb["metadata"] == {
        "papermill": {"parameters": {}, "output_path": "/sortie/05.ipynb"},
        "ticomex": {"cle": "k"},
    }


def test_stored_record_is_read_from_the_tail_as_json_would(warm_build, tmp_path):
    project, _ = warm_build
    path = project["out"] / "notebooks/05.ipynb"
    assert read_stored_record(path) == json.loads(path.read_text(encoding="utf-8"))["metadata"]["ticomex"]
    assert read_stored_record(project["notebook"]) is None  # the template has no record
    assert read_stored_record(path.with_name("absent.ipynb")) is None
    # Metadata written after ours and larger than the tail that is read first.
    big = tmp_path / "grand.ipynb"
    document = {"cells": [], "metadata": {"ticomex": {"cle": "k"}, "widgets": "w" * 100_000}}
    for layout in ({"separators": (",", ":")}, {"indent": 1}):  # compact as written, or nbformat's
        big.write_text(json.dumps(document, sort_keys=True, **layout))
        assert read_stored_record(big) == {"cle": "k"}
    # A chart's output metadata has a `ticomex` key too, but no cache record.
    chart_only = {"cells": [{"metadata": {}, "outputs": [{"metadata": {"ticomex": {"nom": "pays"}}}]}]}
    big.write_text(json.dumps(chart_only, sort_keys=True))
    assert read_stored_record(big) is None


def test_describe_error_keeps_the_useful_last_line():
    class NotebookError(Exception):
        ename, evalue, exec_count = "KeyError", "\x1b[31mcontexte\x1b[0m\n'pays'\n", 7

    assert batch.describe_error(NotebookError()) == "KeyError: 'pays' (cell In [7])"
    assert batch.describe_error(TimeoutError("Cell execution timed out\n\nafter 60 s")) == "TimeoutError: after 60 s"
    assert print_summary([batch.Result("05", CACHED)]) == 0


REAL_TEMPLATE = ROOT / "notebooks/fiche.ipynb"


@pytest.mark.skipif(not REAL_TEMPLATE.is_file(), reason="notebooks/fiche.ipynb not written yet")
def test_real_template_warm_equals_fresh(tmp_path):
    """The project's own template on a small demo release: one kernel running two sheets
    writes what fresh kernels write."""
    raw, db, params = tmp_path / "raw", tmp_path / "ticomex.duckdb", tmp_path / "params"
    for args in (
        ["data", "demo", "--out", str(raw)],
        ["data", "ingest", "--raw", str(raw), "--db", str(db)],
        ["params", "--db", str(db), "--out", str(params)],
    ):
        done = subprocess.run([sys.executable, "-m", "ticomex.cli", *args], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"demo data could not be prepared (`ticomex {' '.join(args[:2])}`): {done.stderr[-300:]}")
    project = {"notebook": REAL_TEMPLATE, "db": db, "params_dir": params, "out": tmp_path / "out"}
    codes = ["20", "9C"]  # Corsica, overseas
    warm = run(project, only=codes, jobs=1)
    assert [r.status for r in warm.values()] == [EXECUTED] * 2, [r.error for r in warm.values()]
    warm_bytes = tree_bytes(project["out"])
    shutil.rmtree(project["out"])
    run(project, only=codes, fresh_kernels=True)
    fresh_bytes = tree_bytes(project["out"])
    assert sorted(fresh_bytes) == sorted(warm_bytes)
    for name in warm_bytes:
        assert fresh_bytes[name] == warm_bytes[name], f"{name} differs between warm and fresh kernels"


def _benchmark_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_build", ROOT / "benchmarks/build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_memory_sampler_sums_the_process_tree():
    bench = _benchmark_module()
    # A parent holding 150 MB starts a child holding 100 MB; both live for a second.
    child = "import time; data = b'x' * (100 * 2**20); time.sleep(1)"
    parent = (
        "import subprocess, sys, time; data = b'x' * (150 * 2**20); "
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); p.wait()"
    )
    measure = bench.run_measured([sys.executable, "-c", parent], ROOT)
    assert measure.returncode == 0
    assert 250 * bench.MB <= measure.peak_bytes <= 450 * bench.MB, measure.peak_bytes / bench.MB


def test_benchmark_t1_runs_the_template_once_in_a_fresh_kernel(tmp_path):
    bench = _benchmark_module()
    project = make_project(tmp_path)
    parameters = {
        "departement": "05",
        "base": str(project["db"]),
        "parametres": str(project["params_dir"]),
        "sortie": str(tmp_path / "t1/data"),
    }
    seconds = bench.plain_papermill_seconds(project["notebook"], parameters, tmp_path / "t1/05.ipynb")
    assert seconds > 0
    assert "## Département 05 : 30 €" in outputs_of(tmp_path / "t1/05.ipynb")
