"""What execution reports: one `Result` per department, and the summary printed at the end."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

EXECUTED = "executed"
CACHED = "cached"
FAILED = "failed"


@dataclass(frozen=True)
class Result:
    code: str
    status: str  # EXECUTED, CACHED or FAILED
    notebook: Path | None = None  # the executed notebook (None when failed)
    seconds: float = 0.0
    error: str | None = None  # "ExceptionName: useful last line"
    failed_notebook: Path | None = None  # the notebook with its error, when one was written


def describe_error(err: BaseException, where: str | None = None) -> str:
    """Exception name and the useful last line of its message (the notebook's own error),
    then where it happened (`locate_failure`) when known."""
    name = getattr(err, "ename", None) or type(err).__name__
    message = str(getattr(err, "evalue", None) or err)
    lines = [line.strip() for line in _strip_ansi(message).splitlines() if line.strip()]
    text = f"{name}: {lines[-1]}" if lines else name
    return f"{text} — in {where}" if where else text


# IPython's traceback names the cell's own line: "Cell In[10], line 3".
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


def locate_failure(executed: dict, template: dict, template_name: str) -> str | None:
    """Where a notebook failed, as an editor finds it in the template: the cell's place
    (1-based, the template's own cells), its first line, and the failing line of the cell.
    None when no cell of the executed notebook holds an error."""
    places = {cell.get("id"): number for number, cell in enumerate(template.get("cells", []), start=1)}
    for cell in executed.get("cells", []):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors or cell.get("id") not in places:
            continue
        source = "".join(cell.get("source", "")).splitlines() or [""]
        where = f"cell {places[cell['id']]} of {template_name} (id {cell['id']}, first line: {source[0].strip()!r})"
        traceback = _strip_ansi("\n".join(errors[0].get("traceback", [])))
        found = _CELL_LINE.search(traceback)
        if found and 1 <= int(found.group(1)) <= len(source):
            line = int(found.group(1))
            where += f", line {line}: {source[line - 1].strip()!r}"
        return where
    return None


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
