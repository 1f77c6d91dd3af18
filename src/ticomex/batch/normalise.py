"""Make an executed notebook a function of its inputs only.

papermill and nbclient record wall-clock times, and nbformat gives the cells papermill adds
(injected parameters, error markers) random ids: both would make two executions of the same
inputs differ. Everything else is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

TIMING_KEYS = ("start_time", "end_time", "duration")


def template_cell_ids(template: Path) -> set[str]:
    """The ids written in the template itself (papermill invents ids for cells that lack one)."""
    cells = json.loads(template.read_text(encoding="utf-8")).get("cells", [])
    return {cell["id"] for cell in cells if isinstance(cell.get("id"), str)}


def normalise(nb: dict, template_ids: set[str], output_path: Path, record: dict) -> dict:
    """Strip timings, give stable ids to papermill's cells, record where the notebook lives and
    the cache record (`metadata.ticomex`). Modifies and returns `nb`."""
    papermill = nb.setdefault("metadata", {}).setdefault("papermill", {})
    for key in TIMING_KEYS:
        papermill.pop(key, None)
    # papermill wrote to a temporary path; the notebook lives at its final place.
    papermill["output_path"] = str(output_path)
    nb["metadata"]["ticomex"] = record

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
