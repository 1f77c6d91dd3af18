"""`render()`: the executed notebooks → `site/` and `pdf/`, published at once.

Everything is written to a staging folder under the output folder and moved into place
at the end: a failed render leaves the previous publication as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.layout import PDF_DIR, SITE_DIR, OutputLayout
from ticomex.render.assets import vega_bundle, vega_bundle_path, write_assets
from ticomex.render.builtin import render_builtin
from ticomex.render.config import load_config
from ticomex.render.html import index_page, text_pages
from ticomex.render.notebook import read_department
from ticomex.render.pool import RenderWorkers
from ticomex.project import PARAMS_DIR
from ticomex.render.quarto import quarto_path, render_with_quarto
from ticomex.render.territory import publish_territories
from ticomex.texts import SITE_DEMO_NOTICE

ENGINES = ("quarto", "builtin")


@dataclass
class RenderReport:
    engine: str
    site: Path
    pdf: Path | None
    departments: list[str]
    rendered: list[str] = field(default_factory=list)  # the others came from the cache
    territories: list[str] = field(default_factory=list)  # page names (`territory_slug`)
    territories_rendered: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        reused = len(self.departments) - len(self.rendered)
        lines = [
            (
                f"site and PDFs: {len(self.departments)} sheets published (departments, regions, France), rendering took "
                f"{self.seconds:.1f} s ({self.engine}; {len(self.rendered)} rendered, {reused} unchanged)"
            ),
            f"site: {self.site / 'index.html'}",
        ]
        if self.territories:
            lines.insert(
                1,
                f"Territoires d'industrie: {len(self.territories)} pages published "
                f"({len(self.territories_rendered)} rendered, {len(self.territories) - len(self.territories_rendered)} unchanged)",
            )
        if self.pdf:
            lines.append(f"PDF:  {self.pdf}/")
        return "\n".join(lines)


def render(
    out: Path,
    project: Path,
    pdf: bool = True,
    jobs: int = 1,
    *,
    engine: str | None = None,
    workers: RenderWorkers | None = None,
    params_dir: Path | None = None,
) -> RenderReport:
    """Publish the executed notebooks of the output folder `out` as its `site/` and `pdf/`.

    `project`: the folder of `_quarto.yml`; `engine`: None picks quarto when it is on PATH
    and the built-in renderer otherwise; `workers`: render processes started ahead
    (`RenderWorkers`), used instead of new ones; `params_dir`: where
    `territoires.yaml` is (default: the project's params/), one page per territory.
    """
    start = time.perf_counter()
    layout, project = OutputLayout(out), Path(project)
    if engine not in (None, *ENGINES):
        raise TicomexError(f"unknown render engine {engine!r} (choose among {', '.join(ENGINES)})")
    config = load_config(project)
    notebooks = sorted(layout.notebooks.glob("*.ipynb"))
    if not notebooks:
        raise TicomexError(
            f"{layout.notebooks}: no executed notebook to render (run `ticomex execute` first)"
        )
    # A department whose notebook failed keeps its previous notebook: published, marked stale.
    departments = [
        replace(department, stale=layout.failed(department.code).is_file())
        for department in (read_department(nb, layout.data_root) for nb in notebooks)
    ]
    quarto = quarto_path() if engine != "builtin" else None
    if engine == "quarto" and not quarto:
        raise TicomexError("quarto is not on PATH")

    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=layout.root))
    # Written while the departments render: about a second of JavaScript the first time, in
    # a process of its own (vl-convert holds the interpreter lock while it bundles).
    bundle_writer, bundle = None, Future()
    if workers is not None and workers.bundle is not None:
        bundle = workers.bundle
    elif vega_bundle_path(layout.render_cache).exists():
        bundle.set_result(vega_bundle_path(layout.render_cache))
    else:
        bundle_writer = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        bundle = bundle_writer.submit(vega_bundle, layout.render_cache)
    try:
        if quarto:
            render_with_quarto(quarto, departments, config, project, staging, pdf)
            rendered = [d.code for d in departments]
        else:
            rendered = render_builtin(departments, config, layout.render_cache, staging, pdf, jobs, workers)
        site = staging / SITE_DIR
        territories = publish_territories(
            [d for d in departments if d.is_department], config, layout, staging, pdf, jobs, workers,
            [*([Path(params_dir)] if params_dir else []), project / PARAMS_DIR],
        )  # fmt: skip
        write_assets(site, config, bundle.result(), departments, layout.render_cache)
        (site / "index.html").write_text(
            index_page(departments, config, SITE_DEMO_NOTICE, pdf, finder=territories.finder), encoding="utf-8"
        )
        for name, page in text_pages(config, SITE_DEMO_NOTICE, any(d.demo for d in departments)).items():
            (site / name).write_text(page, encoding="utf-8")
        if not pdf and layout.pdf.is_dir():  # --no-pdf leaves the published PDFs as they were
            shutil.copytree(layout.pdf, site / PDF_DIR)
        publish(staging, layout.root, [SITE_DIR])
    finally:
        if bundle_writer is not None:
            bundle_writer.shutdown()
        shutil.rmtree(staging, ignore_errors=True)
    return RenderReport(
        engine="quarto" if quarto else "builtin",
        site=layout.site,
        pdf=layout.pdf if pdf else None,
        departments=[d.code for d in departments],
        rendered=rendered,
        territories=territories.published,
        territories_rendered=territories.rendered,
        seconds=time.perf_counter() - start,
    )


def publish(staging: Path, out: Path, names: list[str]) -> None:
    """Move the new folders into place; the previous ones go to the staging folder."""
    for name in names:
        target = out / name
        if target.exists():
            os.replace(target, staging / f"previous-{name}")
        os.replace(staging / name, target)
