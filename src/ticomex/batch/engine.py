"""Which engine runs a notebook in a warm kernel: batched (one request) or cell by cell.

Batched: every cell in one request to the kernel, which records what it would publish
(ticomex.batch.kernel); the notebook is rebuilt from that record (ticomex.batch.replay).
Cell by cell: one request per cell, what papermill does (nbclient's own loop). Both write the
same notebook; batched saves a round trip per cell. A notebook runs cell by cell when a
declared fact says the batch would run it differently, or could not report it as papermill
does. Imports nothing heavy: the choice is a pure function of the notebook.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

BATCHED = "batched"
CELL_BY_CELL = "cell-by-cell"

# nbclient does not run these cells.
SKIP_TAG = "skip-execution"
# nbclient goes on after an error in such a cell; the batch stops at the first error.
ERRORS_ALLOWED_TAG = "raises-exception"


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # BATCHED or CELL_BY_CELL
    reason: str
    cells: tuple[tuple[int, str], ...] = ()  # what the batch runs: (index, source)


def executed_cells(nb) -> list[tuple[int, str]]:
    """The cells nbclient executes, as (index, source): code cells not empty nor skipped."""
    cells = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or not cell["source"].strip():
            continue
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cells.append((index, cell["source"]))
    return cells


def needs_top_level_await(source: str) -> bool:
    """True when IPython runs the cell as a coroutine (it awaits at top level): the check
    IPython itself makes, on the cell as IPython transforms it (magics, shell escapes)."""
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(source)
    code = compile(python, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    return bool(code.co_flags & inspect.CO_COROUTINE)


def choose_engine(nb, timeout: float | None = None, *, batched_run_failed: bool = False) -> EngineChoice:
    """The engine for `nb` (a parameterised notebook) and why."""
    if batched_run_failed:
        return EngineChoice(CELL_BY_CELL, "a cell failed in the batched run: re-run cell by cell so that papermill records the failure")
    if timeout is not None:
        return EngineChoice(CELL_BY_CELL, f"a timeout per cell ({timeout} s) is set: the batch is one request")
    cells = executed_cells(nb)
    for index, source in cells:
        if ERRORS_ALLOWED_TAG in nb["cells"][index].get("metadata", {}).get("tags", []):
            return EngineChoice(CELL_BY_CELL, f"cell {index} is tagged {ERRORS_ALLOWED_TAG}: execution goes on after its error")
        try:
            awaits = needs_top_level_await(source)
        except (SyntaxError, ValueError):
            return EngineChoice(CELL_BY_CELL, f"cell {index} does not compile: papermill records its error")
        if awaits:
            return EngineChoice(CELL_BY_CELL, f"cell {index} awaits at top level: IPython runs it on its own event loop")
    return EngineChoice(BATCHED, "no cell needs its own request", tuple(cells))
