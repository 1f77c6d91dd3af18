"""Where every stage reads and writes under the output folder (docs/architecture.md).

Defined once, used by the batch, the renderer, the benchmarks and the tests. Standard
library only: a no-op rebuild imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_DIR = "notebooks"  # executed notebooks
DATA_DIR = "data"  # under notebooks/ and site/: <code>/ chart data
FREEZE_DIR = "freeze"  # execution records, one JSON per department (Quarto's _freeze)
FAILED_DIR = "failed"  # notebooks that failed, with their error
SITE_DIR = "site"
PDF_DIR = "pdf"
STAGING_DIR = ".execution"  # notebooks being executed, previous data of those departments
PREVIOUS_DATA_DIR = "previous-data"
RENDER_CACHE_DIR = Path(".cache") / "render"


@dataclass(frozen=True)
class OutputLayout:
    """The output folder (`output/` by default) and every path in it."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def notebooks(self) -> Path:
        return self.root / NOTEBOOKS_DIR

    def notebook(self, code: str) -> Path:
        return self.notebooks / f"{code}.ipynb"

    @property
    def data_root(self) -> Path:
        return self.notebooks / DATA_DIR

    def data(self, code: str) -> Path:
        return self.data_root / code

    def record(self, code: str) -> Path:
        """The execution record of a department's notebook (the cache key and its inputs)."""
        return self.root / FREEZE_DIR / f"{code}.json"

    def failed(self, code: str) -> Path:
        return self.root / FAILED_DIR / f"{code}.ipynb"

    @property
    def staging(self) -> Path:
        return self.root / STAGING_DIR

    def executing(self, code: str) -> Path:
        return self.staging / f"{code}.ipynb"

    @property
    def previous_data_dir(self) -> Path:
        return self.staging / PREVIOUS_DATA_DIR

    def previous_data(self, code: str) -> Path:
        return self.previous_data_dir / code

    @property
    def site(self) -> Path:
        return self.root / SITE_DIR

    @property
    def pdf(self) -> Path:
        return self.root / PDF_DIR

    @property
    def render_cache(self) -> Path:
        return self.root / RENDER_CACHE_DIR
