"""The files of a customs release (official or demo) and how to find them in a folder.

Layout: ../shared/FORMAT.md. A folder holds one release in any of the layouts customs publish:
- the national files `REGIONAL_CPF4PAYS{E,I}.txt` (all years in one file per flow);
- the annual files `Region_YYYY_{Export,Import}.txt`, one ZIP per flow and year, each unpacking to
  its own folder (`Regional-2019-export/`…) with its own copy of the label files: side by side,
  nested or flat, unpacked or still zipped (`*.zip` in the folder are read as if unpacked there).
Label files may carry a suffix (`Libelle_CPF4_rev2.1_2.txt`); copies of one label file must be
identical. A release lacking a flow (a whole file, or one year's file) or holding an empty data
file is refused unless one flow is explicitly accepted (`allow_one_flow`).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ticomex.errors import TicomexError

EXPORT_FILE = "REGIONAL_CPF4PAYSE.txt"
IMPORT_FILE = "REGIONAL_CPF4PAYSI.txt"
A129_FILE = "Libelle_A129.txt"
COUNTRIES_FILE = "Libelle_PAYS.txt"
DEPARTMENTS_FILE = "Departement_region.txt"
CPF4_FILE = "Libelle_CPF4_rev2.1.txt"
# Present only in a release written by `ticomex data demo`: marks the data as synthetic.
DEMONSTRATION_FILE = "DEMONSTRATION.txt"

FLOW_OF_NATIONAL_FILE = {EXPORT_FILE: "E", IMPORT_FILE: "I"}
NATIONAL_FLOW_BY_UPPER_NAME = {name.upper(): flow for name, flow in FLOW_OF_NATIONAL_FILE.items()}
ANNUAL_FILE = re.compile(r"Region_(?P<year>\d{4})_(?P<flow>Export|Import)\.txt", re.IGNORECASE)
FLOW_NAMES = {"E": "export", "I": "import"}
ANNUAL_FLOW_WORD = {"E": "Export", "I": "Import"}
# Label files by kind; names vary between releases (`Libelle_CPF4.txt`, `Libelle_CPF4_rev2.1_2.txt`).
LABEL_FILES = {
    "a129": re.compile(r"Libelle_A129(_[^/]*)?\.txt", re.IGNORECASE),
    "cpf4": re.compile(r"Libelle_CPF4(_[^/]*)?\.txt", re.IGNORECASE),
    "countries": re.compile(r"Libelle_PAYS(_[^/]*)?\.txt", re.IGNORECASE),
    "departments": re.compile(r"Departement_region(_[^/]*)?\.txt", re.IGNORECASE),
}
REQUIRED_LABELS = ("a129", "countries")
# Customs published years up to 2018 as spreadsheets (header row, thousands of euros with three
# decimals): refused with the conversion to do, see `spreadsheet_message`.
SPREADSHEET_SUFFIXES = (".xls", ".xlsx", ".xlsm", ".ods")
EMPTY_CHECK_BYTES = 4096  # a data file this small is read to tell whether it holds a line


@dataclass(frozen=True)
class DataFile:
    path: Path
    flow: str  # the flow every row of the file must carry: E or I
    year: int | None = None  # annual files: the year in the name


@dataclass(frozen=True)
class Release:
    folder: Path  # the folder the user gave
    data_files: tuple[DataFile, ...]
    a129: Path
    countries: Path
    departments: Path | None  # None: older annual releases have none; the reference table is used
    cpf4: Path | None  # optional: CPF4 codes are checked only when it is present
    demonstration: Path | None
    missing_flows: tuple[tuple[int | None, str], ...] = ()  # (year or None: all years, flow) accepted absent
    names: dict[Path, str] = field(default_factory=dict, compare=False)  # path -> name shown to the user

    @property
    def is_demo(self) -> bool:
        return self.demonstration is not None

    def name(self, path: Path) -> str:
        """The file as the user sees it: its path in the folder (through the ZIP it came from)."""
        return self.names.get(path) or path.relative_to(self.folder).as_posix()


def spreadsheet_message(name: str) -> str:
    return (
        f"{name}: a spreadsheet release. Customs published the years up to 2018 as spreadsheets "
        "(a header row, values in thousands of euros with three decimals); ticomex reads only the "
        "text layout of ../shared/FORMAT.md and refuses to guess a spreadsheet's columns. To use it, "
        "save each flow as `;`-separated text without the header row, the 10 fields in FORMAT.md's "
        "order, values converted to whole euros (thousands × 1000: 1234,567 → 1234567), named "
        "Region_YYYY_Export.txt / Region_YYYY_Import.txt beside the release's Libelle_*.txt files, "
        "or use a text release of the same years"
    )


def _safe_members(archive: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    """Members of the ZIP, refusing any path that would land outside the target folder."""
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            raise TicomexError(f"{source}: refusing member {info.filename!r} (path outside the release folder)")
        members.append(info)
    return members


def unzip(archive_path: Path, target: Path, shown_as: str | None = None) -> None:
    """Extract a ZIP into `target`; a clear error for a file that is not one."""
    name = shown_as or archive_path.name
    try:
        with zipfile.ZipFile(archive_path) as archive:
            archive.extractall(target, members=_safe_members(archive, name))
    except zipfile.BadZipFile as err:
        raise TicomexError(f"{name}: not a ZIP archive ({err})") from None


def _listing(folder: Path, scratch: Path | None) -> dict[Path, str]:
    """Every file of the folder and its subfolders, with the name shown to the user; ZIPs are
    unpacked into `scratch` (their members shown as `archive.zip/member`)."""
    found: dict[Path, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        shown = path.relative_to(folder).as_posix()
        if path.suffix.lower() == ".zip":
            if scratch is None:
                raise TicomexError(f"{folder}: {shown} is a ZIP; unpack it, or ingest the folder")
            target = scratch / shown
            unzip(path, target, shown)
            for member in sorted(target.rglob("*")):
                if member.is_file():
                    found[member] = f"{shown}/{member.relative_to(target).as_posix()}"
        else:
            found[path] = shown
    return found


def _is_empty(path: Path) -> bool:
    size = path.stat().st_size
    return size == 0 or (size <= EMPTY_CHECK_BYTES and not path.read_bytes().strip())


def _one_label(kind: str, paths: list[Path], names: dict[Path, str], folder: Path) -> Path | None:
    """The label file of a kind; copies (one per flow folder) must hold the same bytes."""
    if not paths:
        return None
    first = paths[0]
    for other in paths[1:]:
        if other.read_bytes() != first.read_bytes():
            raise TicomexError(
                f"{folder}: {names[first]} and {names[other]} differ; a release has one {kind} label "
                "file (the copies of an annual release are identical): keep one release per folder"
            )
    return first


def locate_release(folder: Path, *, allow_one_flow: bool = False, scratch: Path | None = None) -> Release:
    """Find the data and label files of the release in `folder`; a clear error for anything
    missing, empty, duplicated or not supported. ZIPs in the folder are unpacked into `scratch`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TicomexError(
            f"{folder}: release folder not found (write one with `ticomex data demo` "
            "or download the official one with `ticomex data fetch`)"
        )
    names = _listing(folder, scratch)
    for path, shown in names.items():
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            raise TicomexError(f"{folder}: {spreadsheet_message(shown)}")

    def listed(paths: list[Path]) -> str:
        return " and ".join(names[p] for p in paths)

    national: dict[str, list[Path]] = {}
    annual: dict[tuple[int, str], list[Path]] = {}
    labels: dict[str, list[Path]] = {kind: [] for kind in LABEL_FILES}
    demonstration: list[Path] = []
    for path in names:
        if path.name.upper() in NATIONAL_FLOW_BY_UPPER_NAME:
            national.setdefault(NATIONAL_FLOW_BY_UPPER_NAME[path.name.upper()], []).append(path)
        elif match := ANNUAL_FILE.fullmatch(path.name):
            flow = "E" if match["flow"].lower() == "export" else "I"
            annual.setdefault((int(match["year"]), flow), []).append(path)
        elif path.name.upper() == DEMONSTRATION_FILE.upper():
            demonstration.append(path)
        else:
            for kind, pattern in LABEL_FILES.items():
                if pattern.fullmatch(path.name):
                    labels[kind].append(path)
    if national and annual:
        raise TicomexError(
            f"{folder}: holds both {EXPORT_FILE}/{IMPORT_FILE} and annual Region_YYYY_*.txt files; "
            "keep one release per folder (ingest several releases with --raw DIR1 --raw DIR2)"
        )
    for paths in (*national.values(), *annual.values()):
        if len(paths) > 1:
            raise TicomexError(f"{folder}: {paths[0].name} found more than once ({listed(paths)}); keep one release per folder")
    missing: list[tuple[int | None, str]] = []
    data_files: list[DataFile] = []
    if annual:
        for year in sorted({year for year, _ in annual}):
            for flow in ("E", "I"):
                if (year, flow) in annual:
                    data_files.append(DataFile(annual[(year, flow)][0], flow, year))
                else:
                    missing.append((year, flow))
        what = [f"Region_{year}_{ANNUAL_FLOW_WORD[flow]}.txt (the {FLOW_NAMES[flow]}s of {year})" for year, flow in missing]
    elif national:
        for name, flow in FLOW_OF_NATIONAL_FILE.items():
            if flow in national:
                data_files.append(DataFile(national[flow][0], flow))
            else:
                missing.append((None, flow))
        what = [f"{name} (the {FLOW_NAMES[f]}s)" for name, f in FLOW_OF_NATIONAL_FILE.items() if (None, f) in missing]
    else:
        raise TicomexError(
            f"{folder}: no data file (expected {EXPORT_FILE} and {IMPORT_FILE}, or annual "
            "Region_YYYY_Export.txt / Region_YYYY_Import.txt files, unpacked or in their ZIPs)"
        )
    if missing and not allow_one_flow:
        raise TicomexError(
            f"{folder}: {', '.join(what)} missing; a release needs both flows (for an annual release, "
            "the export ZIP and the import ZIP of each year). Add the missing file, or accept one "
            "flow explicitly with --allow-one-flow (the sheets then say which flow is absent)"
        )
    for data_file in data_files:
        if _is_empty(data_file.path):
            raise TicomexError(
                f"{folder}: {names[data_file.path]} is empty (no data line): the {FLOW_NAMES[data_file.flow]}s "
                "would be missing from every sheet; download the release again"
            )
    found = {kind: _one_label(kind, paths, names, folder) for kind, paths in labels.items()}
    for kind in REQUIRED_LABELS:
        if found[kind] is None:
            expected = A129_FILE if kind == "a129" else COUNTRIES_FILE
            raise TicomexError(f"{folder}: {expected} is missing (a release needs it, see FORMAT.md)")
    if len(demonstration) > 1:
        _one_label("demonstration", demonstration, names, folder)
    return Release(
        folder=folder,
        data_files=tuple(data_files),
        a129=found["a129"],
        countries=found["countries"],
        departments=found["departments"],
        cpf4=found["cpf4"],
        demonstration=demonstration[0] if demonstration else None,
        missing_flows=tuple(missing),
        names=names,
    )


def release_files(folder: Path) -> list[Path]:
    """Every file of a release folder as it lies on disk (ZIPs not opened), in a stable order:
    what the ingest's fingerprint hashes."""
    folder = Path(folder)
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def replace_folder(staging: Path, out: Path) -> None:
    """Move the finished `staging` folder to `out`, replacing what was there (same file system)."""
    previous = out.with_name(f".{out.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        os.replace(out, previous)
    os.replace(staging, out)
    shutil.rmtree(previous, ignore_errors=True)
