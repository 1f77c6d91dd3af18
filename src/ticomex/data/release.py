"""The files of a customs release (official or demo) and how to find them in a folder.

Layout: ../shared/FORMAT.md. Two namings exist: the national files `REGIONAL_CPF4PAYS{E,I}.txt`
(all years in one file per flow) and the older annual `Region_YYYY_{Export,Import}.txt`.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ticomex.errors import TicomexError

EXPORT_FILE = "REGIONAL_CPF4PAYSE.txt"
IMPORT_FILE = "REGIONAL_CPF4PAYSI.txt"
A129_FILE = "Libelle_A129.txt"
COUNTRIES_FILE = "Libelle_PAYS.txt"
DEPARTMENTS_FILE = "Departement_region.txt"
CPF4_FILES = ("Libelle_CPF4_rev2.1.txt", "Libelle_CPF4.txt")  # current name first
# Present only in a release written by `ticomex data demo`: marks the data as synthetic.
DEMONSTRATION_FILE = "DEMONSTRATION.txt"

FLOW_OF_NATIONAL_FILE = {EXPORT_FILE: "E", IMPORT_FILE: "I"}
ANNUAL_FILE = re.compile(r"Region_(?P<year>\d{4})_(?P<flow>Export|Import)\.txt", re.IGNORECASE)
FLOW_NAMES = {"E": "export", "I": "import"}


@dataclass(frozen=True)
class DataFile:
    path: Path
    flow: str  # the flow every row of the file must carry: E or I


@dataclass(frozen=True)
class Release:
    folder: Path
    data_files: tuple[DataFile, ...]
    a129: Path
    countries: Path
    departments: Path
    cpf4: Path | None  # optional: CPF4 codes are checked only when it is present
    demonstration: Path | None

    @property
    def is_demo(self) -> bool:
        return self.demonstration is not None

    def files(self) -> list[Path]:
        """Every file the ingest reads, in a stable order."""
        found = [f.path for f in self.data_files] + [self.a129, self.countries, self.departments]
        found += [p for p in (self.cpf4, self.demonstration) if p is not None]
        return sorted(found, key=lambda p: p.relative_to(self.folder).as_posix())


def _index_files(folder: Path) -> dict[str, list[Path]]:
    """Files of the folder and its subfolders (an unpacked ZIP may nest them), by lower-case name."""
    index: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            index.setdefault(path.name.lower(), []).append(path)
    return index


def _one(index: dict[str, list[Path]], name: str, folder: Path, required: bool) -> Path | None:
    paths = index.get(name.lower(), [])
    if len(paths) > 1:
        listed = ", ".join(str(p.relative_to(folder)) for p in paths)
        raise TicomexError(f"{folder}: {name} found more than once ({listed}); keep one release per folder")
    if not paths and required:
        raise TicomexError(f"{folder}: {name} is missing (a release needs it, see FORMAT.md)")
    return paths[0] if paths else None


def locate_release(folder: Path) -> Release:
    """Find the data and label files of the release in `folder`; clear error when one is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TicomexError(
            f"{folder}: release folder not found (write one with `ticomex data demo` "
            "or download the official one with `ticomex data fetch`)"
        )
    index = _index_files(folder)
    national = [_one(index, name, folder, required=False) for name in FLOW_OF_NATIONAL_FILE]
    annual = sorted(
        (p for paths in index.values() for p in paths if ANNUAL_FILE.fullmatch(p.name)),
        key=lambda p: p.name.lower(),
    )
    if any(national) and annual:
        raise TicomexError(
            f"{folder}: holds both {EXPORT_FILE}/{IMPORT_FILE} and annual Region_YYYY_*.txt files; "
            "keep one naming per folder"
        )
    if annual:
        data_files = []
        for path in annual:
            match = ANNUAL_FILE.fullmatch(path.name)
            assert match is not None
            data_files.append(DataFile(path, "E" if match["flow"].lower() == "export" else "I"))
    else:
        for name, path in zip(FLOW_OF_NATIONAL_FILE, national):
            if path is None:
                raise TicomexError(
                    f"{folder}: {name} is missing (expected {EXPORT_FILE} and {IMPORT_FILE}, "
                    "or annual Region_YYYY_Export.txt / Region_YYYY_Import.txt files)"
                )
        data_files = [
            DataFile(p, FLOW_OF_NATIONAL_FILE[n]) for n, p in zip(FLOW_OF_NATIONAL_FILE, national) if p
        ]
    cpf4 = None
    for name in CPF4_FILES:
        cpf4 = cpf4 or _one(index, name, folder, required=False)
    return Release(
        folder=folder,
        data_files=tuple(data_files),
        a129=_one(index, A129_FILE, folder, required=True),
        countries=_one(index, COUNTRIES_FILE, folder, required=True),
        departments=_one(index, DEPARTMENTS_FILE, folder, required=True),
        cpf4=cpf4,
        demonstration=_one(index, DEMONSTRATION_FILE, folder, required=False),
    )


def replace_folder(staging: Path, out: Path) -> None:
    """Move the finished `staging` folder to `out`, replacing what was there (same file system)."""
    previous = out.with_name(f".{out.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        os.replace(out, previous)
    os.replace(staging, out)
    shutil.rmtree(previous, ignore_errors=True)
