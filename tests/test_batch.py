"""ticomex.batch: executing the template per department, warm kernels, cache, failures.

A tiny template of our own stands in for notebooks/fiche.ipynb: it imports pandas, DuckDB and
Altair, shows Markdown and a chart, writes chart data, and exposes what a reused kernel could
leak (namespace, execution counts, sys.path, shown-once warnings). Expected values come from
the few rows written below, not from the code under test. Tests starting kernels are `slow`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import nbformat
import pytest

from ticomex.batch import CACHED, EXECUTED, FAILED, Result, describe_error, execute, print_summary
from ticomex.batch.cache import KeyMaker, code_sources, is_fresh, read_record, read_template
from ticomex.batch.engine import BATCHED, CELL_BY_CELL, choose_engine
from ticomex.batch.inputs import PACKAGE_DIR, imported_modules, kernel_files
from ticomex.batch.normalise import normalise
from ticomex.batch.summary import locate_failure
from ticomex.batch.pool import kernel_settings
from ticomex.conventions import DUCKDB_THREADS_VARIABLE
from ticomex.errors import TicomexError
from ticomex.layout import OutputLayout

ROOT = Path(__file__).resolve().parents[1]
slow = pytest.mark.slow

# department, country, value: 05 totals 30, 92 totals 5, 9A has no row (its notebook fails).
ROWS = [("05", "DE", 10), ("05", "IT", 20), ("92", "DE", 5)]
CODES = ["05", "92", "9A"]

TEMPLATE_CELLS = [
    ("markdown", "# Test sheet"),
    ("parameters", "department = None\nyear = None\ndb = None\nparams_dir = None\ndata_dir = None\ntop_n = 10"),
    (
        "code",
        "import json, os, sys, warnings\nfrom pathlib import Path\nimport altair as alt\nimport duckdb\n"
        "import pandas as pd\nimport yaml\nfrom IPython.display import Markdown, display\n"
        "alt.renderers.enable('json')  # Altair 6's 'mimetype' output fails nbformat validation",
    ),
    # What a reused kernel would leak: a variable of the previous notebook, sys.path entries,
    # a library warning already shown once.
    (
        "code",
        "print('seen before:', 'df' in globals())\nsys.path.insert(0, params_dir)\n"
        "print('sys.path:', sys.path.count(params_dir))\nimport warner\nwarner.warn()",
    ),
    (
        "code",
        "settings = yaml.safe_load(Path(params_dir, department + '.yaml').read_text())\n"
        "if settings.get('failure'):\n    raise RuntimeError(settings['failure'])\n"
        "if settings.get('hard_exit'):\n    os._exit(1)  # the kernel dies\n"
        "con = duckdb.connect(db, read_only=True)\n"
        "df = con.execute('select pays, sum(valeur)::BIGINT as valeur from commerce where departement = ? "
        "group by pays order by pays', [department]).df()\ncon.close()\n"
        "if df.empty:\n    raise ValueError(f'no row for department {department}')",
    ),
    ("code", "display(Markdown(f'## {settings[\"name\"]}: {df.valeur.sum()} €'))\nprint(sorted({'b', 'a', department}))"),
    (
        "code",
        "Path(data_dir).mkdir(parents=True, exist_ok=True)\ndf.to_csv(Path(data_dir, 'pays.csv'), index=False)\n"
        "Path(data_dir, 'indicateurs.json').write_text(json.dumps({'department': department, 'year': year}))\n"
        "alt.Chart(df).mark_bar().encode(x='pays', y='valeur')",
    ),
]


def failing_place(cells, needle: str, template: str = "sheet.ipynb") -> str:
    """How the summary names the template cell and line holding `needle`, found here by
    reading the cells (1-based place, ids as `new_notebook` gives them)."""
    for index, (_kind, source) in enumerate(cells):
        lines = source.splitlines()
        for number, line in enumerate(lines, start=1):
            if needle in line:
                return (
                    f"in cell {index + 1} of {template} (id cell-{index}, first line: {lines[0].strip()!r}), "
                    f"line {number}: {line.strip()!r}"
                )
    raise AssertionError(needle)


def new_notebook(cells) -> nbformat.NotebookNode:
    """A notebook of (kind, source) cells; kind "parameters" is a code cell so tagged."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell.id = f"cell-{index}"
        if kind != "markdown" and kind != "code":
            cell.metadata["tags"] = [kind]
        nb.cells.append(cell)
    return nb


def write_template(path: Path, cells=TEMPLATE_CELLS) -> None:
    nbformat.write(new_notebook(cells), path)


def make_project(root: Path, cells=TEMPLATE_CELLS) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    template, db, params = root / "sheet.ipynb", root / "base.duckdb", root / "params"
    write_template(template, cells)
    con = duckdb.connect(str(db))
    con.execute("create table commerce (departement VARCHAR, pays VARCHAR, valeur BIGINT)")
    con.executemany("insert into commerce values (?, ?, ?)", ROWS)
    con.close()
    params.mkdir()
    for code in CODES:
        (params / f"{code}.yaml").write_text(f"code: '{code}'\nname: Department {code}\n", encoding="utf-8")
    (params / "warner.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('careful', UserWarning)\n", encoding="utf-8"
    )
    return {"notebook": template, "db": db, "params_dir": params, "out": root / "output"}


def run(project: dict[str, Path], **kwargs) -> dict[str, Result]:
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


@contextlib.contextmanager
def edited(path: Path, edit):
    """The file edited by `edit(bytes) -> bytes`, restored afterwards."""
    original = path.read_bytes()
    path.write_bytes(edit(original))
    try:
        yield
    finally:
        path.write_bytes(original)


# ---------------------------------------------------------------- end to end (kernels)


@pytest.fixture(scope="module")
def warm_build(tmp_path_factory):
    """One warm execution (a single worker: every notebook in the same kernel)."""
    project = make_project(tmp_path_factory.mktemp("warm"))
    results = run(project, jobs=1)
    return project, results


@slow
def test_results_outputs_and_failure_report(warm_build, capsys):
    project, results = warm_build
    out = project["out"]
    assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": EXECUTED, "9A": FAILED}
    assert outputs_of(out / "notebooks/05.ipynb")[-2:] == ["## Department 05: 30 €", "['05', 'a', 'b']\n"]
    assert outputs_of(out / "notebooks/92.ipynb")[-2:] == ["## Department 92: 5 €", "['92', 'a', 'b']\n"]
    assert (out / "notebooks/data/05/pays.csv").read_text() == "pays,valeur\nDE,10\nIT,20\n"
    assert json.loads((out / "notebooks/data/92/indicateurs.json").read_text()) == {"department": "92", "year": None}

    failure = results["9A"]
    place = failing_place(TEMPLATE_CELLS, "raise ValueError")
    assert place.startswith("in cell 5 of sheet.ipynb (id cell-4, first line: ") and "line 10:" in place
    assert failure.error == f"ValueError: no row for department 9A — {place}"
    assert failure.failed_notebook == out / "failed/9A.ipynb" and failure.failed_notebook.is_file()
    assert not (out / "notebooks/9A.ipynb").exists() and not (out / "notebooks/data/9A").exists()
    assert not (out / "freeze/9A.json").exists()
    assert not (out / ".execution").exists()

    assert print_summary(list(results.values())) == 1
    printed = capsys.readouterr().out
    assert "2 executed, 0 cached" in printed and "1 failed" in printed
    assert f"9A: ValueError: no row for department 9A — {place} — failed notebook: {out}/failed/9A.ipynb" in printed


@slow
def test_parameters_are_strings_timings_are_gone_and_the_record_is_beside(warm_build):
    project, _ = warm_build
    out = project["out"]
    nb = json.loads((out / "notebooks/05.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"] == {
        "department": "05",
        "db": str(project["db"].resolve()),
        "params_dir": str(project["params_dir"].resolve()),
        "data_dir": str((out / "notebooks/data/05").resolve()),
    }
    injected = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'department = "05"' in "".join(injected["source"])
    text = json.dumps(nb)
    for timing in ("start_time", "end_time", "duration", "iopub.execute_input", "shell.execute_reply"):
        assert timing not in text
    assert nb["metadata"]["papermill"]["output_path"] == str(out / "notebooks/05.ipynb")
    assert "ticomex" not in nb["metadata"]  # the record is not in the notebook
    record = json.loads((out / "freeze/05.json").read_text(encoding="utf-8"))
    assert record["department"] == "05" and record["data_files"] == ["indicateurs.json", "pays.csv"]
    assert len(record["key"]) == 64 and record["inputs"]["parameters"] == nb["metadata"]["papermill"]["parameters"]
    assert "indicators.py" in record["inputs"]["package"] and not any(
        name.startswith("render/") for name in record["inputs"]["package"]
    )


@slow
def test_reused_kernel_starts_each_notebook_afresh(warm_build):
    project, _ = warm_build
    # 92 ran after 05 in the same kernel: nothing of 05 may show.
    nb = json.loads((project["out"] / "notebooks/92.ipynb").read_text(encoding="utf-8"))
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))
    texts = "".join(outputs_of(project["out"] / "notebooks/92.ipynb"))
    assert "seen before: False" in texts and "sys.path: 1" in texts and "UserWarning: careful" in texts


def _same_trees(warm: dict[str, bytes], fresh: dict[str, bytes]) -> None:
    assert sorted(fresh) == sorted(warm)
    for name in warm:
        assert fresh[name] == warm[name], f"{name} differs between warm and fresh kernels"


@slow
def test_warm_kernels_write_the_same_bytes_as_fresh_kernels(warm_build, tmp_path):
    project, _ = warm_build
    warm = tree_bytes(project["out"])
    saved = shutil.copytree(project["out"], tmp_path / "warm")
    shutil.rmtree(project["out"])
    try:
        results = run(project, fresh_kernels=True)
        assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": EXECUTED, "9A": FAILED}
        fresh = tree_bytes(project["out"])
    finally:  # the other tests of the module read the warm build
        shutil.rmtree(project["out"], ignore_errors=True)
        shutil.copytree(saved, project["out"])
    _same_trees(warm, fresh)


@slow
def test_nothing_changed_executes_nothing(warm_build):
    project, _ = warm_build
    before = tree_bytes(project["out"])
    results = run(project, only=["05", "92"])
    assert {code: r.status for code, r in results.items()} == {"05": CACHED, "92": CACHED}
    assert tree_bytes(project["out"]) == before


@slow
def test_failure_keeps_the_previous_notebook_and_data(warm_build):
    project, _ = warm_build
    out = project["out"]
    before = tree_bytes(out / "notebooks")
    record = (out / "freeze/05.json").read_bytes()
    with edited(project["params_dir"] / "05.yaml", lambda b: b + "failure: simulated breakdown\n".encode()):
        results = run(project, only=["05"])
    assert results["05"].status == FAILED
    assert results["05"].error == f"RuntimeError: simulated breakdown — {failing_place(TEMPLATE_CELLS, 'raise RuntimeError')}"
    assert tree_bytes(out / "notebooks") == before and (out / "freeze/05.json").read_bytes() == record
    assert "simulated breakdown" in (out / "failed/05.ipynb").read_text(encoding="utf-8")
    # Inputs back as they were: the kept notebook is up to date again, the failure is gone.
    assert run(project, only=["05"])["05"].status == CACHED
    assert not (out / "failed/05.ipynb").exists()


@slow
def test_one_changed_params_file_re_executes_that_department_only(warm_build, tmp_path):
    project, _ = warm_build
    out = project["out"]
    saved = {folder: shutil.copytree(out / folder, tmp_path / folder) for folder in ("notebooks", "freeze")}
    with edited(project["params_dir"] / "05.yaml", lambda b: b.replace(b"Department 05", b"Hautes-Alpes")):
        results = run(project, only=["05", "92"])
        assert {code: r.status for code, r in results.items()} == {"05": EXECUTED, "92": CACHED}
        assert outputs_of(out / "notebooks/05.ipynb")[-2] == "## Hautes-Alpes: 30 €"
    assert (out / "notebooks/92.ipynb").read_bytes() == (saved["notebooks"] / "92.ipynb").read_bytes()
    # Params file and outputs put back as they were: up to date again, nothing to execute.
    for folder, copy in saved.items():
        shutil.rmtree(out / folder)
        shutil.copytree(copy, out / folder)
    assert run(project, only=["05"])["05"].status == CACHED


@slow
def test_a_dead_kernel_fails_its_department_only(tmp_path):
    project = make_project(tmp_path)
    (project["params_dir"] / "05.yaml").write_text("code: '05'\nname: x\nhard_exit: yes\n", encoding="utf-8")
    results = run(project, only=["05", "92"], jobs=1)  # 92 runs after 05 in the same worker
    assert results["05"].status == FAILED and results["05"].error.startswith("DeadKernelError")
    assert results["05"].failed_notebook is None
    assert results["92"].status == EXECUTED
    assert print_summary(list(results.values())) == 1


@slow
def test_interrupted_run_puts_the_previous_data_back(warm_build):
    project, _ = warm_build
    layout = OutputLayout(project["out"])
    data, backup = layout.data("92"), layout.previous_data("92")
    good = tree_bytes(data)
    backup.parent.mkdir(parents=True)
    shutil.copytree(data, backup)
    (data / "pays.csv").write_text("half written", encoding="utf-8")  # a killed run's partial data
    layout.executing("92").write_text("{", encoding="utf-8")
    assert run(project, only=["92"])["92"].status == CACHED
    assert tree_bytes(data) == good
    assert not layout.staging.exists()


@slow
def test_no_op_run_imports_nothing_heavy(warm_build):
    project, _ = warm_build
    code = textwrap.dedent(
        f"""
        import sys
        from ticomex.batch import execute
        results = execute({str(project['notebook'])!r}, {str(project['params_dir'])!r},
                          {str(project['db'])!r}, {str(project['out'])!r}, only=["05", "92"], progress=False)
        assert [r.status for r in results] == ["cached", "cached"], results
        heavy = sorted(m for m in ("papermill", "pandas", "altair", "nbformat", "jupyter_client", "duckdb",
                                   "IPython", "tqdm") if m in sys.modules)
        print(",".join(heavy))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == ""


ENVIRONMENT_CELLS = [
    ("parameters", "department = None\nyear = None\ndb = None\nparams_dir = None\ndata_dir = None"),
    (
        "code",
        "import json, os\nfrom pathlib import Path\nPath(data_dir).mkdir(parents=True, exist_ok=True)\n"
        f"names = ['PYTHONHASHSEED', {DUCKDB_THREADS_VARIABLE!r}]\n"
        "Path(data_dir, 'env.json').write_text(json.dumps({n: os.environ.get(n) for n in names}))",
    ),
]


@slow
@pytest.mark.parametrize("fresh_kernels", [False, True], ids=["warm", "fresh"])
def test_settings_reach_the_kernels_not_this_process(tmp_path, fresh_kernels):
    project = make_project(tmp_path, ENVIRONMENT_CELLS)
    before = dict(os.environ)
    results = run(project, only=["05", "92"], jobs=2, fresh_kernels=fresh_kernels)
    assert dict(os.environ) == before
    assert [r.status for r in results.values()] == [EXECUTED, EXECUTED]
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    for code in ("05", "92"):
        seen = json.loads((project["out"] / f"notebooks/data/{code}/env.json").read_text())
        assert seen == {"PYTHONHASHSEED": "0", DUCKDB_THREADS_VARIABLE: threads}


CELL_BY_CELL_CELLS = [
    ("parameters", "department = None\nyear = None\ndb = None\nparams_dir = None\ndata_dir = None"),
    ("code", "import asyncio\nawait asyncio.sleep(0)\nprint('awaited', department)"),
    ("raises-exception", "raise KeyError(department)"),
    ("code", "print('after the error', department)"),
]


@slow
def test_notebooks_run_cell_by_cell_are_the_same_warm_and_fresh(tmp_path):
    """Top-level await and a cell allowed to fail: nbclient runs on after the error, then
    papermill fails the notebook (it counts every error output); both kernels write the same."""
    warm = make_project(tmp_path / "warm", CELL_BY_CELL_CELLS)
    fresh = dict(warm, out=tmp_path / "fresh")
    for project, options in ((warm, {"jobs": 1}), (fresh, {"fresh_kernels": True})):
        results = run(project, only=["05", "92"], **options)
        place = failing_place(CELL_BY_CELL_CELLS, "raise KeyError")
        assert [r.error for r in results.values()] == [f"KeyError: '05' — {place}", f"KeyError: '92' — {place}"]
    texts = outputs_of(warm["out"] / "failed/92.ipynb")
    assert texts[0] == "awaited 92\n" and texts[-1] == "after the error 92\n"
    as_warm = {
        name: data.replace(str(fresh["out"]).encode(), str(warm["out"]).encode())
        for name, data in tree_bytes(fresh["out"] / "failed").items()
    }
    _same_trees(tree_bytes(warm["out"] / "failed"), as_warm)


# ---------------------------------------------------------------- the execution key


@pytest.fixture
def key_project(tmp_path):
    """A project and a copy of the package source, to edit without touching the real one."""
    project = make_project(tmp_path / "project")
    package = tmp_path / "package" / "ticomex"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "_quarto.yml"
    config.write_text("project:\n  type: website\n", encoding="utf-8")
    return project, package, config


def keys_of(project, package, config, *, year=None, versions=None) -> dict[str, str]:
    from ticomex.batch.plan import notebook_parameters

    maker = KeyMaker(
        project["notebook"], project["db"], package_dir=package, project_config=config, versions=versions or {"x": "1"}
    )
    layout = OutputLayout(project["out"])
    return {
        code: maker.key(
            project["params_dir"] / f"{code}.yaml",
            notebook_parameters(code, project["db"], project["params_dir"], layout, year),
        )[0]
        for code in ("05", "92")
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(code for code in before if before[code] != after[code])


def test_the_key_changes_with_what_the_kernel_runs_and_reads(key_project):
    project, package, config = key_project
    base = keys_of(project, package, config)
    assert keys_of(project, package, config) == base and base["05"] != base["92"]
    cases = [
        (project["params_dir"] / "92.yaml", lambda b: b + b"# one more line\n", ["92"]),
        (project["notebook"], lambda b: b.replace(b"Test sheet", b"Test sheet."), ["05", "92"]),
        (project["notebook"], lambda b: b.replace(b'"python3"', b'"python3-other"'), ["05", "92"]),
        # One byte of the database, same size: a size/date fingerprint would miss it.
        (project["db"], lambda b: b[:-1] + bytes([b[-1] ^ 1]), ["05", "92"]),
        (package / "indicators.py", lambda b: b + b"# changed\n", ["05", "92"]),
        (package / "texts.py", lambda b: b + b"# changed\n", ["05", "92"]),
        (package / "conventions.py", lambda b: b + b"# changed\n", ["05", "92"]),
        (package / "batch/normalise.py", lambda b: b + b"# changed\n", ["05", "92"]),
        (config, lambda b: b + b"# font changed\n", ["05", "92"]),
    ]
    for path, edit, expected in cases:
        with edited(path, edit):
            assert _changed(base, keys_of(project, package, config)) == expected, path
    assert _changed(base, keys_of(project, package, config, year="2023")) == ["05", "92"]
    assert _changed(base, keys_of(project, package, config, versions={"x": "2"})) == ["05", "92"]
    assert keys_of(project, package, config) == base


def test_the_key_ignores_the_renderer_and_outputs_saved_in_the_template(key_project):
    project, package, config = key_project
    base = keys_of(project, package, config)
    for path in (package / "render/assets/ticomex.css", *sorted((package / "render").glob("*.py")), package / "cli.py"):
        with edited(path, lambda b: b + b"\n/* changed */\n"):
            assert keys_of(project, package, config) == base, path
    # The template saved from JupyterLab after a run: outputs, counts, other metadata.
    nb = nbformat.read(project["notebook"], as_version=4)
    for index, cell in enumerate(nb.cells):
        cell.metadata["collapsed"] = False
        cell.metadata.setdefault("tags", []).append("remove-input")
        if cell.cell_type == "code":
            cell.execution_count = index
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.12.0"}
    nb.metadata["widgets"] = {"state": {}}
    with edited(project["notebook"], lambda b: nbformat.writes(nb).encode()):
        assert keys_of(project, package, config) == base
    # A tag that changes execution does re-execute.
    nb.cells[2].metadata["tags"].append("raises-exception")
    with edited(project["notebook"], lambda b: nbformat.writes(nb).encode()):
        assert _changed(base, keys_of(project, package, config)) == ["05", "92"]


def test_kernel_files_are_the_import_closure_of_the_template(tmp_path):
    nb = read_template(ROOT / "notebooks/fiche.ipynb")
    names = {path.relative_to(PACKAGE_DIR).as_posix() for path in kernel_files(code_sources(nb))}
    for expected in ("__init__.py", "indicators.py", "sheet.py", "texts.py", "errors.py", "batch/kernel.py"):
        assert expected in names
    assert not any(name.startswith("render/") or name.startswith("data/") for name in names), names
    assert "cli.py" not in names and "build.py" not in names and "batch/pool.py" not in names
    # Relative imports, imports inside functions, IPython syntax, data files of a package.
    package = tmp_path / "ticomex"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("def f():\n    from .sub import b\n", encoding="utf-8")
    (package / "sub/__init__.py").write_text("from . import c\n", encoding="utf-8")
    (package / "sub/b.py").write_text("", encoding="utf-8")
    (package / "sub/c.py").write_text("", encoding="utf-8")
    (package / "sub/table.csv").write_text("x\n", encoding="utf-8")
    (package / "unused.py").write_text("", encoding="utf-8")
    modules = imported_modules(["%matplotlib inline\nimport ticomex.a\n!ls"], package)
    assert sorted(modules) == ["ticomex", "ticomex.a", "ticomex.sub", "ticomex.sub.b", "ticomex.sub.c"]
    found = {path.relative_to(package).as_posix() for path in kernel_files(["import ticomex.a"], package)}
    assert {"sub/table.csv", "sub/c.py"} <= found and "unused.py" not in found


def test_missing_notebook_or_data_file_is_not_fresh(tmp_path):
    layout = OutputLayout(tmp_path)
    layout.data("05").mkdir(parents=True)
    (layout.data("05") / "pays.csv").write_text("x", encoding="utf-8")
    layout.notebook("05").write_text("{}", encoding="utf-8")
    layout.record("05").parent.mkdir(parents=True)
    layout.record("05").write_text(json.dumps({"key": "k", "data_files": ["pays.csv"]}), encoding="utf-8")
    assert is_fresh(layout.record("05"), layout.notebook("05"), layout.data("05"), "k")
    assert not is_fresh(layout.record("05"), layout.notebook("05"), layout.data("05"), "other")
    (layout.data("05") / "pays.csv").unlink()
    assert not is_fresh(layout.record("05"), layout.notebook("05"), layout.data("05"), "k")
    layout.record("05").write_text("{", encoding="utf-8")  # a torn record
    assert read_record(layout.record("05")) is None


# ---------------------------------------------------------------- engine choice and others


def test_engine_choice_follows_declared_facts():
    plain = new_notebook([("markdown", "# t"), ("parameters", "x = 1"), ("code", ""), ("code", "print('await')")])
    choice = choose_engine(plain)
    assert choice.engine == BATCHED and choice.cells == ((1, "x = 1"), (3, "print('await')"))
    skipped = new_notebook([("skip-execution", "await x"), ("code", "async def f():\n    await g()")])
    assert choose_engine(skipped).cells == ((1, "async def f():\n    await g()"),)
    assert choose_engine(new_notebook([("code", "%matplotlib inline\nx = 1")])).engine == BATCHED
    for cells, reason in (
        ([("code", "x = 1"), ("raises-exception", "1 / 0")], "cell 1 is tagged raises-exception"),
        ([("code", "import asyncio\nawait asyncio.sleep(0)")], "cell 0 awaits at top level"),
        ([("code", "async with lock:\n    pass")], "cell 0 awaits at top level"),
        ([("code", "def f(:")], "cell 0 does not compile"),
    ):
        choice = choose_engine(new_notebook(cells))
        assert choice.engine == CELL_BY_CELL and choice.reason.startswith(reason), choice
    assert choose_engine(plain, timeout=30).engine == CELL_BY_CELL
    failed = choose_engine(plain, batched_run_failed=True)
    assert failed.engine == CELL_BY_CELL and "papermill records the failure" in failed.reason


def test_kernel_settings_share_the_cores():
    assert kernel_settings(2, cores=8) == {"PYTHONHASHSEED": "0", DUCKDB_THREADS_VARIABLE: "4"}
    assert kernel_settings(3, cores=2)[DUCKDB_THREADS_VARIABLE] == "1"


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
            {"id": "template", "cell_type": "code", "metadata": {"execution": {"iopub.status.busy": "t"}}},
            {"id": "f00d", "cell_type": "code", "metadata": {"papermill": {"duration": 2.0, "status": "completed"}}},
        ],
    }
    normalise(nb, {"template"}, Path("/out/05.ipynb"))
    assert [c["id"] for c in nb["cells"]] == ["ticomex-0", "template", "ticomex-2"]
    assert nb["cells"][1]["metadata"] == {}
    assert nb["cells"][2]["metadata"] == {"papermill": {"status": "completed"}}
    assert nb["metadata"] == {"papermill": {"parameters": {}, "output_path": "/out/05.ipynb"}}


def test_a_failure_is_located_in_the_template_not_by_run_counter():
    template = new_notebook(TEMPLATE_CELLS)
    executed = json.loads(nbformat.writes(template))
    executed["cells"].insert(2, {"cell_type": "code", "id": "injected", "source": "department = '9A'", "outputs": []})
    executed["cells"][5]["outputs"] = [{
        "output_type": "error", "ename": "ValueError", "evalue": "no row",
        "traceback": ["\x1b[36mCell\x1b[39m \x1b[32mIn[12]\x1b[39m\x1b[32m, line 10\x1b[39m", "ValueError: no row"],
    }]
    where = locate_failure(executed, json.loads(nbformat.writes(template)), "sheet.ipynb")
    assert "in " + where == failing_place(TEMPLATE_CELLS, "raise ValueError")
    executed["cells"][5]["outputs"][0]["traceback"] = ["no line given"]
    first_line = TEMPLATE_CELLS[4][1].splitlines()[0]
    assert locate_failure(executed, json.loads(nbformat.writes(template)), "t.ipynb").endswith(f"first line: {first_line!r})")
    executed["cells"][5]["outputs"] = []
    assert locate_failure(executed, json.loads(nbformat.writes(template)), "t.ipynb") is None


def test_describe_error_keeps_the_useful_last_line(capsys):
    class NotebookError(Exception):
        ename, evalue, exec_count = "KeyError", "\x1b[31mcontext\x1b[0m\n'pays'\n", 7

    assert describe_error(NotebookError()) == "KeyError: 'pays'"
    assert describe_error(NotebookError(), "cell 3 of t.ipynb") == "KeyError: 'pays' — in cell 3 of t.ipynb"
    assert describe_error(TimeoutError("Cell execution timed out\n\nafter 60 s")) == "TimeoutError: after 60 s"
    assert print_summary([Result("05", CACHED)]) == 0
    assert capsys.readouterr().out == "notebooks: 0 executed, 1 cached (unchanged inputs), 0 failed\n"


REAL_TEMPLATE = ROOT / "notebooks/fiche.ipynb"


def _demo_project(tmp_path: Path) -> dict[str, Path]:
    raw, db, params = tmp_path / "raw", tmp_path / "ticomex.duckdb", tmp_path / "params"
    for args in (
        ["data", "demo", "--out", str(raw)],
        ["data", "ingest", "--raw", str(raw), "--db", str(db)],
        ["params", "--db", str(db), "--out", str(params)],
    ):
        done = subprocess.run([sys.executable, "-m", "ticomex.cli", *args], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"demo data could not be prepared (`ticomex {' '.join(args[:2])}`): {done.stderr[-300:]}")
    return {"notebook": REAL_TEMPLATE, "db": db, "params_dir": params, "out": tmp_path / "out"}


@slow
def test_real_template_warm_equals_fresh(tmp_path):
    """The project's own template on a small demo release: one kernel running two sheets
    writes what fresh kernels write."""
    project = _demo_project(tmp_path)
    codes = ["20", "9C"]  # Corsica, overseas
    warm = run(project, only=codes, jobs=1)
    assert [r.status for r in warm.values()] == [EXECUTED] * 2, [r.error for r in warm.values()]
    warm_bytes = tree_bytes(project["out"])
    shutil.rmtree(project["out"])
    run(project, only=codes, fresh_kernels=True)
    _same_trees(warm_bytes, tree_bytes(project["out"]))


@slow
@pytest.mark.parametrize("fresh_kernels", [False, True], ids=["warm", "fresh"])
def test_the_keyed_files_cover_what_a_kernel_imports(tmp_path, fresh_kernels):
    """The real template, plus a last cell listing the ticomex modules its kernel loaded:
    each is in the key's static list."""
    project = _demo_project(tmp_path)
    nb = nbformat.read(REAL_TEMPLATE, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import sys as _sys, json as _json\nfrom pathlib import Path as _Path\n"
            "_Path(data_dir, 'modules.json').write_text(_json.dumps(sorted(m for m in _sys.modules "
            "if m == 'ticomex' or m.startswith('ticomex.'))))"
        )
    )
    template = tmp_path / "fiche.ipynb"
    nbformat.write(nb, template)
    project["notebook"] = template
    results = run(project, only=["20"], jobs=1, fresh_kernels=fresh_kernels)
    assert results["20"].status == EXECUTED, results["20"].error
    loaded = json.loads((project["out"] / "notebooks/data/20/modules.json").read_text())
    keyed = set(json.loads((project["out"] / "freeze/20.json").read_text())["inputs"]["package"])
    for name in loaded:
        parts = name.split(".")[1:]
        candidates = ["/".join([*parts, "__init__.py"]), *(["/".join(parts) + ".py"] if parts else [])]
        assert any(c in keyed for c in candidates), f"{name} is imported by the kernel but not in the key"
    assert "ticomex.indicators" in loaded and not any(m.startswith("ticomex.render") for m in loaded)


def _benchmark_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_build", ROOT / "benchmarks/build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@slow
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


@slow
def test_benchmark_t1_runs_the_template_once_in_a_fresh_kernel(tmp_path):
    bench = _benchmark_module()
    project = make_project(tmp_path)
    layout = OutputLayout(tmp_path / "t1")
    parameters = bench.t1_parameters("05", project["db"], project["params_dir"], layout)
    assert parameters["data_dir"] == str(layout.data("05").resolve())
    bench.plain_papermill_seconds(project["notebook"], parameters, layout.notebook("05"))
    assert outputs_of(layout.notebook("05"))[-2:] == ["## Department 05: 30 €", "['05', 'a', 'b']\n"]
    assert (layout.data("05") / "pays.csv").read_text() == "pays,valeur\nDE,10\nIT,20\n"
