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
