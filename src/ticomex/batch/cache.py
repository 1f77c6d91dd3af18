"""Cache of executed notebooks, in the manner of Quarto's freeze.

A department is skipped when its executed notebook carries, in `metadata.ticomex.cle`, the
key of the inputs it would be executed from now. The key hashes the bytes of every input
(never sizes or dates, which can be fooled), so any change re-executes. Standard library
only: a no-op rebuild must not pay for importing papermill or pandas.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# Bump when the key recipe or the notebook normalisation changes: old notebooks re-execute.
KEY_FORMAT = 1

# Their versions change what a notebook outputs (or how it is written).
KEYED_DISTRIBUTIONS = (
    "papermill",
    "nbclient",
    "nbformat",
    "ipykernel",
    "altair",
    "duckdb",
    "pandas",
    "vl-convert-python",
)

# The cache record `{"cle": …}` under the notebook's `ticomex` key (a chart's output
# metadata also has a `ticomex` key, without `cle`); keys are sorted, `cle` comes first.
_RECORD = re.compile(rb'"ticomex":\s*(?=\{\s*"cle":)')
# The notebook's metadata comes last in the file and holds a few kilobytes.
_TAIL_BYTES = 64 * 1024


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def package_source_digest(package_dir: Path) -> str:
    """Hash of every source file of the package (names and bytes), caches excluded."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*")):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode() + b"\n")
    return digest.hexdigest()


def environment_versions() -> dict[str, str]:
    versions = {"python": sys.version}
    for name in KEYED_DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


class KeyMaker:
    """Computes each department's key; the inputs shared by all departments are hashed once."""

    def __init__(self, template: Path, db: Path, package_dir: Path) -> None:
        self._shared = {
            "format": KEY_FORMAT,
            "template": sha256_file(template),
            "db": sha256_file(db),
            "package": package_source_digest(package_dir),
            "versions": environment_versions(),
        }

    def key(self, params_file: Path, parameters: dict[str, str]) -> str:
        material = dict(self._shared, params=sha256_file(params_file), parameters=parameters)
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def read_stored_record(notebook: Path) -> dict | None:
    """`metadata.ticomex` of an executed notebook, or None when absent or unreadable.

    Reads and parses only the tail of the file: a no-op rebuild checks 100 notebooks of about
    0.5 MB each (chart specs), and parsing them whole would cost more than everything else.
    """
    try:
        with open(notebook, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _TAIL_BYTES))
            text = f.read()
            if not _RECORD.search(text) and size > _TAIL_BYTES:  # unusually large metadata
                f.seek(0)
                text = f.read()
    except OSError:
        return None
    matches = list(_RECORD.finditer(text))
    if not matches:
        return None
    try:
        record, _ = json.JSONDecoder().raw_decode(text[matches[-1].end() :].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def is_fresh(notebook: Path, data_dir: Path, key: str) -> bool:
    """True when the notebook was produced from these exact inputs and its data files are there."""
    record = read_stored_record(notebook)
    if record is None or record.get("cle") != key:
        return False
    files = record.get("fichiers")
    if not isinstance(files, list) or not data_dir.is_dir():
        return False
    return all((data_dir / name).is_file() for name in files)
