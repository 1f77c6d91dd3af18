"""Execute the template notebook for every department with papermill, in parallel, with a cache.

`execute` runs one notebook per `params/<code>.yaml` and returns one `Result` per department;
`print_summary` reports them and gives the exit code. Layout of the outputs: see
docs/architecture.md. By default each worker keeps one warm kernel (imports done once) and
resets it between notebooks; `fresh_kernels=True` runs one plain papermill execution per
notebook. Both write byte-identical notebooks.

This module imports only the standard library: with everything cached, nothing heavier
(papermill, jupyter, pandas) is ever imported.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ticomex
from ticomex.batch.cache import KeyMaker, is_fresh
from ticomex.conventions import (
    DATA_DIR_PARAMETER,
    DB_PARAMETER,
    DEPARTMENT_PARAMETER,
    DUCKDB_THREADS_VARIABLE,
    PARAMS_DIR_PARAMETER,
    YEAR_PARAMETER,
)
from ticomex.errors import TicomexError

EXECUTED = "executed"
CACHED = "cached"
FAILED = "failed"

# String and set iteration order must not vary between kernels: same inputs, same notebook.
KERNEL_HASH_SEED = "0"
DEFAULT_KERNEL = "python3"
# Its source is an input of every notebook (the template imports it).
PACKAGE_DIR = Path(ticomex.__file__).parent


@dataclass(frozen=True)
class Result:
    code: str
    status: str  # EXECUTED, CACHED or FAILED
    notebook: Path | None = None  # the executed notebook (None when failed)
    seconds: float = 0.0
    error: str | None = None  # "ExceptionName: useful last line"
    failed_notebook: Path | None = None  # the notebook with its error, when one was written


@dataclass(frozen=True)
class Layout:
    """Where execution writes, under the output folder (docs/architecture.md)."""

    out: Path

    def notebook(self, code: str) -> Path:
        return self.out / "notebooks" / f"{code}.ipynb"

    def data(self, code: str) -> Path:
        return self.out / "notebooks" / "data" / code

    def failed(self, code: str) -> Path:
        return self.out / "failed" / f"{code}.ipynb"

    @property
    def staging(self) -> Path:
        """Notebooks being executed and the previous data of the departments being executed."""
        return self.out / ".execution"

    def executing(self, code: str) -> Path:
        return self.staging / f"{code}.ipynb"

    @property
    def previous_data_dir(self) -> Path:
        return self.staging / "donnees-precedentes"

    def previous_data(self, code: str) -> Path:
        return self.previous_data_dir / code


@dataclass(frozen=True)
class _Job:
    code: str
    parameters: dict[str, str]
    key: str


def departments(params_dir: Path, only: list[str] | None = None) -> list[str]:
    """Codes of the departments to execute: one per `<code>.yaml`, restricted to `only`."""
    if not params_dir.is_dir():
        raise TicomexError(f"{params_dir}: params folder not found (write it with `ticomex params`)")
    codes = sorted(path.stem for path in params_dir.glob("*.yaml"))
    if not codes:
        raise TicomexError(f"{params_dir}: no <code>.yaml params file (write them with `ticomex params`)")
    if only is None:
        return codes
    known = set(codes)
    unknown = [code for code in only if code not in known]
    if unknown:
        raise TicomexError(
            f"{params_dir}: unknown department(s) {', '.join(unknown)}: no {unknown[0]}.yaml in this params folder"
        )
    return sorted(set(only))


def notebook_parameters(
    code: str, db: Path, params_dir: Path, layout: Layout, annee: str | None
) -> dict[str, str]:
    """The template's parameters, all strings (absolute paths: the kernel's cwd is irrelevant)."""
    parameters = {
        DEPARTMENT_PARAMETER: code,
        DB_PARAMETER: str(db.resolve()),
        PARAMS_DIR_PARAMETER: str(params_dir.resolve()),
        DATA_DIR_PARAMETER: str(layout.data(code).resolve()),
    }
    if annee is not None:
        parameters[YEAR_PARAMETER] = str(annee)
    return parameters


def execute(
    notebook: Path,
    params_dir: Path,
    db: Path,
    out: Path,
    only: list[str] | None = None,
    annee: str | None = None,
    jobs: int | None = None,
    fresh_kernels: bool = False,
    *,
    progress: bool = True,
    timeout: float | None = None,
    before_executing: Callable[[int], None] | None = None,
) -> list[Result]:
    """Execute `notebook` for every department of `params_dir` (or `only` those), skipping the
    departments whose executed notebook comes from the same inputs. `timeout`: seconds per cell;
    `before_executing(n)` is called when n > 0 notebooks are about to be executed."""
    notebook, params_dir, db, out = Path(notebook), Path(params_dir), Path(db), Path(out)
    for path, what in ((notebook, "template notebook"), (db, "database")):
        if not path.is_file():
            raise TicomexError(f"{path}: {what} not found")
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if jobs < 1:
        raise TicomexError(f"--jobs {jobs}: must be at least 1")
    codes = departments(params_dir, only)
    layout = Layout(out)
    _recover_interrupted_run(layout)

    results, todo = _plan(codes, notebook, params_dir, db, layout, annee)
    if todo and before_executing is not None:
        before_executing(len(todo))
    if todo:
        for result in _run_jobs(todo, notebook.resolve(), layout, jobs, fresh_kernels, progress, timeout):
            results[result.code] = result
    if layout.staging.is_dir() and not any(path.is_file() for path in layout.staging.rglob("*")):
        shutil.rmtree(layout.staging, ignore_errors=True)
    return [results[code] for code in codes]


def _plan(
    codes: list[str], notebook: Path, params_dir: Path, db: Path, layout: Layout, annee: str | None
) -> tuple[dict[str, Result], list[_Job]]:
    """Departments whose notebook is up to date (as results) and the jobs for the others."""
    keys = KeyMaker(notebook, db, PACKAGE_DIR)
    cached: dict[str, Result] = {}
    todo: list[_Job] = []
    for code in codes:
        parameters = notebook_parameters(code, db, params_dir, layout, annee)
        key = keys.key(params_dir / f"{code}.yaml", parameters)
        if is_fresh(layout.notebook(code), layout.data(code), key):
            cached[code] = Result(code, CACHED, notebook=layout.notebook(code))
            # A failure from other inputs than the current ones no longer applies.
            layout.failed(code).unlink(missing_ok=True)
        else:
            todo.append(_Job(code, parameters, key))
    return cached, todo


def _recover_interrupted_run(layout: Layout) -> None:
    """Put back the previous data of departments whose execution was interrupted (killed)."""
    backups = layout.previous_data_dir
    if backups.is_dir():
        for backup in sorted(backups.iterdir()):
            shutil.rmtree(layout.data(backup.name), ignore_errors=True)
            layout.data(backup.name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, layout.data(backup.name))
    if layout.staging.is_dir():
        for leftover in layout.staging.glob("*.ipynb"):
            leftover.unlink()


def _kernel_name(template: Path) -> str:
    try:
        spec = json.loads(template.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        return spec["name"]
    except (KeyError, TypeError):
        return DEFAULT_KERNEL
    except (OSError, ValueError) as err:
        raise TicomexError(f"{template}: not a readable notebook: {err}") from None


def _run_jobs(
    todo: list[_Job],
    template: Path,
    layout: Layout,
    jobs: int,
    fresh_kernels: bool,
    progress: bool,
    timeout: float | None,
) -> list[Result]:
    from tqdm import tqdm

    from ticomex.batch import runner as runners
    from ticomex.batch.normalise import template_cell_ids

    kernel_name = _kernel_name(template)
    template_ids = template_cell_ids(template)
    pending: queue.Queue[_Job] = queue.Queue()
    for job in todo:
        pending.put(job)
    finished: queue.Queue[Result] = queue.Queue()

    def work() -> None:
        runner = runners.FreshRunner() if fresh_kernels else runners.WarmRunner(kernel_name)
        try:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = _run_job(job, runner, template, template_ids, layout, timeout)
                except Exception as err:  # e.g. the output folder is not writable: report, go on
                    result = Result(job.code, FAILED, error=describe_error(err))
                if result.status == FAILED:
                    runner.recycle()
                finished.put(result)
        finally:
            runner.close()

    # Daemon threads: an interrupted build exits at once; its kernels notice their parent is
    # gone and exit too (ipykernel's parent poller).
    workers = [threading.Thread(target=work, daemon=True, name=f"ticomex-{n}") for n in range(min(jobs, len(todo)))]
    # Inherited by every kernel started below.
    kernel_environment = {
        "PYTHONHASHSEED": KERNEL_HASH_SEED,
        DUCKDB_THREADS_VARIABLE: str(max(1, (os.cpu_count() or 1) // len(workers))),
    }
    previous = {name: os.environ.get(name) for name in kernel_environment}
    os.environ.update(kernel_environment)
    results = []
    try:
        for worker in workers:
            worker.start()
        bar = tqdm(
            total=len(todo),
            desc="notebooks",
            unit="nb",
            file=sys.stderr,
            disable=not (progress and sys.stderr.isatty()),
        )
        with bar:
            while len(results) < len(todo):
                try:
                    result = finished.get(timeout=0.5)
                except queue.Empty:
                    if not any(worker.is_alive() for worker in workers) and finished.empty():
                        raise TicomexError("notebook execution: the workers stopped unexpectedly") from None
                    continue
                results.append(result)
                bar.set_postfix_str(result.code, refresh=False)
                bar.update()
        for worker in workers:
            worker.join()
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return results


def _run_job(job: _Job, runner, template: Path, template_ids: set[str], layout: Layout, timeout) -> Result:
    """Execute one department into temporary places; move into place only on success."""
    import nbformat

    from ticomex.batch.normalise import normalise

    started = time.monotonic()
    code = job.code
    executing = layout.executing(code)
    data = layout.data(code)
    previous = layout.previous_data(code)
    executing.parent.mkdir(parents=True, exist_ok=True)
    executing.unlink(missing_ok=True)
    # The notebook writes its data straight into its final folder (the path it records is the
    # true one); the previous data is set aside and put back if the notebook fails.
    if data.exists():
        previous.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(data, previous)
    data.mkdir(parents=True)

    final = layout.notebook(code)
    try:
        nb = runner.run(template, executing, job.parameters, timeout)
        files = sorted(path.relative_to(data).as_posix() for path in data.rglob("*") if path.is_file())
        record = {"cle": job.key, "departement": code, "fichiers": files}
        _write_notebook(nbformat, normalise(nb, template_ids, final, record), executing)
    except Exception as err:  # any failure of one department must leave the others running
        failed = _keep_failed_notebook(executing, layout.failed(code), template_ids, code)
        shutil.rmtree(data, ignore_errors=True)
        if previous.exists():
            os.replace(previous, data)
        return Result(
            code, FAILED, seconds=time.monotonic() - started, error=describe_error(err), failed_notebook=failed
        )
    shutil.rmtree(previous, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(executing, final)
    layout.failed(code).unlink(missing_ok=True)
    return Result(code, EXECUTED, notebook=final, seconds=time.monotonic() - started)


def _keep_failed_notebook(executing: Path, failed: Path, template_ids: set[str], code: str) -> Path | None:
    """Move the notebook papermill wrote with its error to `failed/`; None when there is none."""
    if not executing.is_file():
        return None
    failed.parent.mkdir(parents=True, exist_ok=True)
    try:
        import nbformat

        from ticomex.batch.normalise import normalise

        nb = normalise(_read_json(executing), template_ids, failed, {"departement": code})
        _write_notebook(nbformat, nb, failed)
        executing.unlink()
    except Exception:  # unreadable or invalid: keep it exactly as papermill wrote it
        os.replace(executing, failed)
    return failed


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_notebook(nbformat, nb: dict, path: Path) -> None:
    """nbformat 4 JSON as nbformat lays it out (sorted keys, text split in lines, transient
    fields dropped) but compact, written atomically: with nbformat's indentation Python's
    JSON encoder is ten times slower, about 0.1 s a sheet. Modifies `nb`."""
    from nbformat.v4.rwbase import split_lines, strip_transient

    if not isinstance(nb, nbformat.NotebookNode):  # read back from a file
        nb = nbformat.from_dict(nb)
    nb = strip_transient(split_lines(nb))
    text = json.dumps(nb, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partiel")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def describe_error(err: BaseException) -> str:
    """Exception name and the useful last line of its message (the notebook's own error)."""
    name = getattr(err, "ename", None) or type(err).__name__
    message = str(getattr(err, "evalue", None) or err)
    lines = [line.strip() for line in _strip_ansi(message).splitlines() if line.strip()]
    where = getattr(err, "exec_count", None)
    text = f"{name}: {lines[-1]}" if lines else name
    return f"{text} (cell In [{where}])" if where is not None else text


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def print_summary(results: list[Result], file=None) -> int:
    """Print what was executed, cached and failed (with the error and the failed notebook).
    Returns the exit code: 1 when any department failed, else 0."""
    out = sys.stdout if file is None else file
    counts = {status: sum(r.status == status for r in results) for status in (EXECUTED, CACHED, FAILED)}
    print(
        f"notebooks: {counts[EXECUTED]} executed, {counts[CACHED]} cached (unchanged inputs), "
        f"{counts[FAILED]} failed",
        file=out,
    )
    failures = [r for r in results if r.status == FAILED]
    for result in failures:
        where = (
            f"failed notebook: {result.failed_notebook}" if result.failed_notebook else "no notebook was written"
        )
        print(f"  FAILED {result.code}: {result.error} — {where}", file=out)
    return 1 if failures else 0
