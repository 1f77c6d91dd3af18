"""Where every stage reads and writes under the output folder (docs/architecture.md).

Defined once, used by the batch, the renderer, the benchmarks and the tests. Standard
library only: a no-op rebuild imports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_DIR = "notebooks"  # executed notebooks
DATA_DIR = "data"  # under notebooks/ and site/: <code>/ chart data
FREEZE_DIR = "freeze"  # execution records, one JSON per department (Quarto's _freeze)
FAILED_DIR = "failed"  # notebooks that failed, with their error
SITE_DIR = "site"
PDF_DIR = "pdf"  # under site/: the site holds everything it links to
STAGING_DIR = ".execution"  # notebooks being executed, previous data of those departments
PREVIOUS_DATA_DIR = "previous-data"
RENDER_CACHE_DIR = Path(".cache") / "render"


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside, then rename: a reader (a parallel worker, the next build) never finds
    half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Under:
    """A folder or file at a fixed place under the object's `root`."""

    def __init__(self, *parts: str | Path) -> None:
        self.relative = Path(*parts)

    def __get__(self, owner_object, owner_type=None):
        return self if owner_object is None else owner_object.root / self.relative


@dataclass(frozen=True)
class OutputLayout:
    """The output folder (`output/` by default) and every path in it."""

    root: Path

    notebooks = Under(NOTEBOOKS_DIR)
    data_root = Under(NOTEBOOKS_DIR, DATA_DIR)
    staging = Under(STAGING_DIR)
    previous_data_dir = Under(STAGING_DIR, PREVIOUS_DATA_DIR)
    site = Under(SITE_DIR)
    pdf = Under(SITE_DIR, PDF_DIR)
    render_cache = Under(RENDER_CACHE_DIR)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def notebook(self, code: str) -> Path:
        return self.notebooks / f"{code}.ipynb"

    def data(self, code: str) -> Path:
        return self.data_root / code

    def record(self, code: str) -> Path:
        """The execution record of a department's notebook (the cache key and its inputs)."""
        return self.root / FREEZE_DIR / f"{code}.json"

    def failed(self, code: str) -> Path:
        return self.root / FAILED_DIR / f"{code}.ipynb"

    def executing(self, code: str) -> Path:
        return self.staging / f"{code}.ipynb"

    def previous_data(self, code: str) -> Path:
        return self.previous_data_dir / code
