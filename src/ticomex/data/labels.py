"""Read the label files of a release exactly as customs publish them.

They mix encodings within one release (UTF-8 with or without BOM, cp1252), end lines in CRLF,
quote labels holding a `;` and repeat some codes across validity periods (../shared/FORMAT.md).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ticomex.data.problems import BadLine, IngestError, raise_if_bad

PERIOD = re.compile(r"\d{4}(0[1-9]|1[0-2])")  # YYYYMM (AAAAMM in the customs description)


@dataclass(frozen=True)
class Label:
    code: str
    text: str
    start: int  # YYYYMM
    end: int  # YYYYMM, 999912 = still valid
    line: int


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    region: str
    region_name: str
    line: int


def decode(path: Path) -> str:
    """The text of a label file: UTF-8 (BOM or not), else cp1252, the two encodings customs use."""
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise IngestError(f"{path.name}, line {line}: neither UTF-8 nor cp1252 text") from None


def _rows(path: Path) -> list[tuple[int, list[str]] | BadLine]:
    """(line number, fields) for every non-blank line; quoted fields may hold `;`."""
    reader = csv.reader(io.StringIO(decode(path), newline=""), delimiter=";", quotechar='"', strict=True)
    rows: list[tuple[int, list[str]] | BadLine] = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return rows
        except csv.Error as err:
            rows.append(BadLine(path.name, start, f"unreadable quoting ({err})"))
            continue
        if fields and any(f.strip() for f in fields):
            rows.append((start, [f.strip() for f in fields]))


def read_labels(path: Path) -> list[Label]:
    """Rows of a `Code;Libellé;début;fin` file; every bad line is reported at once."""
    labels: list[Label] = []
    bad: list[BadLine] = []
    first_line_of: dict[tuple[str, int], int] = {}
    for row in _rows(path):
        if isinstance(row, BadLine):
            bad.append(row)
            continue
        line, fields = row
        if len(fields) != 4:
            bad.append(
                BadLine(path.name, line, f"expected 4 fields (Code;Libellé;début;fin), found {len(fields)}")
            )
            continue
        code, text, start, end = fields
        if not code or not text:
            bad.append(BadLine(path.name, line, "empty code or label"))
        elif not PERIOD.fullmatch(start) or not PERIOD.fullmatch(end):
            bad.append(BadLine(path.name, line, f"validity {start!r}-{end!r} is not two YYYYMM dates"))
        elif int(start) > int(end):
            bad.append(BadLine(path.name, line, f"validity starts ({start}) after it ends ({end})"))
        elif (code, int(start)) in first_line_of:
            first = first_line_of[(code, int(start))]
            bad.append(BadLine(path.name, line, f"code {code} with start {start} already on line {first}"))
        else:
            first_line_of[(code, int(start))] = line
            labels.append(Label(code, text, int(start), int(end), line))
    raise_if_bad(bad, path.name)
    if not labels:
        raise_if_bad([BadLine(path.name, 1, "no label in the file")], path.name)
    return labels


def read_departments(path: Path) -> list[DepartmentRow]:
    """Rows of `Departement_region.txt`: department code;name;customs region code;region label."""
    rows: list[DepartmentRow] = []
    bad: list[BadLine] = []
    line_of_code: dict[str, int] = {}
    region_names: dict[str, tuple[str, int]] = {}
    for row in _rows(path):
        if isinstance(row, BadLine):
            bad.append(row)
            continue
        line, fields = row
        if len(fields) != 4:
            bad.append(
                BadLine(
                    path.name,
                    line,
                    f"expected 4 fields (code;libellé;code région;libellé région), found {len(fields)}",
                )
            )
            continue
        code, name, region, region_name = fields
        if not (code and name and region and region_name):
            bad.append(BadLine(path.name, line, "empty field"))
        elif code in line_of_code:
            bad.append(BadLine(path.name, line, f"department {code} already on line {line_of_code[code]}"))
        elif region in region_names and region_names[region][0] != region_name:
            first_name, first = region_names[region]
            bad.append(
                BadLine(
                    path.name,
                    line,
                    f"region {region} is named {first_name!r} on line {first}, here {region_name!r}",
                )
            )
        else:
            line_of_code[code] = line
            region_names.setdefault(region, (region_name, line))
            rows.append(DepartmentRow(code, name, region, region_name, line))
    raise_if_bad(bad, path.name)
    if not rows:
        raise_if_bad([BadLine(path.name, 1, "no department in the file")], path.name)
    return rows
