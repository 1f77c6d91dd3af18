"""Make an executed notebook a function of its inputs only, and write it.

papermill and nbclient record wall-clock times, and nbformat gives the cells papermill adds
(injected parameters, error markers) random ids: both would make two executions of the same
inputs differ. Everything else is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from ticomex.layout import write_atomic

TIMING_KEYS = ("start_time", "end_time", "duration")


def template_cell_ids(nb: dict) -> set[str]:
    """The ids written in the template itself (papermill invents ids for cells that lack one)."""
    return {cell["id"] for cell in nb.get("cells", []) if isinstance(cell.get("id"), str)}


def normalise(nb: dict, template_ids: set[str], output_path: Path) -> dict:
    """Strip timings, give stable ids to papermill's cells, record where the notebook lives.
    Modifies and returns `nb`."""
    papermill = nb.setdefault("metadata", {}).setdefault("papermill", {})
    for key in TIMING_KEYS:
        papermill.pop(key, None)
    # papermill wrote to a temporary path; the notebook lives at its final place.
    papermill["output_path"] = str(output_path)

    has_ids = nb.get("nbformat_minor", 0) >= 5  # cell ids exist from nbformat 4.5 on
    used: set[str] = set()
    for index, cell in enumerate(nb.get("cells", [])):
        metadata = cell.setdefault("metadata", {})
        metadata.pop("execution", None)  # nbclient's per-message timestamps
        for key in TIMING_KEYS:
            metadata.get("papermill", {}).pop(key, None)
        if not has_ids:
            continue
        cell_id = cell.get("id")
        if cell_id not in template_ids or cell_id in used:
            cell_id = f"ticomex-{index}"
            while cell_id in template_ids or cell_id in used:
                cell_id += "-"
            cell["id"] = cell_id
        used.add(cell_id)
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """nbformat 4 JSON as nbformat lays it out (sorted keys, text split in lines, transient
    fields dropped) but compact, written atomically: with nbformat's indentation Python's
    JSON encoder is ten times slower, about 0.1 s a sheet. Modifies `nb`."""
    import nbformat
    from nbformat.v4.rwbase import split_lines, strip_transient

    if not isinstance(nb, nbformat.NotebookNode):  # read back from a file
        nb = nbformat.from_dict(nb)
    nb = strip_transient(split_lines(nb))
    text = json.dumps(nb, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    write_atomic(path, text.encode("utf-8"))
