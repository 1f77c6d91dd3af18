"""Cache of executed notebooks, in the manner of Quarto's freeze.

A department is skipped when its execution record (`OutputLayout.record(code)`, a JSON file
beside the outputs) carries the key of the inputs it would be executed from now, and its
notebook and data files are there. The key hashes the bytes of what the kernel runs and reads
(never sizes or dates, which can be fooled):
- the template's cells as they run: type, id, source and the tags that change execution
  (not outputs, execution counts or other metadata: saving the template with its outputs
  re-executes nothing), and the kernelspec name;
- the department's parameters and params file, the database;
- the ticomex files the kernel imports or reads (ticomex.batch.inputs), and the project's
  `_quarto.yml` (the charts read their font there);
- the versions of Python and of the libraries that shape the outputs.
Standard library only: a no-op rebuild must not pay for importing papermill or pandas.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ticomex.batch.inputs import PACKAGE_DIR, kernel_files
from ticomex.conventions import nbformat_text
from ticomex.errors import TicomexError
from ticomex.layout import write_atomic
from ticomex.project import find_project

# Bump when the key recipe or the notebook normalisation changes: old notebooks re-execute.
KEY_FORMAT = 2

# Their versions change what a notebook outputs (or how it is written).
KEYED_DISTRIBUTIONS = (
    "papermill",
    "nbclient",
    "nbformat",
    "ipykernel",
    "ipython",
    "jupyter-client",
    "altair",
    "duckdb",
    "pandas",
    "vl-convert-python",
)
# Cell tags papermill or nbclient act on.
EXECUTION_TAGS = frozenset(
    {"parameters", "injected-parameters", "skip-execution", "raises-exception", "papermill-error-cell-tag"}
)
DEFAULT_KERNEL = "python3"


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_template(template: Path) -> dict:
    try:
        nb = json.loads(template.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TicomexError(f"{template}: not a readable notebook: {err}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TicomexError(f"{template}: not a notebook (no list of cells)")
    return nb


def kernel_name(nb: dict) -> str:
    spec = nb.get("metadata", {}).get("kernelspec")
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else DEFAULT_KERNEL


def template_as_run(nb: dict) -> dict:
    """What of the template decides its execution (and the cells copied to the notebook)."""
    cells = [
        {
            "type": cell.get("cell_type"),
            "id": cell.get("id"),
            "source": nbformat_text(cell.get("source", "")),
            "tags": sorted(EXECUTION_TAGS.intersection(cell.get("metadata", {}).get("tags", []))),
        }
        for cell in nb["cells"]
    ]
    return {"kernel": kernel_name(nb), "nbformat": [nb.get("nbformat"), nb.get("nbformat_minor")], "cells": cells}


def code_sources(nb: dict) -> list[str]:
    return [nbformat_text(cell.get("source", "")) for cell in nb["cells"] if cell.get("cell_type") == "code"]


def _digest(material) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def kernel_project_config() -> Path | None:
    """The `_quarto.yml` a kernel finds: kernels start in this process's working folder."""
    try:
        config = find_project().config
    except TicomexError:
        return None
    return config if config.is_file() else None


def environment_versions() -> dict[str, str]:
    versions = {"python": sys.version}
    for name in KEYED_DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


class KeyMaker:
    """Computes each department's key; the inputs shared by all departments are hashed once.
    `inputs` holds what was hashed (digests), written into each record for inspection."""

    def __init__(
        self,
        template: Path,
        db: Path,
        *,
        package_dir: Path = PACKAGE_DIR,
        project_config: Path | None = None,
        versions: dict[str, str] | None = None,
    ) -> None:
        nb = read_template(template)
        package_dir = Path(package_dir)
        self.inputs = {
            "format": KEY_FORMAT,
            "template": _digest(template_as_run(nb)),
            "db": sha256_file(db),
            "package": {
                path.relative_to(package_dir).as_posix(): sha256_file(path)
                for path in kernel_files(code_sources(nb), package_dir)
            },
            "project_config": None if project_config is None else sha256_file(project_config),
            "versions": environment_versions() if versions is None else versions,
        }

    def key(self, params_file: Path, parameters: dict[str, str]) -> tuple[str, dict]:
        """The key of one department and the inputs it covers."""
        inputs = dict(self.inputs, params=sha256_file(params_file), parameters=parameters)
        return _digest(inputs), inputs


def read_record(path: Path) -> dict | None:
    """An execution record, or None when absent or unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_record(path: Path, record: dict) -> None:
    """Written atomically: a record is either whole or absent."""
    write_atomic(path, (json.dumps(record, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def is_fresh(record_path: Path, notebook: Path, data_dir: Path, key: str) -> bool:
    """True when the notebook was produced from these exact inputs and its data files are there."""
    record = read_record(record_path)
    if record is None or record.get("key") != key or not notebook.is_file():
        return False
    files = record.get("data_files")
    if not isinstance(files, list) or not data_dir.is_dir():
        return False
    return all(isinstance(name, str) and (data_dir / name).is_file() for name in files)
