"""One department's execution: into temporary places, moved into place only on success.

The notebook is executed to the staging folder; its data is written straight into its final
folder (the path the notebook records is the true one) while the previous data waits in the
staging folder, put back if the notebook fails or the run is killed (plan.recover_interrupted_run).
On success: the old record goes, the notebook is moved into place, then the new record is
written, so a record never describes a notebook that is not there.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ticomex.batch.cache import write_record
from ticomex.batch.normalise import normalise, write_notebook
from ticomex.batch.plan import Job
from ticomex.batch.summary import EXECUTED, FAILED, Result, describe_error, locate_failure
from ticomex.layout import OutputLayout


def run_job(job: Job, runner, template: Path, template_ids: set[str], layout: OutputLayout, timeout) -> Result:
    started = time.monotonic()
    code = job.code
    executing, data, previous = layout.executing(code), layout.data(code), layout.previous_data(code)
    executing.parent.mkdir(parents=True, exist_ok=True)
    executing.unlink(missing_ok=True)
    if data.exists():
        previous.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(data, previous)
    data.mkdir(parents=True)

    final = layout.notebook(code)
    try:
        nb = runner.run(template, executing, job.parameters, timeout)
        files = sorted(path.relative_to(data).as_posix() for path in data.rglob("*") if path.is_file())
        write_notebook(normalise(nb, template_ids, final), executing)
    except Exception as err:  # any failure of one department must leave the others running
        failed = _keep_failed_notebook(executing, layout.failed(code), template_ids)
        shutil.rmtree(data, ignore_errors=True)
        if previous.exists():
            os.replace(previous, data)
        error = describe_error(err, _failure_place(failed, template))
        return Result(code, FAILED, seconds=time.monotonic() - started, error=error, failed_notebook=failed)
    shutil.rmtree(previous, ignore_errors=True)
    layout.record(code).unlink(missing_ok=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(executing, final)
    write_record(
        layout.record(code), {"key": job.key, "department": code, "data_files": files, "inputs": job.inputs}
    )
    layout.failed(code).unlink(missing_ok=True)
    return Result(code, EXECUTED, notebook=final, seconds=time.monotonic() - started)


def _failure_place(failed: Path | None, template: Path) -> str | None:
    if failed is None:
        return None
    try:
        executed = json.loads(failed.read_text(encoding="utf-8"))
        return locate_failure(executed, json.loads(template.read_text(encoding="utf-8")), template.name)
    except (OSError, ValueError):
        return None


def _keep_failed_notebook(executing: Path, failed: Path, template_ids: set[str]) -> Path | None:
    """Move the notebook papermill wrote with its error to `failed/`; None when there is none."""
    if not executing.is_file():
        return None
    failed.parent.mkdir(parents=True, exist_ok=True)
    try:
        nb = normalise(json.loads(executing.read_text(encoding="utf-8")), template_ids, failed)
        write_notebook(nb, failed)
        executing.unlink()
    except Exception:  # unreadable or invalid: keep it exactly as papermill wrote it
        os.replace(executing, failed)
    return failed
