"""`execute`: the whole batch, from the params folder to the executed notebooks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from ticomex.batch.cache import KeyMaker, kernel_name, kernel_project_config, read_template
from ticomex.batch.normalise import template_cell_ids
from ticomex.batch.plan import departments, plan, recover_interrupted_run
from ticomex.batch.summary import Result
from ticomex.errors import TicomexError
from ticomex.layout import OutputLayout


def execute(
    notebook: Path,
    params_dir: Path,
    db: Path,
    out: Path,
    only: list[str] | None = None,
    year: str | None = None,
    jobs: int | None = None,
    fresh_kernels: bool = False,
    *,
    partial_year: bool = False,
    progress: bool = True,
    timeout: float | None = None,
    before_executing: Callable[[int], None] | None = None,
) -> list[Result]:
    """Execute `notebook` for every department of `params_dir` (or `only` those) into the
    output folder `out`, skipping the departments whose notebook comes from the same inputs.
    `year`: the sheets' year (default: the template's; `partial_year` accepts one with fewer
    than four quarters); `jobs`: parallel kernels (default:
    cores); `fresh_kernels`: one new kernel per notebook (strict isolation, slower); `timeout`:
    seconds per cell; `before_executing(n)` is called when n > 0 notebooks are about to be
    executed. One `Result` per department, in code order."""
    notebook, params_dir, db = Path(notebook), Path(params_dir), Path(db)
    for path, what in ((notebook, "template notebook"), (db, "database")):
        if not path.is_file():
            raise TicomexError(f"{path}: {what} not found")
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if jobs < 1:
        raise TicomexError(f"--jobs {jobs}: must be at least 1")
    codes = departments(params_dir, only)
    layout = OutputLayout(Path(out))
    recover_interrupted_run(layout)

    template = read_template(notebook)
    keys = KeyMaker(notebook, db, project_config=kernel_project_config())
    results, todo = plan(codes, keys, params_dir, db, layout, year, partial_year)
    if todo:
        from ticomex.batch.pool import run_jobs

        if before_executing is not None:
            before_executing(len(todo))
        executed = run_jobs(
            todo,
            notebook.resolve(),
            kernel_name(template),
            template_cell_ids(template),
            layout,
            jobs,
            fresh_kernels,
            progress,
            timeout,
        )
        results.update((result.code, result) for result in executed)
    if layout.staging.is_dir() and not any(path.is_file() for path in layout.staging.rglob("*")):
        shutil.rmtree(layout.staging, ignore_errors=True)
    return [results[code] for code in codes]
