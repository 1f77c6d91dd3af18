"""What to execute: the departments, each notebook's parameters, and which are up to date."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ticomex.batch.cache import KeyMaker, is_fresh
from ticomex.batch.summary import CACHED, Result
from ticomex.conventions import (
    DATA_DIR_PARAMETER,
    DB_PARAMETER,
    DEPARTMENT_PARAMETER,
    PARAMS_DIR_PARAMETER,
    PARTIAL_YEAR_PARAMETER,
    TERRITORIES_FILE,
    YEAR_PARAMETER,
)
from ticomex.errors import TicomexError
from ticomex.layout import OutputLayout


@dataclass(frozen=True)
class Job:
    code: str
    parameters: dict[str, str]
    key: str
    inputs: dict  # what the key covers, for the record


def departments(params_dir: Path, only: list[str] | None = None) -> list[str]:
    """Codes of the departments to execute: one per `<code>.yaml`, restricted to `only`."""
    if not params_dir.is_dir():
        raise TicomexError(f"{params_dir}: params folder not found (write it with `ticomex params`)")
    codes = sorted(path.stem for path in params_dir.glob("*.yaml") if path.name != TERRITORIES_FILE)
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
    code: str, db: Path, params_dir: Path, layout: OutputLayout, year: str | None, partial_year: bool = False
) -> dict[str, str]:
    """The template's parameters, all strings (absolute paths: the kernel's cwd is irrelevant)."""
    parameters = {
        DEPARTMENT_PARAMETER: code,
        DB_PARAMETER: str(db.resolve()),
        PARAMS_DIR_PARAMETER: str(params_dir.resolve()),
        DATA_DIR_PARAMETER: str(layout.data(code).resolve()),
    }
    if year is not None:
        parameters[YEAR_PARAMETER] = str(year)
    if partial_year:
        parameters[PARTIAL_YEAR_PARAMETER] = "true"
    return parameters


def plan(
    codes: list[str],
    keys: KeyMaker,
    params_dir: Path,
    db: Path,
    layout: OutputLayout,
    year: str | None,
    partial_year: bool = False,
) -> tuple[dict[str, Result], list[Job]]:
    """Departments whose notebook is up to date (as results) and the jobs for the others."""
    cached: dict[str, Result] = {}
    todo: list[Job] = []
    for code in codes:
        parameters = notebook_parameters(code, db, params_dir, layout, year, partial_year)
        key, inputs = keys.key(params_dir / f"{code}.yaml", parameters)
        if is_fresh(layout.record(code), layout.notebook(code), layout.data(code), key):
            cached[code] = Result(code, CACHED, notebook=layout.notebook(code))
            # A failure from other inputs than the current ones no longer applies.
            layout.failed(code).unlink(missing_ok=True)
        else:
            todo.append(Job(code, parameters, key, inputs))
    return cached, todo


def recover_interrupted_run(layout: OutputLayout) -> None:
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
