"""The render cache (`OutputLayout.render_cache`): a department is rendered again only
when its notebook, its chart data, `_quarto.yml`, the colours or the renderer changed.

    pages/<code>.<key>.html   one page per department (the current one only)
    pdf/<code>.<key>.pdf      one PDF per department
    svg/<SVG hash>.svg        one file per distinct chart SVG, shared by departments
    vega-<version>.js         the Vega bundle
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Department
from ticomex.style import COLOURS

PACKAGE_DIR = Path(__file__).parent
# Outside render/, the code that shapes the PDFs: the chart conversion.
SHARED_MODULES = (PACKAGE_DIR.parent / "vega.py",)
# Libraries whose upgrade may change the pages or PDFs: part of every key.
RENDERING_LIBRARIES = ("mistune", "jinja2", "pypandoc-binary", "typst", "vl-convert-python")



def fingerprint(config: SiteConfig, demo_note: str) -> str:
    """Everything besides a department's own files that shapes its page and PDF."""
    digest = hashlib.sha256()
    for path in [*sorted(PACKAGE_DIR.rglob("*")), *SHARED_MODULES]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(PACKAGE_DIR.parent)}\n".encode())
            digest.update(path.read_bytes())
    digest.update(config.text.encode())
    digest.update(json.dumps(COLOURS, sort_keys=True).encode())  # they fill the PDF template
    digest.update(demo_note.encode())
    for library in RENDERING_LIBRARIES:
        digest.update(f"{library} {version(library)}\n".encode())
    return digest.hexdigest()


def _inputs_digest(department: Department) -> str:
    digest = hashlib.sha256(department.notebook.read_bytes())
    digest.update(f"\nstale={department.stale}\n".encode())
    for path in sorted(department.data_dir.rglob("*")):
        if path.is_file():
            digest.update(f"\n{path.relative_to(department.data_dir)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedOutputs:
    """Where one department's page and PDF are kept."""

    html: Path
    pdf: Path

    def missing(self, pdf: bool) -> bool:
        return not self.html.exists() or (pdf and not self.pdf.exists())


def cached_outputs(
    department: Department, fingerprint: str, cache: Path, pdf: bool, published: frozenset[str] = frozenset()
) -> CachedOutputs:
    inputs = _inputs_digest(department)
    # The page links the PDF only when PDFs are published, and only the sheets published
    # (breadcrumbs, a region's ranking): both are part of its key.
    links = f"pdf-link={pdf} published={','.join(sorted(published))}"
    html_key = hashlib.sha256(f"{fingerprint} {inputs} html {links}".encode()).hexdigest()
    pdf_key = hashlib.sha256(f"{fingerprint} {inputs} pdf".encode()).hexdigest()
    return CachedOutputs(
        html=cache / "pages" / f"{department.code}.{html_key[:32]}.html",
        pdf=cache / "pdf" / f"{department.code}.{pdf_key[:32]}.pdf",
    )


def prune(cache: Path, kept: list[CachedOutputs], pdf: bool) -> None:
    """Keep one page and one PDF per department: the current ones."""
    keep = {o.html for o in kept} | {o.pdf for o in kept}
    for folder in ["pages", "pdf"] if pdf else ["pages"]:
        for path in (cache / folder).iterdir():
            if path not in keep:
                path.unlink(missing_ok=True)
