"""Bad input lines and the error that lists them (file, line, reason)."""

from __future__ import annotations

from dataclasses import dataclass

from ticomex.errors import TicomexError

# Lines listed in an error message; the rest are counted (the rejects file has them all).
MAX_LISTED = 20


@dataclass(frozen=True, order=True)
class BadLine:
    file: str  # file name as the user sees it
    line: int  # 1-based line number in that file
    reason: str  # why the line is refused


class IngestError(TicomexError):
    """A release that cannot be loaded as is; the message lists the bad lines."""

    def __init__(self, message: str, bad_lines: tuple[BadLine, ...] = ()):
        super().__init__(message)
        self.bad_lines = bad_lines


def describe_bad_lines(bad_lines: list[BadLine], total: int | None = None, cap: int = MAX_LISTED) -> str:
    """One line per bad line, up to `cap`, then how many more there are."""
    total = len(bad_lines) if total is None else total
    shown = sorted(bad_lines)[:cap]
    text = "\n".join(f"  {b.file}, line {b.line}: {b.reason}" for b in shown)
    if total > len(shown):
        text += f"\n  … and {total - len(shown)} more bad line(s)"
    return text


def raise_if_bad(bad_lines: list[BadLine], what: str) -> None:
    if bad_lines:
        raise IngestError(
            f"{what}: {len(bad_lines)} bad line(s)\n{describe_bad_lines(bad_lines)}",
            tuple(sorted(bad_lines)),
        )
